package exec

import (
	"encoding/binary"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// groupValue is everything a GroupAggregate with DISTINCT calls keeps for
// one group (value state "group-value"), where the value state keeps
// values by reference (heap backend without state TTL, state.InPlace),
// on the fast path, one phase, without mini-batch: the group's
// accumulators, decoded, and its DISTINCT entries (distinctSets). A row
// looks its group up once and changes the value in place: no decode nor
// encode of the accumulators and no second keyed lookup per row (the
// layout "group-aggs" + "group-distinct-sets" took two lookups, a decode
// unless the group was the one written last, and an encode and a write).
//
// The accumulators are the calls' own types, not bound to the calls: a
// row swaps the group's accumulators into the aggSet's calls (bindAccs),
// so that the calls' argument loading, FILTER and DISTINCT views are
// shared by every group. A restored value holds the encoding (enc) until
// its group's first row decodes it (the codec does not know the calls).
//
// Other configurations (Pebble, state TTL, mini-batch, two phases) keep
// "group-aggs" and the DISTINCT entries apart: a group's value restored
// there moves to that layout on its first row (moveValue), and their
// snapshots move to this one the same way (fromOldLayout).
type groupValue struct {
	// accs are the calls' accumulators, in call order, and rows the row
	// count (aggSet.rows); nil until decoded from enc.
	accs []accumulator
	rows int64
	// enc is the encoding of the accumulators as aggSet.appendTo writes
	// it ("group-aggs"'s value), when accs is nil.
	enc  string
	sets *distinctSets
}

// appendAccs appends the encoding of the accumulators (aggSet.appendTo's
// layout). It only reads v, so a snapshot may encode a value on another
// goroutine while the task reads it.
func (v *groupValue) appendAccs(dst []byte) []byte {
	if v.accs == nil {
		return append(dst, v.enc...)
	}
	dst = binary.AppendVarint(dst, v.rows)
	for _, a := range v.accs {
		dst = a.appendTo(dst)
	}
	return dst
}

// AppendState encodes v: the length of the accumulators' encoding
// (uvarint) and the encoding, then 1 and the DISTINCT entries
// (distinctSets.AppendState) or 0 when the group has none.
func (v groupValue) AppendState(dst []byte) []byte {
	accs := v.appendAccs(nil)
	dst = binary.AppendUvarint(dst, uint64(len(accs)))
	dst = append(dst, accs...)
	if v.sets == nil {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	return v.sets.AppendState(dst)
}

// DecodeState decodes what AppendState wrote; the accumulators stay
// encoded until the group's first row.
func (v *groupValue) DecodeState(src []byte) (int, error) {
	n, p := binary.Uvarint(src)
	if p <= 0 || n > uint64(len(src)-p) {
		return 0, corruptSets("group value: accumulators length")
	}
	*v = groupValue{enc: string(src[p : p+int(n)])}
	p += int(n)
	if p >= len(src) {
		return 0, corruptSets("group value: no DISTINCT marker")
	}
	switch src[p] {
	case 0:
		return p + 1, nil
	case 1:
		p++
	default:
		return 0, corruptSets("group value: DISTINCT marker")
	}
	s := newDistinctSets()
	w, err := s.DecodeState(src[p:])
	if err != nil {
		return 0, err
	}
	v.sets = s
	return p + w, nil
}

// StateSchema names the layout.
func (groupValue) StateSchema() string { return "sql/exec.groupValue/1" }

// CopyState returns a copy sharing no memory with v (state.Copier): the
// accumulators encoded (decoded again on the group's next row), the
// DISTINCT entries copied.
func (v *groupValue) CopyState() *groupValue {
	c := &groupValue{enc: string(v.appendAccs(nil))}
	if v.sets != nil {
		c.sets = v.sets.CopyState()
	}
	return c
}

// useGroupValues reports whether f keeps its groups in "group-value"
// (see groupValue) and opens that state; else it opens it as the other
// layout's, for moveValue. Called by Open once the DISTINCT entries'
// layout is chosen.
func (f *groupAggFn) useGroupValues(ctx *weir.KeyedRuntimeContext[string]) {
	st := state.GetValue[string, *groupValue](ctx.State(), state.Descriptor{Name: "group-value", TTL: stateTTL(f.spec.StateTTL)})
	if f.inPlace != nil && f.fast && f.mb == nil && !f.global && !f.spec.groupAggsLayout {
		f.vals = st
		f.cache = nil
		f.tmpl = make([]accumulator, len(f.set.calls))
		for i, k := range f.set.calls {
			f.tmpl[i] = k.acc
		}
		return
	}
	f.otherVals = st
}

// newAccs returns fresh accumulators of f's calls: a DISTINCT call's is a
// groupDistinctAcc over the call's shared view, COUNT's and the DISTINCT
// calls' inner COUNT's are carved from one pointer-free block; other
// calls' are built as compile built the calls'. So a group costs a few
// allocations and holds few pointers (the garbage collector scans every
// group's accumulators).
func (f *groupAggFn) newAccs() []accumulator {
	accs := make([]accumulator, len(f.tmpl))
	ncount, ndist := 0, 0
	for _, t := range f.tmpl {
		if d, ok := t.(*distinctAcc); ok {
			ndist++
			t = d.inner
		}
		if _, ok := t.(*countAcc); ok {
			ncount++
		}
	}
	counts := make([]countAcc, ncount)
	dists := make([]groupDistinctAcc, ndist)
	fresh := func(i int, t accumulator) accumulator {
		if _, ok := t.(*countAcc); ok {
			a := &counts[0]
			counts = counts[1:]
			return a
		}
		k, _ := newCall(f.set.calls[i].AggCall, f.spec.InputTypes, !f.spec.InsertOnly) // as compile built the call
		if d, ok := k.acc.(*distinctAcc); ok {
			return d.inner
		}
		return k.acc
	}
	for i, t := range f.tmpl {
		if d, ok := t.(*distinctAcc); ok {
			a := &dists[0]
			dists = dists[1:]
			*a = groupDistinctAcc{shared: d.shared, slot: d.slot, inner: fresh(i, d.inner)}
			accs[i] = a
			continue
		}
		accs[i] = fresh(i, t)
	}
	return accs
}

// groupDistinctAcc is a DISTINCT call's accumulator in a groupValue: the
// call's inner accumulator, fed when its shared view (bound to the
// group's DISTINCT entries) reports a new tuple or a tuple gone, as a
// distinctAcc with shared entries; its encoding is the inner one's, as
// distinctAcc's with shared entries.
type groupDistinctAcc struct {
	shared *distinctGroupView
	slot   int
	inner  accumulator
}

func (a *groupDistinctAcc) accumulate(args []row.Value) {
	if a.shared.accumulate(a.slot, args) {
		a.inner.accumulate(args)
	}
}

func (a *groupDistinctAcc) retract(args []row.Value) {
	if a.shared.retract(a.slot, args) {
		a.inner.retract(args)
	}
}

// merge is not used: groupValue is one-phase only, without session
// windows.
func (a *groupDistinctAcc) merge(o accumulator) {
	a.inner.merge(o.(*groupDistinctAcc).inner)
}

func (a *groupDistinctAcc) value() row.Value           { return a.inner.value() }
func (a *groupDistinctAcc) reset()                     { a.inner.reset() }
func (a *groupDistinctAcc) appendTo(dst []byte) []byte { return a.inner.appendTo(dst) }
func (a *groupDistinctAcc) decode(src []byte) (int, error) {
	a.inner.reset()
	return a.inner.decode(src)
}

// bindAccs makes the group's accumulators f.set's, decoding them first
// when the value was restored (or copied by a snapshot).
func (f *groupAggFn) bindAccs(v *groupValue) error {
	if v == f.bound && v.accs != nil {
		f.set.rows = v.rows
		return nil
	}
	f.bound = nil
	if v.accs == nil {
		accs := f.newAccs()
		for i, k := range f.set.calls {
			k.acc = accs[i]
		}
		if err := f.set.decode(v.enc); err != nil {
			return err
		}
		v.accs, v.enc, v.rows = accs, "", f.set.rows
		f.bound = v
		return nil
	}
	for i, k := range f.set.calls {
		k.acc = v.accs[i]
	}
	f.set.rows = v.rows
	f.bound = v
	return nil
}

// processValue is ProcessElement with the groups in "group-value".
func (f *groupAggFn) processValue(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	retract := in.Kind.IsRetract()
	key := ctx.Key()
	v, ok := f.last, f.last != nil && key == f.lastKey
	if !ok {
		f.last = nil
		v, ok = f.vals.Value()
		if !ok && (f.oldAccs || f.oldSets) {
			v, ok = f.fromOldLayout()
		}
	}
	first := !ok
	if first && retract {
		if f.spec.Counters != nil {
			f.spec.Counters.IgnoredRetractions.Add(1)
		}
		return nil
	}
	if first {
		v = &groupValue{accs: f.newAccs()}
		f.vals.Update(v)
	}
	if err := f.bindAccs(v); err != nil {
		return err
	}
	ip := f.inPlace
	ip.cur, ip.loaded, ip.owner = v.sets, true, v
	if f.otherMap != nil {
		f.moveOther(first)
	}
	if f.legacy != nil && !f.legacy.IsEmpty() {
		if first {
			f.legacy.Clear() // left over by a TTL
		} else if err := f.shared.migrate(f.set, f.legacy); err != nil {
			return err
		}
	}
	err := f.process(ctx, in, retract, first)
	v.rows = f.set.rows
	if v.rows != 0 && err == nil {
		f.last, f.lastKey = v, key
	} else {
		f.last = nil
	}
	return err
}

// fromOldLayout moves the current group's state restored in the layout
// "group-aggs" + "group-distinct-sets" (a snapshot of main before
// "group-value", or of a configuration that keeps that layout) into a
// value, which it returns; false when the group has no accumulators
// there.
func (f *groupAggFn) fromOldLayout() (*groupValue, bool) {
	var sets *distinctSets
	if f.oldSets {
		if s, ok := f.inPlace.st.Value(); ok {
			sets = s
			f.inPlace.st.Clear()
		}
	}
	if !f.oldAccs {
		return nil, false
	}
	enc, ok := f.acc.Value()
	if !ok {
		return nil, false
	}
	f.acc.Clear()
	v := &groupValue{enc: enc, sets: sets}
	f.vals.Update(v)
	return v, true
}

// moveValue moves the current group's value restored in "group-value"
// (a snapshot of a configuration that keeps it) to the layout in use:
// "group-aggs" and the DISTINCT entries (in place or in the map state).
// Called before the group's accumulators are read.
func (f *groupAggFn) moveValue() {
	v, ok := f.otherVals.Value()
	if !ok {
		return
	}
	f.otherVals.Clear()
	f.acc.Update(string(v.appendAccs(nil)))
	if v.sets == nil {
		return
	}
	switch {
	case f.inPlace != nil:
		f.inPlace.st.Update(v.sets)
	case f.distinct != nil:
		v.sets.each(func(k distinctKey, c []int64) {
			f.distinct.Put(k, append([]int64(nil), c...))
		})
	}
}
