package plan

import (
	"slices"

	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// inEverySet reports whether the keys are in every grouping set.
func inEverySet(sets [][]int, keys ...int) bool {
	for _, s := range sets {
		for _, k := range keys {
			if !slices.Contains(s, k) {
				return false
			}
		}
	}
	return true
}

// bindWindowGroupingSets plans a window aggregation with GROUPING SETS,
// ROLLUP or CUBE (GROUP BY window_start, window_end, GROUPING SETS (...)),
// Flink's way: window_start and window_end are in every set (the caller
// checks), so the window stays whole in every copy of a row. A Calc of the
// other keys, the time column and the aggregates' arguments, an Expand
// with a copy per set whose $e is the set's id over those other keys, and
// a WindowAggregate grouping by them and $e. GROUPING(window_start) and
// GROUPING(window_end) are 0.
func (b *Binder) bindWindowGroupingSets(s *ast.Select, tvf *WindowTVF, sc *scope, where expr.Expr, keys []expr.Expr, specs []*aggSpec, sets [][]int, pos ast.Node, items []selectItem) (Rel, error) {
	n := len(tvf.In.Columns())
	usesWindowCols := func(e expr.Expr) bool {
		found := false
		walkExpr(e, func(x expr.Expr) {
			if r, ok := x.(*expr.InputRef); ok && r.Index >= n {
				found = true
			}
		})
		return found
	}
	if where != nil && usesWindowCols(where) {
		return nil, errAt(s.Where, "a WHERE condition on window_start, window_end or window_time of a window aggregation is not supported")
	}
	if tvf.Window.Kind == Session {
		return nil, errAt(pos, "GROUPING SETS, ROLLUP and CUBE in a SESSION window aggregation are not supported")
	}
	// The keys other than the window's, in GROUP BY order; plainAt maps a
	// key's index to its position among them.
	var plain []expr.Expr
	plainAt := map[int]int{}
	windowKey := map[int]int{} // key index → 0, 1 or 2 (window_start, _end, _time)
	for i, k := range keys {
		if r, ok := k.(*expr.InputRef); ok && r.Index >= n {
			windowKey[i] = r.Index - n
			continue
		}
		if usesWindowCols(k) {
			return nil, errAt(s, "group key %s uses window columns; group by window_start and window_end themselves", k)
		}
		plainAt[i] = len(plain)
		plain = append(plain, k)
	}
	for _, sp := range specs {
		for _, a := range sp.args {
			if usesWindowCols(a) {
				return nil, errAt(sp.call, "aggregate arguments cannot use window columns")
			}
		}
	}
	// The sets over the plain keys; window keys are in all of them.
	psets := make([][]int, len(sets))
	for i, set := range sets {
		ps := []int{}
		for _, k := range set {
			if j, ok := plainAt[k]; ok {
				ps = append(ps, j)
			}
		}
		psets[i] = ps
	}
	agg, tc, err := b.expandGroupingSets(tvf.In, where, plain, specs, psets, pos, tvf.Window.TimeCol)
	if err != nil {
		return nil, err
	}
	ex := agg.In.(*Expand)
	ex.OneOperator = true
	np := len(plain)
	win := tvf.Window
	win.TimeCol = tc
	cols := append([]Column(nil), agg.Cols...)
	cols = append(cols, tvf.Cols[n], tvf.Cols[n+1], tvf.Cols[n+2])
	wa := &WindowAggregate{In: ex, Window: win, Keys: agg.Keys, Aggs: agg.Aggs, Cols: cols}

	eb := &exprBinder{sc: sc, fns: b.Funcs}
	rw := &aggRewrite{in: eb, keyCol: map[string]int{}, aggCol: map[string]int{}, outType: Types(wa), groupingCol: np, nkeys: np, keyBit: map[string]int{}}
	base := np + 1 + len(agg.Aggs)
	for i, k := range keys {
		if w, ok := windowKey[i]; ok {
			rw.keyCol[k.String()] = base + w
			rw.keyBit[k.String()] = -1
			continue
		}
		rw.keyCol[k.String()] = plainAt[i]
		rw.keyBit[k.String()] = plainAt[i]
	}
	for j, sp := range specs {
		rw.aggCol[sp.keyOf()] = np + 1 + j
	}
	return b.postAggregate(s, wa, rw, items)
}
