package doccheck

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir/internal/crashtest"
)

// block is one fenced code block of a Markdown file.
type block struct {
	file string
	line int // line of the opening fence
	lang string
	text string
	// before is the text between the previous block and this one.
	before string
}

func (b block) where() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// blocks returns the fenced code blocks of a Markdown file.
func blocks(t *testing.T, root, rel string) []block {
	t.Helper()
	f, err := os.Open(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out    []block
		cur    *block
		body   strings.Builder
		before strings.Builder
		n      int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		l := sc.Text()
		trimmed := strings.TrimSpace(l)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &block{file: rel, line: n, lang: strings.TrimPrefix(trimmed, "```"), before: before.String()}
			body.Reset()
		case cur != nil && trimmed == "```":
			cur.text = body.String()
			out = append(out, *cur)
			cur = nil
			before.Reset()
		case cur != nil:
			body.WriteString(l)
			body.WriteByte('\n')
		default:
			before.WriteString(l)
			before.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s: a code block is not closed", cur.where())
	}
	return out
}

// isPackageClause reports whether Go source starts (after comments) with
// a package clause.
func isPackageClause(src string) bool {
	for _, l := range strings.Split(src, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "//") {
			continue
		}
		return strings.HasPrefix(l, "package ")
	}
	return false
}

func TestDocumentedGoCompilesAndRuns(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to compile the documentation's programs")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		files = append(files, rel)
	}

	// One module holding every block as its own main package, built by one
	// go command against this checkout (replace), offline.
	mod := t.TempDir()
	type program struct {
		b    block
		dir  string
		want []string // lines the document says it prints; nil: compile only
	}
	var progs []program
	for _, f := range files {
		bs := blocks(t, root, f)
		for i, b := range bs {
			if b.lang != "go" {
				continue
			}
			if !isPackageClause(b.text) {
				t.Errorf("%s: a Go block must be a complete file starting with a package clause, so that it can be compiled; mark fragments as another language", b.where())
				continue
			}
			p := program{b: b, dir: fmt.Sprintf("b%02d", len(progs))}
			if i+1 < len(bs) && bs[i+1].lang == "text" && strings.Contains(bs[i+1].before, "prints") {
				p.want = strings.Split(strings.TrimRight(bs[i+1].text, "\n"), "\n")
			}
			if err := os.MkdirAll(filepath.Join(mod, p.dir), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(mod, p.dir, "main.go"), []byte(b.text), 0o644); err != nil {
				t.Fatal(err)
			}
			progs = append(progs, p)
		}
	}
	if len(progs) == 0 {
		t.Fatal("no Go blocks found in README.md and docs/*.md")
	}
	// The checkout's own go.mod, renamed, with weir itself required from
	// the checkout: it lists every module weir's packages need, so the
	// offline go command resolves the pruned module graph from the module
	// cache a build of weir filled, without loading go.mod files of
	// modules that are not listed (an older dependency's own requirements,
	// absent from a fresh machine's cache).
	own, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, ok := strings.CutPrefix(string(own), "module github.com/weirstream/weir\n")
	if !ok {
		t.Fatal("go.mod does not start with weir's module line")
	}
	gomod = "module doccheck.example\n" + gomod + "\nrequire github.com/weirstream/weir v0.0.0\n\nreplace github.com/weirstream/weir => " + root + "\n"
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	// -race when this test runs with -race: the packages are then already
	// compiled that way, and a cold build cache does not compile weir and
	// its dependencies a second time.
	args := append([]string{"build"}, crashtest.BuildFlags()...)
	build := exec.Command(goBin, append(args, "-o", bin+string(filepath.Separator), "./...")...)
	build.Dir, build.Env = mod, env
	if out, err := build.CombinedOutput(); err != nil {
		// Name the documents' lines rather than the temporary files.
		msg := string(out)
		for _, p := range progs {
			msg = strings.ReplaceAll(msg, "./"+p.dir+"/main.go", p.b.where()+" (block)")
			msg = strings.ReplaceAll(msg, p.dir+"/main.go", p.b.where()+" (block)")
		}
		t.Fatalf("the documentation's Go blocks do not compile:\n%s", msg)
	}
	for _, p := range progs {
		if p.want == nil {
			continue
		}
		cmd := exec.Command(filepath.Join(bin, p.dir))
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: the program failed: %v\n%s", p.b.where(), err, out)
			continue
		}
		got := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		want := slices.Clone(p.want)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the program printed\n%s\nthe document says it prints\n%s", p.b.where(), strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
