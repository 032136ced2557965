package plan

import (
	"slices"

	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// A window aggregation over a window TVF behind Calcs: a view or subquery
// that projects or filters a window TVF's rows and a GROUP BY
// window_start, window_end [, keys] over it,
//
//	SELECT window_start, window_end, SUM(v2)
//	FROM (SELECT k, v * 2 AS v2, window_start, window_end
//	      FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' SECOND)))
//	GROUP BY window_start, window_end
//
// is a window aggregation, as the same query written without the
// subquery: Flink's window properties pass through the Calc (its
// FlinkRelMdWindowProperties), StreamPhysicalWindowAggregateRule plans a
// window aggregation over it, and PullUpWindowTableFunctionIntoWindowAggregateRule
// moves the Calc below the window TVF, so the aggregation assigns windows
// on the TVF's time attribute itself (TimeAttributeWindowingStrategy).
// Flink pulls the TVF up only when the Calc makes no calls on the window
// columns (they pass through as they are, renamed or not) and no
// aggregate call reads one; Weir plans the window aggregation under the
// same conditions (and with deterministic Calcs, which it inlines into the
// keys, arguments and conditions), and otherwise, as before, a group
// aggregation (Flink keeps a window-attached aggregation there, which
// Weir builds only over a window aggregation's output: window_attached.go).

// tvfBehindCalcs returns the window TVF under the Calcs of r, the
// expressions of r's columns over the TVF's columns, and the conjunction
// of the Calcs' conditions over them (nil for none); ok false when r is
// not Calcs over a window TVF or a Calc is not deterministic.
func tvfBehindCalcs(r Rel) (tvf *WindowTVF, cols []expr.Expr, cond expr.Expr, ok bool) {
	var calcs []*Calc
	for {
		c, isCalc := r.(*Calc)
		if !isCalc {
			break
		}
		calcs = append(calcs, c)
		r = c.In
	}
	tvf, ok = r.(*WindowTVF)
	if !ok || len(calcs) == 0 {
		return nil, nil, nil, false
	}
	tc := tvf.Columns()
	cols = make([]expr.Expr, len(tc))
	for i, c := range tc {
		cols[i] = expr.Ref(i, c.Type)
	}
	var conds []expr.Expr
	for i := len(calcs) - 1; i >= 0; i-- {
		c := calcs[i]
		if c.Cond != nil {
			if !expr.IsDeterministic(c.Cond) {
				return nil, nil, nil, false
			}
			conds = append(conds, expr.Substitute(c.Cond, cols))
		}
		next := make([]expr.Expr, len(c.Projects))
		for j, p := range c.Projects {
			if !expr.IsDeterministic(p) {
				return nil, nil, nil, false
			}
			next[j] = expr.Substitute(p, cols)
		}
		cols = next
	}
	cond, err := andAll(conds)
	if err != nil {
		return nil, nil, nil, false
	}
	return tvf, cols, cond, true
}

// bindWindowAggregateThroughCalcs plans GROUP BY over from as a window
// aggregation when from is a window TVF behind Calcs and the keys hold
// its window_start and window_end; ok false: not such an aggregation.
func (b *Binder) bindWindowAggregateThroughCalcs(s *ast.Select, from Rel, sc *scope, where expr.Expr, keys []expr.Expr, specs []*aggSpec, items []selectItem) (Rel, bool, error) {
	tvf, cols, cond, ok := tvfBehindCalcs(from)
	if !ok {
		return nil, false, nil
	}
	n := len(tvf.In.Columns())
	readsWindowCols := func(e expr.Expr) bool { return readsColsFrom(e, n) }
	// callsOnWindowCols: e reads a window column other than as the whole
	// expression (Flink's WindowUtil.calcContainsCallsOnWindowColumns).
	callsOnWindowCols := func(e expr.Expr) bool {
		_, isRef := e.(*expr.InputRef)
		return !isRef && readsWindowCols(e)
	}
	subst := func(e expr.Expr) expr.Expr {
		if e == nil {
			return nil
		}
		return expr.Substitute(e, cols)
	}
	tvfKeys := make([]expr.Expr, len(keys))
	hasStart, hasEnd := false, false
	for i, k := range keys {
		tk := subst(k)
		if callsOnWindowCols(tk) {
			return nil, false, nil
		}
		if r, isRef := tk.(*expr.InputRef); isRef {
			hasStart = hasStart || r.Index == n
			hasEnd = hasEnd || r.Index == n+1
		}
		tvfKeys[i] = tk
	}
	if !hasStart || !hasEnd {
		return nil, false, nil
	}
	w := subst(where)
	if w != nil && readsWindowCols(w) || cond != nil && readsWindowCols(cond) {
		return nil, false, nil
	}
	all, err := andAll(append(nonNil(cond), nonNil(w)...))
	if err != nil {
		return nil, true, err
	}
	tvfSpecs := make([]*aggSpec, len(specs))
	for i, sp := range specs {
		c := *sp
		c.args = make([]expr.Expr, len(sp.args))
		for j, a := range sp.args {
			c.args[j] = subst(a)
			if readsWindowCols(c.args[j]) {
				return nil, false, nil
			}
		}
		c.filter = subst(sp.filter)
		if c.filter != nil && readsWindowCols(c.filter) {
			return nil, false, nil
		}
		tvfSpecs[i] = &c
	}
	r, err := b.bindWindowAggregateAs(s, tvf, sc, all, tvfKeys, keys, tvfSpecs, items, false)
	return r, true, err
}

// readsColsFrom reports whether e reads an input column at n or beyond
// (the window columns of a window TVF whose input has n columns).
func readsColsFrom(e expr.Expr, n int) bool {
	found := false
	expr.Refs(e, func(i int) { found = found || i >= n })
	return found
}

func nonNil(e expr.Expr) []expr.Expr {
	if e == nil {
		return nil
	}
	return []expr.Expr{e}
}

// groupsByPartitionKeys reports whether the plain group keys (keys at
// plain, over the window TVF's input columns) are exactly the PARTITION
// BY columns of a SESSION window, as Flink's
// WindowUtil.validGroupKeyPartitionKey requires of a window aggregation
// over SESSION windows with PARTITION BY (through a Calc, the columns it
// passes through: PullUpWindowTableFunctionIntoWindowAggregateRule's
// getSessionPartitionKeysThroughCalc). Grouping by other columns would
// make sessions per group key instead of per partition key.
func groupsByPartitionKeys(keys []expr.Expr, plain []int, partition []int) bool {
	seen := map[int]bool{}
	for _, i := range plain {
		r, ok := keys[i].(*expr.InputRef)
		if !ok || !slices.Contains(partition, r.Index) {
			return false
		}
		seen[r.Index] = true
	}
	for _, p := range partition {
		if !seen[p] {
			return false
		}
	}
	return true
}
