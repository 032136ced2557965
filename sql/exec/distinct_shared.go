package exec

import (
	"encoding/binary"
	"fmt"
	"slices"
	"unsafe"

	wcodec "github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// sharedDistinct keeps the DISTINCT multisets of a GroupAggregate's calls
// in one map state, one entry per distinct argument tuple shared by every
// DISTINCT call over the same argument columns, as Flink's planner shares
// one distinct MapView between such calls (DistinctInfo with filter
// arguments): the entry's value holds one count per call, so
// COUNT(DISTINCT x), COUNT(DISTINCT x) FILTER (WHERE a) and
// COUNT(DISTINCT x) FILTER (WHERE b) cost one lookup and one write of the
// entry per row instead of one of each per call.
//
// The key of an entry is the view's index (uvarint) then the argument
// tuple (appendNullable per argument), held as a distinctKey (typed for
// one integer argument, same bytes); the value is the count of each call
// of the view, in call order.
type sharedDistinct struct {
	m distinctStore
	// ip is m when the entries are kept in place (nil otherwise).
	ip    *inPlaceDistinct
	views []*distinctGroupView
	// insertOnly: the input has no retractions, so a call's count stops
	// at 1 (seen) and a row that brings no new value writes nothing.
	insertOnly bool
}

// distinctGroupView is the entries shared by the DISTINCT calls over one
// list of argument columns.
type distinctGroupView struct {
	owner  *sharedDistinct
	args   []int
	types  []row.Type
	prefix []byte
	ncalls int

	// intArg: the view has one integer argument (TINYINT to BIGINT) and
	// an index below 128, so a non-NULL argument's key is typed.
	intArg bool

	// The entry of the current row, loaded by the first call that sees
	// the row and written back by flush. dk is its key; a bytes-form dk
	// points into key until flush gives it a string of its own.
	key    []byte
	dk     distinctKey
	counts []int64
	loaded bool
	dirty  bool
	// scratch holds the counts of the row's entry when the entries are
	// kept in place and their counts are in an intTable, or when the entry
	// is new (distinctSets.put copies them).
	scratch []int64
}

// useSharedDistinct makes the DISTINCT calls of s keep their multisets in
// m, shared by argument columns. Call sharedDistinct.flush after each
// row.
//
// With insertOnly (the input is append-only), counts stop at 1: retractions
// given anyway are then not reflected, as with GroupAggSpec.InsertOnly's
// MIN and MAX.
func (s *aggSet) useSharedDistinct(m distinctStore, insertOnly bool) *sharedDistinct {
	sd := &sharedDistinct{m: m, insertOnly: insertOnly}
	sd.ip, _ = m.(*inPlaceDistinct)
	for _, k := range s.calls {
		d, ok := k.acc.(*distinctAcc)
		if !ok {
			continue
		}
		var v *distinctGroupView
		for _, g := range sd.views {
			if slices.Equal(g.args, k.Args) {
				v = g
				break
			}
		}
		if v == nil {
			v = newDistinctGroupView(sd, len(sd.views), k.Args, k.argTypes)
			sd.views = append(sd.views, v)
		}
		d.shared, d.slot = v, v.ncalls
		v.ncalls++
	}
	return sd
}

// newDistinctGroupView returns the view of index i over args.
func newDistinctGroupView(sd *sharedDistinct, i int, args []int, types []row.Type) *distinctGroupView {
	v := &distinctGroupView{owner: sd, args: args, types: types}
	v.prefix = binary.AppendUvarint(nil, uint64(i))
	if len(args) == 1 && i < len(typedMarks) {
		switch types[0].Root {
		case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
			v.intArg = true
		}
	}
	return v
}

// flush writes back the entries the row changed; the next row loads its
// own.
func (sd *sharedDistinct) flush() {
	for _, v := range sd.views {
		if !v.dirty {
			v.loaded = false
			continue
		}
		empty := true
		for _, n := range v.counts {
			if n != 0 {
				empty = false
				break
			}
		}
		// The key kept by the state must be a string of its own (a Go
		// map assignment stores the key given even if the entry exists);
		// a typed key has none.
		k := v.dk
		if len(k.s) != 1 {
			k.s = string(v.key)
		}
		if empty {
			sd.m.Remove(k)
		} else {
			sd.m.Put(k, v.counts)
		}
		v.loaded, v.dirty = false, false
	}
	if sd.ip != nil {
		sd.ip.done()
	}
}

// load returns the counts of args' entry (all zero if absent), and
// whether it was present.
func (v *distinctGroupView) load(args []row.Value) ([]int64, bool) {
	if v.loaded {
		return v.counts, true
	}
	v.dk = v.keyOf(args)
	var c []int64
	var ok bool
	if ip := v.owner.ip; ip != nil {
		// The sets copy what Put gives them.
		if v.scratch == nil {
			v.scratch = make([]int64, v.ncalls)
		}
		c, ok = ip.getInto(v.dk, v.scratch)
		if !ok || len(c) != v.ncalls {
			c = v.scratch
			clear(c)
		}
	} else if c, ok = v.owner.m.Get(v.dk); !ok || len(c) != v.ncalls {
		c = make([]int64, v.ncalls)
	}
	v.counts, v.loaded = c, true
	return c, ok
}

// keyOf returns the key of args' entry, in the form its bytes give (see
// distinctKey). A bytes-form key points into v.key: it is good for a Get
// (which keeps no key: the heap backend stores a key only on a write or an
// OnReadAndWrite TTL refresh, which stateTTL does not ask for; Pebble
// encodes it) until the next call.
func (v *distinctGroupView) keyOf(args []row.Value) distinctKey {
	if v.intArg && !args[0].IsNull() {
		// The bytes would be the index, 1 and the integer's varint.
		return distinctKey{s: typedMarks[v.prefix[0]], n: args[0].Int()}
	}
	v.key = append(v.key[:0], v.prefix...)
	for i, x := range args {
		v.key = appendNullable(v.key, x, v.types[i])
	}
	if n, ok := typedInt(v.key); ok {
		return distinctKey{s: typedMarks[v.key[0]], n: n}
	}
	return distinctKey{s: unsafe.String(unsafe.SliceData(v.key), len(v.key))}
}

// accumulate counts args for the call at slot; it reports whether the
// tuple is new to that call.
func (v *distinctGroupView) accumulate(slot int, args []row.Value) bool {
	c, _ := v.load(args)
	if v.owner.insertOnly && c[slot] > 0 {
		return false
	}
	c[slot]++
	v.dirty = true
	return c[slot] == 1
}

// retract takes args back from the call at slot; it reports whether the
// call no longer has the tuple (a retraction of a tuple the call never
// had changes nothing and reports false).
func (v *distinctGroupView) retract(slot int, args []row.Value) bool {
	c, _ := v.load(args)
	if c[slot] <= 0 {
		return false
	}
	c[slot]--
	v.dirty = true
	return c[slot] == 0
}

// migrate moves the current key's DISTINCT entries of the per-call layout
// (state "group-distinct": the call's index, uvarint, then the argument
// tuple -> its count; snapshots from before calls shared entries) into
// the shared entries of s's calls, and clears them.
func (sd *sharedDistinct) migrate(s *aggSet, old state.Map[string, int64]) error {
	moved := map[distinctKey][]int64{}
	for k, n := range old.All() {
		i, w := binary.Uvarint([]byte(k))
		if w <= 0 || i >= uint64(len(s.calls)) {
			return fmt.Errorf("sql/exec: group aggregate: restored DISTINCT entry: %w: call index", wcodec.ErrCorrupt)
		}
		var v *distinctGroupView
		var slot int
		switch d := s.calls[i].acc.(type) {
		case *distinctAcc:
			v, slot = d.shared, d.slot
		case *groupDistinctAcc: // bound from a groupValue
			v, slot = d.shared, d.slot
		}
		if v == nil {
			return fmt.Errorf("sql/exec: group aggregate: restored DISTINCT entry of call %d, which is not DISTINCT in this job", i)
		}
		key, ok := distinctKeyOf([]byte(string(v.prefix) + k[w:]))
		if !ok {
			return fmt.Errorf("sql/exec: group aggregate: restored DISTINCT entry of call %d: %w: no argument", i, wcodec.ErrCorrupt)
		}
		c := moved[key]
		if c == nil {
			if c, ok = sd.m.Get(key); !ok || len(c) != v.ncalls {
				c = make([]int64, v.ncalls)
			}
		}
		c[slot] += n
		moved[key] = c
	}
	for k, c := range moved {
		sd.m.Put(k, c)
	}
	old.Clear()
	return nil
}
