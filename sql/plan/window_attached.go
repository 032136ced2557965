package plan

import (
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// A cascaded window aggregation (Flink's "Cascading Window
// Aggregation"): the window_start and window_end of a window
// aggregation's output stay window properties through the Calcs above it
// (even renamed: Flink's FlinkRelMdWindowProperties), and GROUP BY
// window_start, window_end [, keys] over such an input is a window
// aggregation again, on the windows the rows carry (Flink's
// WindowAttachedWindowingStrategy): nothing is sliced or assigned, each
// window fires when the watermark passes its end (which the upstream
// window aggregation's rows, stamped with their window_time, precede).
// Its output has window_start and window_end, and window_time (a rowtime
// attribute, the window's end - 1 ms) only when it groups by its input's
// window_time (Flink names only the window properties it groups by), so
// it is window-attached in turn:
// a join of two such inputs on window_start and window_end is a
// WindowJoin (bind_join.go).
//
// Weir plans it only over an event-time window aggregation's output (not
// over a window TVF's behind a Calc, which is a window aggregation on the
// TVF's time attribute when the Calc can move below the TVF
// (window_tvf_calc.go) and a group aggregation otherwise; not on
// processing time, which it plans as before), with calls that are not
// DISTINCT. Like the other
// window aggregations it runs in two phases (LocalWindowAggregate,
// GlobalWindowAggregate on win_end=[$window_end]) unless the agg phase
// strategy is ONE_PHASE or a call cannot merge (window_twophase.go).

// attachedWindow returns the (first) window_start and window_end columns
// of r and its window when r is window-attached (window_attached_props.go):
// the output of a window aggregation through Calcs that pass both on, a
// union of such inputs or a window join.
func attachedWindow(r Rel) (start, end int, w Window, ok bool) {
	p, ok := attachedProps(r)
	if !ok {
		return 0, 0, w, false
	}
	return p.first(p.starts), p.first(p.ends), p.w, true
}

// bindAttachedWindowAggregate plans GROUP BY over from as a cascaded
// window aggregation when from is window-attached and keys hold its
// window_start and window_end; ok false: not such an aggregation.
func (b *Binder) bindAttachedWindowAggregate(s *ast.Select, from Rel, sc *scope, where expr.Expr, keys []expr.Expr, specs []*aggSpec, items []selectItem) (Rel, bool, error) {
	ws, we, win, ok := attachedWindow(from)
	if !ok {
		return nil, false, nil
	}
	props, _ := attachedProps(from)
	inSet := func(e expr.Expr, set map[int]bool) bool {
		r, isRef := e.(*expr.InputRef)
		return isRef && set[r.Index]
	}
	// The first window_start and window_end among the keys are the
	// window; the others (a window join's other side) are its
	// properties too.
	ws, we = -1, -1
	for _, k := range keys {
		if r, isRef := k.(*expr.InputRef); isRef {
			if ws < 0 && props.starts[r.Index] {
				ws = r.Index
			}
			if we < 0 && props.ends[r.Index] {
				we = r.Index
			}
		}
	}
	if ws < 0 || we < 0 {
		return nil, false, nil
	}
	for _, sp := range specs {
		if sp.distinct {
			return nil, false, nil
		}
	}
	cols := from.Columns()
	wt := windowTimeOf(from)
	win.AttachedTime = false
	pre := &preCalc{in: from}
	startCol := pre.add(expr.Ref(ws, cols[ws].Type))
	endCol := pre.add(expr.Ref(we, cols[we].Type))
	var plainKeys, keyCols []int
	windowKey := map[int]int{} // key position → 0 (window_start), 1 (window_end) or 2 (window_time)
	for i, k := range keys {
		switch {
		case inSet(k, props.starts):
			windowKey[i] = 0
		case inSet(k, props.ends):
			windowKey[i] = 1
		case inSet(k, props.times):
			// The input's window_time: a window property again, a
			// rowtime attribute of the output (Flink's
			// StreamPhysicalWindowAggregateRule), not a group key.
			windowKey[i] = 2
			win.AttachedTime = true
		default:
			plainKeys = append(plainKeys, i)
			keyCols = append(keyCols, pre.add(k))
		}
	}
	calls, err := b.aggCalls(specs, pre)
	if err != nil {
		return nil, true, err
	}
	preRel := pre.rel(where)
	win.Attached, win.StartCol, win.EndCol, win.TimeCol = true, startCol, endCol, endCol
	win.PartitionKeys = nil
	var out []Column
	for _, k := range keyCols {
		c := preRel.Columns()[k]
		c.Type.TimeAttr = row.NoTimeAttr
		out = append(out, c)
	}
	for _, c := range calls {
		out = append(out, Column{Name: c.Name, Type: c.Type})
	}
	st, et := cols[ws].Type, cols[we].Type
	st.TimeAttr, et.TimeAttr = row.NoTimeAttr, row.NoTimeAttr
	out = append(out, Column{Name: "window_start", Type: st}, Column{Name: "window_end", Type: et})
	if win.AttachedTime {
		tt := cols[wt].Type
		tt.Nullable = false
		out = append(out, Column{Name: "window_time", Type: tt})
	}
	wa := &WindowAggregate{In: preRel, Window: win, Keys: keyCols, Aggs: calls, Cols: out}
	eb := &exprBinder{sc: sc, fns: b.Funcs}
	rw := &aggRewrite{in: eb, keyCol: map[string]int{}, aggCol: map[string]int{}, outType: Types(wa), groupingCol: -1}
	for j, i := range plainKeys {
		rw.keyCol[keys[i].String()] = j
	}
	base := len(keyCols) + len(calls)
	for i, w := range windowKey {
		rw.keyCol[keys[i].String()] = base + w
	}
	for j, sp := range specs {
		rw.aggCol[sp.keyOf()] = len(keyCols) + j
	}
	rw.aux = map[string]int{"START": base, "END": base + 1}
	if win.AttachedTime {
		rw.aux["ROWTIME"] = base + 2
	}
	r, err := b.postAggregate(s, wa, rw, items)
	return r, true, err
}

// windowTimeOf returns the (first) column of r holding a window_time (a
// rowtime attribute) of r's windows, or -1.
func windowTimeOf(r Rel) int {
	p, ok := attachedProps(r)
	if !ok {
		return -1
	}
	return p.first(p.times)
}

// attachedDistinct plans SELECT DISTINCT over a window-attached input r
// whose columns hold its window_start and window_end as a cascaded window
// aggregation without calls (Flink's StreamPhysicalWindowAggregateRule on
// the DISTINCT's Aggregate): rows are distinct per window, emitted once
// when the window fires, insert-only and window-attached again (window_time
// too when r has it), instead of a group aggregation that keeps every
// row in state and, over later cascades, updates. A Calc puts the columns
// back in r's order. ok false: r is not such an input.
func attachedDistinct(r Rel) (Rel, bool) {
	ws, we, win, ok := attachedWindow(r)
	if !ok {
		return nil, false
	}
	cols := r.Columns()
	wt := windowTimeOf(r)
	win.AttachedTime = false
	pre := &preCalc{in: r}
	startCol := pre.add(expr.Ref(ws, cols[ws].Type))
	endCol := pre.add(expr.Ref(we, cols[we].Type))
	var keyCols, plain []int // keyCols: columns of pre; plain: their columns of r
	for i, c := range cols {
		if i == ws || i == we {
			continue
		}
		if i == wt {
			win.AttachedTime = true
			continue
		}
		// A second column equal to window_start (or any other) is a
		// key of its own: pre.add would fold it into the first.
		pre.projs = append(pre.projs, expr.Ref(i, c.Type))
		keyCols = append(keyCols, len(pre.projs)-1)
		plain = append(plain, i)
	}
	preRel := pre.rel(nil)
	win.Attached, win.StartCol, win.EndCol, win.TimeCol = true, startCol, endCol, endCol
	win.PartitionKeys = nil
	var out []Column
	for _, k := range keyCols {
		c := preRel.Columns()[k]
		c.Type.TimeAttr = row.NoTimeAttr
		out = append(out, c)
	}
	st, et := cols[ws].Type, cols[we].Type
	st.TimeAttr, et.TimeAttr = row.NoTimeAttr, row.NoTimeAttr
	out = append(out, Column{Name: "window_start", Type: st}, Column{Name: "window_end", Type: et})
	if win.AttachedTime {
		tt := cols[wt].Type
		tt.Nullable = false
		out = append(out, Column{Name: "window_time", Type: tt})
	}
	wa := &WindowAggregate{In: preRel, Window: win, Keys: keyCols, Cols: out}
	// Back to r's column order and names.
	back := &Calc{In: wa, Projects: make([]expr.Expr, len(cols)), Cols: make([]Column, len(cols))}
	for j, i := range plain {
		back.Projects[i] = expr.Ref(j, out[j].Type)
	}
	n := len(plain)
	back.Projects[ws] = expr.Ref(n, out[n].Type)
	back.Projects[we] = expr.Ref(n+1, out[n+1].Type)
	if win.AttachedTime {
		back.Projects[wt] = expr.Ref(n+2, out[n+2].Type)
	}
	for i, p := range back.Projects {
		back.Cols[i] = Column{Name: cols[i].Name, Type: p.Type()}
	}
	return back, true
}

// hasSubquery reports whether e holds a subquery of any kind.
func hasSubquery(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.ExistsExpr, *ast.QuantifiedExpr, *ast.SubqueryExpr:
			found = true
		case *ast.InExpr:
			found = found || n.(*ast.InExpr).Query != nil
		}
		return !found
	})
	return found
}
