package exec

import (
	"encoding/binary"
	"fmt"

	wcodec "github.com/weirstream/weir/codec"
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
// the same. The rows are kept as the operator received them (their fields,
// not copied) and encoded only when the state is snapshotted (heap backend)
// or written (byte-oriented backends): a row costs no encoding, no map
// insertion and, when it matches, no decoding.
//
// The layout differs from the map's, under another state name: a snapshot
// taken before a side was known to be append-only restores into the map
// layout only (the planner decides the layout from the query, so a
// restored job that plans the same query finds the same layout).

// joinRow is a row of an append-only join side as kept in list state: its
// fields, or, restored from a snapshot, its encoding (decoded on use). It
// encodes itself (codec.SelfEncoder) as a length-prefixed row.Codec
// encoding.
type joinRow struct {
	f   []row.Value
	src *joinRowSrc
}

// joinRowSrc is where a joinRow's bytes come from: the side's codec for a
// live row, the encoding for a restored one.
type joinRowSrc struct {
	c   *row.Codec
	enc []byte
}

// AppendState implements codec.SelfEncoder: the length of the row's
// encoding plus one as a uvarint (0: no row), then the encoding.
func (jr joinRow) AppendState(dst []byte) []byte {
	if jr.f == nil {
		if jr.src == nil || jr.src.enc == nil {
			return append(dst, 0)
		}
		dst = binary.AppendUvarint(dst, uint64(len(jr.src.enc))+1)
		return append(dst, jr.src.enc...)
	}
	// Encode in place, then shift the encoding right by the size of its
	// length prefix.
	start := len(dst)
	dst = jr.src.c.Append(dst, row.Row{Fields: jr.f})
	n := len(dst) - start
	var pre [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(pre[:], uint64(n)+1)
	dst = append(dst, pre[:k]...)
	copy(dst[start+k:], dst[start:start+n])
	copy(dst[start:], pre[:k])
	return dst
}

// DecodeState implements codec.SelfDecoder: the encoding is kept and
// decoded on use by the side's codec.
func (jr *joinRow) DecodeState(src []byte) (int, error) {
	*jr = joinRow{}
	n, k := binary.Uvarint(src)
	if k <= 0 || (n > 0 && uint64(len(src)-k) < n-1) {
		return 0, fmt.Errorf("%w: join row", wcodec.ErrCorrupt)
	}
	if n == 0 {
		return k, nil
	}
	enc := make([]byte, n-1)
	copy(enc, src[k:])
	jr.src = &joinRowSrc{enc: enc}
	return k + int(n-1), nil
}

// fields returns jr's fields, decoding a restored row with c.
func (jr joinRow) fields(c *row.Codec) ([]row.Value, error) {
	if jr.f != nil || jr.src == nil {
		return jr.f, nil
	}
	r, _, err := c.Decode(jr.src.enc)
	if err != nil {
		return nil, fmt.Errorf("sql/exec: join: a row restored from a snapshot: %w", err)
	}
	return r.Fields, nil
}

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

// openLists opens the list states of the append-only sides.
func (f *regularJoinFn) openLists(st *state.Store[string], lttl, rttl state.TTL) {
	if f.spec.listSide(true) {
		f.lrows = state.GetList[string, joinRow](st, state.Descriptor{Name: "join-left-rows", TTL: lttl})
		f.lsrc = &joinRowSrc{c: f.lcodec}
	}
	if f.spec.listSide(false) {
		f.rrows = state.GetList[string, joinRow](st, state.Descriptor{Name: "join-right-rows", TTL: rttl})
		f.rsrc = &joinRowSrc{c: f.rcodec}
	}
}

// listMatches fills f.assoc with the rows of a list side (the other side
// of in) that join in, each with a count of one, in the order they
// arrived.
func (f *regularJoinFn) listMatches(in row.Row, isLeft bool, rows state.List[joinRow], c *row.Codec) error {
	s := &f.spec
	for _, jr := range rows.Get() {
		o, err := jr.fields(c)
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
