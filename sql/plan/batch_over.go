package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// BatchOverAggregate is the OVER windows of a select list in the batch
// mode (Flink's BatchPhysicalOverAggregate): over a bounded input, each
// window (PARTITION BY, ORDER BY any columns) sorts its partitions and
// computes its calls, ranking functions, LEAD/LAG and aggregates over
// ROWS or RANGE frames. Its columns are the input's, then each window's
// calls in order (wN$oM); the output is insert-only.
type BatchOverAggregate struct {
	In      Rel
	Windows []BatchOverWindow
	Cols    []Column
}

// BatchOverWindow is one PARTITION BY / ORDER BY of a BatchOverAggregate
// and its calls.
type BatchOverWindow struct {
	PartitionKeys []int
	OrderBy       []SortKey
	Calls         []BatchOverCall
}

// BatchOverCall is one call of a batch OVER window. Agg.Func is the
// function: an aggregate, ROW_NUMBER, RANK, DENSE_RANK, PERCENT_RANK,
// CUME_DIST, NTILE, LEAD or LAG (Agg.Args[0] its value column).
type BatchOverCall struct {
	Agg AggCall
	// Rows, Start and End are an aggregate's frame.
	Rows       bool
	Start, End BatchBound
	// Offset is LEAD's and LAG's offset, NTILE's buckets; Default the
	// column of LEAD's and LAG's default or -1.
	Offset  int64
	Default int
}

// BatchBound is one end of a frame: Rows the offset of a ROWS frame,
// Range that of a RANGE frame in the order key's domain (milliseconds
// of a timestamp, days of a DATE), Text as written for EXPLAIN.
type BatchBound struct {
	Kind  ast.BoundKind
	Rows  int64
	Range row.Value
	Text  string
	// RangeType is Range's type for a DECIMAL key: a DECIMAL of the
	// larger of the key's and the offset's scales (exact).
	RangeType row.Type
}

// Columns implements Rel.
func (o *BatchOverAggregate) Columns() []Column { return o.Cols }

// Inputs implements Rel.
func (o *BatchOverAggregate) Inputs() []Rel { return []Rel{o.In} }

// Mode implements Rel: the rows with their results, once.
func (o *BatchOverAggregate) Mode() Mode { return InsertOnly }

func (b BatchBound) String() string {
	switch b.Kind {
	case ast.Preceding, ast.Following:
		return b.Text + " " + string(b.Kind)
	}
	return string(b.Kind)
}

// frame prints an aggregate's frame as Flink's EXPLAIN does.
func (c BatchOverCall) frame() string {
	unit := "RANG"
	if c.Rows {
		unit = "ROWS"
	}
	return unit + " BETWEEN " + c.Start.String() + " AND " + c.End.String()
}

func (o *BatchOverAggregate) describe() (string, []string) {
	in := o.In.Columns()
	var attrs []string
	sel := names(in)
	for wi, w := range o.Windows {
		var parts []string
		if len(w.PartitionKeys) > 0 {
			var keys []string
			for _, k := range w.PartitionKeys {
				keys = append(keys, in[k].Name)
			}
			parts = append(parts, "partitionBy=["+strings.Join(keys, ", ")+"]")
		}
		if len(w.OrderBy) > 0 {
			var keys []string
			for _, k := range w.OrderBy {
				s := in[k.Col].Name + " ASC"
				if k.Desc {
					s = in[k.Col].Name + " DESC"
				}
				if k.NullsLast {
					s += " NULLS LAST"
				} else {
					s += " NULLS FIRST"
				}
				keys = append(keys, s)
			}
			parts = append(parts, "orderBy=["+strings.Join(keys, ", ")+"]")
		}
		for _, c := range w.Calls {
			s := c.describeCall(in)
			if _, rank := batchRankFuncs[c.Agg.Func]; !rank && c.Agg.Func != "LEAD" && c.Agg.Func != "LAG" {
				s += " " + c.frame()
			}
			parts = append(parts, s)
			sel += ", " + c.Agg.Name
		}
		attrs = append(attrs, fmt.Sprintf("window#%d=[%s]", wi, strings.Join(parts, ", ")))
	}
	return "OverAggregate", append(attrs, "select=["+sel+"]")
}

func (c BatchOverCall) describeCall(in []Column) string {
	a := c.Agg
	switch a.Func {
	case "ROW_NUMBER", "RANK", "DENSE_RANK", "PERCENT_RANK", "CUME_DIST":
		return a.Func + "(*) AS " + a.Name
	case "NTILE":
		return fmt.Sprintf("NTILE(%d) AS %s", c.Offset, a.Name)
	case "LEAD", "LAG":
		s := fmt.Sprintf("%s(%s, %d", a.Func, in[a.Args[0]].Name, c.Offset)
		if c.Default >= 0 {
			s += ", " + in[c.Default].Name
		}
		return s + ") AS " + a.Name
	}
	return a.describe(in)
}

// batchRankFuncs are the ranking functions of batch OVER windows, with
// their result types.
var batchRankFuncs = map[string]row.Type{
	"ROW_NUMBER":   row.BigInt().NotNull(),
	"RANK":         row.BigInt().NotNull(),
	"DENSE_RANK":   row.BigInt().NotNull(),
	"NTILE":        row.BigInt().NotNull(),
	"PERCENT_RANK": row.Double().NotNull(),
	"CUME_DIST":    row.Double().NotNull(),
}

// needsBatchOver reports whether a select list of the batch mode plans a
// BatchOverAggregate: it has OVER calls that are not only ROW_NUMBER()s
// of one window, which bind to a Rank (Flink's Top-N when an enclosing
// WHERE bounds the number, else a batch OVER window: Rank.BatchOver).
func needsBatchOver(items []selectItem) bool {
	if hasOverAggregate(items) {
		return true
	}
	if !hasOver(items) {
		return false
	}
	spec := ""
	for _, it := range items {
		c, ok := overItem(it.e)
		if !ok {
			continue
		}
		w := c.Over
		if len(c.Name.Parts) != 1 || !strings.EqualFold(c.Name.Parts[0].Name, "ROW_NUMBER") || len(c.Args) != 0 ||
			c.Distinct || c.Filter != nil || w == nil || w.Frame != nil || w.Base != nil || len(w.OrderBy) == 0 {
			return true
		}
		if spec != "" && w.String() != spec {
			return true
		}
		spec = w.String()
	}
	return false
}

// batchOverAggregate is the unbounded row-numbering Rank of the batch
// mode as the OVER window it is.
func (r *Rank) batchOverAggregate() *BatchOverAggregate {
	fn := "ROW_NUMBER"
	if r.Func != "" {
		fn = r.Func
	}
	call := BatchOverCall{Agg: AggCall{Func: fn, Filter: -1, Type: batchRankFuncs[fn], Name: "w0$o0"}, Default: -1}
	return &BatchOverAggregate{In: r.In, Cols: r.Cols, Windows: []BatchOverWindow{{
		PartitionKeys: r.PartitionKeys, OrderBy: r.OrderBy, Calls: []BatchOverCall{call},
	}}}
}

// batchOverSpec is one OVER call of a batch select list, bound.
type batchOverSpec struct {
	call    *ast.Call
	fn      string
	window  int
	args    []expr.Expr
	filter  expr.Expr
	frame   BatchOverCall
	typ     row.Type
	ntile   int64
	offset  int64
	hasDflt bool
}

// batchWindow is a window of a batch select list: its keys bound over
// the FROM scope.
type batchWindow struct {
	key       string
	partition []expr.Expr
	order     []expr.Expr
	sort      []SortKey // Col: the position in order
}

// bindBatchOver plans the OVER calls of a select list in the batch mode:
// a Calc computing the windows' keys and the calls' arguments after the
// input columns (with the WHERE), the BatchOverAggregate, and a Calc
// projecting the select items, in which each OVER call is a column.
//
// eb binds over from: over a FROM scope, or over an aggregation's output
// when the select list has GROUP BY or aggregates (over_group.go).
func (b *Binder) bindBatchOver(s *ast.Select, from Rel, eb *exprBinder, where expr.Expr, items []selectItem) (Rel, error) {
	var windows []*batchWindow
	var calls []*batchOverSpec
	seen, err := bindOverCalls(items, func(c *ast.Call) error {
		sp, err := b.bindBatchOverCall(eb, s, c, &windows)
		if err != nil {
			return err
		}
		calls = append(calls, sp)
		return nil
	})
	if err != nil {
		return nil, err
	}
	pre := &preCalc{in: from}
	inCols := from.Columns()
	for i, c := range inCols {
		pre.add(expr.Ref(i, c.Type))
	}
	over := &BatchOverAggregate{}
	for _, w := range windows {
		var bw BatchOverWindow
		for _, p := range w.partition {
			bw.PartitionKeys = append(bw.PartitionKeys, pre.add(p))
		}
		for _, k := range w.sort {
			k.Col = pre.add(w.order[k.Col])
			bw.OrderBy = append(bw.OrderBy, k)
		}
		over.Windows = append(over.Windows, bw)
	}
	// outIndex[i]: the call's position among the appended columns.
	outIndex := make([]int, len(calls))
	for i, sp := range calls {
		w := &over.Windows[sp.window]
		c := sp.frame
		c.Agg.Name = fmt.Sprintf("w%d$o%d", sp.window, len(w.Calls))
		c.Agg.Type = sp.typ
		for _, a := range sp.args {
			c.Agg.Args = append(c.Agg.Args, pre.add(a))
		}
		if sp.filter != nil {
			c.Agg.Filter = pre.add(sp.filter)
		}
		if sp.hasDflt {
			c.Agg.Args, c.Default = c.Agg.Args[:1], c.Agg.Args[1]
		}
		w.Calls = append(w.Calls, c)
		outIndex[i] = len(w.Calls) - 1
	}
	preRel := pre.rel(where)
	over.In = preRel
	if preRel.Cond == nil && len(preRel.Projects) == len(inCols) {
		over.In = from // nothing to compute
	}
	over.Cols = append([]Column(nil), over.In.Columns()...)
	n := len(over.Cols)
	base := make([]int, len(over.Windows))
	for wi, w := range over.Windows {
		base[wi] = len(over.Cols)
		for _, c := range w.Calls {
			over.Cols = append(over.Cols, Column{Name: c.Agg.Name, Type: c.Agg.Type})
		}
	}
	post := eb.withOver()
	for k, i := range seen {
		sp := calls[i]
		post.over[k] = expr.Ref(base[sp.window]+outIndex[i], sp.typ)
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
		}
	}
	return &Calc{In: over, Projects: projs, Cols: cols}, nil
}

// bindBatchOverCall validates and binds one OVER call of the batch mode,
// adding its window to windows when it is new.
func (b *Binder) bindBatchOverCall(eb *exprBinder, s *ast.Select, c *ast.Call, windows *[]*batchWindow) (*batchOverSpec, error) {
	fn := b.Funcs.aggFuncName(c.Name)
	_, rank := batchRankFuncs[fn]
	leadLag := fn == "LEAD" || fn == "LAG"
	switch {
	case len(c.Name.Parts) != 1:
		if b.Funcs.userAggOf(c.Name) == nil {
			return nil, errAt(c, "%s is not an aggregate function, so it cannot take OVER", c.Name)
		}
	case rank || leadLag:
	case !aggFuncs[fn] && !b.Funcs.isUserAggName(fn):
		return nil, errAt(c, "%s is not an aggregate function, so it cannot take OVER", c.Name)
	}
	w, err := windowSpec(c, s.Windows)
	if err != nil {
		return nil, err
	}
	bw := &batchWindow{}
	var keyParts []string
	for _, p := range w.PartitionBy {
		x, err := eb.bind(p)
		if err != nil {
			return nil, err
		}
		bw.partition = append(bw.partition, x)
		keyParts = append(keyParts, x.String())
	}
	keyParts = append(keyParts, "|")
	for _, o := range w.OrderBy {
		x, err := eb.bind(o.Expr)
		if err != nil {
			return nil, err
		}
		k := SortKey{Col: len(bw.order), Desc: o.Desc, NullsLast: o.Desc}
		switch strings.ToUpper(o.Nulls) {
		case "FIRST":
			k.NullsLast = false
		case "LAST":
			k.NullsLast = true
		}
		bw.order = append(bw.order, x)
		bw.sort = append(bw.sort, k)
		keyParts = append(keyParts, fmt.Sprintf("%s %v %v", x, k.Desc, k.NullsLast))
	}
	bw.key = strings.Join(keyParts, ",")
	sp := &batchOverSpec{call: c, fn: fn, window: -1, frame: BatchOverCall{Agg: AggCall{Func: fn, Filter: -1}, Default: -1}}
	for i, x := range *windows {
		if x.key == bw.key {
			sp.window = i
			bw = x
		}
	}
	if rank || leadLag {
		if err := b.bindBatchRanking(eb, c, w, sp); err != nil {
			return nil, err
		}
	} else if err := b.bindBatchAggregate(eb, c, w, bw, sp); err != nil {
		return nil, err
	}
	if sp.window < 0 {
		sp.window = len(*windows)
		*windows = append(*windows, bw)
	}
	return sp, nil
}

// bindBatchRanking binds a ranking function, NTILE, LEAD or LAG.
func (b *Binder) bindBatchRanking(eb *exprBinder, c *ast.Call, w *ast.WindowSpec, sp *batchOverSpec) error {
	fn := sp.fn
	if c.Distinct || c.Filter != nil {
		return errAt(c, "%s takes no DISTINCT or FILTER", fn)
	}
	if w.Frame != nil {
		return errAt(w.Frame, "ROW/RANGE not allowed with RANK, DENSE_RANK or ROW_NUMBER functions (nor with LAG or LEAD)")
	}
	if len(w.OrderBy) == 0 {
		return errAt(c, "RANK or DENSE_RANK functions require ORDER BY clause in window specification (%s has none)", fn)
	}
	if fn == "LEAD" || fn == "LAG" {
		if len(c.Args) < 1 || len(c.Args) > 3 {
			return errAt(c, "Invalid number of arguments to function '%s'. Was expecting 1 to 3 arguments", fn)
		}
		var args []expr.Expr
		for _, a := range c.Args {
			x, err := eb.bind(a)
			if err != nil {
				return err
			}
			args = append(args, x)
		}
		args, err := leadLagArgs(c, args, fn)
		if err != nil {
			return err
		}
		var types []row.Type
		for _, a := range args {
			t := a.Type()
			t.TimeAttr = row.NoTimeAttr
			types = append(types, t)
		}
		// LEAD's type is LAG's (Flink's LeadLagAggFunction).
		t, err := b.aggSpecType(c, "LAG", nil, false, types)
		if err != nil {
			return errAt(c, "%v", err)
		}
		sp.typ = t
		sp.frame.Offset = 1
		if len(args) >= 2 {
			sp.frame.Offset = args[1].(*expr.Literal).Value.Int()
		}
		sp.args = args[:1]
		if len(args) == 3 {
			sp.hasDflt = true
			sp.args = append(sp.args, args[2])
		}
		return nil
	}
	want := 0
	if fn == "NTILE" {
		want = 1
	}
	if len(c.Args) != want {
		return errAt(c, "Invalid number of arguments to function '%s'. Was expecting %d arguments", fn, want)
	}
	if fn == "NTILE" {
		x, err := eb.bind(c.Args[0])
		if err == nil {
			x, err = expr.Fold(x)
		}
		if err != nil {
			return errAt(c.Args[0], "%v", err)
		}
		l, ok := x.(*expr.Literal)
		if !ok || !l.T.IsInteger() || l.Value.IsNull() || l.Value.Int() <= 0 {
			return errAt(c.Args[0], "NTILE's number of buckets must be a positive integer constant, not %s", c.Args[0])
		}
		sp.frame.Offset = l.Value.Int()
	}
	sp.typ = batchRankFuncs[fn]
	return nil
}

// bindBatchAggregate binds an aggregate call and its frame.
func (b *Binder) bindBatchAggregate(eb *exprBinder, c *ast.Call, w *ast.WindowSpec, bw *batchWindow, sp *batchOverSpec) error {
	if c.Distinct {
		// Flink's BatchPhysicalOverAggregateRule.
		return errAt(c, "Distinct not supported in Windowing function!")
	}
	if err := b.bindBatchFrame(w, bw, &sp.frame); err != nil {
		return err
	}
	if err := checkPercentile(c, sp.fn); err != nil {
		return err
	}
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
			if sp.fn != "COUNT" || len(c.Args) != 1 {
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
	ac := &sp.frame.Agg
	ac.Distinct = c.Distinct
	ac.IgnoreNulls = c.NullTreatment == "IGNORE NULLS"
	asp := &aggSpec{call: c, fn: sp.fn, args: sp.args}
	if err := b.userAgg(asp, ac); err != nil {
		return err
	}
	sp.args = asp.args
	var types []row.Type
	for _, a := range sp.args {
		t := a.Type()
		t.TimeAttr = row.NoTimeAttr
		types = append(types, t)
	}
	t, err := b.aggSpecType(c, sp.fn, b.Funcs.userAggOf(c.Name), c.Distinct, types)
	if err != nil {
		return errAt(c, "%v", err)
	}
	sp.typ = t
	return nil
}

// bindBatchFrame validates an aggregate's frame as Calcite's validator
// does and resolves its offsets. Without a frame it is RANGE BETWEEN
// UNBOUNDED PRECEDING AND CURRENT ROW with an ORDER BY, the whole
// partition without.
func (b *Binder) bindBatchFrame(w *ast.WindowSpec, bw *batchWindow, f *BatchOverCall) error {
	fr := w.Frame
	if fr == nil {
		f.Start = BatchBound{Kind: ast.UnboundedPreceding}
		f.End = BatchBound{Kind: ast.CurrentRow}
		if len(w.OrderBy) == 0 {
			f.End = BatchBound{Kind: ast.UnboundedFollowing}
		}
		return nil
	}
	f.Rows = strings.EqualFold(fr.Unit, "ROWS")
	start, end := fr.Start, fr.End
	if end == nil {
		// ROWS|RANGE bound: from the bound to the current row.
		if start.Kind == ast.Following || start.Kind == ast.UnboundedFollowing {
			return errAt(start, "a frame of one bound runs from it to CURRENT ROW, so it cannot be %s", start.Kind)
		}
		end = &ast.FrameBound{Pos: start.Pos, Kind: ast.CurrentRow}
	}
	order := func(k ast.BoundKind) int {
		switch k {
		case ast.UnboundedPreceding:
			return 0
		case ast.Preceding:
			return 1
		case ast.CurrentRow:
			return 2
		case ast.Following:
			return 3
		}
		return 4
	}
	switch {
	case start.Kind == ast.UnboundedFollowing:
		return errAt(start, "UNBOUNDED FOLLOWING cannot be specified for the lower frame boundary")
	case end.Kind == ast.UnboundedPreceding:
		return errAt(end, "UNBOUNDED PRECEDING cannot be specified for the upper frame boundary")
	case start.Kind == ast.CurrentRow && end.Kind == ast.Preceding:
		return errAt(end, "Upper frame boundary cannot be PRECEDING when lower boundary is CURRENT ROW")
	case start.Kind == ast.Following && end.Kind == ast.CurrentRow:
		return errAt(end, "Upper frame boundary cannot be CURRENT ROW when lower boundary is FOLLOWING")
	case start.Kind == ast.Following && end.Kind == ast.Preceding:
		return errAt(end, "Upper frame boundary cannot be PRECEDING when lower boundary is FOLLOWING")
	case order(start.Kind) > order(end.Kind):
		return errAt(end, "the frame ends (%s) before it starts (%s)", end.Kind, start.Kind)
	}
	for i, bd := range []*ast.FrameBound{start, end} {
		out := BatchBound{Kind: bd.Kind}
		if bd.Offset != nil {
			if err := b.bindBatchOffset(w, bw, f.Rows, bd, &out); err != nil {
				return err
			}
		}
		if i == 0 {
			f.Start = out
		} else {
			f.End = out
		}
	}
	return nil
}

// bindBatchOffset resolves an n PRECEDING or n FOLLOWING offset: ROWS: a
// non-negative integer; RANGE: a non-negative value the one order key
// can be shifted by (a number of its type for a numeric key, an INTERVAL
// ... DAY TO SECOND or YEAR TO MONTH for a TIMESTAMP, TIMESTAMP_LTZ, DATE
// or TIME key).
func (b *Binder) bindBatchOffset(w *ast.WindowSpec, bw *batchWindow, rows bool, bd *ast.FrameBound, out *BatchBound) error {
	off, err := (&exprBinder{sc: &scope{}}).bind(bd.Offset)
	if err == nil {
		off, err = expr.Fold(off)
	}
	l, ok := off.(*expr.Literal)
	if err != nil || !ok || l.Value.IsNull() {
		return errAt(bd, "Window boundary must be constant")
	}
	out.Text = strings.TrimSuffix(bd.Offset.String(), " ")
	if rows {
		if !l.T.IsInteger() || l.Value.Int() < 0 {
			return errAt(bd, "ROWS value must be a non-negative integral constant")
		}
		out.Rows = l.Value.Int()
		out.Text = strconv.FormatInt(out.Rows, 10)
		return nil
	}
	if len(w.OrderBy) == 0 {
		return errAt(bd, "Window specification must contain an ORDER BY clause")
	}
	if len(w.OrderBy) > 1 {
		return errAt(bd, "RANGE clause cannot be used with compound ORDER BY clause")
	}
	kt := bw.order[0].Type()
	bad := func() error {
		return errAt(bd, "a RANGE offset over the ORDER BY key %s (%s) must be a non-negative %s, not %s", w.OrderBy[0].Expr, kt.WithNullable(false), rangeOffsetKind(kt), l.T)
	}
	switch {
	case kt.IsInteger():
		if !l.T.IsInteger() || l.Value.Int() < 0 {
			return bad()
		}
		out.Range = row.Int(l.Value.Int())
		out.Text = strconv.FormatInt(l.Value.Int(), 10)
	case kt.Root == row.TypeFloat || kt.Root == row.TypeDouble || kt.Root == row.TypeDecimal:
		if !l.T.IsNumeric() {
			return bad()
		}
		to := row.Double().NotNull()
		if kt.Root == row.TypeDecimal {
			// At the key's scale or the offset's if larger: 0.5 over a
			// DECIMAL(5, 0) stays 0.5 (a cast to the key's type would
			// round it to 1).
			scale := kt.Scale
			if l.T.Root == row.TypeDecimal && l.T.Scale > scale {
				scale = l.T.Scale
			}
			to = row.DecimalType(38, scale).NotNull()
			out.RangeType = to
		}
		x, err := expr.NewCast(l, to)
		if err == nil {
			x, err = expr.Fold(x)
		}
		if err != nil {
			return errAt(bd, "%v", err)
		}
		cl, ok := x.(*expr.Literal)
		if !ok {
			return bad()
		}
		if kt.Root == row.TypeDecimal && row.DecimalUnscaled(cl.Value, to).Sign() < 0 || kt.Root != row.TypeDecimal && cl.Value.Float() < 0 {
			return bad()
		}
		out.Range = cl.Value
	case kt.Root == row.TypeTimestamp || kt.Root == row.TypeTimestampLTZ || kt.Root == row.TypeDate || kt.Root == row.TypeTime:
		if l.T.Root != row.TypeIntervalYearMonth && l.T.Root != row.TypeIntervalDayTime || l.Value.Int() < 0 {
			return bad()
		}
		switch l.T.Root {
		case row.TypeIntervalYearMonth:
			// Months: the bound is the key shifted by them with the day
			// clamped (Jan 31 + 1 month: the last day of February), as
			// Calcite's date arithmetic; a TIME key is unchanged by
			// months (TIME + INTERVAL '1' MONTH is the same time).
			months := l.Value.Int()
			out.Text = strconv.FormatInt(months, 10) + " MONTH"
			if kt.Root == row.TypeTime {
				out.Range = row.Int(0)
				return nil
			}
			out.Range = row.Int(months)
			out.RangeType = row.IntervalYearMonth().NotNull()
			return nil
		}
		ms := l.Value.Int()
		out.Range = row.Int(ms)
		out.Text = strconv.FormatInt(ms, 10)
		switch kt.Root {
		case row.TypeDate:
			if ms%86400000 != 0 {
				return errAt(bd, "a RANGE offset over the DATE key %s must be whole days, not %d ms", w.OrderBy[0].Expr, ms)
			}
			out.Range = row.Int(ms / 86400000)
		case row.TypeTime:
			// A TIME is nanoseconds of the day (Flink compares its
			// milliseconds with the offset's, without wrapping at
			// midnight); an offset beyond a day reaches every row.
			out.Range = row.Int(min(ms, 2*86400000) * 1e6)
		}
	default:
		return errAt(bd, "RANGE with an offset needs a numeric, TIMESTAMP, TIMESTAMP_LTZ, DATE or TIME ORDER BY key; %s is %s", w.OrderBy[0].Expr, kt.WithNullable(false))
	}
	return nil
}

func rangeOffsetKind(t row.Type) string {
	switch {
	case t.IsInteger():
		return "integer"
	case t.IsNumeric():
		return "number"
	}
	return "INTERVAL ... DAY TO SECOND or INTERVAL ... YEAR TO MONTH"
}
