package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// monRec is a record of the continuous-source tests: a file's name and a
// line number.
type monRec struct {
	F string `json:"f"`
	N int    `json:"n"`
}

// monLines returns n JSON lines of file name.
func monLines(name string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"f\":%q,\"n\":%d}\n", name, i)
	}
	return b.String()
}

// putFile makes a file appear whole: written under a hidden name, then
// renamed, as a continuous source's input should be.
func putFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

// rawFile writes a file in place.
func rawFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// markers returns one file name per subtask of p (marker-<k>.jsonl names
// that hash to each subtask), so that a test knows every subtask read
// what it had discovered before the marker.
func markers(p int, tag string) []string {
	out := make([]string, p)
	found := 0
	for k := 0; found < p; k++ {
		n := fmt.Sprintf("z-%s-%d.jsonl", tag, k)
		if o := owner(n, p); out[o] == "" {
			out[o] = n
			found++
		}
	}
	return out
}

// monitorJob runs a continuous JSON source over dir at parallelism p
// until ctx ends, sending each record to got. It returns the job's end.
func monitorJob(ctx context.Context, dir string, p int, opts SourceOptions, got chan<- monRec) <-chan error {
	env := weir.NewEnvironment(weir.Options{Parallelism: p})
	s := weir.FromSource(env, JSONSource[monRec](dir, opts), weir.NoWatermarks[monRec](), "files")
	weir.Collect(weir.Map(s, func(r monRec) monRec { got <- r; return r }))
	done := make(chan error, 1)
	go func() { done <- env.Execute(ctx) }()
	return done
}

// await receives records until want holds every key of want's files (each
// file's lines 0..n-1) or the deadline passes, and returns what arrived.
func await(t *testing.T, got <-chan monRec, done <-chan error, counts map[monRec]int, want map[string]int) []monRec {
	t.Helper()
	var order []monRec
	timeout := time.After(60 * time.Second)
	complete := func() bool {
		for f, n := range want {
			for i := range n {
				if counts[monRec{f, i}] == 0 {
					return false
				}
			}
		}
		return true
	}
	for !complete() {
		select {
		case r := <-got:
			counts[r]++
			order = append(order, r)
		case err := <-done:
			t.Fatalf("job ended: %v", err)
		case <-timeout:
			t.Fatalf("records missing after 60s; have %d", len(counts))
		}
	}
	return order
}

// TestMonitorReadsNewFiles: a continuous source reads the files present at
// start, then each file that appears while it runs (in new partition
// directories too) exactly once, in the order of discovery; hidden files
// and those the Include filter rejects are not read, and a file already
// read is not read again when it is appended to.
func TestMonitorReadsNewFiles(t *testing.T) {
	for _, p := range []int{1, 3} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			dir := t.TempDir()
			putFile(t, dir, "a.jsonl", monLines("a", 5))
			putFile(t, dir, "b.jsonl", monLines("b", 3))
			putFile(t, dir, "skip.txt", monLines("skip", 2))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			got := make(chan monRec, 1024)
			opts := SourceOptions{MonitorInterval: 10 * time.Millisecond, Include: func(p string) bool { return strings.HasSuffix(p, ".jsonl") }}
			done := monitorJob(ctx, dir, p, opts, got)
			counts := map[monRec]int{}
			await(t, got, done, counts, map[string]int{"a": 5, "b": 3})

			// New files, a new directory, files to skip, and an append
			// to a file already read.
			putFile(t, dir, "d=2/c.jsonl", monLines("c", 4))
			putFile(t, dir, "e.jsonl", monLines("e", 2))
			rawFile(t, filepath.Join(dir, "_f.jsonl"), monLines("f", 1))
			rawFile(t, filepath.Join(dir, ".g.jsonl"), monLines("g", 1))
			rawFile(t, filepath.Join(dir, "_dir", "h.jsonl"), monLines("h", 1))
			putFile(t, dir, "i.csv", monLines("i", 1))
			f, err := os.OpenFile(filepath.Join(dir, "a.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(`{"f":"a","n":99}` + "\n"); err != nil {
				t.Fatal(err)
			}
			f.Close()
			order := await(t, got, done, counts, map[string]int{"c": 4, "e": 2})

			// One marker per subtask, after everything else: when all
			// have arrived, every subtask has read what it listed before.
			want := map[string]int{}
			for _, m := range markers(p, "1") {
				putFile(t, dir, m, monLines(m, 1))
				want[m] = 1
			}
			await(t, got, done, counts, want)
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("job: %v", err)
			}
			close(got)
			for r := range got {
				counts[r]++
			}
			for r, n := range counts {
				if n != 1 {
					t.Errorf("%v read %d times", r, n)
				}
				if !strings.HasPrefix(r.F, "z-") && !slices.Contains([]string{"a", "b", "c", "e"}, r.F) {
					t.Errorf("%v read; its file is hidden, filtered or already read", r)
				}
			}
			if len(counts) != 5+3+4+2+p {
				t.Errorf("%d records, want %d", len(counts), 5+3+4+2+p)
			}
			if p == 1 {
				// One listing found c (under d=2/) and e: lexical order.
				var files []string
				for _, r := range order {
					if len(files) == 0 || files[len(files)-1] != r.F {
						files = append(files, r.F)
					}
				}
				if !slices.Equal(files, []string{"c", "e"}) {
					t.Errorf("files read in order %v, want [c e]", files)
				}
			}
		})
	}
}

// oldFormatPos is a position as the bounded source (before continuous
// reading existed) encodes it: version 1, name, offset, line, flags. The
// bytes are spelled out so that a change of encodePos cannot hide a
// change of the layout.
func oldFormatPos(rel string, off, line byte, flags byte) []byte {
	b := []byte{1, byte(len(rel))}
	b = append(b, rel...)
	return append(b, off, line, flags)
}

// TestMonitorRestoresBoundedCheckpoint: the state of a bounded source
// restores into a continuous one at another parallelism: finished files
// are not read again, the file being read resumes at its position in
// exactly one subtask, files the checkpoint does not name are read from
// their beginning, and a finished file no longer listed stays in the
// state.
func TestMonitorRestoresBoundedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.jsonl", "b.jsonl", "c.jsonl", "sub/d.jsonl", "e.jsonl"} {
		putFile(t, dir, n, monLines(n, 2))
	}
	lineLen := byte(len(monLines("a.jsonl", 1)))
	items := [][]byte{
		oldFormatPos("a.jsonl", 2*lineLen, 2, posDone),
		oldFormatPos("b.jsonl", lineLen, 1, 0),
		oldFormatPos("gone.jsonl", 9, 1, posDone), // read, then deleted
	}
	src := JSONSource[monRec](dir, SourceOptions{MonitorInterval: time.Hour})
	type split struct {
		rel string
		pos filePos
		sub int
	}
	var all []split
	clock := fakeTime{}
	const p = 3
	for sub := range p {
		r, err := src.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: p, Restored: items, RestoredFrom: 4, Time: clock})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range r.(*reader[monRec]).files {
			if owner(f.rel, p) != sub {
				t.Errorf("subtask %d has %s, owned by %d", sub, f.rel, owner(f.rel, p))
			}
			all = append(all, split{f.rel, f.pos, sub})
		}
		// Its snapshot before reading anything holds the restored
		// positions it owns: together, the subtasks keep them all.
		snap, err := r.(*reader[monRec]).SnapshotState(5)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range snap {
			rel, _, err := decodePos(it)
			if err != nil {
				t.Fatal(err)
			}
			if owner(rel, p) != sub {
				t.Errorf("subtask %d snapshots %s", sub, rel)
			}
		}
	}
	slices.SortFunc(all, func(a, b split) int { return strings.Compare(a.rel, b.rel) })
	var rels []string
	for _, s := range all {
		rels = append(rels, s.rel)
	}
	if want := []string{"a.jsonl", "b.jsonl", "c.jsonl", "e.jsonl", "gone.jsonl", "sub/d.jsonl"}; !slices.Equal(rels, want) {
		t.Fatalf("files %v, want each of %v once", rels, want)
	}
	wantPos := map[string]filePos{
		"a.jsonl":    {off: int64(2 * lineLen), line: 2, done: true},
		"b.jsonl":    {off: int64(lineLen), line: 1},
		"gone.jsonl": {off: 9, line: 1, done: true},
	}
	for _, s := range all {
		if s.pos != wantPos[s.rel] {
			t.Errorf("%s at %+v, want %+v", s.rel, s.pos, wantPos[s.rel])
		}
	}

	// At parallelism 2 the readers' files resume at their positions: b
	// from its second line, c, d and e whole, a and gone not at all.
	got := runRestored(t, dir, items)
	want := []monRec{{"b.jsonl", 1}, {"c.jsonl", 0}, {"c.jsonl", 1}, {"e.jsonl", 0}, {"e.jsonl", 1}, {"sub/d.jsonl", 0}, {"sub/d.jsonl", 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("read %v, want %v", got, want)
	}
}

// runRestored creates the readers of a continuous source over dir
// restored from items at parallelism 2 and returns, sorted, the records
// their files hold from each unfinished file's restored offset on.
func runRestored(t *testing.T, dir string, items [][]byte) []monRec {
	t.Helper()
	src := JSONSource[monRec](dir, SourceOptions{MonitorInterval: time.Hour})
	var out []monRec
	for sub := range 2 {
		r, err := src.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: 2, Restored: items, RestoredFrom: 4, Time: fakeTime{}})
		if err != nil {
			t.Fatal(err)
		}
		rd := r.(*reader[monRec])
		for _, f := range rd.files {
			if f.pos.done {
				continue
			}
			b, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(b[f.pos.off:]), "\n"), "\n")
			for i := range lines {
				out = append(out, monRec{f.rel, int(f.pos.line) + i})
			}
		}
	}
	slices.SortFunc(out, func(a, b monRec) int {
		if c := strings.Compare(a.F, b.F); c != 0 {
			return c
		}
		return a.N - b.N
	})
	return out
}

// fakeTime is a processing-time service whose clock stands still.
type fakeTime struct{}

func (fakeTime) Now() int64                            { return 1000 }
func (fakeTime) Schedule(int64, func(now int64) error) {}
