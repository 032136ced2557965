package sql

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/operator"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
)

// joinCondition compiles a residual join condition over the concatenated
// left and right row. Compiled evaluators are not goroutine-safe, so each
// call takes one (with its row buffer) from a pool: every subtask of the
// join ends up with its own.
func (t *translator) joinCondition(cond expr.Expr) (exec.JoinCondition, error) {
	if cond == nil {
		return nil, nil
	}
	if _, err := expr.Compile(cond); err != nil {
		return nil, fmt.Errorf("sql: join condition %s: %w", cond, err)
	}
	type evalState struct {
		eval expr.Evaluator
		ctx  expr.EvalContext
		buf  []row.Value
	}
	loc := t.loc
	pool := &sync.Pool{New: func() any {
		e, _ := expr.Compile(cond) // compiled once above: cannot fail
		return &evalState{eval: e, ctx: expr.EvalContext{Location: loc}}
	}}
	// Only the columns the condition reads are copied into the evaluated
	// row (q9's reads 3 of 15); the others stay NULL.
	var cols []int
	expr.Refs(cond, func(i int) { cols = append(cols, i) })
	slices.Sort(cols)
	cols = slices.Compact(cols)
	return func(l, r []row.Value) (bool, error) {
		s := pool.Get().(*evalState)
		n := len(l) + len(r)
		if len(s.buf) != n {
			s.buf = make([]row.Value, n)
		}
		for _, c := range cols {
			switch {
			case c < len(l):
				s.buf[c] = l[c]
			case c < n:
				s.buf[c] = r[c-len(l)]
			}
		}
		v, err := s.eval(&s.ctx, s.buf)
		pool.Put(s)
		if err != nil {
			return false, fmt.Errorf("sql: join condition %s: %w", cond, err)
		}
		return !v.IsNull() && v.Bool(), nil
	}, nil
}

func joinType(k plan.JoinType) exec.JoinType {
	switch k {
	case plan.LeftJoin:
		return exec.LeftJoin
	case plan.RightJoin:
		return exec.RightJoin
	case plan.FullJoin:
		return exec.FullJoin
	}
	return exec.InnerJoin
}

func (t *translator) joinInputs(l, r plan.Rel) (weir.Stream[row.Row], weir.Stream[row.Row], error) {
	ls, err := t.stream(l)
	if err != nil {
		return ls, ls, err
	}
	rs, err := t.stream(r)
	return ls, rs, err
}

func (t *translator) join(n *plan.Join) (weir.Stream[row.Row], error) {
	return t.joinWith(n, nil)
}

// joinWith translates a regular join whose output rows have the columns
// proj of the joined row (nil: all of them).
func (t *translator) joinWith(n *plan.Join, proj []int) (weir.Stream[row.Row], error) {
	l, r, err := t.joinInputs(n.Left, n.Right)
	if err != nil {
		return l, err
	}
	cond, err := t.joinCondition(n.Residual)
	if err != nil {
		return l, err
	}
	// Flink's StreamExecJoin: mini-batch on, every INNER/LEFT/RIGHT/FULL
	// regular join is a MiniBatchStreamingJoinOperator.
	mb, err := miniBatchOf(t.cfg, true)
	if err != nil {
		return l, err
	}
	return exec.RegularJoin(l, r, exec.JoinSpec{
		MiniBatch:  mb,
		Type:       joinType(n.Type),
		LeftTypes:  plan.Types(n.Left),
		RightTypes: plan.Types(n.Right),
		LeftKeys:   n.LeftKeys,
		RightKeys:  n.RightKeys,
		NullSafe:   n.NullSafe,
		Condition:  cond,
		Project:    proj,
		StateTTL:   t.cfg.Duration("table.exec.state.ttl"),
		// An insert-only input keeps its rows in a cheaper state layout.
		LeftAppendOnly:  n.Left.Mode() == plan.InsertOnly,
		RightAppendOnly: n.Right.Mode() == plan.InsertOnly,
	})
}

func (t *translator) intervalJoin(n *plan.IntervalJoin) (weir.Stream[row.Row], error) {
	l, r, err := t.joinInputs(n.Left, n.Right)
	if err != nil {
		return l, err
	}
	cond, err := t.joinCondition(n.Residual)
	if err != nil {
		return l, err
	}
	return exec.IntervalJoin(l, r, exec.IntervalJoinSpec{
		Type:       joinType(n.Type),
		LeftTypes:  plan.Types(n.Left),
		RightTypes: plan.Types(n.Right),
		LeftKeys:   n.LeftKeys,
		RightKeys:  n.RightKeys,
		LeftTime:   n.LeftTime,
		RightTime:  n.RightTime,
		LowerBound: time.Duration(n.Lower) * time.Millisecond,
		UpperBound: time.Duration(n.Upper) * time.Millisecond,
		ProcTime:   n.ProcTime,
		Condition:  cond,
	})
}

func (t *translator) windowJoin(n *plan.WindowJoin) (weir.Stream[row.Row], error) {
	l, r, err := t.joinInputs(n.Left, n.Right)
	if err != nil {
		return l, err
	}
	cond, err := t.joinCondition(n.Residual)
	if err != nil {
		return l, err
	}
	return exec.WindowJoin(l, r, exec.WindowJoinSpec{
		Type:             joinType(n.Type),
		LeftTypes:        plan.Types(n.Left),
		RightTypes:       plan.Types(n.Right),
		LeftKeys:         n.LeftKeys,
		RightKeys:        n.RightKeys,
		LeftWindowStart:  n.LeftStart,
		LeftWindowEnd:    n.LeftEnd,
		RightWindowStart: n.RightStart,
		RightWindowEnd:   n.RightEnd,
		Condition:        cond,
		Zone:             t.windowZone(n.Window),
	})
}

func (t *translator) rank(n *plan.Rank) (weir.Stream[row.Row], error) {
	if err := n.CheckBounded(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	if n.NumbersRows() {
		return t.rowNumbers(n)
	}
	in, err := t.stream(n.In)
	if err != nil {
		return in, err
	}
	types := plan.Types(n.In)
	order := make([]exec.OrderKey, len(n.OrderBy))
	for i, k := range n.OrderBy {
		order[i] = exec.OrderKey{Col: k.Col, Desc: k.Desc, NullsLast: k.NullsLast}
	}
	ttl := t.cfg.Duration("table.exec.state.ttl")
	switch n.Strategy {
	case plan.Dedup:
		tc := n.OrderBy[0].Col
		mb, err := miniBatchOf(t.cfg, true)
		if err != nil {
			return in, err
		}
		return exec.Deduplicate(in, exec.DedupSpec{
			MiniBatch:            mb,
			Types:                types,
			Keys:                 n.PartitionKeys,
			KeepLast:             n.KeepLast(),
			RowTime:              types[tc].TimeAttr == row.Rowtime,
			TimeCol:              tc,
			GenerateUpdateBefore: t.updateBefore(n),
			GenerateInsert:       true,
			Updating:             n.In.Mode() == plan.Updating,
			StateTTL:             ttl,
			CompactChanges:       t.cfg.Bool("table.exec.deduplicate.mini-batch.compact-changes-enabled"),
		})
	case plan.WindowDedup:
		return exec.WindowDeduplicate(in, exec.WindowDedupSpec{
			Types:       types,
			Keys:        n.PartitionKeys,
			WindowStart: n.WindowStart,
			WindowEnd:   n.WindowEnd,
			TimeCol:     n.OrderBy[0].Col,
			KeepLast:    n.KeepLast(),
			Zone:        t.windowZone(n.Window),
		})
	case plan.WindowTopN:
		return exec.WindowRank(in, exec.WindowRankSpec{
			Types:            types,
			PartitionKeys:    n.PartitionKeys,
			WindowStart:      n.WindowStart,
			WindowEnd:        n.WindowEnd,
			OrderBy:          order,
			RankStart:        n.Start,
			RankEnd:          n.End,
			OutputRankNumber: n.RowNumber,
			Zone:             t.windowZone(n.Window),
		})
	}
	return exec.Rank(in, exec.RankSpec{
		Types:                types,
		PartitionKeys:        n.PartitionKeys,
		OrderBy:              order,
		RankStart:            n.Start,
		RankEnd:              n.End,
		OutputRankNumber:     n.RowNumber,
		Updating:             n.In.Mode() == plan.Updating,
		GenerateUpdateBefore: t.updateBefore(n),
		StateTTL:             ttl,
		UpdateKey:            t.updateFastKey(n),
		// Flink keeps at least one partition's top whatever the size.
		CacheSize: int64(max(1, t.cfg.Int("table.exec.rank.topn-cache-size"))),
	})
}

// updateFastKey is the unique key of a Top-N that the changelog inference
// planned as UpdateFastStrategy, or nil (none in the batch mode, whose
// final table retracts).
func (t *translator) updateFastKey(n *plan.Rank) []int {
	if t.modes == nil {
		return nil
	}
	return n.UpdateFast
}

// windowZone is the session time zone for windows over a TIMESTAMP_LTZ
// time attribute (their window_end is its wall clock), nil otherwise.
func (t *translator) windowZone(w plan.Window) *time.Location {
	if w.LocalTime {
		return t.loc
	}
	return nil
}

// joinProjected translates a Calc that only keeps or reorders the columns
// of the regular join n (their indexes proj): the join emits those
// columns itself (exec.JoinSpec.Project). The Calc stays in the job graph
// as a node that hands its rows on, so that the graph, its node names and
// positions are those of the plan without the projection in the join:
// operators without a uid (regular joins, among others) store their state
// under their name and position, and a savepoint taken before restores.
func (t *translator) joinProjected(n *plan.Join, proj []int) (weir.Stream[row.Row], error) {
	in, err := t.joinWith(n, proj)
	if err != nil {
		return in, err
	}
	return weir.Transform(in, "Calc", func(out operator.Output[row.Row]) operator.OneInput[row.Row] {
		op := &passOn{Output: out}
		op.batch, _ = out.(operator.BatchOutput[row.Row])
		return op
	}), nil
}

// passOn is a chained operator that hands every record, watermark and
// status on unchanged.
type passOn struct {
	operator.Output[row.Row]
	batch operator.BatchOutput[row.Row]
	ctx   *operator.Context
}

func (p *passOn) Open(ctx *operator.Context) error { p.ctx = ctx; return nil }
func (p *passOn) Finish() error                    { return nil }
func (p *passOn) Close() error                     { return nil }

// ProcessWatermark records the watermark in the operator's metrics, as a
// Calc does, and hands it on.
func (p *passOn) ProcessWatermark(wm int64) error {
	p.ctx.Metrics.CurrentWatermark = wm
	return p.Output.ProcessWatermark(wm)
}

// ProcessBatch hands a run on in one call if the next operator takes
// runs.
func (p *passOn) ProcessBatch(recs []operator.Rec[row.Row]) (int, error) {
	if p.batch != nil {
		return p.batch.ProcessBatch(recs)
	}
	for i := range recs {
		if err := p.Output.ProcessElement(recs[i].V, recs[i].TS); err != nil {
			return i + 1, err
		}
	}
	return len(recs), nil
}
