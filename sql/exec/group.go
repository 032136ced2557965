package exec

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// Counters are optional counters the operators of this package update
// (atomically) besides the engine's metrics; one Counters may be shared
// by every subtask of an operator.
type Counters struct {
	// IgnoredRetractions counts retractions (-U, -D) of a group that had
	// no state (never seen, or expired by the state TTL), which
	// GroupAggregate ignores as Flink's GroupAggFunction does.
	IgnoredRetractions atomic.Int64
	// LateRecordsDropped counts rows WindowAggregate dropped because
	// their window had already fired (also counted in the operator's
	// late_records_dropped_total metric).
	LateRecordsDropped atomic.Int64
}

// GroupAggSpec describes a GROUP BY aggregation (Flink's
// StreamExecGroupAggregate).
type GroupAggSpec struct {
	// InputTypes are the types of the input columns.
	InputTypes []row.Type
	// GroupKeys are the input columns of the GROUP BY, in output order;
	// empty for a global aggregate (all rows in one group, on one
	// subtask).
	GroupKeys []int
	// Aggs are the aggregate calls, in output order.
	Aggs []AggCall
	// InsertOnly tells that the input holds only +I rows, so that MIN,
	// MAX, FIRST_VALUE and LAST_VALUE keep one value instead of a
	// multiset (Flink chooses the WithRetract functions when the input
	// is an update stream). Retractions given anyway are then not
	// reflected by those functions.
	InsertOnly bool
	// GenerateUpdateBefore makes an update emit -U(old) before +U(new)
	// (retract output); without it only +U is emitted (upsert output,
	// for sinks keyed on the group keys).
	GenerateUpdateBefore bool
	// StateTTL is Flink's table.exec.state.ttl: a group whose state was
	// not written for this long is forgotten (0 = never). With a TTL,
	// an update that leaves the result unchanged is still emitted, as
	// in Flink, so that downstream state is refreshed too.
	StateTTL time.Duration
	// UID is the operator's stable id (names its state in savepoints);
	// Name its display name (default "GroupAggregate").
	UID, Name string
	// Counters, if set, receives the operator's counters.
	Counters *Counters
	// MiniBatch, when enabled, holds rows per group and handles them in
	// batches (group_minibatch.go). The state is the same with and
	// without it, so a snapshot of either restores into the other.
	MiniBatch MiniBatch

	// perCallDistinct keeps each DISTINCT call's multiset apart (state
	// "group-distinct"), as before calls shared entries: tests restore its
	// snapshots into the shared layout.
	perCallDistinct bool
	// mapDistinct keeps the shared DISTINCT entries in the map state
	// "group-distinct-shared" even where they could be kept in place
	// (distinct_inplace.go): tests restore its snapshots into the in-place
	// layout and the other way round.
	mapDistinct bool
	// generalPath computes every result before and after each row (the
	// path of user-defined calls) even without user-defined calls: tests
	// compare it with the fast path.
	generalPath bool
	// noCache turns the accumulator cache off (group_cache.go): tests
	// compare the operator with and without it.
	noCache bool
	// cacheSlots, if > 0, is the number of cache slots in place of
	// accCacheSlots (tests make groups leave the cache).
	cacheSlots int
	// cacheWindow, if > 0, is the cache's window in place of cacheWindow.
	cacheWindow int
	// groupAggsLayout keeps the layout "group-aggs" + "group-distinct-sets"
	// where "group-value" would be used (group_value.go): tests restore
	// its snapshots into "group-value" and the other way round.
	groupAggsLayout bool
}

// OutputTypes returns the types of the output columns: the group keys
// then the aggregate results.
func (s GroupAggSpec) OutputTypes() ([]row.Type, error) {
	set, err := s.compile()
	if err != nil {
		return nil, err
	}
	return append(keyTypes(s.InputTypes, s.GroupKeys), set.resultTypes()...), nil
}

func keyTypes(in []row.Type, keys []int) []row.Type {
	t := make([]row.Type, len(keys))
	for i, k := range keys {
		t[i] = in[k]
	}
	return t
}

func checkKeys(in []row.Type, keys []int, what string) error {
	for _, k := range keys {
		if k < 0 || k >= len(in) {
			return fmt.Errorf("sql/exec: %s column %d out of range (%d input columns)", what, k, len(in))
		}
	}
	return nil
}

func (s GroupAggSpec) compile() (*aggSet, error) {
	if err := checkKeys(s.InputTypes, s.GroupKeys, "group key"); err != nil {
		return nil, err
	}
	if err := s.MiniBatch.check(); err != nil {
		return nil, err
	}
	return newAggSet(s.Aggs, s.InputTypes, !s.InsertOnly)
}

// keySelector returns the function that encodes a row's group key, as
// row.AppendKey does (decodeKey reads it back).
func keySelector(in []row.Type, keys []int) func(row.Row) string {
	kt := keyTypes(in, keys)
	scalar := true
	for _, t := range kt {
		switch t.Root {
		case row.TypeDecimal:
			scalar = scalar && t.IsCompactDecimal()
		case row.TypeArray, row.TypeMap, row.TypeMultiset, row.TypeRow:
			scalar = false
		}
	}
	if !scalar {
		return func(r row.Row) string { return string(row.AppendKey(nil, r, keys, kt)) }
	}
	return func(r row.Row) string {
		var buf [64]byte
		return string(appendScalarKey(buf[:0], r, keys, kt))
	}
}

// appendScalarKey is row.AppendKey for keys of scalar types (not wide
// DECIMAL, ARRAY, MAP or ROW), written so that a stack buffer passed as
// dst stays on the stack.
func appendScalarKey(dst []byte, r row.Row, keys []int, types []row.Type) []byte {
	for j, i := range keys {
		v := r.Fields[i]
		if v.IsNull() {
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, 1)
		switch types[j].Root {
		case row.TypeBoolean:
			dst = append(dst, byte(v.Int()&1))
		case row.TypeFloat, row.TypeDouble:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Float()))
		case row.TypeChar, row.TypeVarChar, row.TypeBinary, row.TypeVarBinary, row.TypeVariant:
			dst = binary.AppendUvarint(dst, uint64(len(v.Str())))
			dst = append(dst, v.Str()...)
		case row.TypeTimestamp, row.TypeTimestampLTZ:
			dst = binary.AppendVarint(dst, v.Millis())
			dst = binary.AppendUvarint(dst, uint64(v.NanoOfMilli()))
		default:
			dst = binary.AppendVarint(dst, v.Int())
		}
	}
	return dst
}

// GroupAggregate aggregates in by the group keys, as Flink's
// GroupAggFunction: +I and +U rows are accumulated, -U and -D retracted;
// the output is the changelog of the result table (see the package
// documentation). It fails on a spec that does not fit the input.
func GroupAggregate(in weir.Stream[row.Row], spec GroupAggSpec) (weir.Stream[row.Row], error) {
	if _, err := spec.compile(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	ks := weir.KeyBy(in, keySelector(spec.InputTypes, spec.GroupKeys))
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &groupAggFn{spec: spec}).DefaultName("GroupAggregate")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

// stateTTL is the TTL configuration of table.exec.state.ttl: refreshed
// on create and write, expired values never returned.
func stateTTL(d time.Duration) state.TTL {
	return state.TTL{TTL: d, Update: state.OnCreateAndWrite, Visibility: state.NeverReturnExpired}
}

// groupAggFn is the keyed function of GroupAggregate. Per key it keeps one
// value: the encoded accumulators and row count (aggSet).
type groupAggFn struct {
	spec GroupAggSpec
	set  *aggSet
	acc  state.Value[string]
	// distinct holds the shared DISTINCT entries in the map layout (nil
	// without DISTINCT calls, or when inPlace holds them).
	distinct state.Map[distinctKey, []int64]
	// inPlace holds them in the group's distinctSets where the value
	// state keeps values by reference (heap backend, no state TTL).
	inPlace *inPlaceDistinct
	shared  *sharedDistinct
	// otherMap (with inPlace) and otherSets (with distinct) are the other
	// layout's state, whose entries a snapshot may have restored (the
	// layout depends on the backend and the TTL): a group's entries move
	// to the layout in use on its first row. nil when none were restored
	// (checked on the first row, as legacy).
	otherMap  state.Map[distinctKey, []int64]
	otherSets state.Value[*distinctSets]
	// vals holds the groups' accumulators and DISTINCT entries together
	// (group_value.go) where that layout is used, else nil; tmpl are then
	// the calls' own accumulators (a group's are swapped in per row), and
	// oldAccs, oldSets tell that a snapshot restored state in
	// "group-aggs", "group-distinct-sets" (moved on a group's first row).
	vals             state.Value[*groupValue]
	tmpl             []accumulator
	oldAccs, oldSets bool
	// bound is the value whose accumulators f.set's calls hold; last is
	// the value of the group of the latest row, lastKey its key, taken
	// without a state lookup by the next row of that group until
	// FlushBundle (before every checkpoint barrier: the heap backend
	// hands out a copy of a value a snapshot shares, so the value must
	// be looked up again after one).
	bound, last *groupValue
	lastKey     string
	// otherVals is "group-value" where another layout is used: restored
	// values move to it on a group's first row (nil when none restored).
	otherVals state.Value[*groupValue]
	// legacy holds DISTINCT entries of the per-call layout (before calls
	// shared them) restored from an older snapshot; nil when there are
	// none (checked on the first row: restored state is in place only
	// after Open). A key's entries move to the shared layout on its first
	// row.
	legacy  state.Map[string, int64]
	checked bool
	prev    []row.Value
	next    []row.Value
	// fast: no user-defined calls (nor SINGLE_VALUE), so results are computed as process
	// says; reached is its scratch (which calls the row reached).
	fast    bool
	reached []bool
	slab    row.Slab // output rows' fields
	// loaded is the encoding the fast path last stored, whose accumulators
	// set still holds ("" when set holds anything else): a row of the same
	// group that finds that very string in state (heap backend, nothing
	// written in between) skips the decode. See loadedAccs.
	loaded string
	// mb is the bundle of rows held with mini-batch on; nil otherwise.
	mb *bundle
	// cache keeps the accumulators of the latest groups (group_cache.go);
	// nil when not used.
	cache *accCache
	// cached: the current row's group is in the cache (process leaves
	// the writing of its accumulators to the cache).
	cached bool
	// global: the function is GlobalGroupAggregate's (group_twophase.go):
	// its rows are accumulator rows of LocalGroupAggregate, the group keys
	// first; part is the scratch they are decoded into.
	global bool
	part   *aggSet
	// Scratch of mergePart.
	partKeys  []string
	partSeen  map[string]bool
	viewCalls [][2]*distinctAcc
	// outKeys are the columns of an input row holding the group keys.
	outKeys []int
}

// outSlab is how many output rows' fields GroupAggregate allocates at
// once. A slab is never reused (downstream operators may keep rows, and
// rows cross exchanges by reference), so a row kept alone keeps its slab
// (outSlab × its width × 40 B) alive, as with the Calc's slabs.
const outSlab = 32

func (f *groupAggFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	set, err := f.spec.compile()
	if err != nil {
		return err
	}
	f.set = set
	f.fast = !f.spec.generalPath && !set.canFail()
	f.outKeys = f.spec.GroupKeys
	if f.global {
		f.outKeys = firstN(len(f.spec.GroupKeys))
	}
	if f.spec.MiniBatch.Enabled() {
		f.mb = &bundle{rows: map[string]*keyRows{}}
	}
	f.cache = newAccCache(f)
	f.acc = state.GetValue[string, string](ctx.State(), state.Descriptor{Name: "group-aggs", TTL: stateTTL(f.spec.StateTTL)})
	if set.hasDistinct() {
		if f.spec.perCallDistinct {
			m := state.GetMap[string, string, int64](ctx.State(), state.Descriptor{Name: "group-distinct", TTL: stateTTL(f.spec.StateTTL)})
			set.useDistinctView(mapView{m})
			set.setNamespace(nil)
			return nil
		}
		f.distinct = state.GetMap[string, distinctKey, []int64](ctx.State(), state.Descriptor{Name: "group-distinct-shared", TTL: stateTTL(f.spec.StateTTL)})
		sets := state.GetValue[string, *distinctSets](ctx.State(), state.Descriptor{Name: "group-distinct-sets", TTL: stateTTL(f.spec.StateTTL)})
		if state.InPlace(sets) && !f.spec.mapDistinct {
			// The entries live in the group's value; "group-distinct-shared"
			// only holds what a snapshot of the map layout restored.
			f.inPlace = &inPlaceDistinct{st: sets}
			f.shared = set.useSharedDistinct(f.inPlace, f.spec.InsertOnly)
			f.otherMap = f.distinct
			f.distinct = nil
		} else {
			f.shared = set.useSharedDistinct(f.distinct, f.spec.InsertOnly)
			f.otherSets = sets
		}
		f.useGroupValues(ctx)
		f.legacy = state.GetMap[string, string, int64](ctx.State(), state.Descriptor{Name: "group-distinct", TTL: stateTTL(f.spec.StateTTL)})
	}
	return nil
}

// hasKeys reports whether a keyed state has an entry for any key (of the
// subtask's key groups).
func hasKeys(st any) (bool, error) {
	found := false
	err := state.KeysOf[string](st, func(string) { found = true })
	return found, err
}

// mapView keeps DISTINCT multisets in keyed map state.
type mapView struct{ m state.Map[string, int64] }

func (v mapView) get(k string) (int64, bool) { return v.m.Get(k) }
func (v mapView) put(k string, n int64)      { v.m.Put(k, n) }
func (v mapView) remove(k string)            { v.m.Remove(k) }

// checkLegacy drops f.legacy, on the first row, when no DISTINCT entries
// of the per-call layout were restored.
func (f *groupAggFn) checkLegacy() error {
	if f.checked {
		return nil
	}
	f.checked = true
	if f.legacy != nil {
		restored, err := hasKeys(f.legacy)
		if err != nil {
			return err
		}
		if !restored {
			f.legacy = nil
		}
	}
	if f.otherMap != nil {
		restored, err := hasKeys(f.otherMap)
		if err != nil {
			return err
		}
		if !restored {
			f.otherMap = nil
		}
	}
	if f.otherSets != nil {
		restored, err := hasKeys(f.otherSets)
		if err != nil {
			return err
		}
		if !restored {
			f.otherSets = nil
		}
	}
	if f.otherVals != nil {
		restored, err := hasKeys(f.otherVals)
		if err != nil {
			return err
		}
		if !restored {
			f.otherVals = nil
		}
	}
	if f.vals != nil {
		var err error
		if f.oldAccs, err = hasKeys(f.acc); err != nil {
			return err
		}
		if f.oldSets, err = hasKeys(f.inPlace.st); err != nil {
			return err
		}
	}
	return nil
}

// moveOther moves the current group's DISTINCT entries restored in the
// layout not in use (otherMap, otherSets) to the one in use, or drops them
// for a new group (first: left over by a TTL).
func (f *groupAggFn) moveOther(first bool) {
	if f.otherMap != nil && !f.otherMap.IsEmpty() {
		if !first {
			for k, c := range f.otherMap.All() {
				if len(k.s) != 1 {
					k.s = string([]byte(k.s))
				}
				f.inPlace.Put(k, c)
			}
		}
		f.otherMap.Clear()
	}
	if f.otherSets != nil {
		if s, ok := f.otherSets.Value(); ok {
			if !first {
				s.each(func(k distinctKey, c []int64) {
					f.distinct.Put(k, slices.Clone(c))
				})
			}
			f.otherSets.Clear()
		}
	}
}

// loadAccs makes f.set the group's accumulators: empty for its first row
// (first), else decoded from enc unless still loaded; a layout an old
// snapshot left (legacy) is migrated, or cleared for a new group. set
// changes from here on, so what was loaded is forgotten (process records
// what it stores).
func (f *groupAggFn) loadAccs(enc string, first bool) error {
	if f.otherMap != nil || f.otherSets != nil {
		f.moveOther(first)
	}
	if first {
		f.set.reset()
		if f.inPlace != nil {
			f.inPlace.clear()
		}
		if f.distinct != nil && (f.spec.StateTTL > 0 || !f.distinct.IsEmpty()) {
			// Entries left over by a TTL that expired the accumulators
			// first belong to no group any more. Without a TTL there are
			// none: Clear only what is there, as Pebble's Clear is a
			// range deletion, and many of those (one per new group, as
			// a split distinct aggregation's PARTIAL aggregate makes)
			// slow every later read of the memtable.
			f.distinct.Clear()
		}
	} else if !f.loadedAccs(enc) {
		if err := f.set.decode(enc); err != nil {
			f.loaded = ""
			return err
		}
	}
	f.loaded = ""
	if f.legacy != nil && !f.legacy.IsEmpty() {
		if first {
			f.legacy.Clear() // left over by a TTL, as above
		} else if err := f.shared.migrate(f.set, f.legacy); err != nil {
			return err
		}
	}
	if f.inPlace != nil {
		// Moving restored entries (moveOther, migrate) looked the
		// group's sets up: forget them, as a row's flush does, since not
		// every caller flushes next (a global batch without DISTINCT
		// tuples does not), and the next group must not find them.
		f.inPlace.done()
	}
	return nil
}

func (f *groupAggFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if f.mb != nil {
		if err := f.buffer(ctx, in); err != nil {
			return err
		}
		if f.global {
			f.globalSoon(ctx, in)
		}
		return nil
	}
	if err := f.checkLegacy(); err != nil {
		return err
	}
	if f.vals != nil {
		return f.processValue(ctx, in)
	}
	if f.otherVals != nil {
		f.moveValue()
	}
	f.cached = false
	if f.cache != nil {
		on, err := f.cacheOn(ctx)
		if err != nil {
			return err
		}
		if on {
			f.cached = true
			return f.processCached(ctx, in)
		}
	}
	retract := in.Kind.IsRetract()
	enc, ok := f.acc.Value()
	first := !ok
	if first && retract {
		if f.spec.Counters != nil {
			f.spec.Counters.IgnoredRetractions.Add(1)
		}
		return nil
	}
	if err := f.loadAccs(enc, first); err != nil {
		return err
	}
	if f.fast {
		return f.process(ctx, in, retract, first)
	}
	if !first {
		// Not over a fresh accumulator: Flink's GroupAggFunction takes
		// the previous value only when the group has one (a GetValue
		// may not know its value over no rows).
		f.prev = f.set.appendValues(f.prev[:0])
	}
	f.set.apply(in, retract)
	if f.shared != nil {
		f.shared.flush()
	}
	f.next = f.set.appendValues(f.next[:0])
	if err := f.set.failed(); err != nil {
		return fmt.Errorf("sql: GroupAggregate on row %s: %w", row.FormatRow(in, f.spec.InputTypes), err)
	}
	if f.set.rows != 0 {
		f.acc.Update(f.set.encode())
		if first {
			ctx.Collect(f.output(row.Insert, in, f.next))
			return nil
		}
		if f.spec.StateTTL <= 0 && equalValues(f.prev, f.next, f.set) {
			return nil
		}
		if f.spec.GenerateUpdateBefore {
			ctx.Collect(f.output(row.UpdateBefore, in, f.prev))
		}
		ctx.Collect(f.output(row.UpdateAfter, in, f.next))
		return nil
	}
	// The group is empty: its row is deleted and its state dropped.
	if !first {
		ctx.Collect(f.output(row.Delete, in, f.prev))
	}
	f.drop()
	return nil
}

// drop forgets the current group's state.
func (f *groupAggFn) drop() {
	if f.vals != nil {
		f.vals.Clear()
	}
	f.acc.Clear()
	if f.distinct != nil {
		f.distinct.Clear()
	}
	if f.inPlace != nil {
		f.inPlace.clear()
	}
}

// output builds a result row: the group keys (taken from the input row)
// then the aggregate values.
func (f *groupAggFn) output(k row.Kind, in row.Row, aggs []row.Value) row.Row {
	fields := f.fields(len(f.outKeys) + len(aggs))
	for _, i := range f.outKeys {
		fields = append(fields, in.Fields[i])
	}
	return row.Row{Kind: k, Fields: append(fields, aggs...)}
}

// fields returns an empty slice of capacity n for an output row's fields,
// carved from the slab.
func (f *groupAggFn) fields(n int) []row.Value {
	return f.slab.Take(n, outSlab)[:0]
}

func equalValues(a, b []row.Value, set *aggSet) bool {
	for i, k := range set.calls {
		if a[i].IsNull() != b[i].IsNull() {
			return false
		}
		if !a[i].IsNull() && !row.Equal(a[i], b[i], k.res) {
			return false
		}
	}
	return true
}
