package sql

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
)

// translator turns logical plans into operators of one job.
type translator struct {
	env  *weir.Environment
	cfg  *Config
	reg  *connector.Registry
	loc  *time.Location
	uids map[string]int
	// OnError is the dead-letter policy handed to sources.
	onError weir.ErrorPolicy
}

// uid derives a stable operator uid from what the operator computes (its
// kind and EXPLAIN attributes), so that a savepoint restores into an edited
// query that keeps the stateful operator unchanged; equal operators get a
// sequence suffix.
func (t *translator) uid(kind, desc string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + desc))
	base := kind + "-" + hex.EncodeToString(sum[:6])
	n := t.uids[base]
	t.uids[base] = n + 1
	if n > 0 {
		return fmt.Sprintf("%s-%d", base, n)
	}
	return base
}

func aggFunc(c plan.AggCall) (exec.AggCall, error) {
	f, err := exec.ParseFunc(c.Func, len(c.Args))
	if err != nil {
		return exec.AggCall{}, err
	}
	return exec.AggCall{Func: f, Args: c.Args, Distinct: c.Distinct, Filter: c.Filter}, nil
}

func aggCalls(cs []plan.AggCall) ([]exec.AggCall, error) {
	out := make([]exec.AggCall, len(cs))
	for i, c := range cs {
		var err error
		if out[i], err = aggFunc(c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// stream returns the rows of r.
func (t *translator) stream(r plan.Rel) (weir.Stream[row.Row], error) {
	switch n := r.(type) {
	case *plan.Scan:
		return t.scan(n)
	case *plan.Values:
		return t.values(n)
	case *plan.Calc:
		in, err := t.stream(n.In)
		if err != nil {
			return in, err
		}
		if n.IsIdentity() {
			return in, nil
		}
		return t.calc(in, n.Projects, n.Cond, "Calc", plan.Explain(n))
	case *plan.Aggregate:
		in, err := t.stream(n.In)
		if err != nil {
			return in, err
		}
		calls, err := aggCalls(n.Aggs)
		if err != nil {
			return in, err
		}
		return exec.GroupAggregate(in, exec.GroupAggSpec{
			InputTypes:           plan.Types(n.In),
			GroupKeys:            n.Keys,
			Aggs:                 calls,
			InsertOnly:           n.In.Mode() == plan.InsertOnly,
			GenerateUpdateBefore: true,
			StateTTL:             t.cfg.Duration("table.exec.state.ttl"),
			UID:                  t.uid("GroupAggregate", describeNode(n)),
			Name:                 "GroupAggregate",
		})
	case *plan.WindowAggregate:
		return t.windowAggregate(n)
	case *plan.WindowTVF:
		in, err := t.stream(n.In)
		if err != nil {
			return in, err
		}
		w, tc := execWindow(n.Window, n.In.Columns())
		if n.Window.Kind == plan.Session {
			return in, fmt.Errorf("sql: SESSION windows are supported in window aggregations only (GROUP BY window_start, window_end)")
		}
		return exec.WindowAssign(in, exec.WindowAssignSpec{InputTypes: plan.Types(n.In), TimeCol: tc, Window: w})
	case *plan.Join:
		return t.join(n)
	case *plan.IntervalJoin:
		return t.intervalJoin(n)
	case *plan.WindowJoin:
		return t.windowJoin(n)
	case *plan.Rank:
		return t.rank(n)
	case *plan.Union:
		var ins []weir.Stream[row.Row]
		for _, x := range n.Ins {
			s, err := t.stream(x)
			if err != nil {
				return s, err
			}
			ins = append(ins, s)
		}
		return weir.Union(ins[0], ins[1:]...), nil
	}
	return weir.Stream[row.Row]{}, fmt.Errorf("sql: cannot run plan node %T yet", r)
}

func describeNode(r plan.Rel) string {
	s := plan.Explain(r)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// calcFn evaluates a Calc per subtask (compiled evaluators are not shared
// between goroutines).
type calcFn struct {
	projs []expr.Expr
	cond  expr.Expr
	loc   *time.Location

	evals []expr.Evaluator
	pred  expr.Evaluator
	ctx   expr.EvalContext
	now   func() time.Time
}

func (f *calcFn) Open(*weir.RuntimeContext) error {
	f.evals = make([]expr.Evaluator, len(f.projs))
	for i, p := range f.projs {
		e, err := expr.Compile(p)
		if err != nil {
			return err
		}
		f.evals[i] = e
	}
	if f.cond != nil {
		e, err := expr.Compile(f.cond)
		if err != nil {
			return err
		}
		f.pred = e
	}
	f.ctx = expr.EvalContext{Location: f.loc}
	return nil
}

func (f *calcFn) ProcessElement(ctx *weir.Context[row.Row], in row.Row) error {
	if f.pred != nil {
		v, err := f.pred(&f.ctx, in.Fields)
		if err != nil {
			return fmt.Errorf("sql: WHERE %s on row %s: %w", f.cond, in.Kind, err)
		}
		if v.IsNull() || !v.Bool() {
			return nil
		}
	}
	out := row.Row{Kind: in.Kind, Fields: make([]row.Value, len(f.evals))}
	for i, e := range f.evals {
		v, err := e(&f.ctx, in.Fields)
		if err != nil {
			return fmt.Errorf("sql: %s: %w", f.projs[i], err)
		}
		out.Fields[i] = v
	}
	ctx.Collect(out)
	return nil
}

func (t *translator) calc(in weir.Stream[row.Row], projs []expr.Expr, cond expr.Expr, name, desc string) (weir.Stream[row.Row], error) {
	for _, p := range projs {
		if _, err := expr.Compile(p); err != nil {
			return in, fmt.Errorf("sql: %s: %w", p, err)
		}
	}
	fn := &calcFn{projs: projs, cond: cond, loc: t.loc}
	return weir.Process[row.Row, row.Row](in, fn).Name(name), nil
}

func (t *translator) values(v *plan.Values) (weir.Stream[row.Row], error) {
	rows := make([]row.Row, len(v.Rows))
	for i, r := range v.Rows {
		out := row.Row{Fields: make([]row.Value, len(r))}
		for j, e := range r {
			x, err := expr.Eval(&expr.EvalContext{Location: t.loc}, e, nil)
			if err != nil {
				return weir.Stream[row.Row]{}, fmt.Errorf("sql: VALUES: %w", err)
			}
			out.Fields[j] = x
		}
		rows[i] = out
	}
	return weir.FromSlice(t.env, rows).SetParallelism(1), nil
}

// execWindow converts a plan window into the runtime's, with its time
// column (exec.ProcTime for a processing-time attribute).
func execWindow(w plan.Window, in []plan.Column) (exec.Window, int) {
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	var ew exec.Window
	switch w.Kind {
	case plan.Tumble:
		ew = exec.Tumble(ms(w.Size))
	case plan.Hop:
		ew = exec.Hop(ms(w.Slide), ms(w.Size))
	case plan.Cumulate:
		ew = exec.Cumulate(ms(w.Step), ms(w.Size))
	default:
		ew = exec.Session(ms(w.Gap))
	}
	if w.Offset != 0 {
		ew = ew.WithOffset(ms(w.Offset))
	}
	tc := w.TimeCol
	if in[tc].Type.TimeAttr == row.Proctime {
		tc = exec.ProcTime
	}
	return ew, tc
}

func (t *translator) windowAggregate(n *plan.WindowAggregate) (weir.Stream[row.Row], error) {
	in, err := t.stream(n.In)
	if err != nil {
		return in, err
	}
	calls, err := aggCalls(n.Aggs)
	if err != nil {
		return in, err
	}
	w, tc := execWindow(n.Window, n.In.Columns())
	keys := n.Keys
	return exec.WindowAggregate(in, exec.WindowAggSpec{
		InputTypes: plan.Types(n.In),
		TimeCol:    tc,
		Window:     w,
		GroupKeys:  keys,
		Aggs:       calls,
		UID:        t.uid("WindowAggregate", describeNode(n)),
		Name:       "WindowAggregate",
	})
}

// scan builds a table's source, its watermarks, and the Calc that adds
// computed columns in declaration order.
func (t *translator) scan(s *plan.Scan) (weir.Stream[row.Row], error) {
	tab := s.Table
	ctx := t.connectorContext(tab)
	src, err := t.reg.CreateSource(ctx)
	if err != nil {
		return weir.Stream[row.Row]{}, err
	}
	if t.batch() && !src.Bounded() {
		return weir.Stream[row.Row]{}, fmt.Errorf("sql: Querying an unbounded table '%s' in batch mode is not allowed. The table source is unbounded.", strings.Join(tab.Path(), "."))
	}
	srcCols := tab.SourceColumns() // table column of each source row position
	pos := make([]int, len(tab.Columns))
	for i := range pos {
		pos[i] = -1
	}
	for p, c := range srcCols {
		pos[c] = p
	}
	bc := connector.BuildContext{Env: t.env, Prefix: t.uid("Source", tab.Name), OnError: t.onError}
	if tab.Rowtime >= 0 {
		bc.Watermarks, err = t.watermarks(tab, pos)
		if err != nil {
			return weir.Stream[row.Row]{}, err
		}
		if idle := t.cfg.Duration("table.exec.source.idle-timeout"); idle > 0 {
			bc.Watermarks = bc.Watermarks.WithIdleness(idle)
		}
	}
	out, err := src.Produce(bc)
	if err != nil {
		return out, err
	}
	// Reorder into declaration order and add computed columns.
	identity := len(srcCols) == len(tab.Columns)
	projs := make([]expr.Expr, len(tab.Columns))
	srcTypes := make([]row.Type, len(srcCols))
	for p, c := range srcCols {
		srcTypes[p] = tab.Columns[c].Type
	}
	var proctime []int
	for i, c := range tab.Columns {
		switch {
		case pos[i] >= 0:
			projs[i] = expr.Ref(pos[i], c.Type)
			identity = identity && pos[i] == i
		case tab.Computed[i] != nil:
			projs[i] = tab.Computed[i]
		default: // PROCTIME()
			proctime = append(proctime, i)
			projs[i] = expr.Lit(row.Null(), c.Type)
			identity = false
		}
	}
	var cond expr.Expr
	if tab.Rowtime >= 0 && tab.Columns[tab.Rowtime].Type.Nullable {
		// Flink fails on a NULL rowtime; IS NOT NULL here would drop the row
		// silently, so the check lives in the Calc (see rowtimeCheck).
	}
	if identity && cond == nil {
		return t.checkRowtime(out, tab)
	}
	st, err := t.calc(out, projs, cond, "Calc", tab.Name+" columns")
	if err != nil {
		return st, err
	}
	if len(proctime) > 0 {
		st = weir.Map(st, func(r row.Row) row.Row {
			now := time.Now().UnixMilli()
			for _, i := range proctime {
				r.Fields[i] = row.Timestamp(now, 0)
			}
			return r
		}).Name("Proctime")
	}
	return t.checkRowtime(st, tab)
}

// checkRowtime fails the job on a row whose rowtime is NULL, as Flink does
// ("RowTime field should not be null").
func (t *translator) checkRowtime(s weir.Stream[row.Row], tab *plan.Table) (weir.Stream[row.Row], error) {
	if tab.Rowtime < 0 || !tab.Columns[tab.Rowtime].Type.Nullable {
		return s, nil
	}
	i, name := tab.Rowtime, tab.Columns[tab.Rowtime].Name
	types := plan.Types(&plan.Scan{Table: tab})
	return weir.TryMap(s, func(r row.Row) (row.Row, error) {
		if r.Fields[i].IsNull() {
			return r, fmt.Errorf("sql: table %s: the rowtime column %s of row %s is NULL; a rowtime must not be NULL (Flink: RowTime field should not be null)", tab.Name, name, row.FormatRow(r, types))
		}
		return r, nil
	}), nil
}

func (t *translator) connectorContext(tab *plan.Table) connector.Context {
	ctx := connector.Context{Table: tab.Name, Schema: tab.PhysicalSchema(), Options: tab.Options}
	phys := map[int]int{}
	for i, k := range tab.Kinds {
		switch k {
		case plan.Physical:
			phys[i] = len(phys)
		case plan.Metadata:
			ctx.Metadata = append(ctx.Metadata, connector.MetadataColumn{Name: tab.Columns[i].Name, Key: tab.MetadataKeys[i], Type: tab.Columns[i].Type})
		}
	}
	for _, k := range tab.PrimaryKey {
		ctx.PrimaryKey = append(ctx.PrimaryKey, phys[k])
	}
	return ctx
}

// watermarks builds the strategy of a table's WATERMARK FOR: the rowtime is
// the rowtime column's milliseconds, and the watermark the highest value
// of the watermark expression seen so far (Flink's WatermarkAssigner).
// Expressions are evaluated over the source row with computed columns
// filled in; rowtime and watermark expressions must be deterministic, so
// one compiled evaluator serves every subtask.
func (t *translator) watermarks(tab *plan.Table, pos []int) (weir.WatermarkStrategy[row.Row], error) {
	var strat weir.WatermarkStrategy[row.Row]
	full, err := t.fullRow(tab, pos)
	if err != nil {
		return strat, err
	}
	wmEval, err := expr.Compile(tab.Watermark)
	if err != nil {
		return strat, err
	}
	if !expr.IsDeterministic(tab.Watermark) {
		return strat, fmt.Errorf("sql: table %s: the watermark expression %s must be deterministic", tab.Name, tab.Watermark)
	}
	rt := tab.Rowtime
	loc := t.loc
	strat.Timestamp = func(r row.Row) int64 {
		var scratch [16]row.Value
		f, err := full(r, scratch[:0])
		if err != nil || f[rt].IsNull() {
			return weir.NoTimestamp // the Calc after the source fails the job
		}
		return f[rt].Millis()
	}
	strat.Generator = func() weir.WatermarkGenerator[row.Row] {
		return &sqlWatermarks{full: full, wm: wmEval, ctx: expr.EvalContext{Location: loc}, max: weir.MinWatermark}
	}
	return strat, nil
}

// fullRow returns a function that expands a source row into the table's
// columns (computed ones evaluated; PROCTIME left NULL).
func (t *translator) fullRow(tab *plan.Table, pos []int) (func(r row.Row, buf []row.Value) ([]row.Value, error), error) {
	evals := make([]expr.Evaluator, len(tab.Columns))
	for i, c := range tab.Computed {
		if c == nil {
			continue
		}
		if !expr.IsDeterministic(c) {
			// Only columns the watermark needs matter; a non-deterministic
			// one is left NULL here.
			continue
		}
		e, err := expr.Compile(c)
		if err != nil {
			return nil, err
		}
		evals[i] = e
	}
	loc := t.loc
	return func(r row.Row, buf []row.Value) ([]row.Value, error) {
		ctx := expr.EvalContext{Location: loc}
		for i := range tab.Columns {
			var v row.Value
			switch {
			case pos[i] >= 0:
				v = r.Fields[pos[i]]
			case evals[i] != nil:
				var err error
				if v, err = evals[i](&ctx, r.Fields); err != nil {
					return nil, err
				}
			}
			buf = append(buf, v)
		}
		return buf, nil
	}, nil
}

type sqlWatermarks struct {
	full    func(row.Row, []row.Value) ([]row.Value, error)
	wm      expr.Evaluator
	ctx     expr.EvalContext
	max     int64
	scratch []row.Value
}

func (g *sqlWatermarks) OnEvent(r row.Row, _ int64) {
	f, err := g.full(r, g.scratch[:0])
	if err != nil {
		return
	}
	g.scratch = f
	v, err := g.wm(&g.ctx, f)
	if err != nil || v.IsNull() {
		return
	}
	if ms := v.Millis(); ms > g.max {
		g.max = ms
	}
}

func (g *sqlWatermarks) Watermark() int64 { return g.max }

// batch reports whether the job runs in the batch execution mode.
func (t *translator) batch() bool { return t.cfg.Enum("execution.runtime-mode") == "batch" }

// root returns the rows of a query's or INSERT's root: in the batch mode
// an updating result becomes its final table (exec.Final), emitted as +I
// rows when the bounded input ends.
func (t *translator) root(r plan.Rel) (weir.Stream[row.Row], error) {
	st, err := t.stream(r)
	if err != nil || !t.batch() || r.Mode() == plan.InsertOnly {
		return st, err
	}
	return exec.Final(st, exec.FinalSpec{Types: plan.Types(r), UID: t.uid("Final", describeNode(r))})
}

// sink adds a table sink for a plan's root.
func (t *translator) sink(s *plan.Sink) (weir.DataSink, error) {
	in, err := t.root(s.In)
	if err != nil {
		return weir.DataSink{}, err
	}
	ctx := t.connectorContext(s.Table)
	// A sink receives the physical and writable metadata columns in
	// declaration order, which is how Insert projected them.
	sk, err := t.reg.CreateSink(ctx)
	if err != nil {
		return weir.DataSink{}, err
	}
	mode := connector.InsertOnly
	if s.In.Mode() == plan.Updating && !t.batch() {
		mode = connector.All
	}
	if _, err := sk.ChangelogMode(mode); err != nil {
		return weir.DataSink{}, fmt.Errorf("sql: INSERT INTO %s: %w", s.Table.Name, err)
	}
	return sk.Consume(connector.BuildContext{Env: t.env, Prefix: t.uid("Sink", s.Table.Name), OnError: t.onError}, in)
}
