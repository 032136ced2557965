package exec

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/weirstream/weir"
	wcodec "github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
)

// topArena is the in-memory form of an append-only Top-N partition
// (rankTop.ar) where the value state keeps values by reference (the heap
// backend without TTL, state.InPlace): the kept rows as their encodings
// (row.Codec, the bytes rankTop's state layout holds) in one byte arena,
// and beside them, in rank order, each row's place in the arena and its
// ORDER BY values. The arena and the spans hold no pointers, and the
// ORDER BY values only those of strings (none for numbers and times), so
// the GC marks a few objects per partition instead of a field array and
// its strings per kept row; the operator changes the arena in place,
// through the pointer the state holds, without an Update.
//
// The arena is append-only: bytes below len(buf) are never written again.
// Emitted rows' strings share the arena's bytes (row.DecodeStringInto),
// and a copy for a snapshot in flight (rankTop.CopyState) shares the
// arena with the original, each seeing only the bytes below its own
// length. When a row does not fit, the live rows move to a new arena
// (compact); the old one stays as long as something references it.
type topArena struct {
	// keys holds len(OrderBy) values per kept row, in rank order.
	keys []row.Value
	// spans holds each kept row's encoding's place in buf, in rank order.
	spans []topSpan
	buf   []byte
}

// topSpan is where a kept row's encoding is in its arena.
type topSpan struct{ off, n uint32 }

// bytes returns the encoding of the row of rank i+1.
func (a *topArena) bytes(i int) []byte {
	s := a.spans[i]
	return a.buf[s.off : s.off+s.n : s.off+s.n]
}

// str returns the encoding of the row of rank i+1 as a string sharing the
// arena's bytes (never written again).
func (a *topArena) str(i int) string {
	s := a.spans[i]
	return unsafe.String(&a.buf[s.off], int(s.n))
}

// copyArena returns a copy of a for a snapshot in flight: keys and spans
// of its own (the operator moves them), the arena shared (append-only).
func (a *topArena) copyArena() *topArena {
	return &topArena{
		keys:  append([]row.Value(nil), a.keys...),
		spans: append([]topSpan(nil), a.spans...),
		buf:   a.buf,
	}
}

// appendState appends the state layout's body of a: the row count and
// the rows, as rankTop.AppendState writes its decoded rows.
func (a *topArena) appendState(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(a.spans)))
	for i := range a.spans {
		dst = append(dst, a.bytes(i)...)
	}
	return dst
}

// arenaFromEnc returns the arena form of a top read from state (enc, the
// body: the row count and the rows). enc is the top's own copy
// (lengthPrefixed), never written: it becomes the arena.
func (f *rankAppendFn) arenaFromEnc(enc []byte) (*topArena, error) {
	n, k := binary.Uvarint(enc)
	if uint64(len(enc)) > math.MaxUint32 {
		return nil, fmt.Errorf("sql/exec: rank: a partition's top of %d bytes, more than 4 GiB", len(enc))
	}
	if k <= 0 || n > uint64(len(enc)) {
		return nil, fmt.Errorf("sql/exec: rank: state: %w: top-n size", wcodec.ErrCorrupt)
	}
	a := &topArena{buf: enc[:len(enc):len(enc)]}
	m := min(int(n), int(f.spec.RankEnd))
	a.spans = make([]topSpan, 0, m)
	a.keys = make([]row.Value, 0, m*len(f.spec.OrderBy))
	if len(f.scratch) < len(f.spec.Types) {
		f.scratch = make([]row.Value, len(f.spec.Types))
	}
	off := k
	for range n {
		if off >= len(enc) {
			return nil, fmt.Errorf("sql/exec: rank: state: %w: top-n rows", wcodec.ErrCorrupt)
		}
		r, size, err := f.codec.DecodeStringInto(f.scratch, unsafe.String(&enc[off], len(enc)-off))
		if err != nil {
			return nil, fmt.Errorf("sql/exec: rank: state: %w", err)
		}
		if len(a.spans) < int(f.spec.RankEnd) {
			a.spans = append(a.spans, topSpan{off: uint32(off), n: uint32(size)})
			for _, o := range f.spec.OrderBy {
				a.keys = append(a.keys, r.Fields[o.Col])
			}
		}
		off += size
	}
	clear(f.scratch)
	return a, nil
}

// arenaFromRows returns the arena form of rows (migrated from the
// retractable layout).
func (f *rankAppendFn) arenaFromRows(rows []row.Row) (*topArena, error) {
	a := &topArena{}
	for i, r := range rows {
		f.enc = f.codec.Append(f.enc[:0], row.Row{Kind: row.Insert, Fields: r.Fields})
		if err := f.arenaInsert(a, i, r, f.enc); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// compareKept orders the kept row of rank i+1 against in by the ORDER BY
// items, as compare(kept, in) does.
func (f *rankAppendFn) compareKept(a *topArena, i int, in row.Row) int {
	k := len(f.spec.OrderBy)
	kv := a.keys[i*k : i*k+k]
	for j, o := range f.spec.OrderBy {
		if c := compareKey(kv[j], in.Fields[o.Col], o, f.spec.Types); c != 0 {
			return c
		}
	}
	return 0
}

// positionArena is position over an arena: where in goes, after every
// kept row that sorts before or ties with it.
func (f *rankAppendFn) positionArena(a *topArena, in row.Row) int {
	lo, hi := 0, len(a.spans)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if f.compareKept(a, m, in) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// arenaInsert puts in, whose encoding is enc, at rank pos+1 of a: the
// rows from pos on move down a rank, the last one out if the top is full.
// It fails, changing nothing, if the arena would pass 4 GiB (spans are
// 32-bit).
func (f *rankAppendFn) arenaInsert(a *topArena, pos int, in row.Row, enc []byte) error {
	n, k := int(f.spec.RankEnd), len(f.spec.OrderBy)
	old := len(a.spans)
	full := old >= n
	if len(enc) > cap(a.buf)-len(a.buf) {
		if err := f.compact(a, full, len(enc)); err != nil {
			return err
		}
	}
	off := len(a.buf)
	a.buf = append(a.buf, enc...)
	sp := topSpan{off: uint32(off), n: uint32(len(enc))}
	if full {
		copy(a.spans[pos+1:], a.spans[pos:old-1])
		copy(a.keys[(pos+1)*k:], a.keys[pos*k:(old-1)*k])
	} else {
		if old == cap(a.spans) && old > 0 {
			// As ProcessElement's rows: a partition's second row makes
			// room for the whole top (up to 16 rows).
			c := min(n, max(16, 2*old))
			a.spans = append(make([]topSpan, 0, c), a.spans...)
			a.keys = append(make([]row.Value, 0, c*k), a.keys...)
		}
		a.spans = append(a.spans, topSpan{})
		copy(a.spans[pos+1:], a.spans[pos:old])
		a.keys = append(a.keys, make([]row.Value, k)...)
		copy(a.keys[(pos+1)*k:], a.keys[pos*k:old*k])
	}
	a.spans[pos] = sp
	for j, o := range f.spec.OrderBy {
		a.keys[pos*k+j] = in.Fields[o.Col]
	}
	return nil
}

// compact moves a's live rows (all but the last if drop, which the row
// entering pushes out) to a new arena with room for need more bytes and
// half the live ones again. The old arena is not written: emitted rows
// and a snapshot's copy may share it.
func (f *rankAppendFn) compact(a *topArena, drop bool, need int) error {
	keep := len(a.spans)
	if drop {
		keep--
	}
	live := 0
	for _, s := range a.spans[:keep] {
		live += int(s.n)
	}
	size := live + need
	if keep > 0 {
		// Room for half the live bytes again: tried, room for as many
		// again (for full tops, or every top) and room for the whole top
		// from a partition's second row allocated no fewer bytes in
		// q19 and held more (docs/benchmarks.md).
		size += size / 2
	}
	if uint64(size) > math.MaxUint32 {
		return fmt.Errorf("sql/exec: rank: a partition's top needs %d bytes, more than 4 GiB", size)
	}
	buf := make([]byte, 0, size)
	for i := range keep {
		s := &a.spans[i]
		off := len(buf)
		buf = append(buf, a.buf[s.off:s.off+s.n]...)
		s.off = uint32(off)
	}
	a.buf = buf
	return nil
}

// emitKept emits the kept row of rank i+1 (of rows, or of a when it is
// not nil) with kind k at rank: with the row number, fields carved from
// the slab (strings shared with the arena).
func (f *rankAppendFn) emitKept(ctx *weir.KeyedContext[string, row.Row], rows []row.Row, a *topArena, i int, k row.Kind, rank int64) error {
	if a == nil {
		f.emit(ctx, rows[i], k, rank)
		return nil
	}
	if rank < f.spec.RankStart || rank > f.spec.RankEnd {
		return nil
	}
	w := len(f.spec.Types)
	if f.spec.OutputRankNumber {
		w++
	}
	fs := f.fields(w)
	r, _, err := f.codec.DecodeStringInto(fs, a.str(i))
	if err != nil {
		return fmt.Errorf("sql/exec: rank: state: %w", err)
	}
	if f.spec.OutputRankNumber {
		fs[w-1] = row.Int(rank)
		r.Fields = fs
	}
	r.Kind = k
	ctx.Collect(r)
	return nil
}
