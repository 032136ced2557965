package exec

import (
	"encoding/binary"
	"slices"

	"github.com/weirstream/weir/row"
)

// arrayAggAcc is ARRAY_AGG (Flink's ArrayAggFunction, flink-table-runtime
// .../functions/aggregate/ArrayAggFunction.java): list holds the values in
// arrival order, NULLs included unless the call has IGNORE NULLS (the call
// then skips them before they get here). A retraction removes the first
// equal value from list; a retraction of a value list does not hold is
// kept in retracts, which only merge settles against the merged list, as
// Flink's retractList. The result is NULL when list is empty, never an
// empty array.
type arrayAggAcc struct {
	t        row.Type // the element type, nullable
	list     []row.Value
	retracts []row.Value
}

func (a *arrayAggAcc) accumulate(args []row.Value) { a.list = append(a.list, args[0]) }

func (a *arrayAggAcc) retract(args []row.Value) {
	if i := a.index(a.list, args[0]); i >= 0 {
		a.list = slices.Delete(a.list, i, i+1)
		return
	}
	a.retracts = append(a.retracts, args[0])
}

func (a *arrayAggAcc) index(s []row.Value, v row.Value) int {
	for i, x := range s {
		if row.Compare(x, v, a.t) == 0 {
			return i
		}
	}
	return -1
}

func (a *arrayAggAcc) merge(o accumulator) {
	b := o.(*arrayAggAcc)
	a.list = append(a.list, b.list...)
	a.retracts = append(a.retracts, b.retracts...)
	pending := a.retracts[:0]
	for _, v := range a.retracts {
		if i := a.index(a.list, v); i >= 0 {
			a.list = slices.Delete(a.list, i, i+1)
		} else {
			pending = append(pending, v)
		}
	}
	clear(a.retracts[len(pending):])
	a.retracts = pending
}

func (a *arrayAggAcc) value() row.Value {
	if len(a.list) == 0 {
		return row.Null()
	}
	return row.Array(slices.Clone(a.list))
}

func (a *arrayAggAcc) reset() {
	clear(a.list)
	clear(a.retracts)
	a.list, a.retracts = a.list[:0], a.retracts[:0]
}

// appendTo encodes the list then the pending retractions, each as a
// count and the values (a NULL flag byte before each).
func (a *arrayAggAcc) appendTo(dst []byte) []byte {
	for _, s := range [][]row.Value{a.list, a.retracts} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		for _, v := range s {
			dst = appendNullable(dst, v, a.t)
		}
	}
	return dst
}

func (a *arrayAggAcc) decode(src []byte) (int, error) {
	a.reset()
	off := 0
	for _, s := range []*[]row.Value{&a.list, &a.retracts} {
		n, err := readUvarint(src, &off, "array_agg size")
		if err != nil {
			return 0, err
		}
		if n > uint64(len(src)-off) {
			return 0, corrupt("array_agg size")
		}
		for range n {
			v, err := readNullable(src, &off, a.t)
			if err != nil {
				return 0, err
			}
			*s = append(*s, v)
		}
	}
	return off, nil
}
