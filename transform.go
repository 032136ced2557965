package weir

import (
	"fmt"

	"github.com/weirstream/weir/operator"
)

// Transform adds an operator of your own, built on the operator contract
// (package operator), as Flink's DataStream#transform does. newOp is
// called once per subtask with the output the operator writes to; it
// returns the operator, which then sees every record, watermark and
// idleness change of s, and the task's lifecycle calls. The operator must
// forward watermarks and status to out (after firing what they make
// due), as the built-in operators do. An operator implementing
// operator.Snapshotter takes part in checkpoints; it finds its state in
// the Context given to Open on a restore. Give it a UID when its state
// must survive a change of the job.
//
// newOp returning nil fails the job when it is built, naming the
// operator.
func Transform[I, O any](s Stream[I], name string, newOp func(out operator.Output[O]) operator.OneInput[I]) Stream[O] {
	return oneInput(s, name, func(out *outputs[O]) operator.OneInput[I] {
		op := newOp(transformOutput[O]{out})
		if op == nil {
			return &failingOp[I]{name: name}
		}
		return op
	})
}

// TransformTwo adds a two-input operator of your own (see Transform):
// records of s1 arrive at ProcessElement1, those of s2 at
// ProcessElement2, and the task gives it the minimum of the two inputs'
// watermarks. The operator is never chained to its inputs.
func TransformTwo[A, B, O any](s1 Stream[A], s2 Stream[B], name string, newOp func(out operator.Output[O]) operator.TwoInput[A, B]) Stream[O] {
	return twoInput(s1, s2, name, func(out *outputs[O]) (operator.TwoInput[A, B], error) {
		op := newOp(transformOutput[O]{out})
		if op == nil {
			return nil, fmt.Errorf("weir: TransformTwo %q: the operator factory returned nil", name)
		}
		return op, nil
	})
}

// transformOutput is the Output a transform's operator writes to: records
// go to the main output, watermarks and status to the main output and
// every side output that reads this operator.
type transformOutput[O any] struct{ o *outputs[O] }

func (t transformOutput[O]) ProcessElement(v O, ts int64) error {
	return t.o.main.ProcessElement(v, ts)
}

// ProcessBatch hands a run of records to the main output's batch path.
func (t transformOutput[O]) ProcessBatch(recs []operator.Rec[O]) (int, error) {
	return t.o.mainBatch().ProcessBatch(recs)
}
func (t transformOutput[O]) ProcessWatermark(wm int64) error { return t.o.ProcessWatermark(wm) }
func (t transformOutput[O]) ProcessWatermarkStatus(idle bool) error {
	return t.o.ProcessWatermarkStatus(idle)
}

// failingOp stands for an operator whose factory returned nil: it fails
// Open, so the job stops with an error that names the operator.
type failingOp[I any] struct {
	baseOp
	name string
}

func (f *failingOp[I]) Open(*operator.Context) error {
	return fmt.Errorf("weir: Transform %q: the operator factory returned nil", f.name)
}
func (*failingOp[I]) ProcessElement(I, int64) error     { return nil }
func (*failingOp[I]) ProcessWatermark(int64) error      { return nil }
func (*failingOp[I]) ProcessWatermarkStatus(bool) error { return nil }
