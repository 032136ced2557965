package exec

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/weirstream/weir/row"
)

// percentileAcc is PERCENTILE(x, percentage [, frequency]) as Flink's
// PercentileAggFunction (Flink 2.0, flink-table-runtime
// .../functions/aggregate/PercentileAggFunction.java): a count per
// distinct value of x (as a DOUBLE; accumulating adds the row's frequency,
// retracting subtracts it, a count of 0 drops the value) and the
// percentages, taken from the first accumulated row (a percentage outside
// [0.0, 1.0] fails the job there). A NULL x, and with a frequency a NULL
// or non-positive one, leaves the counts alone. The result interpolates
// linearly between the two values nearest to position p*(n-1)+1 of the n
// values in order; NULL when no percentage was taken, the total count is
// not positive, or (for an ARRAY of percentages) the array is empty.
type percentileAcc struct {
	x, p    row.Type // the types of x and the percentage argument
	multi   bool     // the percentage is an ARRAY
	hasFreq bool
	set     bool // pcts was taken
	pcts    []float64
	counts  map[uint64]int64 // by javaDoubleBits of the value
	err     error
	sorted  []percentileEntry
}

type percentileEntry struct {
	v float64
	n int64
}

func newPercentileAcc(argTypes []row.Type) *percentileAcc {
	return &percentileAcc{x: argTypes[0], p: argTypes[1], multi: argTypes[1].Root == row.TypeArray,
		hasFreq: len(argTypes) == 3, counts: map[uint64]int64{}}
}

// javaDoubleBits is Java's Double.doubleToLongBits: the bits, every NaN
// made the canonical one (Java's Double keys: 0.0 and -0.0 differ, NaNs
// are equal).
func javaDoubleBits(f float64) uint64 {
	if math.IsNaN(f) {
		return 0x7ff8000000000000
	}
	return math.Float64bits(f)
}

// javaDoubleCompare is Java's Double.compare: numeric order, -0.0 before
// 0.0, NaN last.
func javaDoubleCompare(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return cmp.Compare(int64(javaDoubleBits(a)), int64(javaDoubleBits(b)))
}

// toDouble converts a numeric value of type t to a DOUBLE (Number
// .doubleValue; a DECIMAL rounds to the nearest DOUBLE).
func toDouble(v row.Value, t row.Type) float64 {
	switch {
	case t.Root == row.TypeFloat || t.Root == row.TypeDouble:
		return v.Float()
	case t.Root == row.TypeDecimal:
		f, _ := row.DecimalRat(v, t).Float64()
		return f
	}
	return float64(v.Int())
}

func (a *percentileAcc) takeErr() error {
	err := a.err
	a.err = nil
	return err
}

// setPercentages takes the percentages of the first accumulated row.
func (a *percentileAcc) setPercentages(p row.Value) {
	var ps []float64
	if a.multi {
		for _, e := range p.Elems() {
			ps = append(ps, toDouble(e, *a.p.Elem))
		}
	} else {
		ps = []float64{toDouble(p, a.p)}
	}
	for _, x := range ps {
		if x < 0 || x > 1 {
			if a.err == nil {
				a.err = fmt.Errorf("sql/exec: Percentage of PERCENTILE should be between [0.0, 1.0], but was '%s'.", row.JavaFloatString(x, 64))
			}
			return
		}
	}
	if ps == nil {
		ps = []float64{}
	}
	a.pcts, a.set = ps, true
}

// frequency returns the row's frequency (1 without the argument), or
// false for a row that does not count.
func (a *percentileAcc) frequency(args []row.Value) (int64, bool) {
	if args[0].IsNull() {
		return 0, false
	}
	if !a.hasFreq {
		return 1, true
	}
	if args[2].IsNull() || args[2].Int() <= 0 {
		return 0, false
	}
	return args[2].Int(), true
}

func (a *percentileAcc) add(bits uint64, n int64) {
	if c := a.counts[bits] + n; c != 0 {
		a.counts[bits] = c
	} else {
		delete(a.counts, bits)
	}
}

func (a *percentileAcc) accumulate(args []row.Value) {
	if !a.set && !args[1].IsNull() {
		a.setPercentages(args[1])
	}
	if n, ok := a.frequency(args); ok {
		a.add(javaDoubleBits(toDouble(args[0], a.x)), n)
	}
}

func (a *percentileAcc) retract(args []row.Value) {
	if n, ok := a.frequency(args); ok {
		a.add(javaDoubleBits(toDouble(args[0], a.x)), -n)
	}
}

func (a *percentileAcc) merge(o accumulator) {
	b := o.(*percentileAcc)
	if !a.set && b.set {
		a.pcts, a.set = slices.Clone(b.pcts), true
	}
	for k, n := range b.counts {
		a.add(k, n)
	}
	if err := b.takeErr(); err != nil && a.err == nil {
		a.err = err
	}
}

func (a *percentileAcc) value() row.Value {
	if !a.set || (a.multi && len(a.pcts) == 0) {
		return row.Null()
	}
	res := a.percentiles()
	if res == nil {
		return row.Null()
	}
	if !a.multi {
		return row.Float(res[0])
	}
	out := make([]row.Value, len(res))
	for i, x := range res {
		out[i] = row.Float(x)
	}
	return row.Array(out)
}

// percentiles computes every percentage's percentile in one pass over
// the values in order, or returns nil when the total count is not
// positive.
func (a *percentileAcc) percentiles() []float64 {
	es := a.sorted[:0]
	var total int64
	for k, n := range a.counts {
		es = append(es, percentileEntry{math.Float64frombits(k), n})
		total += n
	}
	a.sorted = es
	if total <= 0 || len(es) == 0 {
		return nil
	}
	slices.SortFunc(es, func(x, y percentileEntry) int { return javaDoubleCompare(x.v, y.v) })
	type pos struct {
		at float64
		i  int
	}
	ps := make([]pos, len(a.pcts))
	for i, p := range a.pcts {
		ps[i] = pos{p*float64(total-1) + 1, i}
	}
	slices.SortStableFunc(ps, func(x, y pos) int { return cmp.Compare(x.at, y.at) })
	out := make([]float64, len(a.pcts))
	pre, j := es[0].n, 0
	for _, p := range ps {
		lower, higher := math.Floor(p.at), math.Ceil(p.at)
		// Counts retracted below zero can leave fewer values than the
		// positions need: stop at the last (Flink would fail there).
		for float64(pre) < lower && j+1 < len(es) {
			j++
			pre += es[j].n
		}
		if float64(pre) >= higher || j+1 >= len(es) {
			out[p.i] = es[j].v
		} else {
			out[p.i] = (higher-p.at)*es[j].v + (p.at-lower)*es[j+1].v
		}
	}
	return out
}

func (a *percentileAcc) reset() {
	a.set, a.pcts = false, nil
	clear(a.counts)
}

// appendTo encodes whether the percentages were taken, then their count
// and bits, then the count of values and each value's bits and count,
// in the order of the bits.
func (a *percentileAcc) appendTo(dst []byte) []byte {
	if !a.set {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1)
		dst = binary.AppendUvarint(dst, uint64(len(a.pcts)))
		for _, p := range a.pcts {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(p))
		}
	}
	keys := make([]uint64, 0, len(a.counts))
	for k := range a.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		dst = binary.LittleEndian.AppendUint64(dst, k)
		dst = binary.AppendVarint(dst, a.counts[k])
	}
	return dst
}

func (a *percentileAcc) decode(src []byte) (int, error) {
	a.reset()
	if len(src) == 0 || src[0] > 1 {
		return 0, corrupt("percentile flag")
	}
	off := 1
	if src[0] == 1 {
		n, err := readUvarint(src, &off, "percentile percentages")
		if err != nil {
			return 0, err
		}
		if n > uint64(len(src)-off)/8 || (!a.multi && n != 1) {
			return 0, corrupt("percentile percentages")
		}
		a.pcts = make([]float64, n)
		for i := range a.pcts {
			a.pcts[i] = math.Float64frombits(binary.LittleEndian.Uint64(src[off:]))
			off += 8
		}
		a.set = true
	}
	n, err := readUvarint(src, &off, "percentile size")
	if err != nil {
		return 0, err
	}
	if n > uint64(len(src)-off)/9 {
		return 0, corrupt("percentile size")
	}
	var prev uint64
	for i := range n {
		if len(src)-off < 8 {
			return 0, corrupt("percentile value")
		}
		k := binary.LittleEndian.Uint64(src[off:])
		off += 8
		c, err := readVarint(src, &off, "percentile count")
		if err != nil {
			return 0, err
		}
		if c == 0 || (i > 0 && k <= prev) {
			return 0, corrupt("percentile value order")
		}
		prev = k
		a.counts[k] = c
	}
	return off, nil
}
