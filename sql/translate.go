package sql

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/operator"
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
	// inputs are streams that stand for tables' sources (Job.BuildOn).
	inputs map[string]weir.Stream[row.Row]
	// owned is set by sourceScanOf when the rows it returns are the
	// job's alone (see sourceScanOwned).
	owned bool
	// spare is the width the Calc over the scan being translated asks of
	// the source's rows (connector.SpareFields; 0: none); spared tells
	// that the source took it.
	spare  int
	spared bool
	// reused holds the streams of translated sub-plans by digest
	// (translate_reuse.go).
	reused map[string]weir.Stream[row.Row]
	// modes are the inferred changelog modes of the job's plans
	// (changelog.go); nil in the batch mode.
	modes *plan.Changelogs
	// unshared marks the nodes sub-plan reuse leaves alone
	// (translate_changelog.go).
	unshared map[plan.Rel]bool
	// shared holds the streams of the scans plan.ReuseScans shares
	// (scan_reuse.go).
	shared map[*plan.Scan]weir.Stream[row.Row]
	// read marks, while a root is translated, the output columns of its
	// plan's nodes that some consumer reads (translate_proctime.go).
	read map[plan.Rel][]bool
	// locals counts the LocalGroupAggregates added (nodes without state
	// that a one-phase plan lacks; see Job.build).
	locals int
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
	if c.UDF != nil {
		u := exec.UserCall(c.Func, c.UDF, c.Args...)
		u.Distinct, u.Filter = c.Distinct, c.Filter
		return u, nil
	}
	f, err := exec.ParseFunc(c.Func, len(c.Args))
	if err != nil {
		return exec.AggCall{}, err
	}
	return exec.AggCall{Func: f, Args: c.Args, Distinct: c.Distinct, IgnoreNulls: c.IgnoreNulls, Filter: c.Filter}, nil
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

// streamNode returns the rows of r (stream, in translate_reuse.go, reuses
// equal sub-plans).
func (t *translator) streamNode(r plan.Rel) (weir.Stream[row.Row], error) {
	switch n := r.(type) {
	case *plan.Scan:
		if n.Source {
			st, check, err := t.sourceScan(n)
			if err != nil || check == nil {
				return st, err
			}
			// No Calc above to check the rowtime: check it alone.
			var projs []expr.Expr
			for i, c := range n.Columns() {
				projs = append(projs, expr.Ref(i, c.Type))
			}
			return t.calcChecked(st, projs, nil, check, "Calc")
		}
		return t.scan(n)
	case *plan.Values:
		return t.values(n)
	case *plan.Calc:
		if m, ok := t.mergeOverUnreadProctime(n); ok {
			return t.streamNode(m) // translate_proctime.go
		}
		if s, ok := n.In.(*plan.Scan); ok && s.Source {
			// The Calc over a source scan checks the rowtime (see
			// sourceScan) before its condition, as Flink's watermark
			// assigner does right after the scan.
			if len(n.Projects) > len(s.Columns()) {
				t.spare = len(n.Projects)
			}
			in, check, owned, err := t.sourceScanOwned(s)
			spared := t.spared
			t.spare, t.spared = 0, false
			if err != nil {
				return in, err
			}
			if check == nil && n.IsIdentity() {
				return in, nil
			}
			if owned && spared {
				return t.calcSpared(in, n, check)
			}
			return t.calcOver(in, n, check, owned)
		}
		if lj, ok := n.In.(*plan.LookupJoin); ok {
			if kept := keptColumns(n); kept != nil {
				// A Calc that only keeps columns of a lookup join
				// against a local table runs in the join
				// (translate_lookup.go).
				in, projected, err := t.lookupJoinProjected(lj, kept)
				if err != nil || projected {
					return in, err
				}
				return t.calcNamed(in, n, nil)
			}
		}
		if j, ok := n.In.(*plan.Join); ok && !n.IsIdentity() {
			if kept := keptColumns(n); kept != nil {
				// A Calc that only keeps or reorders a regular
				// join's columns runs in the join (join_project.go).
				return t.joinProjected(j, kept)
			}
		}
		in, err := t.stream(n.In)
		if err != nil {
			return in, err
		}
		if n.IsIdentity() {
			return in, nil
		}
		if _, ok := n.In.(*plan.Join); ok {
			// A regular join's output rows are the Calc's alone: carved
			// fresh for each pair (exec.RegularJoin keeps no reference),
			// and a join is never a shared sub-plan (translate_reuse.go),
			// so the Calc writes its output over their fields.
			return t.calcOver(in, n, nil, true)
		}
		return t.calcNamed(in, n, nil)
	case *plan.Aggregate:
		in, err := t.stream(n.In)
		if err != nil {
			return in, err
		}
		calls, err := aggCalls(n.Aggs)
		if err != nil {
			return in, err
		}
		mb, err := miniBatchOf(t.cfg, true)
		if err != nil {
			return in, err
		}
		spec := exec.GroupAggSpec{
			MiniBatch:            mb,
			InputTypes:           plan.Types(n.In),
			GroupKeys:            n.Keys,
			Aggs:                 calls,
			InsertOnly:           n.In.Mode() == plan.InsertOnly,
			GenerateUpdateBefore: t.updateBefore(n),
			StateTTL:             t.cfg.Duration("table.exec.state.ttl"),
			UID:                  t.uid("GroupAggregate", describeNode(n)),
			Name:                 "GroupAggregate",
		}
		if aggTwoPhase(t.cfg)(n) {
			// The global aggregate keeps the one-phase operator's uid,
			// state and encoding (exec/group_twophase.go); the local one
			// has no state and no uid.
			local := spec
			local.UID, local.Name = "", "LocalGroupAggregate"
			if in, err = exec.LocalGroupAggregate(in, local); err != nil {
				return in, err
			}
			t.locals++
			spec.Name = "GlobalGroupAggregate"
			return exec.GlobalGroupAggregate(in, spec)
		}
		return exec.GroupAggregate(in, spec)
	case *plan.WindowAggregate:
		return t.windowAggregate(n)
	case *plan.WindowTVF:
		in, err := t.stream(n.In)
		if err != nil {
			return in, err
		}
		w, tc := execWindow(n.Window, n.In.Columns(), t.loc)
		if n.Window.Kind == plan.Session {
			// Rows wait in state until their session closes (Flink 1.19's
			// SESSION window TVF without aggregation).
			return exec.SessionTVF(in, exec.SessionTVFSpec{
				InputTypes: plan.Types(n.In), TimeCol: tc, Window: w,
				PartitionKeys: n.Window.PartitionKeys,
				UID:           t.uid("WindowTableFunction", describeNode(n)),
			})
		}
		return exec.WindowAssign(in, exec.WindowAssignSpec{InputTypes: plan.Types(n.In), TimeCol: tc, Window: w})
	case *plan.Join:
		return t.join(n)
	case *plan.IntervalJoin:
		return t.intervalJoin(n)
	case *plan.WindowJoin:
		return t.windowJoin(n)
	case *plan.TemporalJoin:
		return t.temporalJoin(n)
	case *plan.LookupJoin:
		return t.lookupJoin(n)
	case *plan.Rank:
		return t.rank(n)
	case *plan.Correlate:
		return t.correlate(n)
	case *plan.OverAggregate:
		return t.overAggregate(n)
	case *plan.BatchOverAggregate:
		return t.batchOverAggregate(n) // translate_batch_over.go
	case *plan.SemiJoin:
		return t.semiJoin(n)
	case *plan.TemporalSort:
		return t.temporalSort(n)
	case *plan.Sort:
		return t.batchSort(n)
	case *plan.MatchRecognize:
		return t.matchRecognize(n)
	case *plan.Expand:
		// One Calc per grouping set over the same input, unioned: each
		// copy of a row goes to the groups of its own set ($e differs),
		// and each Calc keeps its input's order.
		in, err := t.stream(n.In)
		if err != nil {
			return in, err
		}
		if n.OneOperator {
			var specs []*calcSpec
			for _, ps := range n.Projects {
				for _, p := range ps {
					if _, err := expr.Compile(p); err != nil {
						return in, fmt.Errorf("sql: %s: %w", p, err)
					}
				}
				specs = append(specs, &calcSpec{projs: ps, loc: t.loc})
			}
			return weir.Transform(in, "Expand", func(out operator.Output[row.Row]) operator.OneInput[row.Row] {
				return newExpandOp(specs, "Expand", out)
			}), nil
		}
		var outs []weir.Stream[row.Row]
		for _, ps := range n.Projects {
			s, err := t.calc(in, ps, nil, "Expand", "")
			if err != nil {
				return s, err
			}
			outs = append(outs, s)
		}
		return weir.Union(outs[0], outs[1:]...), nil
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
// column (exec.ProcTime for a processing-time attribute). Windows over a
// TIMESTAMP_LTZ or processing-time attribute are aligned in loc, the
// session time zone.
func execWindow(w plan.Window, in []plan.Column, loc *time.Location) (exec.Window, int) {
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
	if w.LocalTime {
		ew.Zone = loc
	}
	ew.Unsliced = w.Unsliced
	tc := w.TimeCol
	if in[tc].Type.TimeAttr == row.Proctime {
		tc = exec.ProcTime
	}
	return ew, tc
}

func (t *translator) windowAggregate(n *plan.WindowAggregate) (weir.Stream[row.Row], error) {
	if n.Window.Attached {
		return t.attachedWindowAggregate(n) // translate_window_attached.go
	}
	in, err := t.stream(n.In)
	if err != nil {
		return in, err
	}
	calls, err := aggCalls(n.Aggs)
	if err != nil {
		return in, err
	}
	w, tc := execWindow(n.Window, n.In.Columns(), t.loc)
	keys := n.Keys
	spec := exec.WindowAggSpec{
		InputTypes: plan.Types(n.In),
		TimeCol:    tc,
		Window:     w,
		GroupKeys:  keys,
		Aggs:       calls,
		UID:        t.uid("WindowAggregate", describeNode(n)),
		Name:       "WindowAggregate",
	}
	if windowTwoPhase(t.cfg)(n) {
		// As for the group aggregation: the global aggregate keeps the
		// one-phase operator's uid, state and encoding
		// (exec/window_twophase.go); the local one has no state and no
		// uid.
		local := spec
		local.UID, local.Name = "", "LocalWindowAggregate"
		if in, err = exec.LocalWindowAggregate(in, local); err != nil {
			return in, err
		}
		t.locals++
		spec.Name = "GlobalWindowAggregate"
		return exec.GlobalWindowAggregate(in, spec)
	}
	return exec.WindowAggregate(in, spec)
}

// sourceScan builds a table's source with its watermarks: rows as the
// connector produces them (Table.SourceColumns). If the rowtime is
// nullable it returns the check that the first Calc over the rows must
// make (a row with a NULL rowtime gets no timestamp).
func (t *translator) sourceScan(s *plan.Scan) (weir.Stream[row.Row], *rowtimeCheck, error) {
	st, check, _, err := t.sourceScanOwned(s)
	return st, check, err
}

// sourceScanOwned is sourceScan that also reports whether the rows are
// the job's alone: produced fresh by a source that took the pushed-down
// projection (connector.NestedProjectionPushDown), which keeps no
// reference to them, so the Calc over the scan may write its output over
// their fields.
func (t *translator) sourceScanOwned(s *plan.Scan) (weir.Stream[row.Row], *rowtimeCheck, bool, error) {
	if s.Shared {
		t.spare = 0 // several Calcs read the rows: none writes over them
		st, err := t.sharedScan(s)
		return st, nil, false, err
	}
	st, check, err := t.sourceScanOf(s)
	return st, check, t.owned && err == nil, err
}

func (t *translator) sourceScanOf(s *plan.Scan) (weir.Stream[row.Row], *rowtimeCheck, error) {
	t.owned = false
	tab := s.Table
	if in, ok := t.inputs[tab.UIDName()]; ok {
		in, err := t.filterPushed(in, s) // source_pushdown.go
		if err != nil {
			return in, nil, err
		}
		in, err = t.projectRows(in, s, nil)
		return in, nil, err
	}
	ctx := t.connectorContext(tab)
	src, err := t.reg.CreateSource(ctx)
	if err != nil {
		return weir.Stream[row.Row]{}, nil, err
	}
	if err := applyPushDown(src, s); err != nil { // source_pushdown.go
		return weir.Stream[row.Row]{}, nil, err
	}
	pushed := s.Project == nil
	if pd, ok := src.(connector.NestedProjectionPushDown); ok && s.Project != nil {
		if err := pd.ApplyNestedProjection(s.Project); err != nil {
			return weir.Stream[row.Row]{}, nil, err
		}
		if sf, ok := src.(connector.SpareFields); ok && t.spare > len(s.Project) {
			t.spared = sf.ReserveFields(t.spare)
		}
		pushed = true
		defer func() { t.owned = true }()
	}
	if !pushed {
		// The planner pushed a projection the source does not take
		// (plan.Table.NestedPushDown was set for another source): scan
		// every column and project here.
		out, check, err := t.sourceScan(&plan.Scan{Table: tab, Source: true, Filters: s.Filters,
			PartitionFilter: s.PartitionFilter, Partitions: s.Partitions})
		if err != nil {
			return out, nil, err
		}
		out, err = t.projectRows(out, s, check)
		return out, nil, err
	}
	if t.batch() && !src.Bounded() {
		return weir.Stream[row.Row]{}, nil, fmt.Errorf("sql: Querying an unbounded table '%s' in batch mode is not allowed. The table source is unbounded.", strings.Join(tab.Path(), "."))
	}
	bc := connector.BuildContext{Env: t.env, Prefix: t.uid("Source", tab.UIDName()+pushedDigest(s)), OnError: t.onError}
	var check *rowtimeCheck
	if tab.Rowtime >= 0 {
		bc.Watermarks, err = t.watermarks(s)
		if err != nil {
			return weir.Stream[row.Row]{}, nil, err
		}
		if tab.SourceRowtime {
			// The source attaches the rowtime (plan.Table.SourceRowtime):
			// keep its timestamps.
			rt, _ := plan.SourceTimeExprs(tab)
			if rp, ok := src.(connector.RowtimePushDown); !ok || !rp.ApplyRowtime(rt) {
				return weir.Stream[row.Row]{}, nil, fmt.Errorf("sql: table %s: the source no longer attaches the rowtime %s itself", tab.Name, rt)
			}
			bc.Watermarks.NewTimestamp = nil
		}
		if idle := t.cfg.Duration("table.exec.source.idle-timeout"); idle > 0 {
			bc.Watermarks = bc.Watermarks.WithIdleness(idle)
		}
		if tab.Columns[tab.Rowtime].Type.Nullable && !tab.SourceRowtime {
			check = &rowtimeCheck{table: tab.Name, column: tab.Columns[tab.Rowtime].Name,
				types: plan.Types(s)}
		}
	}
	deadLetters := t.routeDeadLetters(tab, &bc) // deadletter.go
	out, err := src.Produce(bc)
	if err == nil {
		err = deadLetters()
	}
	return out, check, err
}

// projectRows computes a scan's pushed-down projection (plan.Scan.Project)
// over full source rows, for a source that does not take it.
// It makes the rowtime check, if any, on the full rows.
func (t *translator) projectRows(in weir.Stream[row.Row], s *plan.Scan, check *rowtimeCheck) (weir.Stream[row.Row], error) {
	if s.Project == nil && check == nil {
		return in, nil
	}
	if s.Project == nil {
		var projs []expr.Expr
		for i, c := range s.Columns() {
			projs = append(projs, expr.Ref(i, c.Type))
		}
		return t.calcChecked(in, projs, nil, check, "Calc")
	}
	var out []expr.Expr
	for _, p := range s.Project {
		out = append(out, s.FullExpr(p))
	}
	return t.calcChecked(in, out, nil, check, "Calc")
}

// sourceExprs returns, per table column, the expression that computes it
// over the source row.
func sourceExprs(tab *plan.Table) []expr.Expr {
	out := make([]expr.Expr, len(tab.Columns))
	for p, c := range tab.SourceColumns() {
		out[c] = expr.Ref(p, tab.Columns[c].Type)
	}
	for i, c := range tab.Computed {
		if c != nil && out[i] == nil {
			out[i] = c
		}
	}
	return out
}

// scan builds a table's source and its watermarks. The planner expands a
// table with computed columns into a Calc over its source scan
// (plan.Optimize); a scan that reaches here unexpanded gets the Calc that
// adds them in declaration order.
func (t *translator) scan(s *plan.Scan) (weir.Stream[row.Row], error) {
	tab := s.Table
	out, _, err := t.sourceScan(s)
	if err != nil {
		return out, err
	}
	projs := sourceExprs(tab)
	identity := len(tab.SourceColumns()) == len(tab.Columns)
	for i, p := range projs {
		r, ok := p.(*expr.InputRef)
		identity = identity && ok && r.Index == i
	}
	if !identity {
		if out, err = t.calc(out, projs, nil, "Calc", tab.Name+" columns"); err != nil {
			return out, err
		}
	}
	return t.checkRowtime(out, tab)
}

// checkRowtime fails the job on a row whose rowtime is NULL, as Flink does
// ("RowTime field should not be null").
func (t *translator) checkRowtime(s weir.Stream[row.Row], tab *plan.Table) (weir.Stream[row.Row], error) {
	if tab.Rowtime < 0 || !tab.Columns[tab.Rowtime].Type.Nullable {
		return s, nil
	}
	check := &rowtimeCheck{table: tab.Name, column: tab.Columns[tab.Rowtime].Name, types: plan.Types(&plan.Scan{Table: tab})}
	return rowtimeNullChecked(s, tab.Rowtime, check), nil
}

func (t *translator) connectorContext(tab *plan.Table) connector.Context {
	ctx := connector.Context{Table: tab.Name, Schema: tab.PhysicalSchema(), Options: connectorOptions(tab.Options)}
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
	for _, k := range tab.PartitionKeys {
		ctx.PartitionKeys = append(ctx.PartitionKeys, phys[k])
	}
	return ctx
}

// watermarks builds the strategy of a table's WATERMARK FOR: the rowtime is
// the rowtime column's milliseconds, and the watermark the highest value
// of the watermark expression seen so far (Flink's WatermarkAssigner).
// Both are evaluated over the source row, with the computed columns they
// read inlined; they must be deterministic, so one compiled evaluator and
// one read-only context serve every subtask. A watermark of the form
// rowtime - INTERVAL is computed from the record's timestamp.
func (t *translator) watermarks(s *plan.Scan) (weir.WatermarkStrategy[row.Row], error) {
	var strat weir.WatermarkStrategy[row.Row]
	tab := s.Table
	if !expr.IsDeterministic(tab.Watermark) {
		return strat, fmt.Errorf("sql: table %s: the watermark expression %s must be deterministic", tab.Name, tab.Watermark)
	}
	// Only columns the watermark needs matter; a non-deterministic one
	// (PROCTIME()) is NULL here. Both are read from the scan's columns
	// (a pushed-down projection keeps what they read).
	rtExpr, wmExpr := plan.SourceTimeExprs(tab)
	rtExpr, wmExpr = s.SourceExpr(rtExpr), s.SourceExpr(wmExpr)
	loc := t.loc
	if tab.SourceRowtime {
		// The source attaches the rowtime (checked by sourceScan).
		rtExpr = nil
	} else if _, err := expr.Compile(rtExpr); err != nil {
		return strat, err
	}
	// A compiled expression keeps scratch space: each subtask compiles its
	// own.
	strat.NewTimestamp = func() func(row.Row) int64 {
		if rtExpr == nil {
			return nil
		}
		rtEval, err := expr.Compile(rtExpr)
		if err != nil {
			panic(err) // compiled above without error
		}
		ectx := &expr.EvalContext{Location: loc}
		return func(r row.Row) int64 {
			v, err := rtEval(ectx, r.Fields)
			if err != nil || v.IsNull() {
				return weir.NoTimestamp // the Calc after the source fails the job
			}
			return v.Millis()
		}
	}
	if d, ok := delayOf(tab.Watermark, tab.Rowtime); ok {
		strat.Generator = func() weir.WatermarkGenerator[row.Row] {
			return &delayWatermarks{delay: d, max: weir.MinWatermark}
		}
		return strat, nil
	}
	if _, err := expr.Compile(wmExpr); err != nil {
		return strat, err
	}
	strat.Generator = func() weir.WatermarkGenerator[row.Row] {
		wmEval, err := expr.Compile(wmExpr)
		if err != nil {
			panic(err) // compiled above without error
		}
		return &sqlWatermarks{wm: wmEval, ctx: expr.EvalContext{Location: loc}, max: weir.MinWatermark}
	}
	return strat, nil
}

// delayOf reports whether a watermark expression is the rowtime column
// rt minus a day-time interval literal, and returns the interval in ms.
func delayOf(wm expr.Expr, rt int) (int64, bool) {
	if r, ok := wm.(*expr.InputRef); ok && r.Index == rt {
		return 0, true
	}
	c, ok := wm.(*expr.Call)
	if !ok || c.Func.Name != "-" || len(c.Args) != 2 {
		return 0, false
	}
	r, ok := c.Args[0].(*expr.InputRef)
	if !ok || r.Index != rt {
		return 0, false
	}
	l, ok := c.Args[1].(*expr.Literal)
	if !ok || l.T.Root != row.TypeIntervalDayTime || l.Value.IsNull() {
		return 0, false
	}
	return l.Value.Int(), true
}

// delayWatermarks is the watermark rowtime - delay: the highest record
// timestamp seen minus delay.
type delayWatermarks struct {
	delay, max int64
}

func (g *delayWatermarks) OnEvent(_ row.Row, ts int64) {
	if ts == weir.NoTimestamp {
		return
	}
	if w := ts - g.delay; w > g.max {
		g.max = w
	}
}

func (g *delayWatermarks) Watermark() int64 { return g.max }

type sqlWatermarks struct {
	wm  expr.Evaluator
	ctx expr.EvalContext
	max int64
}

func (g *sqlWatermarks) OnEvent(r row.Row, _ int64) {
	v, err := g.wm(&g.ctx, r.Fields)
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
	t.read = readColumns(r) // translate_proctime.go
	st, err := t.stream(r)
	t.read = nil // this root's only
	if err != nil || !t.batch() || r.Mode() == plan.InsertOnly {
		return st, err
	}
	return exec.Final(st, exec.FinalSpec{Types: plan.Types(r), UID: t.uid("Final", describeNode(r))})
}

// sink adds a table sink for a plan's root.
func (t *translator) sink(s *plan.Sink) (weir.DataSink, error) {
	ctx := t.connectorContext(s.Table)
	// A sink receives the physical and writable metadata columns in
	// declaration order, which is how Insert projected them.
	sk, err := t.reg.CreateSink(ctx)
	if err != nil {
		return weir.DataSink{}, err
	}
	if err := applyOverwrite(sk, s); err != nil { // overwrite.go
		return weir.DataSink{}, err
	}
	mode := connector.InsertOnly
	if s.In.Mode() == plan.Updating && !t.batch() {
		mode = connector.All
	}
	accepted, err := sk.ChangelogMode(mode)
	if err != nil {
		return weir.DataSink{}, fmt.Errorf("sql: INSERT INTO %s: %w", s.Table.Name, err)
	}
	in, err := t.root(s.In)
	if err != nil {
		return weir.DataSink{}, err
	}
	if ok, pk := t.upsertMaterialize(s, accepted); ok {
		in = t.materialize(in, s, pk)
	}
	return sk.Consume(connector.BuildContext{Env: t.env, Prefix: t.uid("Sink", s.Table.UIDName()), OnError: t.onError}, in)
}
