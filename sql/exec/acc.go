package exec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
)

// accumulator is the state of one aggregate function over one group (or
// one window of a group). Arguments reach it already filtered (FILTER),
// de-duplicated (DISTINCT) and with NULLs skipped as the function skips
// them. An accumulator is reused: reset empties it, decode loads one from
// its encoding.
type accumulator interface {
	accumulate(args []row.Value)
	retract(args []row.Value)
	// merge adds o (an accumulator of the same call) into the receiver;
	// the receiver holds the earlier rows.
	merge(o accumulator)
	value() row.Value
	reset()
	appendTo(dst []byte) []byte
	decode(src []byte) (int, error)
}

func corrupt(what string) error {
	return fmt.Errorf("%w: sql/exec: accumulator %s", codec.ErrCorrupt, what)
}

func readUvarint(src []byte, off *int, what string) (uint64, error) {
	v, n := binary.Uvarint(src[*off:])
	if n <= 0 {
		return 0, corrupt(what)
	}
	*off += n
	return v, nil
}

func readVarint(src []byte, off *int, what string) (int64, error) {
	v, n := binary.Varint(src[*off:])
	if n <= 0 {
		return 0, corrupt(what)
	}
	*off += n
	return v, nil
}

// appendNullable encodes a value that may be NULL: a flag byte, then the
// value.
func appendNullable(dst []byte, v row.Value, t row.Type) []byte {
	if v.IsNull() {
		return append(dst, 0)
	}
	return row.AppendValue(append(dst, 1), v, t)
}

func readNullable(src []byte, off *int, t row.Type) (row.Value, error) {
	if *off >= len(src) || src[*off] > 1 {
		return row.Value{}, corrupt("value flag")
	}
	*off++
	if src[*off-1] == 0 {
		return row.Value{}, nil
	}
	v, n, err := row.DecodeValue(src[*off:], t)
	if err != nil {
		return row.Value{}, err
	}
	*off += n
	return v, nil
}

func appendBig(dst []byte, b *big.Int) []byte {
	sign := byte(0)
	if b.Sign() < 0 {
		sign = 1
	}
	dst = append(dst, sign)
	abs := b.Bytes() // absolute value
	dst = binary.AppendUvarint(dst, uint64(len(abs)))
	return append(dst, abs...)
}

func readBig(src []byte, off *int, into *big.Int) error {
	if *off >= len(src) || src[*off] > 1 {
		return corrupt("decimal sign")
	}
	neg := src[*off] == 1
	*off++
	l, err := readUvarint(src, off, "decimal length")
	if err != nil {
		return err
	}
	if l > uint64(len(src)-*off) {
		return corrupt("decimal bytes")
	}
	into.SetBytes(src[*off : *off+int(l)])
	if neg {
		into.Neg(into)
	}
	*off += int(l)
	return nil
}

// wrapInt narrows an integer sum to the width of its type, as Java's
// arithmetic on byte, short, int and long does (Flink's Sum functions
// overflow silently).
func wrapInt(x int64, r row.Root) int64 {
	switch r {
	case row.TypeTinyInt:
		return int64(int8(x))
	case row.TypeSmallInt:
		return int64(int16(x))
	case row.TypeInt:
		return int64(int32(x))
	}
	return x
}

// numKind says how a numeric accumulator keeps its sum.
type numKind uint8

const (
	numInt numKind = iota
	numFloat
	numDecimal
)

func numKindOf(t row.Type) numKind {
	switch {
	case t.Root == row.TypeDecimal:
		return numDecimal
	case t.Root == row.TypeFloat || t.Root == row.TypeDouble:
		return numFloat
	}
	return numInt
}

// countAcc is COUNT(*) and COUNT(x): a count that retraction decrements.
type countAcc struct{ n int64 }

func (a *countAcc) accumulate([]row.Value) { a.n++ }
func (a *countAcc) retract([]row.Value)    { a.n-- }
func (a *countAcc) merge(o accumulator)    { a.n += o.(*countAcc).n }
func (a *countAcc) value() row.Value       { return row.Int(a.n) }
func (a *countAcc) reset()                 { a.n = 0 }
func (a *countAcc) appendTo(dst []byte) []byte {
	return binary.AppendVarint(dst, a.n)
}
func (a *countAcc) decode(src []byte) (int, error) {
	off := 0
	n, err := readVarint(src, &off, "count")
	a.n = n
	return off, err
}

// sumAcc is SUM and $SUM0 (Flink's SumWithRetractAggFunction): the sum and
// the number of non-NULL inputs, so that SUM is NULL again once every
// input was retracted.
type sumAcc struct {
	arg, res row.Type
	kind     numKind
	zero     bool // $SUM0
	n        int64
	i        int64
	f        float64
	d        big.Int
	tmp      big.Int
}

func (a *sumAcc) unscaled(v row.Value) *big.Int {
	if a.arg.IsCompactDecimal() {
		return a.tmp.SetInt64(v.Int())
	}
	return row.DecimalUnscaled(v, a.arg)
}

func (a *sumAcc) add(v row.Value, sign int64) {
	a.n += sign
	switch a.kind {
	case numInt:
		a.i = wrapInt(a.i+sign*v.Int(), a.res.Root)
	case numFloat:
		a.f = roundFloat(a.f+float64(sign)*v.Float(), a.res.Root)
	case numDecimal:
		if sign > 0 {
			a.d.Add(&a.d, a.unscaled(v))
		} else {
			a.d.Sub(&a.d, a.unscaled(v))
		}
	}
}

func roundFloat(f float64, r row.Root) float64 {
	if r == row.TypeFloat {
		return float64(float32(f))
	}
	return f
}

func (a *sumAcc) accumulate(args []row.Value) { a.add(args[0], 1) }
func (a *sumAcc) retract(args []row.Value)    { a.add(args[0], -1) }
func (a *sumAcc) merge(o accumulator) {
	b := o.(*sumAcc)
	a.n += b.n
	a.i = wrapInt(a.i+b.i, a.res.Root)
	a.f = roundFloat(a.f+b.f, a.res.Root)
	a.d.Add(&a.d, &b.d)
}

func (a *sumAcc) value() row.Value {
	if a.n == 0 && !a.zero {
		return row.Null()
	}
	switch a.kind {
	case numInt:
		return row.Int(a.i)
	case numFloat:
		return row.Float(a.f)
	}
	v, ok := row.DecimalFromUnscaled(&a.d, a.res)
	if !ok {
		return row.Null() // beyond DECIMAL(38, s): NULL, as Flink's DecimalData
	}
	return v
}

func (a *sumAcc) reset() { a.n, a.i, a.f = 0, 0, 0; a.d.SetInt64(0) }

func (a *sumAcc) appendTo(dst []byte) []byte {
	dst = binary.AppendVarint(dst, a.n)
	switch a.kind {
	case numInt:
		return binary.AppendVarint(dst, a.i)
	case numFloat:
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.f))
	}
	return appendBig(dst, &a.d)
}

func (a *sumAcc) decode(src []byte) (int, error) {
	a.reset()
	off := 0
	var err error
	if a.n, err = readVarint(src, &off, "sum count"); err != nil {
		return 0, err
	}
	switch a.kind {
	case numInt:
		a.i, err = readVarint(src, &off, "sum")
	case numFloat:
		if len(src)-off < 8 {
			return 0, corrupt("sum")
		}
		a.f = math.Float64frombits(binary.LittleEndian.Uint64(src[off:]))
		off += 8
	case numDecimal:
		err = readBig(src, &off, &a.d)
	}
	return off, err
}

// avgAcc is AVG (Flink's AvgAggFunction): a sum (BIGINT for integer
// arguments, DOUBLE for approximate ones, exact for DECIMAL) and a count.
type avgAcc struct {
	sumAcc
	avgRes row.Type
}

func (a *avgAcc) value() row.Value {
	if a.n == 0 {
		return row.Null()
	}
	switch a.kind {
	case numInt:
		return row.Int(wrapInt(a.i/a.n, a.avgRes.Root)) // Java's truncating division
	case numFloat:
		return row.Float(roundFloat(a.f/float64(a.n), a.avgRes.Root))
	}
	r := new(big.Rat).SetFrac(&a.d, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(a.arg.Scale)), nil))
	r.Quo(r, new(big.Rat).SetInt64(a.n))
	v, ok := row.DecimalFromRat(r, a.avgRes)
	if !ok {
		return row.Null()
	}
	return v
}

func (a *avgAcc) merge(o accumulator) { a.sumAcc.merge(&o.(*avgAcc).sumAcc) }

// minMaxAcc is MIN and MAX. Append-only, it keeps the extreme; with
// retraction (Flink's Min/MaxWithRetractAggFunction) a multiset of the
// values with their counts, from which a retracted extreme is replaced.
type minMaxAcc struct {
	t          row.Type
	max        bool
	retracting bool
	ext        row.Value
	// entries by encoded value (retracting only); counts may go negative
	// when a retraction comes before its accumulation, as in Flink.
	entries map[string]*countedValue
	key     []byte
}

type countedValue struct {
	v row.Value
	n int64
}

func (a *minMaxAcc) better(v, than row.Value) bool {
	if than.IsNull() {
		return true
	}
	c := row.Compare(v, than, a.t)
	if a.max {
		return c > 0
	}
	return c < 0
}

func (a *minMaxAcc) accumulate(args []row.Value) {
	v := args[0]
	if !a.retracting {
		if a.better(v, a.ext) {
			a.ext = v
		}
		return
	}
	a.key = row.AppendValue(a.key[:0], v, a.t)
	e := a.entries[string(a.key)]
	if e == nil {
		e = &countedValue{v: v}
		a.entries[string(a.key)] = e
	}
	e.n++
	if e.n == 0 {
		delete(a.entries, string(a.key))
	}
	if e.n > 0 && a.better(v, a.ext) {
		a.ext = e.v
	}
}

func (a *minMaxAcc) retract(args []row.Value) {
	if !a.retracting {
		return // the planner gives retractions only to retracting accumulators
	}
	v := args[0]
	a.key = row.AppendValue(a.key[:0], v, a.t)
	e := a.entries[string(a.key)]
	if e == nil {
		e = &countedValue{v: v}
		a.entries[string(a.key)] = e
	}
	e.n--
	if e.n == 0 {
		delete(a.entries, string(a.key))
	}
	if e.n <= 0 && !a.ext.IsNull() && row.Equal(v, a.ext, a.t) {
		a.recompute()
	}
}

func (a *minMaxAcc) recompute() {
	a.ext = row.Value{}
	for _, e := range a.entries {
		if e.n > 0 && a.better(e.v, a.ext) {
			a.ext = e.v
		}
	}
}

func (a *minMaxAcc) merge(o accumulator) {
	b := o.(*minMaxAcc)
	if !a.retracting {
		if !b.ext.IsNull() && a.better(b.ext, a.ext) {
			a.ext = b.ext
		}
		return
	}
	for k, e := range b.entries {
		if x := a.entries[k]; x != nil {
			x.n += e.n
			if x.n == 0 {
				delete(a.entries, k)
			}
		} else {
			a.entries[k] = &countedValue{v: e.v, n: e.n}
		}
	}
	a.recompute()
}

func (a *minMaxAcc) value() row.Value { return a.ext }

func (a *minMaxAcc) reset() {
	a.ext = row.Value{}
	if a.retracting {
		if a.entries == nil {
			a.entries = map[string]*countedValue{}
		}
		clear(a.entries)
	}
}

func (a *minMaxAcc) appendTo(dst []byte) []byte {
	if !a.retracting {
		return appendNullable(dst, a.ext, a.t)
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.entries)))
	for _, e := range a.entries {
		dst = row.AppendValue(dst, e.v, a.t)
		dst = binary.AppendVarint(dst, e.n)
	}
	return dst
}

func (a *minMaxAcc) decode(src []byte) (int, error) {
	a.reset()
	off := 0
	if !a.retracting {
		v, err := readNullable(src, &off, a.t)
		a.ext = v
		return off, err
	}
	n, err := readUvarint(src, &off, "multiset size")
	if err != nil {
		return 0, err
	}
	if n > uint64(len(src)) {
		return 0, corrupt("multiset size")
	}
	for range n {
		v, m, err := row.DecodeValue(src[off:], a.t)
		if err != nil {
			return 0, err
		}
		k := string(src[off : off+m])
		off += m
		c, err := readVarint(src, &off, "multiset count")
		if err != nil {
			return 0, err
		}
		a.entries[k] = &countedValue{v: v, n: c}
	}
	a.recompute()
	return off, nil
}

// firstLastAcc is FIRST_VALUE and LAST_VALUE over non-NULL values.
// Append-only it keeps one value; with retraction (Flink's
// First/LastValueWithRetractAggFunction) every value with its arrival
// order, and a retraction removes the earliest occurrence of its value.
type firstLastAcc struct {
	t          row.Type
	last       bool
	retracting bool
	v          row.Value
	entries    []row.Value // in arrival order (retracting only)
}

func (a *firstLastAcc) accumulate(args []row.Value) {
	if a.retracting {
		a.entries = append(a.entries, args[0])
		return
	}
	if a.last || a.v.IsNull() {
		a.v = args[0]
	}
}

func (a *firstLastAcc) retract(args []row.Value) {
	for i, e := range a.entries {
		if row.Equal(e, args[0], a.t) {
			a.entries = append(a.entries[:i], a.entries[i+1:]...)
			return
		}
	}
}

func (a *firstLastAcc) merge(o accumulator) {
	b := o.(*firstLastAcc)
	if a.retracting {
		a.entries = append(a.entries, b.entries...)
		return
	}
	if b.v.IsNull() {
		return
	}
	if a.last || a.v.IsNull() {
		a.v = b.v
	}
}

func (a *firstLastAcc) value() row.Value {
	if !a.retracting {
		return a.v
	}
	if len(a.entries) == 0 {
		return row.Null()
	}
	if a.last {
		return a.entries[len(a.entries)-1]
	}
	return a.entries[0]
}

func (a *firstLastAcc) reset() { a.v = row.Value{}; a.entries = a.entries[:0] }

func (a *firstLastAcc) appendTo(dst []byte) []byte {
	if !a.retracting {
		return appendNullable(dst, a.v, a.t)
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.entries)))
	for _, e := range a.entries {
		dst = row.AppendValue(dst, e, a.t)
	}
	return dst
}

func (a *firstLastAcc) decode(src []byte) (int, error) {
	a.reset()
	off := 0
	if !a.retracting {
		v, err := readNullable(src, &off, a.t)
		a.v = v
		return off, err
	}
	n, err := readUvarint(src, &off, "list size")
	if err != nil {
		return 0, err
	}
	if n > uint64(len(src)) {
		return 0, corrupt("list size")
	}
	for range n {
		v, m, err := row.DecodeValue(src[off:], a.t)
		if err != nil {
			return 0, err
		}
		off += m
		a.entries = append(a.entries, v)
	}
	return off, nil
}

// listAggAcc is LISTAGG (Flink's ListAggWithRetractAggFunction and
// ListAggWsWithRetractAggFunction): the non-NULL values in arrival order
// and the last separator seen; a retraction removes the first occurrence
// of its value.
type listAggAcc struct {
	vals   []string
	sep    string
	hasSep bool
}

func (a *listAggAcc) accumulate(args []row.Value) {
	a.vals = append(a.vals, args[0].Str())
	if len(args) > 1 && !args[1].IsNull() {
		a.sep, a.hasSep = args[1].Str(), true
	}
}

func (a *listAggAcc) retract(args []row.Value) {
	for i, s := range a.vals {
		if s == args[0].Str() {
			a.vals = append(a.vals[:i], a.vals[i+1:]...)
			return
		}
	}
}

func (a *listAggAcc) merge(o accumulator) {
	b := o.(*listAggAcc)
	a.vals = append(a.vals, b.vals...)
	if b.hasSep {
		a.sep, a.hasSep = b.sep, true
	}
}

func (a *listAggAcc) value() row.Value {
	if len(a.vals) == 0 {
		return row.Null()
	}
	sep := ","
	if a.hasSep {
		sep = a.sep
	}
	return row.Str(strings.Join(a.vals, sep))
}

func (a *listAggAcc) reset() { a.vals, a.sep, a.hasSep = a.vals[:0], "", false }

func (a *listAggAcc) appendTo(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(a.vals)))
	for _, s := range a.vals {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	if !a.hasSep {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	dst = binary.AppendUvarint(dst, uint64(len(a.sep)))
	return append(dst, a.sep...)
}

func (a *listAggAcc) decode(src []byte) (int, error) {
	a.reset()
	off := 0
	str := func() (string, error) {
		l, err := readUvarint(src, &off, "string length")
		if err != nil {
			return "", err
		}
		if l > uint64(len(src)-off) {
			return "", corrupt("string")
		}
		s := string(src[off : off+int(l)])
		off += int(l)
		return s, nil
	}
	n, err := readUvarint(src, &off, "list size")
	if err != nil {
		return 0, err
	}
	if n > uint64(len(src)) {
		return 0, corrupt("list size")
	}
	for range n {
		s, err := str()
		if err != nil {
			return 0, err
		}
		a.vals = append(a.vals, s)
	}
	if off >= len(src) || src[off] > 1 {
		return 0, corrupt("separator flag")
	}
	off++
	if src[off-1] == 1 {
		if a.sep, err = str(); err != nil {
			return 0, err
		}
		a.hasSep = true
	}
	return off, nil
}

// distinctView keeps the counts of a DISTINCT call's argument tuples
// outside the accumulator: in keyed map state (Flink's distinct MapView),
// so that a row costs one lookup instead of a decode of the whole set.
type distinctView interface {
	get(key string) (int64, bool)
	put(key string, n int64)
	remove(key string)
}

// distinctAcc wraps the accumulator of a DISTINCT call: a multiset of the
// argument tuples with their counts; the inner accumulator sees a tuple
// when its count goes from 0 to 1 and its retraction when it goes back to
// 0. The multiset is in view under prefix (then the encoding holds only
// the inner accumulator), or, without a view, in entries, encoded with the
// accumulator (SESSION windows, which merge accumulators).
type distinctAcc struct {
	types   []row.Type
	inner   accumulator
	entries map[string]*distinctEntry
	key     []byte
	view    distinctView
	prefix  []byte
	// shared, when set, keeps the multiset instead of view: the entry
	// of a tuple shared with the other DISTINCT calls over the same
	// columns, this call's count at slot.
	shared *distinctGroupView
	slot   int
	// signed: the accumulator is a local aggregate's (group_twophase.go),
	// whose multiset counts what a batch adds and takes back, below 0
	// too; the inner accumulator sees nothing (the global aggregate
	// decides from the merged counts).
	signed bool
	counts map[string]int64
}

type distinctEntry struct {
	vals []row.Value
	n    int64
}

func (a *distinctAcc) keyOf(args []row.Value) []byte {
	a.key = append(a.key[:0], a.prefix...)
	for i, v := range args {
		a.key = appendNullable(a.key, v, a.types[i])
	}
	return a.key
}

func (a *distinctAcc) accumulate(args []row.Value) {
	if a.shared != nil {
		if a.shared.accumulate(a.slot, args) {
			a.inner.accumulate(args)
		}
		return
	}
	if a.signed {
		a.count(args, 1)
		return
	}
	k := a.keyOf(args)
	if a.view != nil {
		ks := string(k) // one key string for the lookup and the put
		n, _ := a.view.get(ks)
		a.view.put(ks, n+1)
		if n+1 == 1 {
			a.inner.accumulate(args)
		}
		return
	}
	e := a.entries[string(k)]
	if e == nil {
		e = &distinctEntry{vals: append([]row.Value(nil), args...)}
		a.entries[string(k)] = e
	}
	e.n++
	if e.n == 1 {
		a.inner.accumulate(e.vals)
	}
}

func (a *distinctAcc) retract(args []row.Value) {
	if a.shared != nil {
		if a.shared.retract(a.slot, args) {
			a.inner.retract(args)
		}
		return
	}
	if a.signed {
		a.count(args, -1)
		return
	}
	k := a.keyOf(args)
	if a.view != nil {
		ks := string(k)
		n, ok := a.view.get(ks)
		if !ok {
			return // never accumulated: nothing to take back
		}
		if n <= 1 {
			a.view.remove(ks)
			a.inner.retract(args)
			return
		}
		a.view.put(ks, n-1)
		return
	}
	e := a.entries[string(k)]
	if e == nil {
		return
	}
	e.n--
	if e.n <= 0 {
		delete(a.entries, string(k))
		a.inner.retract(e.vals)
	}
}

// count adds d to the count of args in the multiset of a signed
// accumulator, dropping an entry that reaches 0. It keeps the encoded
// tuple only (the encoding is the same as entries'; the global aggregate
// decodes the values).
func (a *distinctAcc) count(args []row.Value, d int64) {
	k := a.keyOf(args)
	if n, ok := a.counts[string(k)]; ok {
		if n+d == 0 {
			delete(a.counts, string(k))
		} else {
			a.counts[string(k)] = n + d
		}
		return
	}
	if a.counts == nil {
		a.counts = map[string]int64{}
	}
	a.counts[string(k)] = d
}

// merge merges in-accumulator multisets (the view is never used where
// accumulators merge).
func (a *distinctAcc) merge(o accumulator) {
	for k, e := range o.(*distinctAcc).entries {
		if x := a.entries[k]; x != nil {
			x.n += e.n
			continue
		}
		a.entries[k] = &distinctEntry{vals: e.vals, n: e.n}
		a.inner.accumulate(e.vals)
	}
}

func (a *distinctAcc) value() row.Value { return a.inner.value() }

func (a *distinctAcc) reset() {
	if a.entries == nil {
		a.entries = map[string]*distinctEntry{}
	}
	clear(a.entries)
	clear(a.counts)
	a.inner.reset()
}

func (a *distinctAcc) appendTo(dst []byte) []byte {
	if a.view != nil || a.shared != nil {
		return a.inner.appendTo(dst)
	}
	if a.signed {
		dst = binary.AppendUvarint(dst, uint64(len(a.counts)))
		for k, n := range a.counts {
			dst = binary.AppendUvarint(dst, uint64(len(k)))
			dst = append(dst, k...)
			dst = binary.AppendVarint(dst, n)
		}
		return a.inner.appendTo(dst)
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.entries)))
	for k, e := range a.entries {
		dst = binary.AppendUvarint(dst, uint64(len(k)))
		dst = append(dst, k...)
		dst = binary.AppendVarint(dst, e.n)
	}
	return a.inner.appendTo(dst)
}

func (a *distinctAcc) decode(src []byte) (int, error) {
	a.reset()
	if a.view != nil || a.shared != nil {
		return a.inner.decode(src)
	}
	off := 0
	n, err := readUvarint(src, &off, "distinct size")
	if err != nil {
		return 0, err
	}
	if n > uint64(len(src)) {
		return 0, corrupt("distinct size")
	}
	for range n {
		l, err := readUvarint(src, &off, "distinct key length")
		if err != nil {
			return 0, err
		}
		if l > uint64(len(src)-off) {
			return 0, corrupt("distinct key")
		}
		key := src[off : off+int(l)]
		off += int(l)
		vals := make([]row.Value, len(a.types))
		koff := 0
		for i, t := range a.types {
			if vals[i], err = readNullable(key, &koff, t); err != nil {
				return 0, err
			}
		}
		c, err := readVarint(src, &off, "distinct count")
		if err != nil {
			return 0, err
		}
		a.entries[string(key)] = &distinctEntry{vals: vals, n: c}
	}
	m, err := a.inner.decode(src[off:])
	return off + m, err
}
