package plan

import (
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// LookupJoin is Flink's lookup join: every input row looks the rows of
// Table up whose Keys columns equal the row's KeyExprs, at the time it is
// processed (`JOIN t FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.k =
// c.id`). The table is read through its connector's lookup source, not
// scanned; the input's row kinds pass through (each row is joined as it
// is). An inner join drops a row without a match; a left join pads it with
// NULLs.
type LookupJoin struct {
	Input Rel
	Table *Table
	Type  JoinType // InnerJoin or LeftJoin
	// Keys are the table's key columns (indexes in Table.Columns, all
	// physical) and KeyExprs the expressions over the input they equal,
	// of the key columns' types.
	Keys     []int
	KeyExprs []expr.Expr
	// Residual is the rest of the condition over the input's columns
	// then the table's, or nil; a row whose lookup rows all fail it is
	// unmatched.
	Residual expr.Expr
	Cols     []Column
}

// Columns implements Rel: the input's columns then the table's.
func (j *LookupJoin) Columns() []Column { return j.Cols }

// Inputs implements Rel: the lookup table is not an input (it is read by
// key, not scanned).
func (j *LookupJoin) Inputs() []Rel { return []Rel{j.Input} }

// Mode implements Rel: the input's.
func (j *LookupJoin) Mode() Mode { return j.Input.Mode() }

func (j *LookupJoin) describe() (string, []string) {
	in := j.Input.Columns()
	var keys []string
	for i, k := range j.Keys {
		keys = append(keys, j.Table.Columns[k].Name+"="+withNames(j.KeyExprs[i], in))
	}
	attrs := []string{"table=[" + strings.Join(j.Table.Path(), ".") + "]", "joinType=[" + j.Type.String() + "]",
		"lookup=[" + strings.Join(keys, ", ") + "]"}
	if j.Residual != nil {
		attrs = append(attrs, "where=["+withNames(j.Residual, j.Cols)+"]")
	}
	return "LookupJoin", append(attrs, "select=["+names(j.Cols)+"]")
}

// systemTimeLeaf binds `t FOR SYSTEM_TIME AS OF expr [AS alias]`, the
// right side of a lookup (or temporal) join; the AS OF expression is
// bound by planSystemTimeJoin, in the left side's scope.
func (b *Binder) systemTimeLeaf(n *ast.TableName) (*fromNode, error) {
	if len(n.Hints) > 0 {
		return nil, errAt(n.Hints[0], "table hints (/*+ %s(...) */) on a lookup table are not supported yet", n.Hints[0].Name.Name)
	}
	r, qual, err := b.namedTable(n.Name)
	if err != nil {
		return nil, err
	}
	r, sc, err := b.applyAlias(r, n.Alias, qual)
	if err != nil {
		return nil, err
	}
	return &fromNode{rel: r, sc: sc, width: len(r.Columns()), sysTime: n}, nil
}

// planSystemTimeJoin plans a join whose right side is a table FOR
// SYSTEM_TIME AS OF the left side's processing-time attribute: a lookup
// join. conds are WHERE conjuncts over the join's columns.
func (b *Binder) planSystemTimeJoin(n *fromNode, conds []expr.Expr) (Rel, error) {
	j := n.join
	if j == nil {
		return nil, errAt(n.sysTime, "FOR SYSTEM_TIME AS OF is supported on the right side of a join only (a lookup join)")
	}
	if n.l.sysTime != nil {
		return nil, errAt(n.l.sysTime, "FOR SYSTEM_TIME AS OF must be on the right side of a join")
	}
	st := n.r.sysTime
	// AS OF a rowtime attribute: an event-time temporal join against a
	// versioned table (temporal.go).
	if at, err := (&exprBinder{sc: n.l.sc, fns: b.Funcs}).bind(st.SystemTime); err == nil {
		if ref, ok := at.(*expr.InputRef); ok && ref.T.TimeAttr == row.Rowtime {
			return b.planTemporal(n, conds)
		}
	}
	var kind JoinType
	switch j.Kind {
	case ast.InnerJoin:
		kind = InnerJoin
	case ast.LeftJoin:
		kind = LeftJoin
	default:
		return nil, errAt(j, "Temporal table join currently only supports INNER JOIN and LEFT JOIN, not %s", j.Kind)
	}
	if len(j.Using) > 0 {
		return nil, errAt(j, "a lookup join needs its condition in ON (USING is not supported with FOR SYSTEM_TIME AS OF)")
	}
	if j.On == nil {
		return nil, errAt(j, "Temporal table join requires an equality condition on fields of table [%s].", st.Name)
	}
	// AS OF: the left side's time attribute.
	at, err := (&exprBinder{sc: n.l.sc, fns: b.Funcs}).bind(st.SystemTime)
	if err != nil {
		return nil, err
	}
	ref, isRef := at.(*expr.InputRef)
	if !isRef || ref.T.TimeAttr == row.NoTimeAttr {
		return nil, errAt(st.SystemTime, "Temporal table join currently only supports 'FOR SYSTEM_TIME AS OF' left table's time attribute field, not %s", st.SystemTime)
	}
	if ref.T.TimeAttr == row.Rowtime {
		return nil, errAt(st.SystemTime, "event-time temporal joins (FOR SYSTEM_TIME AS OF a rowtime attribute) are not supported yet; lookup joins take a processing-time attribute (PROCTIME())")
	}
	scan, ok := n.r.rel.(*Scan)
	if !ok {
		return nil, errAt(st, "Processing-time temporal join is not supported yet. A lookup join reads a table with a lookup connector; %s is a view or a query", st.Name)
	}
	tab := scan.Table
	for i, k := range tab.Kinds {
		if k != Physical {
			return nil, errAt(st, "lookup table %s: computed and metadata columns (%s) are not supported in lookup joins yet", tab.Name, tab.Columns[i].Name)
		}
	}

	if containsAgg(j.On, b.Funcs) {
		return nil, errAt(j.On, "aggregate functions are not allowed in ON")
	}
	on, err := (&exprBinder{sc: n.sc, fns: b.Funcs}).bind(j.On)
	if err != nil {
		return nil, err
	}
	if err := checkBoolean(j.On, on, "ON"); err != nil {
		return nil, err
	}
	lw := n.l.width
	var lconds, rest, above []expr.Expr
	var keys []int
	var keyExprs []expr.Expr
	place := func(c expr.Expr, fromWhere bool) error {
		_, hi, has := refSpan(c)
		det := expr.IsDeterministic(c)
		switch {
		case kind == InnerJoin && has && hi < lw && det:
			lconds = append(lconds, c)
			return nil
		case kind == LeftJoin && fromWhere:
			above = append(above, c)
			return nil
		}
		if k, e, ok := lookupKey(c, lw); ok && det {
			dup := false
			for _, have := range keys {
				dup = dup || have == k
			}
			if !dup {
				ct := tab.Columns[k].Type
				ct.TimeAttr = row.NoTimeAttr
				et := e.Type()
				et.TimeAttr = row.NoTimeAttr
				if !et.WithNullable(true).Equal(ct.WithNullable(true)) {
					cast, err := expr.NewCast(e, ct.WithNullable(true))
					if err != nil {
						return errAt(j.On, "lookup key %s = %s: %v", tab.Columns[k].Name, withNames(e, n.l.rel0Cols()), err)
					}
					e = cast
				}
				keys = append(keys, k)
				keyExprs = append(keyExprs, e)
				return nil
			}
		}
		rest = append(rest, c)
		return nil
	}
	for _, c := range conjuncts(on) {
		if err := place(c, false); err != nil {
			return nil, err
		}
	}
	for _, c := range conds {
		if err := place(c, true); err != nil {
			return nil, err
		}
	}
	if len(keys) == 0 {
		return nil, errAt(j.On, "Temporal table join requires an equality condition on fields of table [%s].", strings.Join(tab.Path(), "."))
	}
	left, err := b.planFrom(n.l, lconds)
	if err != nil {
		return nil, err
	}
	residual, err := andAll(rest)
	if err != nil {
		return nil, errAt(j, "%v", err)
	}
	var cols []Column
	cols = append(cols, left.Columns()...)
	for _, c := range n.r.rel.Columns() {
		c.Type.TimeAttr = row.NoTimeAttr
		if kind == LeftJoin {
			c.Type.Nullable = true
		}
		cols = append(cols, c)
	}
	seen := map[string]bool{}
	for i := range cols {
		nm := cols[i].Name
		for k := 0; seen[nm]; k++ {
			nm = cols[i].Name + strconv.Itoa(k)
		}
		seen[nm] = true
		cols[i].Name = nm
	}
	out := &LookupJoin{Input: left, Table: tab, Type: kind, Keys: keys, KeyExprs: keyExprs, Residual: residual, Cols: cols}
	return filtered(out, above)
}

// lookupKey recognises right.col = <expression over the left side> (either
// way round) and returns the right column and the left expression. The
// column may be under the implicit widening CAST the binder adds to
// compare integers of different sizes: the left expression is then
// narrowed with TRY_CAST, whose NULL for an out-of-range value matches no
// row, as the comparison would not.
func lookupKey(c expr.Expr, lw int) (int, expr.Expr, bool) {
	call, ok := c.(*expr.Call)
	if !ok || call.Func.Name != "=" || len(call.Args) != 2 {
		return 0, nil, false
	}
	for _, p := range [][2]expr.Expr{{call.Args[0], call.Args[1]}, {call.Args[1], call.Args[0]}} {
		_, hi, has := refSpan(p[1])
		if !has || hi >= lw {
			continue
		}
		switch x := p[0].(type) {
		case *expr.InputRef:
			if x.Index >= lw {
				return x.Index - lw, p[1], true
			}
		case *expr.Cast:
			r, isRef := x.Arg.(*expr.InputRef)
			if !isRef || !x.Implicit || r.Index < lw || !r.T.IsInteger() || !x.Type().IsInteger() || !p[1].Type().IsInteger() {
				continue
			}
			e, err := expr.NewTryCast(p[1], r.T.WithNullable(true))
			if err != nil {
				continue
			}
			return r.Index - lw, e, true
		}
	}
	return 0, nil, false
}

// rel0Cols returns the columns a subtree's scope names, for messages.
func (n *fromNode) rel0Cols() []Column {
	cols := make([]Column, len(n.sc.cols))
	for i, c := range n.sc.cols {
		cols[i] = Column{Name: c.Name, Type: c.Type}
	}
	return cols
}

// refuseLookupHints refuses Flink's LOOKUP query hint (async, output-mode,
// capacity, timeout and retry settings per lookup table), which Weir does
// not implement yet: the session's table.exec.async-lookup.* options apply.
func refuseLookupHints(hints []*ast.Hint) error {
	for _, h := range hints {
		if strings.EqualFold(h.Name.Name, "LOOKUP") {
			return errAt(h, "the LOOKUP hint is not supported yet (set table.exec.async-lookup.buffer-capacity, .timeout and .output-mode instead)")
		}
	}
	return nil
}
