package cdc

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortBinlogFiles: binlog files sort by their number, not as strings
// (a server past mysql-bin.999999 goes on with mysql-bin.1000000), and
// the order is the one of the three-way compare binlogFiles had before it
// used cmp.Compare (written out here as it was), equal numbers included.
func TestSortBinlogFiles(t *testing.T) {
	files := []string{"mysql-bin.000010", "mysql-bin.1000000", "mysql-bin.000009", "mysql-bin.999999", "mysql-bin.000100", "mysql-bin.000001"}
	sortBinlogFiles(files)
	if want := []string{"mysql-bin.000001", "mysql-bin.000009", "mysql-bin.000010", "mysql-bin.000100", "mysql-bin.999999", "mysql-bin.1000000"}; !slices.Equal(files, want) {
		t.Fatalf("sorted %v, want %v", files, want)
	}

	old := func(files []string) {
		slices.SortStableFunc(files, func(a, b string) int {
			x, y := fileSeq(a), fileSeq(b)
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		var files []string
		for range rng.IntN(20) {
			// Other base names and unparsable suffixes (fileSeq 0) tie
			// with each other: the stable order must be kept.
			base := []string{"mysql-bin", "binlog", "host-bin"}[rng.IntN(3)]
			suffix := []string{fmt.Sprintf("%06d", rng.IntN(30)), fmt.Sprint(rng.IntN(2000000)), "x", ""}[rng.IntN(4)]
			files = append(files, base+"."+suffix)
		}
		got, want := slices.Clone(files), slices.Clone(files)
		sortBinlogFiles(got)
		old(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%v sorted %v, the old compare %v", files, got, want)
		}
	}
}
