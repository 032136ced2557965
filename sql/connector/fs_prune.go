package connector

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/weirstream/weir/row"
)

// Partition pruning of the filesystem source (Flink's
// FileSystemTableSource as a SupportsPartitionPushDown): the planner
// lists the partition directories, evaluates the partition predicate of
// the query's WHERE clause against their values, and the source reads
// the files of the directories the predicate keeps only: the files of
// a pruned partition are not opened. The predicate is evaluated again
// for each directory the source finds when it runs, so a partition made
// after planning is pruned the same way.

// ListPartitions lists the partition directories under the table's path
// (path/k1=v1/k2=v2, as the source reads them); ok is false when the
// path cannot be listed, or a directory's value does not cast to its
// column's type (the source fails on it when it runs).
func (t *fsSource) ListPartitions() ([][]row.Value, bool, error) {
	if t.part == nil {
		return nil, false, nil
	}
	// A continuous source (source.monitor-interval) lists the partitions
	// that exist now too: its scan is not Bounded, so the planner keeps it
	// when none of them matches (plan.SourcePushDown.Continuous), and the
	// source prunes the partitions it finds later with the same predicate.
	var parts [][]row.Value
	dirs := []string{t.path}
	for range t.part.keys {
		var next []string
		for _, d := range dirs {
			ents, err := os.ReadDir(d)
			if err != nil {
				return nil, false, nil
			}
			for _, e := range ents {
				if e.IsDir() && strings.Contains(e.Name(), "=") && !strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(e.Name(), "_") {
					next = append(next, filepath.Join(d, e.Name()))
				}
			}
		}
		dirs = next
	}
	for _, d := range dirs {
		vals, ok, err := t.part.parse(filepath.Join(d, "file"))
		if err != nil {
			return nil, false, nil
		}
		if ok {
			parts = append(parts, vals)
		}
	}
	return parts, true, nil
}

// ApplyPartitions makes the source read only the partitions keep keeps.
func (t *fsSource) ApplyPartitions(keep func(vals []row.Value) (bool, error)) {
	if t.part == nil {
		return
	}
	p := *t.part
	p.keep = keep
	t.part = &p
}
