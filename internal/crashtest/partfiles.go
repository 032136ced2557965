package crashtest

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// CommittedInts returns the integers, one per line, of the visible files
// under dir (names starting with '.' are a file sink's in-progress or
// hidden files and are skipped), sorted. A missing dir holds none.
func CommittedInts(t testing.TB, dir string) []int {
	t.Helper()
	var got []int
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range strings.Fields(string(b)) {
			v, err := strconv.Atoi(l)
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Ints(got)
	return got
}

// CheckSequence fails t unless ids (sorted) are 1..len(ids), each once.
func CheckSequence(t testing.TB, ids []int) {
	t.Helper()
	for i, v := range ids {
		if v != i+1 {
			t.Fatalf("row %d is %d, want %d: the table does not hold 1..%d once each", i, v, i+1, len(ids))
		}
	}
}
