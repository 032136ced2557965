package sql

import (
	"fmt"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/operator"
	"github.com/weirstream/weir/row"
)

// rowtimeNullChecked fails the job on a row of s whose column col (the
// rowtime) is NULL, with check's error.
func rowtimeNullChecked(s weir.Stream[row.Row], col int, check *rowtimeCheck) weir.Stream[row.Row] {
	return weir.Transform(s, "Map", func(out operator.Output[row.Row]) operator.OneInput[row.Row] {
		return newRowtimeNullOp(col, check, out)
	})
}

// rowtimeNullOp fails the job on a row whose rowtime column is NULL (see
// translator.checkRowtime). Rows go down as they came: a run is handed
// down as it arrived, without copying it (a Map would copy every record
// into a run of its own).
type rowtimeNullOp struct {
	col   int
	check *rowtimeCheck
	ctx   *operator.Context
	out   operator.Output[row.Row]
	batch operator.BatchOutput[row.Row]
}

func newRowtimeNullOp(col int, check *rowtimeCheck, out operator.Output[row.Row]) *rowtimeNullOp {
	op := &rowtimeNullOp{col: col, check: check, out: out}
	op.batch, _ = out.(operator.BatchOutput[row.Row])
	return op
}

func (o *rowtimeNullOp) Open(ctx *operator.Context) error { o.ctx = ctx; return nil }
func (o *rowtimeNullOp) Finish() error                    { return nil }
func (o *rowtimeNullOp) Close() error                     { return nil }

func (o *rowtimeNullOp) fail(r row.Row) error {
	return fmt.Errorf("operator %q: %w", o.ctx.Name, o.check.err(r))
}

func (o *rowtimeNullOp) ProcessElement(r row.Row, ts int64) error {
	if o.col < len(r.Fields) && r.Fields[o.col].IsNull() {
		return o.fail(r)
	}
	return o.out.ProcessElement(r, ts)
}

// ProcessBatch hands recs down in one call; if a row's rowtime is NULL,
// the rows before it go down first, as they would have one by one.
func (o *rowtimeNullOp) ProcessBatch(recs []operator.Rec[row.Row]) (int, error) {
	if o.batch == nil {
		for i := range recs {
			if err := o.ProcessElement(recs[i].V, recs[i].TS); err != nil {
				return i + 1, err
			}
		}
		return len(recs), nil
	}
	for i := range recs {
		if f := recs[i].V.Fields; o.col < len(f) && f[o.col].IsNull() {
			if i > 0 {
				if n, err := o.batch.ProcessBatch(recs[:i]); err != nil {
					return n, err
				}
			}
			return i + 1, o.fail(recs[i].V)
		}
	}
	return o.batch.ProcessBatch(recs)
}

func (o *rowtimeNullOp) ProcessWatermark(wm int64) error {
	o.ctx.Metrics.CurrentWatermark = wm
	return o.out.ProcessWatermark(wm)
}

func (o *rowtimeNullOp) ProcessWatermarkStatus(idle bool) error {
	return o.out.ProcessWatermarkStatus(idle)
}
