package exec

import (
	"encoding/binary"
	"errors"

	"github.com/weirstream/weir/row"
)

// ErrSingleValue is the error of SINGLE_VALUE given a second row (a
// scalar subquery that returned more than one row), worded as Flink's
// SingleValueAggFunction words it.
var ErrSingleValue = errors.New("SingleValueAggFunction received more than one element.")

// failer is implemented by the accumulators that can refuse a row
// (user-defined functions, SINGLE_VALUE). The accumulator interface has
// no error results: such an accumulator keeps its first error, and the
// operators take it with aggSet.failed after each row (or batch) and
// fail the job with it.
type failer interface {
	// takeErr returns and clears the first error since the last call.
	takeErr() error
}

// singleValueAcc is SINGLE_VALUE(x), which Calcite's SubQueryRemoveRule
// puts over a scalar subquery whose plan does not prove one row: the
// value of the group's one row, NULL for no row, an error for a second.
// As Flink's SingleValueAggFunction it keeps a count of the rows
// (accumulated minus retracted, NULL values included): a row accumulated
// while the count is positive fails; a row retracted when the count is 0
// or 1 leaves NULL, else (two or more rows: already failed) fails too.
type singleValueAcc struct {
	t     row.Type
	v     row.Value
	count int64
	err   error
}

func (a *singleValueAcc) fail() {
	if a.err == nil {
		a.err = ErrSingleValue
	}
}

func (a *singleValueAcc) accumulate(args []row.Value) {
	if a.count > 0 {
		a.fail()
	} else {
		a.v = args[0]
	}
	a.count++
}

func (a *singleValueAcc) retract([]row.Value) {
	if a.count == 0 || a.count == 1 {
		a.v = row.Value{}
	} else {
		a.fail()
	}
	a.count--
}

// merge follows Flink's mergeExpressions: more than one row in all
// fails; none in all (counts that cancel out) keeps the other's value
// unless the receiver had rows the other retracted. One row in all keeps
// that row's value: Flink takes the other's value there too, which loses
// the row when the other accumulated nothing net (a local batch that
// inserted and retracted a row merged into a global accumulator holding
// one); Weir keeps the receiver's value when it holds the row.
func (a *singleValueAcc) merge(o accumulator) {
	b := o.(*singleValueAcc)
	n := a.count + b.count
	switch {
	case n > 1:
		a.fail()
	case n == 1 && a.count == 1:
		// The row is the receiver's.
	case n == 0 && !(a.count == 0 || b.count > 0):
		a.v = row.Value{}
	default:
		a.v = b.v
	}
	a.count = n
}

func (a *singleValueAcc) value() row.Value { return a.v }

func (a *singleValueAcc) reset() {
	a.v, a.count = row.Value{}, 0
}

func (a *singleValueAcc) takeErr() error {
	err := a.err
	a.err = nil
	return err
}

func (a *singleValueAcc) appendTo(dst []byte) []byte {
	dst = binary.AppendVarint(dst, a.count)
	return appendNullable(dst, a.v, a.t)
}

func (a *singleValueAcc) decode(src []byte) (int, error) {
	off := 0
	var err error
	if a.count, err = readVarint(src, &off, "single value count"); err != nil {
		return 0, err
	}
	a.v, err = readNullable(src, &off, a.t)
	return off, err
}

// canFail reports whether a call's accumulator can refuse a row (a
// failer: user-defined, SINGLE_VALUE).
func (s *aggSet) canFail() bool {
	for _, k := range s.calls {
		acc := k.acc
		if d, ok := acc.(*distinctAcc); ok {
			acc = d.inner
		}
		if _, ok := acc.(failer); ok {
			return true
		}
	}
	return false
}
