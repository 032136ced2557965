//go:build unix

package graph

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The default state root is the user's own: created 0700, and refused when
// it is a symlink, open to other users, or another user's.
func TestEnsurePrivateDir(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	root := DefaultStateDir()
	if want := "weir-state-" + strconv.Itoa(os.Getuid()); filepath.Base(root) != want || filepath.Dir(root) != os.Getenv("TMPDIR") {
		t.Fatalf("DefaultStateDir = %s, want %s in $TMPDIR", root, want)
	}
	for range 2 { // creates it, then accepts it
		if err := ensurePrivateDir(root); err != nil {
			t.Fatal(err)
		}
		if info, err := os.Lstat(root); err != nil || info.Mode().Perm() != 0o700 {
			t.Fatalf("state root: %v, %v; want mode 0700", info, err)
		}
	}

	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{open: "open to other users (mode 0777", link: "not a directory", file: "not a directory"}
	other := filepath.Join(dir, "other")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(other, os.Getuid()+1, -1); err == nil {
		cases[other] = "belongs to uid " + strconv.Itoa(os.Getuid()+1)
	} else {
		t.Logf("cannot give a directory to another user here (%v): ownership not checked", err)
	}
	for d, want := range cases {
		err := ensurePrivateDir(d)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Options.StateDir") {
			t.Errorf("ensurePrivateDir(%s) = %v, want an error containing %q", filepath.Base(d), err, want)
		}
	}
}
