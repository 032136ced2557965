package file

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeTree creates files (relative path -> content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree returns every file under root (relative slash path ->
// content), hidden ones included.
func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, got, want map[string]string) {
	t.Helper()
	var g, w []string
	for k, v := range got {
		g = append(g, k+"="+v)
	}
	for k, v := range want {
		w = append(w, k+"="+v)
	}
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Fatalf("files:\n got  %v\n want %v", g, w)
	}
}

var errCrash = errors.New("crash")

// TestOverwriteCrashResume stops the commit after each of its durable
// steps, as a crash would, and checks that what is on disk then is the
// old data, or is flagged by PendingOverwrite, and that running the
// commit again (a restart of the job) or another job's overwrite ends
// with exactly the new data.
func TestOverwriteCrashResume(t *testing.T) {
	old := map[string]string{
		"dt=a/part-0-0.csv": "old a", "dt=a/_SUCCESS": "",
		"dt=b/part-0-0.csv": "old b", "dt=b/part-1-0.csv": "old b2",
		"dt=c/part-0-0.csv": "old c",
	}
	staged := map[string]string{
		".overwrite-tok/dt=a/part-0-0.csv":                "new a",
		".overwrite-tok/dt=b/part-1-0.csv":                "new b",
		".overwrite-tok/dt=b/.part-1-1.csv.inprogress.ff": "leftover",
		".overwrite-tok/dt=d/part-0-0.csv":                "new d",
	}
	// The expected result, from the inputs: partitions a, b, d replaced
	// (hidden files kept), c untouched, staging gone.
	want := map[string]string{}
	for p, c := range old {
		if strings.HasPrefix(p, "dt=c/") || strings.HasSuffix(p, "/_SUCCESS") {
			want[p] = c
		}
	}
	for p, c := range staged {
		rel := strings.TrimPrefix(p, ".overwrite-tok/")
		if !strings.Contains(rel, "/.") {
			want[rel] = c
		}
	}
	buckets := []string{"dt=a", "dt=b", "dt=d"}
	for _, phase := range []string{"manifest", "delete", "move"} {
		for _, resumeBy := range []string{"same job", "other job", "reader"} {
			t.Run(phase+"/"+resumeBy, func(t *testing.T) {
				root := t.TempDir()
				writeTree(t, root, old)
				writeTree(t, root, staged)
				opts := OverwriteOptions{Token: "tok", Partitioned: true, afterPhase: func(p string) error {
					if p == phase {
						return errCrash
					}
					return nil
				}}
				ctx := context.Background()
				want := clone(want)
				if err := commitOverwrite(ctx, root, buckets, opts); !errors.Is(err, errCrash) {
					t.Fatalf("commit: %v, want the crash", err)
				}
				// Readers refuse the half-done directory.
				if err := PendingOverwrite(root); err == nil || !strings.Contains(err.Error(), "interrupted INSERT OVERWRITE") {
					t.Fatalf("PendingOverwrite: %v", err)
				}
				if phase == "manifest" {
					// Nothing outside the staging directory changed yet.
					got := readTree(t, root)
					for p, c := range old {
						if got[p] != c {
							t.Fatalf("%s: %q, want the old %q", p, got[p], c)
						}
					}
				}
				switch resumeBy {
				case "same job":
					opts.afterPhase = nil
					if err := commitOverwrite(ctx, root, buckets, opts); err != nil {
						t.Fatal(err)
					}
				case "other job":
					// Another overwrite of the table, which wrote
					// partition c, completes the first one before its own.
					writeTree(t, root, map[string]string{".overwrite-tok2/dt=c/part-0-0.csv": "newer c"})
					if err := commitOverwrite(ctx, root, []string{"dt=c"}, OverwriteOptions{Token: "tok2", Partitioned: true}); err != nil {
						t.Fatal(err)
					}
					want["dt=c/part-0-0.csv"] = "newer c"
				case "reader":
					// A reader only refuses; the restarted committer
					// (Open after a restore) completes it.
					if _, err := resumeOverwrite(ctx, root, "tok", nil); err != nil {
						t.Fatal(err)
					}
				}
				sameTree(t, readTree(t, root), want)
				if err := PendingOverwrite(root); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestOverwriteNotPartitioned: every visible entry of the directory is
// replaced, hidden ones kept; with nothing staged the directory is
// emptied.
func TestOverwriteNotPartitioned(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	writeTree(t, root, map[string]string{"part-0-0.csv": "old", "x/y.csv": "old dir", "_keep": "k", ".hidden": "h",
		".overwrite-t/data/part-0-0.csv": "new0", ".overwrite-t/data/part-1-0.csv": "new1"})
	if err := commitOverwrite(ctx, root, []string{"data"}, OverwriteOptions{Token: "t"}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, readTree(t, root), map[string]string{"part-0-0.csv": "new0", "part-1-0.csv": "new1", "_keep": "k", ".hidden": "h"})
	if err := commitOverwrite(ctx, root, nil, OverwriteOptions{Token: "u"}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, readTree(t, root), map[string]string{"_keep": "k", ".hidden": "h"})
}

// TestOverwriteStaticEmpty: a fully static partition with no rows is
// removed and made again, empty; a dynamic overwrite with no rows
// changes nothing.
func TestOverwriteStaticEmpty(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	files := map[string]string{"dt=a/part-0-0.csv": "a", "dt=a/_SUCCESS": "", "dt=b/part-0-0.csv": "b"}
	writeTree(t, root, files)
	if err := commitOverwrite(ctx, root, nil, OverwriteOptions{Token: "t", Partitioned: true}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, readTree(t, root), files)
	if err := commitOverwrite(ctx, root, nil, OverwriteOptions{Token: "t", Partitioned: true, StaticBucket: "dt=a",
		Policies: []PartitionCommitPolicy{SuccessFile("_DONE")}}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, readTree(t, root), map[string]string{"dt=a/_DONE": "", "dt=b/part-0-0.csv": "b"})
}

// TestOverwriteLostStagedFile: a staged file neither staged nor at its
// destination fails the resume, naming it, and keeps the manifest.
func TestOverwriteLostStagedFile(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	writeTree(t, root, map[string]string{"part-0-0.csv": "old", ".overwrite-t/data/part-0-0.csv": "new"})
	opts := OverwriteOptions{Token: "t", afterPhase: func(p string) error {
		if p == "delete" {
			return errCrash
		}
		return nil
	}}
	if err := commitOverwrite(ctx, root, []string{"data"}, opts); !errors.Is(err, errCrash) {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, ".overwrite-t/data/part-0-0.csv")); err != nil {
		t.Fatal(err)
	}
	_, err := resumeOverwrite(ctx, root, "t", nil)
	if err == nil || !strings.Contains(err.Error(), "data/part-0-0.csv is neither in the staging directory") {
		t.Fatalf("resume: %v", err)
	}
	if PendingOverwrite(root) == nil {
		t.Fatal("the manifest is gone")
	}
}
