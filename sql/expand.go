package sql

import (
	"github.com/weirstream/weir/operator"
	"github.com/weirstream/weir/row"
)

// expandOp runs a plan.Expand in one operator (Flink's Expand): each row
// goes out once per grouping set, the sets in order, before the next row
// or watermark. The Expand of a window aggregation's grouping sets runs
// so: as a union of one Calc per set, a copy on one branch could pass a
// watermark still on its way down the other, and a late row be dropped
// in one set and not in another.
type expandOp struct {
	calcs []*calcOp
	out   operator.Output[row.Row]
	ctx   *operator.Context
}

// rowsOnly hands rows to out; the expandOp forwards watermarks itself.
type rowsOnly struct{ out operator.Output[row.Row] }

func (r rowsOnly) ProcessElement(v row.Row, ts int64) error { return r.out.ProcessElement(v, ts) }
func (r rowsOnly) ProcessWatermark(int64) error             { return nil }
func (r rowsOnly) ProcessWatermarkStatus(bool) error        { return nil }

func newExpandOp(specs []*calcSpec, name string, out operator.Output[row.Row]) *expandOp {
	e := &expandOp{out: out}
	for _, s := range specs {
		e.calcs = append(e.calcs, newCalcOp(s, name, rowsOnly{out}))
	}
	return e
}

func (e *expandOp) Open(ctx *operator.Context) error {
	e.ctx = ctx
	for _, c := range e.calcs {
		if err := c.Open(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (e *expandOp) ProcessElement(in row.Row, ts int64) error {
	for _, c := range e.calcs {
		if err := c.ProcessElement(in, ts); err != nil {
			return err
		}
	}
	return nil
}

func (e *expandOp) ProcessWatermark(wm int64) error {
	e.ctx.Metrics.CurrentWatermark = wm
	return e.out.ProcessWatermark(wm)
}

func (e *expandOp) ProcessWatermarkStatus(idle bool) error {
	return e.out.ProcessWatermarkStatus(idle)
}

func (e *expandOp) Finish() error { return nil }
func (e *expandOp) Close() error  { return nil }
