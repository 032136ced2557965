package exec

import "github.com/weirstream/weir/row"

// A projection run in a regular join (JoinSpec.Project).
//
// The planner puts a Calc above a join when the query reads only some of
// the join's columns or reads them in another order (Nexmark q4's Calc
// keeps the auction's id and category and the bid's price: 3 of the
// pair's 7 columns). Run as its own operator, that Calc receives each pair
// as the join wrote it, all columns copied into fresh memory, and writes
// the kept ones over it. With the Calc's columns given to the join, the
// join writes each pair once, with those columns only: fewer stores into
// fresh memory, a narrower row through the exchange after it, and no
// per-row call of the Calc's evaluator.
//
// Only the emission changes. The join condition is evaluated over both
// whole rows and the state keeps them whole (the planner's projection
// push-down already drops below the join the columns that neither the
// condition nor a consumer reads), so the state layout, the state names
// and the snapshots are those of the join without the projection. A NULL
// padded row of an outer join is projected the same way: the padded
// side's columns are NULL wherever they land.

// projectPair writes the columns p of the joined row l ++ r into out
// (len(out) == len(p)) and returns it.
func projectPair(out []row.Value, p []int, l, r []row.Value) []row.Value {
	for i, c := range p {
		if c < len(l) {
			out[i] = l[c]
		} else {
			out[i] = r[c-len(l)]
		}
	}
	return out
}

// nullRow returns a row of NULLs as wide as the left side (left) or the
// right side; it is shared and must only be read.
func (f *regularJoinFn) nullRow(left bool) []row.Value {
	n := len(f.spec.RightTypes)
	p := &f.rnull
	if left {
		n, p = len(f.spec.LeftTypes), &f.lnull
	}
	if len(*p) != n {
		*p = make([]row.Value, n)
	}
	return *p
}
