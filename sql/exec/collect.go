package exec

import (
	"encoding/binary"
	"slices"

	"github.com/weirstream/weir/row"
)

// collectAcc is COLLECT (Flink's CollectAggFunction, flink-table-planner
// .../functions/aggfunctions/CollectAggFunction.java): a count per
// distinct non-NULL value (NULLs are skipped before they get here), kept
// in the order the values first arrived (the result lists them in
// ascending order). A retraction counts its value
// down and removes it at zero; a retraction of a value the accumulator
// does not hold records it with count -1, and merge adds counts without
// removing any, as Flink's does: such counts (negative, or 0 after a
// merge) show in the result as Flink's do. The result is a MULTISET (a
// map of the values to their counts), empty rather than NULL when there
// are no values.
type collectAcc struct {
	t      row.Type // the element type
	vals   []row.Value
	counts []int64
	idx    map[string]int // the encoded value -> its position in vals
	key    []byte
}

// pos returns the position of v in vals, or -1.
func (a *collectAcc) pos(v row.Value) int {
	a.key = row.AppendValue(a.key[:0], v, a.t)
	if i, ok := a.idx[string(a.key)]; ok {
		return i
	}
	return -1
}

// add adds d to the count of v; a new value is appended (a.key must hold
// v's encoding, as pos left it).
func (a *collectAcc) add(v row.Value, i int, d int64) {
	if i >= 0 {
		a.counts[i] += d
		return
	}
	if a.idx == nil {
		a.idx = map[string]int{}
	}
	a.idx[string(a.key)] = len(a.vals)
	a.vals = append(a.vals, v)
	a.counts = append(a.counts, d)
}

func (a *collectAcc) accumulate(args []row.Value) {
	v := args[0]
	a.add(v, a.pos(v), 1)
}

func (a *collectAcc) retract(args []row.Value) {
	v := args[0]
	i := a.pos(v)
	if i >= 0 && a.counts[i] == 1 {
		a.remove(i)
		return
	}
	a.add(v, i, -1)
}

// remove drops the value at position i, keeping the others' order.
func (a *collectAcc) remove(i int) {
	delete(a.idx, string(a.key))
	copy(a.vals[i:], a.vals[i+1:])
	copy(a.counts[i:], a.counts[i+1:])
	a.vals[len(a.vals)-1] = row.Value{}
	a.vals, a.counts = a.vals[:len(a.vals)-1], a.counts[:len(a.counts)-1]
	for j := i; j < len(a.vals); j++ {
		a.key = row.AppendValue(a.key[:0], a.vals[j], a.t)
		a.idx[string(a.key)] = j
	}
}

// merge adds o's counts into the receiver's (Flink's merge: a count that
// sums to 0 stays).
func (a *collectAcc) merge(o accumulator) {
	b := o.(*collectAcc)
	for j, v := range b.vals {
		a.add(v, a.pos(v), b.counts[j])
	}
}

// value returns the multiset with its elements in ascending order
// (row.Compare), not in the order they arrived: a multiset has no order,
// and two with the same elements and counts must be one value wherever
// Weir compares encodings or entries (GROUP BY, DISTINCT, a join key, a
// multiset of multisets, retractions matched downstream). For small
// integers this is also the order Flink's HashMap-backed result prints.
func (a *collectAcc) value() row.Value {
	order := make([]int, len(a.vals))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return row.Compare(a.vals[i], a.vals[j], a.t) })
	keys := make([]row.Value, len(a.vals))
	counts := make([]row.Value, len(a.vals))
	for k, i := range order {
		keys[k] = a.vals[i]
		counts[k] = row.Int(int64(int32(a.counts[i]))) // Flink's Integer count
	}
	return row.Map(keys, counts)
}

func (a *collectAcc) reset() {
	clear(a.vals)
	clear(a.idx)
	a.vals, a.counts = a.vals[:0], a.counts[:0]
}

// appendTo encodes the number of values, then each value (never NULL)
// with its count.
func (a *collectAcc) appendTo(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(a.vals)))
	for i, v := range a.vals {
		dst = row.AppendValue(dst, v, a.t)
		dst = binary.AppendVarint(dst, a.counts[i])
	}
	return dst
}

func (a *collectAcc) decode(src []byte) (int, error) {
	a.reset()
	off := 0
	n, err := readUvarint(src, &off, "collect size")
	if err != nil {
		return 0, err
	}
	if n > uint64(len(src)-off) {
		return 0, corrupt("collect size")
	}
	for range n {
		v, m, err := row.DecodeValue(src[off:], a.t)
		if err != nil {
			return 0, err
		}
		off += m
		c, err := readVarint(src, &off, "collect count")
		if err != nil {
			return 0, err
		}
		i := a.pos(v)
		if i >= 0 {
			return 0, corrupt("collect value repeated")
		}
		a.add(v, i, c)
	}
	return off, nil
}
