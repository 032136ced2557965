package connector

import (
	"slices"
	"time"

	"github.com/weirstream/weir/row"
)

// multiset generates a random MULTISET as Flink's datagen does
// (RandomGeneratorVisitor.visit(MultisetType)): 'fields.#.length'
// (default 3) random elements, each with a random count in [0, 10]
// (RandomGenerator.intGenerator(0, 10), both ends included; a count may
// be 0). An element drawn twice keeps the later count, as Flink's
// HashMap put does, so the multiset may have fewer entries than the
// length. Elements follow the 'fields.#.element.*' options
// (datagen_nested.go), as Flink's. The
// entries are in ascending order of the elements, as COLLECT's are.
func (g *genField) multiset(r *rng, seq int64, now time.Time) row.Value {
	elem := &g.kids[0]
	var keys, counts []row.Value
	for i := 0; i < g.length; i++ {
		e := elem.value(r, seq, now)
		n := row.Int(r.between(0, 10))
		if j := slices.IndexFunc(keys, func(k row.Value) bool { return row.Equal(k, e, elem.t) }); j >= 0 {
			counts[j] = n
			continue
		}
		keys = append(keys, e)
		counts = append(counts, n)
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return row.Compare(keys[i], keys[j], elem.t) })
	ks := make([]row.Value, len(keys))
	cs := make([]row.Value, len(keys))
	for i, o := range order {
		ks[i], cs[i] = keys[o], counts[o]
	}
	return row.Map(ks, cs)
}
