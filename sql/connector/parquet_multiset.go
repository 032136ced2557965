package connector

import (
	"slices"

	"github.com/weirstream/weir/row"
)

// multisetOfEntries is the MULTISET read from a Parquet MAP of its
// elements to their counts (Flink's layout): the entries in ascending
// order of the elements, as COLLECT makes them, so that the same
// elements and counts are one value (a GROUP BY key, a retraction
// matched downstream) whichever order the writer used (Flink's follows
// its HashMap). An element the file holds twice keeps its later count,
// as Flink's conversion of the map to a Java Map does.
func multisetOfEntries(keys, counts []row.Value, elem row.Type) row.Value {
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return row.Compare(keys[i], keys[j], elem) })
	ks := make([]row.Value, 0, len(keys))
	cs := make([]row.Value, 0, len(keys))
	for _, o := range order {
		if n := len(ks); n > 0 && row.Compare(ks[n-1], keys[o], elem) == 0 {
			cs[n-1] = counts[o]
			continue
		}
		ks = append(ks, keys[o])
		cs = append(cs, counts[o])
	}
	return row.Map(ks, cs)
}
