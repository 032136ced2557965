package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// OverAggregate is agg(...) OVER (PARTITION BY PartitionKeys ORDER BY
// OrderCol ASC frame) for every input row (Flink's OverAggregate): its
// columns are the input's, then one per call (named w0$o0, w0$o1, ...).
// The frame ends at the current row; it starts UNBOUNDED PRECEDING, or
// Preceding rows (ROWS) or milliseconds (RANGE) before it. OrderCol is a
// time attribute; the output is append-only, like the input must be.
type OverAggregate struct {
	In            Rel
	PartitionKeys []int
	OrderCol      int
	Rows          bool
	Unbounded     bool
	Preceding     int64
	Aggs          []AggCall
	Cols          []Column
}

// Columns implements Rel.
func (o *OverAggregate) Columns() []Column { return o.Cols }

// Inputs implements Rel.
func (o *OverAggregate) Inputs() []Rel { return []Rel{o.In} }

// Mode implements Rel: an OVER aggregation appends.
func (o *OverAggregate) Mode() Mode { return InsertOnly }

// Frame prints the window frame as Flink's EXPLAIN does (" RANG BETWEEN
// 3600000 PRECEDING AND CURRENT ROW").
func (o *OverAggregate) Frame() string {
	unit := "RANG"
	if o.Rows {
		unit = "ROWS"
	}
	start := "UNBOUNDED"
	if !o.Unbounded {
		start = strconv.FormatInt(o.Preceding, 10)
	}
	return " " + unit + " BETWEEN " + start + " PRECEDING AND CURRENT ROW"
}

func (o *OverAggregate) describe() (string, []string) {
	in := o.In.Columns()
	keys := make([]string, len(o.PartitionKeys))
	for i, k := range o.PartitionKeys {
		keys[i] = in[k].Name
	}
	var sel []string
	for _, c := range in {
		sel = append(sel, c.Name)
	}
	for _, c := range o.Aggs {
		sel = append(sel, c.describe(in))
	}
	var attrs []string
	if len(keys) > 0 {
		attrs = append(attrs, "partitionBy=["+strings.Join(keys, ", ")+"]")
	}
	return "OverAggregate", append(attrs, "orderBy=["+in[o.OrderCol].Name+" ASC]",
		"window=["+o.Frame()+"]", "select=["+strings.Join(sel, ", ")+"]")
}

// overCall reports whether e is a function call with OVER.
func overCall(e ast.Node) (*ast.Call, bool) {
	c, ok := e.(*ast.Call)
	return c, ok && (c.Over != nil || c.OverName != nil)
}

// hasOverAggregate reports whether a select list needs an OVER
// aggregation: an OVER call other than a ranking select item
// (ROW_NUMBER() binds to a Rank; bindRowNumber refuses the others).
func hasOverAggregate(items []selectItem) bool {
	found := false
	for _, it := range items {
		if c, ok := overCall(it.e); ok && isRanking(c) {
			continue
		}
		ast.Inspect(it.e, func(n ast.Node) bool {
			if _, ok := overCall(n); ok {
				found = true
			}
			switch n.(type) {
			case *ast.SubqueryExpr, *ast.ExistsExpr:
				return false
			}
			return !found
		})
	}
	return found
}

func isRanking(c *ast.Call) bool {
	if len(c.Name.Parts) != 1 {
		return false
	}
	switch strings.ToUpper(c.Name.Parts[0].Name) {
	case "ROW_NUMBER", "RANK", "DENSE_RANK":
		return true
	}
	return false
}

// overFrame is a resolved, validated window of an OVER call.
type overFrame struct {
	partition []expr.Expr
	order     *expr.InputRef
	orderExpr expr.Expr // PROCTIME() when the window orders by the call, order is then nil
	rows      bool
	unbounded bool
	preceding int64
}

func (f *overFrame) key() string {
	var b strings.Builder
	for _, p := range f.partition {
		b.WriteString(p.String() + ",")
	}
	order := "PROCTIME()"
	if f.order != nil {
		order = strconv.Itoa(f.order.Index)
	}
	fmt.Fprintf(&b, "|%s|%v|%v|%d", order, f.rows, f.unbounded, f.preceding)
	return b.String()
}

// windowSpec resolves the window of an OVER call: OVER w names a window
// of the WINDOW clause, and a window may build on another (w2 AS (w1
// ROWS ...)).
func windowSpec(c *ast.Call, named []*ast.NamedWindow) (*ast.WindowSpec, error) {
	find := func(id *ast.Ident) (*ast.WindowSpec, error) {
		for _, w := range named {
			if strings.EqualFold(w.Name.Name, id.Name) {
				return w.Spec, nil
			}
		}
		return nil, errAt(id, "Window '%s' not found", id.Name)
	}
	spec := c.Over
	if spec == nil {
		var err error
		if spec, err = find(c.OverName); err != nil {
			return nil, err
		}
	}
	for depth := 0; spec.Base != nil; depth++ {
		if depth > len(named) {
			return nil, errAt(spec, "window %s refers to itself", spec.Base.Name)
		}
		base, err := find(spec.Base)
		if err != nil {
			return nil, err
		}
		if len(spec.PartitionBy) > 0 {
			return nil, errAt(spec, "a window built on window %s cannot have its own PARTITION BY", spec.Base.Name)
		}
		if len(spec.OrderBy) > 0 && len(base.OrderBy) > 0 {
			return nil, errAt(spec, "a window built on window %s cannot override its ORDER BY", spec.Base.Name)
		}
		if base.Frame != nil {
			return nil, errAt(spec, "window %s has a frame, so no window can build on it", spec.Base.Name)
		}
		merged := *base
		if len(spec.OrderBy) > 0 {
			merged.OrderBy = spec.OrderBy
		}
		merged.Frame = spec.Frame
		spec = &merged
	}
	return spec, nil
}

// bindFrame validates an OVER window as Flink's streaming planner does and
// resolves it over the FROM scope.
func (eb *exprBinder) bindFrame(c *ast.Call, w *ast.WindowSpec) (*overFrame, error) {
	f := &overFrame{}
	for _, p := range w.PartitionBy {
		x, err := eb.bind(p)
		if err != nil {
			return nil, err
		}
		f.partition = append(f.partition, x)
	}
	if len(w.OrderBy) == 0 {
		return nil, errAt(c, "OVER windows' ordering in stream mode must be defined on a time attribute (the OVER clause of %s has no ORDER BY)", c.Name)
	}
	if len(w.OrderBy) > 1 {
		return nil, errAt(w.OrderBy[1], "The window can only be ordered by a single time column.")
	}
	o := w.OrderBy[0]
	if o.Desc {
		return nil, errAt(o, "The window can only be ordered in ASCENDING mode.")
	}
	x, err := eb.bind(o.Expr)
	if err != nil {
		return nil, err
	}
	ref, ok := x.(*expr.InputRef)
	switch {
	case isProctime(x):
		// ORDER BY PROCTIME(): Flink orders by the processing time the
		// call materialises; it is computed below the OverAggregate.
		f.orderExpr = x
	case !ok || ref.T.TimeAttr == row.NoTimeAttr:
		return nil, errAt(o, "OVER windows' ordering in stream mode must be defined on a time attribute (%s is %s)", o.Expr, x.Type())
	default:
		f.order = ref
	}
	fr := w.Frame
	if fr == nil {
		// Flink's default frame with an ORDER BY.
		f.unbounded = true
		return f, nil
	}
	f.rows = strings.EqualFold(fr.Unit, "ROWS")
	if fr.End != nil && fr.End.Kind != ast.CurrentRow || fr.Start.Kind != ast.Preceding && fr.Start.Kind != ast.UnboundedPreceding {
		return nil, errAt(fr, "OVER RANGE FOLLOWING windows are not supported yet. (Flink's streaming OVER windows run from n or UNBOUNDED PRECEDING to CURRENT ROW)")
	}
	if fr.Start.Kind == ast.UnboundedPreceding {
		f.unbounded = true
		return f, nil
	}
	off, err := (&exprBinder{sc: &scope{}}).bind(fr.Start.Offset)
	if err == nil {
		off, err = expr.Fold(off)
	}
	if err != nil {
		return nil, errAt(fr.Start, "%v", err)
	}
	l, ok := off.(*expr.Literal)
	switch {
	case !ok || l.Value.IsNull():
		return nil, errAt(fr.Start, "the PRECEDING offset must be a constant, not %s", off)
	case f.rows && !l.T.IsInteger():
		return nil, errAt(fr.Start, "ROWS takes a number of rows PRECEDING, not %s", l.T)
	case !f.rows && l.T.Root != row.TypeIntervalDayTime:
		return nil, errAt(fr.Start, "RANGE over the time attribute %s takes an INTERVAL ... DAY TO SECOND PRECEDING, not %s", o.Expr, l.T)
	case l.Value.Int() < 0:
		return nil, errAt(fr.Start, "the PRECEDING offset must not be negative")
	}
	f.preceding = l.Value.Int()
	return f, nil
}

// overCallSpec is one OVER aggregate call of a select list.
type overCallSpec struct {
	call   *ast.Call
	fn     string
	args   []expr.Expr
	filter expr.Expr
}

// bindOver plans a select list with OVER aggregate calls (Flink's
// OverAggregate): a Calc computing the partition keys and arguments after
// the input columns (with the WHERE), the OverAggregate, and a Calc
// projecting the select items, in which each OVER call is a column.
func (b *Binder) bindOver(s *ast.Select, from Rel, eb *exprBinder, where expr.Expr, items []selectItem) (Rel, error) {
	if from.Mode() != InsertOnly {
		return nil, errAt(s, "%v", ConsumeError("OverAggregate", from))
	}
	var frame *overFrame
	var calls []*overCallSpec
	seen, err := bindOverCalls(items, func(c *ast.Call) error {
		fn := b.Funcs.aggFuncName(c.Name) // qualified_agg.go
		var refused error
		switch {
		case len(c.Name.Parts) != 1:
			// A precise reference names a catalog function only.
			if b.Funcs.userAggOf(c.Name) == nil {
				refused = errAt(c, "%s is not an aggregate function, so it cannot take OVER", c.Name)
			}
		case fn == "ROW_NUMBER" || fn == "RANK" || fn == "DENSE_RANK":
			refused = errAt(c, "%s() OVER is supported only as Flink's Top-N or deduplication (filtered by an enclosing WHERE on its number), not together with OVER aggregations", fn)
		case fn == "NTILE" || fn == "CUME_DIST" || fn == "PERCENT_RANK":
			// Flink's AggFunctionFactory builds them for bounded (batch)
			// OVER windows only (the batch mode binds them in
			// batch_over.go).
			refused = errAt(c, "%s Function is not supported in stream mode.", fn)
		case fn == "LEAD":
			// Flink's streaming OVER windows end at the current row.
			refused = errAt(c, "LEAD Function is not supported in stream mode.")
		case fn == "LAG":
			refused = checkLag(c, s.Windows)
		case !aggFuncs[fn] && !b.Funcs.isUserAggName(fn):
			refused = errAt(c, "%s is not an aggregate function, so it cannot take OVER", c.Name)
		}
		if refused != nil {
			return refused
		}
		w, err := windowSpec(c, s.Windows)
		if err != nil {
			return err
		}
		f, err := eb.bindFrame(c, w)
		if err != nil {
			return err
		}
		if frame == nil {
			frame = f
		} else if f.key() != frame.key() {
			return errAt(c, "All aggregates must be computed on the same window. (Flink's streaming OVER aggregations need one window per SELECT; compute the others in subqueries)")
		}
		if err := checkPercentile(c, fn); err != nil {
			return err
		}
		sp := &overCallSpec{call: c, fn: fn}
		args, uf, err := b.aggCallArgs(c)
		if err != nil {
			return err
		}
		for i, a := range args {
			if a == nil {
				sp.args = append(sp.args, nullArg(uf, i))
				continue
			}
			if _, star := a.(*ast.Star); star {
				if fn != "COUNT" || len(c.Args) != 1 {
					return errAt(a, "'*' is only allowed in COUNT(*)")
				}
				continue
			}
			if eb.agg == nil && containsAgg(a, b.Funcs) || anyOver([]selectItem{{e: a}}) {
				return errAt(a, "Aggregate expressions cannot be nested")
			}
			x, err := eb.bind(a)
			if err != nil {
				return err
			}
			sp.args = append(sp.args, x)
		}
		if fn == "LAG" {
			var err error
			if sp.args, err = lagArgs(c, sp.args); err != nil {
				return err
			}
		}
		if c.Filter != nil {
			x, err := eb.bind(c.Filter)
			if err == nil {
				err = checkBoolean(c.Filter, x, "FILTER")
			}
			if err != nil {
				return err
			}
			sp.filter = x
		}
		calls = append(calls, sp)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The pre-projection keeps the input columns where they are.
	pre := &preCalc{in: from}
	inCols := from.Columns()
	for i, c := range inCols {
		pre.add(expr.Ref(i, c.Type))
	}
	over := &OverAggregate{Rows: frame.rows, Unbounded: frame.unbounded, Preceding: frame.preceding}
	if frame.order != nil {
		over.OrderCol = frame.order.Index
	} else {
		over.OrderCol = pre.add(frame.orderExpr)
	}
	for _, p := range frame.partition {
		over.PartitionKeys = append(over.PartitionKeys, pre.add(p))
	}
	for i, sp := range calls {
		ac := AggCall{Func: sp.fn, Distinct: sp.call.Distinct, IgnoreNulls: sp.call.NullTreatment == "IGNORE NULLS", Filter: -1, Name: fmt.Sprintf("w0$o%d", i)}
		// A user-defined aggregate binds (and casts its arguments) as in
		// GROUP BY; its accumulator runs in the OverAggregate.
		asp := &aggSpec{call: sp.call, fn: sp.fn, args: sp.args}
		if err := b.userAgg(asp, &ac); err != nil {
			return nil, err
		}
		sp.args = asp.args
		var types []row.Type
		for _, a := range sp.args {
			ac.Args = append(ac.Args, pre.add(a))
			t := a.Type()
			t.TimeAttr = row.NoTimeAttr
			types = append(types, t)
		}
		if sp.filter != nil {
			ac.Filter = pre.add(sp.filter)
		}
		t, err := b.aggSpecType(sp.call, sp.fn, b.Funcs.userAggOf(sp.call.Name), sp.call.Distinct, types)
		if err != nil {
			return nil, errAt(sp.call, "%v", err)
		}
		ac.Type = t
		over.Aggs = append(over.Aggs, ac)
	}
	preRel := pre.rel(where)
	if frame.order == nil {
		// The computed PROCTIME() column is the window's time attribute.
		preRel.Cols[over.OrderCol].Type.TimeAttr = row.Proctime
	}
	over.In = preRel
	if preRel.Cond == nil && len(preRel.Projects) == len(inCols) {
		over.In = from // nothing to compute
	}
	over.Cols = append([]Column(nil), over.In.Columns()...)
	for _, ac := range over.Aggs {
		over.Cols = append(over.Cols, Column{Name: ac.Name, Type: ac.Type})
	}
	// The select list over the OverAggregate: each OVER call is its
	// column, every other column reference binds over the FROM scope,
	// whose columns the OverAggregate keeps in place.
	n := len(over.In.Columns())
	post := eb.withOver()
	for k, i := range seen {
		post.over[k] = expr.Ref(n+i, over.Aggs[i].Type)
	}
	projs := make([]expr.Expr, len(items))
	cols := make([]Column, len(items))
	for i, it := range items {
		e, err := post.bind(it.e)
		if err != nil {
			return nil, err
		}
		projs[i] = e
		cols[i] = Column{Name: it.name, Type: stripTimeAttr(e)}
		if r, ok := e.(*expr.InputRef); ok && r.Index < n {
			cols[i].Type = over.Cols[r.Index].Type
		} else if isProctime(e) {
			cols[i].Type.TimeAttr = row.Proctime
		}
	}
	return &Calc{In: over, Projects: projs, Cols: cols}, nil
}

// NumbersRows reports whether r is ROW_NUMBER() OVER (PARTITION BY ..
// ORDER BY time_attr ASC) that no filter bounds, over an append-only
// input: Flink runs it as an OVER aggregation numbering each partition's
// rows in time order (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
// append-only.
func (r *Rank) NumbersRows() bool {
	if r.End >= 0 || !r.RowNumber || len(r.OrderBy) != 1 || r.OrderBy[0].Desc || r.In.Mode() != InsertOnly {
		return false
	}
	return r.In.Columns()[r.OrderBy[0].Col].Type.TimeAttr != row.NoTimeAttr
}

// describeOver describes a row-numbering Rank as the OverAggregate it
// runs as.
func (r *Rank) describeOver() (string, []string) {
	o := &OverAggregate{In: r.In, PartitionKeys: r.PartitionKeys, OrderCol: r.OrderBy[0].Col, Rows: true, Unbounded: true}
	name, attrs := o.describe()
	fn := "ROW_NUMBER"
	if r.Func != "" {
		fn = r.Func
	}
	attrs[len(attrs)-1] = strings.TrimSuffix(attrs[len(attrs)-1], "]") + ", " + fn + "(*) AS w0$o0]"
	return name, attrs
}

// bindOverCalls calls bind once for each distinct OVER call (by its text)
// in the select items, outside subqueries, in order, and returns the calls'
// positions by text (bind appends one call per success). It stops at bind's
// first error.
func bindOverCalls(items []selectItem, bind func(c *ast.Call) error) (map[string]int, error) {
	seen := map[string]int{}
	var err error
	collect := func(n ast.Node) bool {
		if err != nil {
			return false
		}
		switch n.(type) {
		case *ast.SubqueryExpr, *ast.ExistsExpr:
			return false
		}
		c, ok := overCall(n)
		if !ok {
			return true
		}
		if _, dup := seen[c.String()]; dup {
			return false
		}
		if err = bind(c); err == nil {
			seen[c.String()] = len(seen)
		}
		return false
	}
	for _, it := range items {
		ast.Inspect(it.e, collect)
	}
	return seen, err
}
