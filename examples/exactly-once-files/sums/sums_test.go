package sums

import (
	"context"
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
