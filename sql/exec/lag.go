package exec

import (
	"encoding/binary"

	"github.com/weirstream/weir/row"
)

// lagAcc is LAG(x [, offset [, default]]) in a streaming OVER window
// (Flink's LagAggFunction): it keeps the last offset+1 values of x, NULLs
// included, in arrival order; its value is the oldest of them once it
// holds offset+1, else the default (NULL without one). It takes no
// retractions: the planner allows LAG only over the default frame (RANGE
// BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), as Flink does.
type lagAcc struct {
	t      row.Type
	offset int64
	def    row.Value
	buf    []row.Value
}

func (a *lagAcc) accumulate(args []row.Value) {
	a.offset = 1
	if len(args) > 1 && !args[1].IsNull() {
		a.offset = max(args[1].Int(), 0)
	}
	a.def = row.Null()
	if len(args) > 2 {
		a.def = args[2]
	}
	a.buf = append(a.buf, args[0])
	if n := int64(len(a.buf)) - (a.offset + 1); n > 0 {
		a.buf = append(a.buf[:0], a.buf[n:]...)
	}
}

// retract is never called (see the type's comment).
func (a *lagAcc) retract([]row.Value) {}

// merge is never called: LAG is not mergeable.
func (a *lagAcc) merge(accumulator) {}

func (a *lagAcc) value() row.Value {
	if int64(len(a.buf)) < a.offset+1 {
		return a.def
	}
	return a.buf[0]
}

func (a *lagAcc) reset() {
	a.offset, a.def, a.buf = 1, row.Null(), a.buf[:0]
}

func (a *lagAcc) appendTo(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(a.offset))
	dst = appendNullable(dst, a.def, a.t)
	dst = binary.AppendUvarint(dst, uint64(len(a.buf)))
	for _, v := range a.buf {
		dst = appendNullable(dst, v, a.t)
	}
	return dst
}

func (a *lagAcc) decode(src []byte) (int, error) {
	a.reset()
	off := 0
	o, err := readUvarint(src, &off, "LAG offset")
	if err != nil {
		return 0, err
	}
	a.offset = int64(o)
	if a.def, err = readNullable(src, &off, a.t); err != nil {
		return 0, err
	}
	n, err := readUvarint(src, &off, "LAG buffer size")
	if err != nil {
		return 0, err
	}
	if n > uint64(len(src)) {
		return 0, corrupt("LAG buffer size")
	}
	for range n {
		v, err := readNullable(src, &off, a.t)
		if err != nil {
			return 0, err
		}
		a.buf = append(a.buf, v)
	}
	return off, nil
}
