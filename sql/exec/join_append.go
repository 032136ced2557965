package exec

import (
	"fmt"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// Join state for append-only inputs.
//
// A side of a RegularJoin whose input is insert-only (JoinSpec's
// LeftAppendOnly / RightAppendOnly) and which is not an outer side of the
// join keeps its rows as a list per join key ("join-left-rows" /
// "join-right-rows"), not as a map from the row's encoding to its count
// ("join-left" / "join-right"): no retraction will ever look a row up, and
// no association count is kept for a side that is not outer. Flink's
// StreamingJoinOperator makes the same distinction between the state views
// of an input (JoinRecordStateView: with and without a unique key); the list
// is the cheapest of them for an input without retractions. A duplicate row
// is kept twice instead of once with a count of 2; the pairs emitted are
// the same. A row costs one encoding and an append, not a map lookup and
// insertion hashing its encoding twice.
//
// The rows are kept encoded (row.Codec, in strings), not as their fields:
// a measured version that kept the received fields made the heap backend's
// live heap pointer-rich (the garbage collector scanned every kept row) and
// kept the sources' row arenas alive, and ran slower with twice the memory.
//
// The layout differs from the map's, under another state name. The map
// state is still declared: a snapshot taken before a side kept a list
// holds that side's rows in its map, and they are matched too (matches),
// so such a snapshot restores without loss; new rows go to the list.
//
// On the heap backend without state TTL the rows go instead to one
// pointer-free value per key ("join-left-kept" / "join-right-kept",
// join_kept.go), and the list holds only rows restored from a snapshot of
// the list layout.

// listSide reports whether a side (the left one if left) keeps its rows as
// a list: an append-only input that is not an outer side (an outer side
// counts each row's matches) of a join that is not SEMI or ANTI.
func (s *JoinSpec) listSide(left bool) bool {
	if s.Type >= SemiJoin {
		return false
	}
	if left {
		return s.LeftAppendOnly && !s.Type.leftOuter()
	}
	return s.RightAppendOnly && !s.Type.rightOuter()
}

// openLists opens the states of the append-only sides: the list, and
// the kept values (join_kept.go) new rows go to where the value state
// keeps values by reference.
func (f *regularJoinFn) openLists(st *state.Store[string], lttl, rttl state.TTL) {
	open := func(name string, ttl state.TTL) *listSide {
		s := &listSide{
			rows: state.GetList[string, string](st, state.Descriptor{Name: "join-" + name + "-rows", TTL: ttl}),
			kept: state.GetValue[string, *joinKept](st, state.Descriptor{Name: "join-" + name + "-kept", TTL: ttl}),
		}
		s.inPlace = state.InPlace(s.kept) && !f.spec.listLayout
		return s
	}
	if f.spec.listSide(true) {
		f.lside = open("left", lttl)
		f.lrows = f.lside.rows
		f.lcache = newRowCache()
	}
	if f.spec.listSide(false) {
		f.rside = open("right", rttl)
		f.rrows = f.rside.rows
		f.rcache = newRowCache()
	}
}

// listMatches fills f.assoc with the rows of a list side (the other side
// of in) that join in, each with a count of one, in the order they
// arrived.
func (f *regularJoinFn) listMatches(key string, in row.Row, isLeft bool, side *listSide, c *row.Codec, cache *rowCache) error {
	s := &f.spec
	if err := side.check(); err != nil {
		return err
	}
	// A copy of the rows into a slice of the subtask's (state.AppendList):
	// Get would allocate one per probe.
	f.strs = side.appendRows(f.strs[:0])
	defer clear(f.strs) // no encodings kept alive past the probe
	cache.reset()
	for i, enc := range f.strs {
		o, err := cache.decode(c, key, i, enc)
		if err != nil {
			return err
		}
		ok := true
		if s.Condition != nil {
			if isLeft {
				ok, err = s.Condition(in.Fields, o)
			} else {
				ok, err = s.Condition(o, in.Fields)
			}
			if err != nil {
				return fmt.Errorf("sql/exec: join condition: %w", err)
			}
		}
		if ok {
			f.assoc = append(f.assoc, joinMatch{r: row.Row{Fields: o}, c: joinCounts{N: 1}})
		}
	}
	return nil
}
