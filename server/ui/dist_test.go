package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDistMatchesSources checks that the committed build is the build of
// the committed sources: dist/SOURCES.sha256, written by the build
// (web/source-hash.js), must list the current hash of every file the
// bundle is built from. It does not run Node; after a change under web/,
// run `npm run build` there and commit server/ui/dist.
func TestDistMatchesSources(t *testing.T) {
	web := filepath.Join("..", "..", "web")
	if _, err := os.Stat(filepath.Join(web, "package.json")); err != nil {
		t.Skipf("no web/ sources beside this package: %v", err)
	}
	listed, err := fs.ReadFile(Files(), "SOURCES.sha256")
	if err != nil {
		t.Fatalf("the build has no SOURCES.sha256: %v", err)
	}
	want := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(listed)), "\n") {
		sum, name, ok := strings.Cut(l, "  ")
		if !ok {
			t.Fatalf("SOURCES.sha256: bad line %q", l)
		}
		want[name] = sum
	}
	got := map[string]string{}
	for _, root := range []string{"index.html", "package.json", "package-lock.json", "vite.config.js", "source-hash.js", "src"} {
		err := filepath.WalkDir(filepath.Join(web, root), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(web, p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			got[filepath.ToSlash(rel)] = hex.EncodeToString(h[:])
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for name, sum := range got {
		switch w, ok := want[name]; {
		case !ok:
			t.Errorf("web/%s is not in the build: run `npm run build` in web/ and commit server/ui/dist", name)
		case w != sum:
			t.Errorf("web/%s changed since the build: run `npm run build` in web/ and commit server/ui/dist", name)
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("the build lists web/%s, which is gone: rebuild", name)
		}
	}
}
