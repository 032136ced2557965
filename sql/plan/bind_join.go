package plan

import (
	"strconv"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// fromNode is a FROM clause's join tree with each leaf bound; the columns
// of a subtree are a contiguous range of the whole FROM clause's columns.
type fromNode struct {
	rel   Rel // a leaf
	sc    *scope
	join  *ast.Join
	l, r  *fromNode
	width int
	gen   *Generator // a table function or UNNEST correlated to the left side
	// sysTime is a leaf's table FOR SYSTEM_TIME AS OF (lookup.go).
	sysTime *ast.TableName
}

func (b *Binder) fromTree(ref ast.TableRef) (*fromNode, error) {
	j, ok := ref.(*ast.Join)
	if tn, isName := ref.(*ast.TableName); isName && tn.SystemTime != nil {
		return b.systemTimeLeaf(tn)
	}
	if !ok {
		rel, sc, err := b.bindFrom(ref)
		if err != nil {
			return nil, err
		}
		return &fromNode{rel: rel, sc: sc, width: len(rel.Columns())}, nil
	}
	l, err := b.fromTree(j.Left)
	if err != nil {
		return nil, err
	}
	r, err := b.fromRight(j.Right, l)
	if err != nil {
		return nil, err
	}
	if j.Natural {
		if j, err = naturalJoin(j, l.sc, r.sc); err != nil {
			return nil, err
		}
	}
	// Calcite's "Duplicate relation name" check: two FROM items with the
	// same name (FROM t, db1.t, or FROM t, t without aliases) would make
	// t.a name either table's column.
	quals := map[string]bool{}
	for _, c := range l.sc.cols {
		if c.Qual != "" {
			quals[c.Qual] = true
		}
	}
	for _, c := range r.sc.cols {
		if c.Qual != "" && quals[c.Qual] {
			return nil, errAt(j.Right, "Duplicate relation name '%s' in FROM clause", c.Qual)
		}
	}
	// Above an outer join, the columns of its null-producing side are
	// nullable, as in the join's output (makeJoin): a WHERE, SELECT or
	// NOT IN over them must not take them for NOT NULL.
	nullL := j.Kind == ast.RightJoin || j.Kind == ast.FullJoin
	nullR := j.Kind == ast.LeftJoin || j.Kind == ast.FullJoin
	sc := &scope{cols: append([]scopeCol(nil), l.sc.cols...)}
	for i := range sc.cols {
		if nullL {
			sc.cols[i].Type.Nullable = true
		}
	}
	for _, c := range r.sc.cols {
		c.Index += l.width
		for _, u := range j.Using {
			c.merged = c.merged || c.Name == u.Name
		}
		if nullR {
			c.Type.Nullable = true
		}
		sc.cols = append(sc.cols, c)
	}
	return &fromNode{join: j, l: l, r: r, sc: sc, width: l.width + r.width}, nil
}

// naturalJoin returns a NATURAL join as the join USING the columns whose
// names both sides have, in the left side's order (as Calcite expands
// it); without such columns it is a cross join.
func naturalJoin(j *ast.Join, l, r *scope) (*ast.Join, error) {
	names := func(sc *scope) map[string]int {
		m := map[string]int{}
		for _, c := range sc.cols {
			if !c.merged {
				m[c.Name]++
			}
		}
		return m
	}
	ln, rn := names(l), names(r)
	out := *j
	out.Natural = false
	seen := map[string]bool{}
	for _, c := range l.cols {
		if c.merged || seen[c.Name] || rn[c.Name] == 0 {
			continue
		}
		seen[c.Name] = true
		if ln[c.Name] > 1 || rn[c.Name] > 1 {
			return nil, errAt(j, "Column '%s' of the NATURAL JOIN is ambiguous: a side has it more than once", c.Name)
		}
		out.Using = append(out.Using, &ast.Ident{Pos: j.Pos, Name: c.Name})
	}
	if len(out.Using) == 0 {
		out.Kind = ast.CrossJoin
	}
	return &out, nil
}

// conjuncts splits a condition at its top-level ANDs.
func conjuncts(e expr.Expr) []expr.Expr {
	if e == nil {
		return nil
	}
	if c, ok := e.(*expr.Call); ok && c.Func.Name == "AND" {
		var out []expr.Expr
		for _, a := range c.Args {
			out = append(out, conjuncts(a)...)
		}
		return out
	}
	return []expr.Expr{e}
}

// andAll is the conjunction of conds (nil for none).
func andAll(conds []expr.Expr) (expr.Expr, error) {
	var out expr.Expr
	for _, c := range conds {
		if out == nil {
			out = c
			continue
		}
		x, err := expr.NewCall("AND", out, c)
		if err != nil {
			return nil, err
		}
		out = x
	}
	return out, nil
}

// refSpan returns the lowest and highest input column e reads.
func refSpan(e expr.Expr) (lo, hi int, has bool) {
	walkExpr(e, func(x expr.Expr) {
		if r, ok := x.(*expr.InputRef); ok {
			if !has || r.Index < lo {
				lo = r.Index
			}
			if !has || r.Index > hi {
				hi = r.Index
			}
			has = true
		}
	})
	return lo, hi, has
}

// mapRefs returns e with every input reference i replaced by f(i).
func mapRefs(e expr.Expr, f func(int) int) expr.Expr {
	switch n := e.(type) {
	case *expr.InputRef:
		return expr.Ref(f(n.Index), n.T)
	case *expr.Call:
		c := *n
		c.Args = make([]expr.Expr, len(n.Args))
		for i, a := range n.Args {
			c.Args[i] = mapRefs(a, f)
		}
		return &c
	case *expr.Cast:
		c := *n
		c.Arg = mapRefs(n.Arg, f)
		return &c
	case *expr.Case:
		c := *n
		c.Whens = make([]expr.Expr, len(n.Whens))
		c.Thens = make([]expr.Expr, len(n.Thens))
		for i := range n.Whens {
			c.Whens[i] = mapRefs(n.Whens[i], f)
			c.Thens[i] = mapRefs(n.Thens[i], f)
		}
		if n.Else != nil {
			c.Else = mapRefs(n.Else, f)
		}
		return &c
	case *expr.FieldAccess:
		c := *n
		c.Arg = mapRefs(n.Arg, f)
		return &c
	}
	return e
}

func shift(e expr.Expr, by int) expr.Expr {
	return mapRefs(e, func(i int) int { return i + by })
}

// filtered returns r filtered by conds (r itself when there are none).
func filtered(r Rel, conds []expr.Expr) (Rel, error) {
	if len(conds) == 0 {
		return r, nil
	}
	c, err := andAll(conds)
	if err != nil {
		return nil, err
	}
	cols := r.Columns()
	projs := make([]expr.Expr, len(cols))
	for i, col := range cols {
		projs[i] = expr.Ref(i, col.Type)
	}
	return fuseRank(&Calc{In: r, Projects: projs, Cond: c, Cols: append([]Column(nil), cols...)})
}

// planFrom builds the join tree of a FROM clause; conds (over the
// subtree's columns) are WHERE conjuncts to apply on its output: they are
// pushed into inner joins and their inputs where they can be.
func (b *Binder) planFrom(n *fromNode, conds []expr.Expr) (Rel, error) {
	if n.sysTime != nil || (n.join != nil && (n.l.sysTime != nil || n.r.sysTime != nil)) {
		return b.planSystemTimeJoin(n, conds)
	}
	if n.join == nil {
		return filtered(n.rel, conds)
	}
	if n.r.gen != nil {
		return b.planCorrelate(n, conds)
	}
	j := n.join
	kind := InnerJoin
	switch j.Kind {
	case ast.LeftJoin:
		kind = LeftJoin
	case ast.RightJoin:
		kind = RightJoin
	case ast.FullJoin:
		kind = FullJoin
	}
	var on []expr.Expr
	nr := n.r // the right input, with the ON's scalar subqueries (scalar_subquery.go)
	if j.On != nil {
		eb := &exprBinder{sc: n.sc, fns: b.Funcs}
		if subs := markSubqueries(j.On, scalarSubqueries(j.On, nil)); len(subs) > 0 {
			var err error
			if nr, eb.hook, err = b.onScalars(n, subs); err != nil {
				return nil, err
			}
		}
		if containsAgg(j.On, b.Funcs) {
			return nil, errAt(j.On, "aggregate functions are not allowed in ON")
		}
		e, err := eb.bind(j.On)
		if err != nil {
			return nil, err
		}
		if err := checkBoolean(j.On, e, "ON"); err != nil {
			return nil, err
		}
		on = conjuncts(e)
	}
	for _, u := range j.Using {
		li, lok := n.l.sc.unique(u.Name)
		ri, rok := n.r.sc.unique(u.Name)
		if !lok || !rok {
			return nil, errAt(u, "USING column '%s' must appear exactly once in each side of the join", u.Name)
		}
		lt, rt := n.l.sc.cols[li].Type, n.r.sc.cols[ri].Type
		eq, err := expr.NewCall("=", expr.Ref(n.l.sc.cols[li].Index, lt), expr.Ref(n.l.width+n.r.sc.cols[ri].Index, rt))
		if err != nil {
			return nil, errAt(u, "USING %s: %v", u.Name, err)
		}
		on = append(on, eq)
	}
	lw := n.l.width
	var lconds, rconds, jconds, above []expr.Expr
	place := func(c expr.Expr, fromWhere bool) {
		lo, hi, has := refSpan(c)
		det := expr.IsDeterministic(c)
		leftOnly, rightOnly := has && hi < lw && det, has && lo >= lw && det
		switch {
		case kind == InnerJoin && leftOnly:
			lconds = append(lconds, c)
		case kind == InnerJoin && rightOnly:
			rconds = append(rconds, shift(c, -lw))
		case kind == InnerJoin:
			jconds = append(jconds, c)
		case fromWhere:
			// WHERE filters an outer join's output.
			above = append(above, c)
		case kind == LeftJoin && rightOnly:
			// ON restricts which right rows match: filter them first.
			rconds = append(rconds, shift(c, -lw))
		case kind == RightJoin && leftOnly:
			lconds = append(lconds, c)
		default:
			jconds = append(jconds, c)
		}
	}
	for _, c := range on {
		place(c, false)
	}
	for _, c := range conds {
		place(c, true)
	}
	l, err := b.planFrom(n.l, lconds)
	if err != nil {
		return nil, err
	}
	r, err := b.planFrom(nr, rconds)
	if err != nil {
		return nil, err
	}
	out, err := makeJoin(j, kind, l, r, jconds)
	if err != nil {
		return nil, err
	}
	if nr != n.r {
		out = dropTail(out, lw+n.r.width)
	}
	return filtered(out, above)
}

// unique finds the only column of the scope named name.
func (s *scope) unique(name string) (int, bool) {
	found := -1
	for i, c := range s.cols {
		if c.Name == name {
			if found >= 0 {
				return 0, false
			}
			found = i
		}
	}
	return found, found >= 0
}

// windowProps finds the window_start and window_end columns of a window
// table function's or window aggregation's output, through Calcs that
// pass them on.
func windowProps(r Rel) (start, end int, w Window, ok bool) {
	switch n := r.(type) {
	case *WindowTVF:
		k := len(n.In.Columns())
		// A SESSION TVF's rows come out when their session closes, each
		// with its session's window_start and window_end (Flink 1.19,
		// FLINK-34100): on a rowtime attribute they feed a window join,
		// window Top-N or window deduplication as other windows' rows do
		// (Flink documents SESSION window joins and Top-N as unsupported
		// in batch mode only). On processing time it stays a regular
		// join or rank.
		return k, k + 1, n.Window, n.Window.Kind != Session || sessionOnRowtime(n)
	case *WindowAggregate:
		k := len(n.Keys) + len(n.Aggs)
		return k, k + 1, n.Window, true
	case *WindowJoin:
		return n.LeftStart, n.LeftEnd, n.Window, true
	case *SemiJoin:
		if n.Window != nil {
			return n.Window.LeftStart, n.Window.LeftEnd, n.Window.Window, true
		}
	case *Union:
		// A union of window-attached inputs with one window
		// (window_attached_props.go).
		return attachedWindow(n)
	case *Calc:
		s, e, w, ok := windowProps(n.In)
		if !ok {
			return 0, 0, w, false
		}
		start, end = -1, -1
		for i, p := range n.Projects {
			if ref, isRef := p.(*expr.InputRef); isRef {
				if ref.Index == s && start < 0 {
					start = i
				}
				if ref.Index == e && end < 0 {
					end = i
				}
			}
		}
		return start, end, w, start >= 0 && end >= 0
	}
	return 0, 0, w, false
}

// sameWindow reports whether two windows are the same windowing: the
// same kind and sizes, and the same time attribute type (Flink's window
// join and union require the time attribute type and the window spec to
// be equal): a window over a TIMESTAMP_LTZ (LocalTime) fires at the
// instant of its end's wall clock in the session time zone, one over a
// TIMESTAMP at its end read as UTC, so one operator cannot fire both.
func sameWindow(a, b Window) bool {
	return a.Kind == b.Kind && a.Size == b.Size && a.Slide == b.Slide && a.Step == b.Step && a.Gap == b.Gap && a.Offset == b.Offset &&
		a.LocalTime == b.LocalTime
}

type keyPair struct{ l, r expr.Expr }

// timeTerm recognises time_attr [+|- constant interval] and returns the
// column and the offset in ms.
func timeTerm(e expr.Expr) (col int, attr row.TimeAttr, off int64, ok bool) {
	switch n := e.(type) {
	case *expr.InputRef:
		if n.T.TimeAttr == row.NoTimeAttr {
			return 0, 0, 0, false
		}
		return n.Index, n.T.TimeAttr, 0, true
	case *expr.Call:
		if (n.Func.Name != "+" && n.Func.Name != "-") || len(n.Args) != 2 {
			return 0, 0, 0, false
		}
		col, attr, off, ok := timeTerm(n.Args[0])
		if !ok {
			return 0, 0, 0, false
		}
		if _, _, has := refSpan(n.Args[1]); has {
			return 0, 0, 0, false
		}
		c, err := expr.Fold(n.Args[1])
		if err != nil {
			return 0, 0, 0, false
		}
		l, isLit := c.(*expr.Literal)
		if !isLit || l.T.Root != row.TypeIntervalDayTime || l.Value.IsNull() {
			return 0, 0, 0, false
		}
		if n.Func.Name == "+" {
			return col, attr, off + l.Value.Int(), true
		}
		return col, attr, off - l.Value.Int(), true
	}
	return 0, 0, 0, false
}

// intervalBounds finds Flink's time-bounded join condition in conds:
// comparisons of a left and a right time attribute of the same kind
// (with constant offsets) that bound the left time from both sides. It
// returns the bounds (Right.time - lower <= Left.time <= Right.time +
// upper) and the remaining conditions.
func intervalBounds(conds []expr.Expr, lw int) (lt, rt int, attr row.TimeAttr, lower, upper int64, rest []expr.Expr, ok bool) {
	lt, rt = -1, -1
	hasLower, hasUpper := false, false
	for _, c := range conds {
		call, isCall := c.(*expr.Call)
		if !isCall || len(call.Args) != 2 {
			rest = append(rest, c)
			continue
		}
		op := call.Func.Name
		if op != "<" && op != "<=" && op != ">" && op != ">=" {
			rest = append(rest, c)
			continue
		}
		ac, aa, ao, aok := timeTerm(call.Args[0])
		bc, ba, bo, bok := timeTerm(call.Args[1])
		if !aok || !bok || aa != ba || (ac < lw) == (bc < lw) {
			rest = append(rest, c)
			continue
		}
		// Normalise to L - R op d.
		var d int64
		if ac < lw {
			d = bo - ao
		} else {
			ac, bc = bc, ac
			d = ao - bo
			op = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
		}
		if lt >= 0 && (lt != ac || rt != bc-lw) {
			rest = append(rest, c)
			continue
		}
		lt, rt, attr = ac, bc-lw, aa
		switch op {
		case ">=", ">":
			if op == ">" {
				d++
			}
			if !hasLower || -d < lower {
				lower = -d
			}
			hasLower = true
		default:
			if op == "<" {
				d--
			}
			if !hasUpper || d < upper {
				upper = d
			}
			hasUpper = true
		}
	}
	return lt, rt, attr, lower, upper, rest, hasLower && hasUpper && -lower <= upper
}

// makeJoin plans a join of l and r on conds (over the concatenated
// columns): an equi-join's keys are extracted, and the operator is a
// window join, an interval join or a regular join.
func makeJoin(at ast.Node, kind JoinType, l, r Rel, conds []expr.Expr) (Rel, error) {
	lc, rc := l.Columns(), r.Columns()
	lw := len(lc)
	var pairs, nullSafe []keyPair
	var rest, nullSafeConds []expr.Expr
	for _, c := range conds {
		if call, ok := c.(*expr.Call); ok && (call.Func.Name == "=" || call.Func.Name == "IS NOT DISTINCT FROM") && len(call.Args) == 2 {
			a, bb := call.Args[0], call.Args[1]
			alo, ahi, ahas := refSpan(a)
			blo, bhi, bhas := refSpan(bb)
			if ahas && bhas && expr.IsDeterministic(c) {
				var p *keyPair
				if ahi < lw && blo >= lw {
					p = &keyPair{a, shift(bb, -lw)}
				} else if bhi < lw && alo >= lw {
					p = &keyPair{bb, shift(a, -lw)}
				}
				switch {
				case p != nil && call.Func.Name == "=":
					pairs = append(pairs, *p)
					continue
				case p != nil:
					// IS NOT DISTINCT FROM: a key matching NULL with NULL
					// (regular joins only).
					nullSafe = append(nullSafe, *p)
					nullSafeConds = append(nullSafeConds, c)
					continue
				}
			}
		}
		rest = append(rest, c)
	}
	insertOnly := l.Mode() == InsertOnly && r.Mode() == InsertOnly

	// A window join: both sides are windowed the same way and joined on
	// window_start and window_end.
	ls, le, lwin, lok := windowProps(l)
	rs, re, rwin, rok := windowProps(r)
	isWindow := false
	if lok && rok && insertOnly && sameWindow(lwin, rwin) && windowTimeAttr(l) == windowTimeAttr(r) {
		var other []keyPair
		var hasStart, hasEnd bool
		for _, p := range pairs {
			lr, lIsRef := p.l.(*expr.InputRef)
			rr, rIsRef := p.r.(*expr.InputRef)
			switch {
			case lIsRef && rIsRef && lr.Index == ls && rr.Index == rs && !hasStart:
				hasStart = true
			case lIsRef && rIsRef && lr.Index == le && rr.Index == re && !hasEnd:
				hasEnd = true
			default:
				other = append(other, p)
			}
		}
		if hasStart && hasEnd {
			isWindow = true
			pairs = other
		}
	}

	var lt, rt int
	var attr row.TimeAttr
	var lower, upper int64
	isInterval := false
	if !isWindow && insertOnly {
		var rest2 []expr.Expr
		lt, rt, attr, lower, upper, rest2, isInterval = intervalBounds(rest, lw)
		if isInterval {
			rest = rest2
		}
	}
	var nullSafeFlags []bool
	if isWindow || isInterval {
		rest = append(rest, nullSafeConds...)
	} else if len(nullSafe) > 0 {
		nullSafeFlags = make([]bool, len(pairs), len(pairs)+len(nullSafe))
		for range nullSafe {
			nullSafeFlags = append(nullSafeFlags, true)
		}
		pairs = append(pairs, nullSafe...)
	}
	if len(pairs) == 0 && !isWindow && !isInterval {
		// Flink runs such a join on one subtask; so does Weir, with a
		// constant key.
		one := expr.Lit(row.Int(0), row.IntType().NotNull())
		pairs = append(pairs, keyPair{one, one})
	}

	// Key columns: plain columns of equal types, or computed columns
	// (cast to a common type) appended to each side.
	var lkeys, rkeys []int
	var lx, rx []expr.Expr
	for _, p := range pairs {
		lt0, rt0 := p.l.Type(), p.r.Type()
		lt0.TimeAttr, rt0.TimeAttr = row.NoTimeAttr, row.NoTimeAttr
		lr, lIsRef := p.l.(*expr.InputRef)
		rr, rIsRef := p.r.(*expr.InputRef)
		if lIsRef && rIsRef && lt0.WithNullable(true).Equal(rt0.WithNullable(true)) {
			lkeys = append(lkeys, lr.Index)
			rkeys = append(rkeys, rr.Index)
			continue
		}
		t, ok := expr.LeastRestrictive(lt0, rt0)
		if !ok {
			return nil, errAt(at, "join key %s = %s: types %s and %s have no common type", withNames(p.l, lc), withNames(p.r, rc), lt0, rt0)
		}
		t.TimeAttr = row.NoTimeAttr
		le, re := p.l, p.r
		var err error
		if !lt0.Equal(t) {
			if le, err = expr.NewCast(le, t); err != nil {
				return nil, errAt(at, "join key: %v", err)
			}
		}
		if !rt0.Equal(t) {
			if re, err = expr.NewCast(re, t); err != nil {
				return nil, errAt(at, "join key: %v", err)
			}
		}
		lkeys = append(lkeys, lw+len(lx))
		lx = append(lx, le)
		rkeys = append(rkeys, len(rc)+len(rx))
		rx = append(rx, re)
	}
	ll, rr := withExtra(l, lx), withExtra(r, rx)
	residual, err := andAll(rest)
	if err != nil {
		return nil, errAt(at, "%v", err)
	}
	if residual != nil && len(lx) > 0 {
		residual = mapRefs(residual, func(i int) int {
			if i >= lw {
				return i + len(lx)
			}
			return i
		})
	}
	// Output columns.
	keepTime := isWindow || isInterval
	var cols []Column
	for i, c := range ll.Columns() {
		if i < lw && (kind == RightJoin || kind == FullJoin) {
			c.Type.Nullable = true
			c.Type.TimeAttr = row.NoTimeAttr
		}
		if !keepTime {
			c.Type.TimeAttr = row.NoTimeAttr
		}
		cols = append(cols, c)
	}
	for _, c := range rr.Columns() {
		if kind == LeftJoin || kind == FullJoin {
			c.Type.Nullable = true
			c.Type.TimeAttr = row.NoTimeAttr
		}
		if !keepTime {
			c.Type.TimeAttr = row.NoTimeAttr
		}
		cols = append(cols, c)
	}
	// Duplicate names get a numeric suffix, as in Flink's plans.
	seen := map[string]bool{}
	for i := range cols {
		n := cols[i].Name
		for k := 0; seen[n]; k++ {
			n = cols[i].Name + strconv.Itoa(k)
		}
		seen[n] = true
		cols[i].Name = n
	}
	jc := joinCommon{Left: ll, Right: rr, Type: kind, LeftKeys: lkeys, RightKeys: rkeys, NullSafe: nullSafeFlags, Residual: residual, Cols: cols}
	var out Rel
	switch {
	case isWindow:
		out = &WindowJoin{joinCommon: jc, Window: lwin, LeftStart: ls, LeftEnd: le, RightStart: rs, RightEnd: re}
	case isInterval:
		out = &IntervalJoin{joinCommon: jc, LeftTime: lt, RightTime: rt, Lower: lower, Upper: upper, ProcTime: attr == row.Proctime}
	default:
		out = &Join{joinCommon: jc}
	}
	if len(lx) == 0 && len(rx) == 0 {
		return out, nil
	}
	// Drop the computed key columns again.
	var projs []expr.Expr
	var outCols []Column
	for i := range cols {
		if (i >= lw && i < lw+len(lx)) || i >= lw+len(lx)+len(rc) {
			continue
		}
		projs = append(projs, expr.Ref(i, cols[i].Type))
		outCols = append(outCols, cols[i])
	}
	return &Calc{In: out, Projects: projs, Cols: outCols}, nil
}

// withExtra appends computed columns to r.
func withExtra(r Rel, extra []expr.Expr) Rel {
	if len(extra) == 0 {
		return r
	}
	cols := append([]Column(nil), r.Columns()...)
	projs := make([]expr.Expr, 0, len(cols)+len(extra))
	for i, c := range cols {
		projs = append(projs, expr.Ref(i, c.Type))
	}
	for i, e := range extra {
		projs = append(projs, e)
		cols = append(cols, Column{Name: "$k" + strconv.Itoa(i), Type: e.Type()})
	}
	return &Calc{In: r, Projects: projs, Cols: cols}
}
