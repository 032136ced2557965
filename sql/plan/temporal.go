package plan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// TemporalJoin is an event-time temporal join (FOR SYSTEM_TIME AS OF
// left.rowtime) of any table with a versioned table: a table or view
// with a unique key (PrimaryKey, its upsert key) and a rowtime attribute
// whose changes give the versions of each key (Flink's
// StreamPhysicalTemporalJoin, run by TemporalRowTimeJoinOperator). Every
// left row is joined with the version of its key valid at its time.
//
// The join keys are all equi-join pairs; they contain the primary key.
// The output is the left columns, which keep their time attributes, then
// the right columns as plain (for LEFT, nullable) columns; its changelog
// mode is the left input's.
type TemporalJoin struct {
	joinCommon
	// LeftTime is the FOR SYSTEM_TIME AS OF column (a rowtime attribute of
	// Left), RightTime the rowtime attribute of Right.
	LeftTime, RightTime int
	// PrimaryKey is the versioned table's key (columns of Right).
	PrimaryKey []int
}

// Mode implements Rel: the left input's mode (row kinds pass through).
func (j *TemporalJoin) Mode() Mode { return j.Left.Mode() }

func (j *TemporalJoin) describe() (string, []string) {
	lw := len(j.Left.Columns())
	name := func(i int) string { return j.Cols[i].Name }
	var eqs []string
	var lk, rk, pk []string
	for i := range j.LeftKeys {
		eqs = append(eqs, fmt.Sprintf("=(%s, %s)", name(j.LeftKeys[i]), name(lw+j.RightKeys[i])))
		lk = append(lk, name(j.LeftKeys[i]))
		rk = append(rk, name(lw+j.RightKeys[i]))
	}
	for _, c := range j.PrimaryKey {
		pk = append(pk, name(lw+c))
	}
	conds := append(eqs, fmt.Sprintf("__TEMPORAL_JOIN_CONDITION(%s, %s, __TEMPORAL_JOIN_CONDITION_PRIMARY_KEY(%s), __TEMPORAL_JOIN_LEFT_KEY(%s), __TEMPORAL_JOIN_RIGHT_KEY(%s))",
		name(j.LeftTime), name(lw+j.RightTime), strings.Join(pk, ", "), strings.Join(lk, ", "), strings.Join(rk, ", ")))
	for _, c := range conjuncts(j.Residual) {
		conds = append(conds, withNames(c, j.Cols))
	}
	return "TemporalJoin", []string{"joinType=[" + j.Type.String() + "]", "where=[AND(" + strings.Join(conds, ", ") + ")]", "select=[" + names(j.Cols) + "]"}
}

// planTemporal plans a join whose right side is a table FOR SYSTEM_TIME
// AS OF a left time attribute, as Flink's rules do: an event-time
// temporal join (TemporalJoin) of a versioned table. A processing-time
// one is refused, as Flink refuses it for a table that is not a lookup
// source. conds are WHERE conjuncts over the join's columns: the
// deterministic ones over left columns only filter the left input, the
// others the pairs the join chose (a filter on the versioned table's
// columns does not select versions): an inner join's residual condition,
// a filter above a LEFT join.
func (b *Binder) planTemporal(n *fromNode, conds []expr.Expr) (Rel, error) {
	j := n.join
	if n.l.sysTime != nil || n.r.sysTime == nil {
		return nil, errAt(j, "FOR SYSTEM_TIME AS OF is supported on the right side of a join only (a temporal join of the left table's time attribute)")
	}
	kind := InnerJoin
	switch j.Kind {
	case ast.LeftJoin:
		kind = LeftJoin
	case ast.RightJoin:
		return nil, errAt(j, "Temporal table join currently only support INNER JOIN and LEFT JOIN, but was RIGHT JOIN.")
	case ast.FullJoin:
		return nil, errAt(j, "Temporal table join currently only support INNER JOIN and LEFT JOIN, but was FULL JOIN.")
	}
	period := n.r.sysTime.SystemTime
	pe, err := (&exprBinder{sc: n.sc, fns: b.Funcs}).bind(period)
	if err != nil {
		return nil, err
	}
	lw := n.l.width
	ref, isRef := pe.(*expr.InputRef)
	if !isRef || ref.Index >= lw || ref.T.TimeAttr == row.NoTimeAttr {
		return nil, errAt(period, "Temporal table join currently only supports 'FOR SYSTEM_TIME AS OF' left table's time attribute field")
	}

	var on []expr.Expr
	if j.On != nil {
		if containsAgg(j.On, b.Funcs) {
			return nil, errAt(j.On, "aggregate functions are not allowed in ON")
		}
		e, err := (&exprBinder{sc: n.sc, fns: b.Funcs}).bind(j.On)
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
		eq, err := expr.NewCall("=", expr.Ref(n.l.sc.cols[li].Index, n.l.sc.cols[li].Type), expr.Ref(lw+n.r.sc.cols[ri].Index, n.r.sc.cols[ri].Type))
		if err != nil {
			return nil, errAt(u, "USING %s: %v", u.Name, err)
		}
		on = append(on, eq)
	}
	var lconds, jconds, above []expr.Expr
	leftOnly := func(c expr.Expr) bool {
		_, hi, has := refSpan(c)
		return has && hi < lw && expr.IsDeterministic(c)
	}
	for _, c := range on {
		if kind == InnerJoin && leftOnly(c) {
			lconds = append(lconds, c)
		} else {
			jconds = append(jconds, c)
		}
	}
	for _, c := range conds {
		switch {
		case leftOnly(c):
			lconds = append(lconds, c)
		case kind == InnerJoin:
			// Filtering an inner join's output is evaluating the
			// condition on the pair the join chose.
			jconds = append(jconds, c)
		default:
			above = append(above, c)
		}
	}
	l, err := b.planFrom(n.l, lconds)
	if err != nil {
		return nil, err
	}
	r := n.r.rel
	// The period must still be a time attribute once the left side is
	// planned (a regular join below turns rowtimes into timestamps).
	lt := l.Columns()[ref.Index].Type.TimeAttr
	if lt == row.NoTimeAttr {
		return nil, errAt(period, "Temporal table join currently only supports 'FOR SYSTEM_TIME AS OF' left table's time attribute field")
	}
	if lt == row.Proctime {
		// A lookup join when the right side is a lookup source (not
		// supported yet); otherwise Flink refuses it.
		return nil, errAt(j, "Processing-time temporal join is not supported yet.")
	}
	out, err := makeTemporalJoin(j, kind, l, r, ref.Index, jconds)
	if err != nil {
		return nil, err
	}
	return filtered(out, above)
}

// makeTemporalJoin plans an event-time temporal join of l and the
// versioned table r on conds (over the concatenated columns), with the
// left time attribute leftTime, validating it as Flink does.
func makeTemporalJoin(at ast.Node, kind JoinType, l, r Rel, leftTime int, conds []expr.Expr) (Rel, error) {
	lc, rc := l.Columns(), r.Columns()
	lw := len(lc)

	rightTime := -1
	for i, c := range rc {
		if c.Type.TimeAttr == row.Rowtime {
			if rightTime >= 0 {
				rightTime = -2
				break
			}
			rightTime = i
		}
	}
	if rightTime < 0 {
		return nil, errAt(at, "Event-Time Temporal Table Join requires both primary key and row time attribute in versioned table, but no row time attribute can be found.")
	}
	if lc[leftTime].Type.Root != rc[rightTime].Type.Root {
		return nil, errAt(at, "Event-Time Temporal Table Join requires same rowtime type in left table and versioned table, but the rowtime types are %s and %s.",
			lc[leftTime].Type.WithNullable(true), rc[rightTime].Type.WithNullable(true))
	}

	// Equi-join keys: a left expression equal to a right column. A left
	// side of another type is cast to the right column's type.
	var lkeys, rkeys []int
	var lx []expr.Expr
	var rest []expr.Expr
	var lnames []string // the left side of each pair, for messages
	for _, c := range conds {
		call, ok := c.(*expr.Call)
		if !ok || call.Func.Name != "=" || len(call.Args) != 2 || !expr.IsDeterministic(c) {
			rest = append(rest, c)
			continue
		}
		a, bb := call.Args[0], call.Args[1]
		if side(bb, lw) == 'l' && side(a, lw) == 'r' {
			a, bb = bb, a
		}
		if side(a, lw) != 'l' || side(bb, lw) != 'r' {
			rest = append(rest, c)
			continue
		}
		rref, isRef := bb.(*expr.InputRef)
		if !isRef {
			rest = append(rest, c)
			continue
		}
		rt := rc[rref.Index-lw].Type
		rt.TimeAttr = row.NoTimeAttr
		at0 := a.Type()
		at0.TimeAttr = row.NoTimeAttr
		le := a
		if !at0.WithNullable(true).Equal(rt.WithNullable(true)) {
			t, ok := expr.LeastRestrictive(at0, rt)
			if !ok || !t.WithNullable(true).Equal(rt.WithNullable(true)) {
				rest = append(rest, c)
				continue
			}
			x, err := expr.NewCast(a, rt.WithNullable(at0.Nullable))
			if err != nil {
				rest = append(rest, c)
				continue
			}
			le = x
		}
		lnames = append(lnames, withNames(a, lc))
		if lr, ok := le.(*expr.InputRef); ok {
			lkeys = append(lkeys, lr.Index)
		} else {
			lkeys = append(lkeys, lw+len(lx))
			lx = append(lx, le)
		}
		rkeys = append(rkeys, rref.Index-lw)
	}
	if len(lkeys) == 0 {
		return nil, errAt(at, "Currently the join key in Temporal Table Join can not be empty.")
	}

	ll := withExtra(l, lx)
	// Output columns: left (with any computed key columns) then right.
	var cols []Column
	for _, c := range ll.Columns() {
		cols = append(cols, c)
	}
	for _, c := range rc {
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
	lw2 := len(ll.Columns())

	pk := upsertKey(r)
	if pk == nil {
		return nil, errAt(at, "Temporal Table Join requires primary key in versioned table, but no primary key can be found.")
	}
	for _, k := range pk {
		if !slices.Contains(rkeys, k) {
			var pkNames, eqs []string
			for _, c := range pk {
				pkNames = append(pkNames, cols[lw2+c].Name)
			}
			for i := range lkeys {
				eqs = append(eqs, lnames[i]+"="+rc[rkeys[i]].Name)
			}
			return nil, errAt(at, "Temporal table's primary key [%s] must be included in the equivalence condition of temporal join, but current temporal join condition is [%s].",
				strings.Join(pkNames, ","), strings.Join(eqs, ","))
		}
	}

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
	tj := &TemporalJoin{
		joinCommon: joinCommon{Left: ll, Right: r, Type: kind, LeftKeys: lkeys, RightKeys: rkeys, Residual: residual, Cols: cols},
		LeftTime:   leftTime, RightTime: rightTime, PrimaryKey: pk,
	}
	if len(lx) == 0 {
		return tj, nil
	}
	// Drop the computed key columns again.
	var projs []expr.Expr
	var outCols []Column
	for i := range cols {
		if i >= lw && i < lw2 {
			continue
		}
		projs = append(projs, expr.Ref(i, cols[i].Type))
		outCols = append(outCols, cols[i])
	}
	return &Calc{In: tj, Projects: projs, Cols: outCols}, nil
}

// side tells whether e reads left columns only ('l'), right columns only
// ('r'), or both or none (0).
func side(e expr.Expr, lw int) byte {
	lo, hi, has := refSpan(e)
	switch {
	case has && hi < lw:
		return 'l'
	case has && lo >= lw:
		return 'r'
	}
	return 0
}

// upsertKey returns the shortest unique key of r's changelog (Flink's
// upsert keys), or nil: a table's primary key, the partition keys of a
// deduplication (or of a Top-1, or those and the row number of a Top-N
// with it), the group keys of an aggregation, through Calcs that keep
// their columns.
func upsertKey(r Rel) []int {
	var best []int
	for _, k := range upsertKeys(r) {
		if len(k) > 0 && (best == nil || len(k) < len(best)) {
			best = k
		}
	}
	return best
}

func upsertKeys(r Rel) [][]int {
	switch n := r.(type) {
	case *Scan:
		pk := n.Table.PrimaryKey
		if len(pk) == 0 {
			return nil
		}
		if !n.Source {
			return [][]int{slices.Clone(pk)}
		}
		src := n.Table.SourceColumns()
		key := make([]int, 0, len(pk))
		for _, c := range pk {
			p := slices.Index(src, c)
			if p < 0 {
				return nil
			}
			key = append(key, p)
		}
		return [][]int{key}
	case *Calc:
		var out [][]int
		for _, k := range upsertKeys(n.In) {
			mapped := make([]int, 0, len(k))
			for _, c := range k {
				at := -1
				for i, p := range n.Projects {
					if ref, ok := p.(*expr.InputRef); ok && ref.Index == c {
						at = i
						break
					}
				}
				if at < 0 {
					mapped = nil
					break
				}
				mapped = append(mapped, at)
			}
			if mapped != nil {
				out = append(out, mapped)
			}
		}
		return out
	case *Rank:
		switch {
		case n.Strategy == Dedup:
			return [][]int{slices.Clone(n.PartitionKeys)}
		case n.Strategy == TopN && n.RowNumber:
			return [][]int{append(slices.Clone(n.PartitionKeys), len(n.Cols)-1)}
		case n.Strategy == TopN && n.Start == 1 && n.End == 1:
			return [][]int{slices.Clone(n.PartitionKeys)}
		}
	case *Aggregate:
		if len(n.Keys) > 0 {
			key := make([]int, len(n.Keys))
			for i := range key {
				key[i] = i
			}
			return [][]int{key}
		}
	}
	return nil
}

// UpsertKeys returns the unique keys of r's changelog (Flink's upsert
// keys), as column indexes of r: see upsertKey.
func UpsertKeys(r Rel) [][]int { return upsertKeys(r) }
