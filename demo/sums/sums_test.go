package sums

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/weirstream/weir"
)

// runOnce generates a small input and runs the job on it without
// checkpoints: the sink commits when the input ends.
func runOnce(t *testing.T) (in, out string) {
	t.Helper()
	dir := t.TempDir()
	in, out = filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := Generate(in, 3, 2, 40); err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	Build(env, Config{Input: in, Output: out})
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	return in, out
}

func TestBuildAndCheck(t *testing.T) {
	in, out := runOnce(t)
	if err := Check(in, out); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadOutput(out)
	if err != nil || len(recs) != 120 {
		t.Fatalf("ReadOutput: %d records, %v; want 120", len(recs), err)
	}
}

// TestCheckFinds: Check reports each kind of wrong output.
func TestCheckFinds(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		spoil      func(t *testing.T, out string)
	}{
		{"duplicate", "committed twice", func(t *testing.T, out string) {
			writeFile(t, filepath.Join(out, "part-9-9.jsonl"), firstLine(t, out))
		}},
		{"unknown key", "not in the input", func(t *testing.T, out string) {
			writeFile(t, filepath.Join(out, "part-9-9.jsonl"), `{"key":"zzz","seq":0,"sum":1}`+"\n")
		}},
		{"wrong sum", "has sum", func(t *testing.T, out string) {
			ents, _ := filepath.Glob(filepath.Join(out, "part-*"))
			b, err := os.ReadFile(ents[0])
			if err != nil {
				t.Fatal(err)
			}
			// The sums of the generated input are never 1e15.
			spoilt := regexp.MustCompile(`"sum":-?[0-9]+`).ReplaceAllString(string(b), `"sum":1000000000000000`)
			writeFile(t, ents[0], spoilt)
		}},
		{"missing", "missing", func(t *testing.T, out string) {
			ents, _ := filepath.Glob(filepath.Join(out, "part-*"))
			if err := os.Remove(ents[0]); err != nil {
				t.Fatal(err)
			}
		}},
		{"leftover", "uncommitted", func(t *testing.T, out string) {
			writeFile(t, filepath.Join(out, ".part-9-9.jsonl.inprogress"), "")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, out := runOnce(t)
			tc.spoil(t, out)
			err := Check(in, out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func firstLine(t *testing.T, out string) string {
	t.Helper()
	ents, _ := filepath.Glob(filepath.Join(out, "part-*"))
	for _, e := range ents {
		b, err := os.ReadFile(e)
		if err != nil {
			t.Fatal(err)
		}
		if i := strings.IndexByte(string(b), '\n'); i > 0 {
			return string(b[:i+1])
		}
	}
	t.Fatal("no committed record")
	return ""
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// An output directory at or under the input directory is refused: the
// source reads every file under its directory, so the next run read this
// run's output as input.
func TestValidateOutputOutsideInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(in, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in, out, want string
	}{
		{in, filepath.Join(dir, "out"), ""},
		{in, filepath.Join(dir, "in2"), ""}, // a sibling sharing the prefix
		{filepath.Join(in, "sub"), in, ""},  // input inside output: not read
		{in, in, "is the input directory"},
		{in, in + string(filepath.Separator), "is the input directory"},
		{in, filepath.Join(in, "out"), "is inside the input directory"},
		{in, filepath.Join(in, "a", "..", "b", "c"), "is inside the input directory"},
		{in, filepath.Join(link, "out"), "is inside the input directory"},
		{link, filepath.Join(in, "out"), "is inside the input directory"},
		{"", "x", "must be set"},
		{"x", "", "must be set"},
	} {
		err := Config{Input: tc.in, Output: tc.out}.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("input %s output %s: Validate = %v, want %q", tc.in, tc.out, err, tc.want)
		}
	}
}

// Every field of an input record is required: a line without seq fails
// the job naming the file, line and field instead of counting seq 0.
func TestMissingFieldFails(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(in, "a.jsonl"), `{"key":"a","seq":0,"value":1}`+"\n"+`{"key":"a","value":2}`+"\n")
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	Build(env, Config{Input: in, Output: filepath.Join(dir, "out")})
	err := env.Execute(context.Background())
	if !errors.Is(err, weir.ErrBadRecord) || !strings.Contains(err.Error(), "a.jsonl line 2") || !strings.Contains(err.Error(), `missing field "seq"`) {
		t.Fatalf("Execute = %v, want a bad record at a.jsonl line 2, field seq", err)
	}
}

func TestCheckOutsideInputFileURI(t *testing.T) {
	in := t.TempDir()
	c := Config{Input: in}
	if err := c.CheckOutsideInput("checkpoint", "file://"+filepath.Join(in, "chk")); err == nil {
		t.Fatal("a file:// checkpoint directory inside the input was accepted")
	}
	if err := c.CheckOutsideInput("checkpoint", "file://"+t.TempDir()); err != nil {
		t.Fatalf("a file:// checkpoint directory outside the input: %v", err)
	}
	if err := c.CheckOutsideInput("checkpoint", "file://otherhost/chk"); err == nil {
		t.Fatal("a file URI naming another host was accepted")
	}
}
