package exec

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/weirstream/weir"
	wcodec "github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// rankTop is the state of one partition of an append-only Rank: the rows
// ranked 1..RankEnd (fewer while the partition is young) in rank order,
// ties in arrival order. On the heap backend without TTL the rows are
// kept as their encodings in one byte arena (ar, rank_arena.go); elsewhere
// (Pebble, a TTL, or noArena) they stay decoded (rows), encoded only when
// state is snapshotted or written. A rankTop read back holds the encoding
// (enc) until the operator decodes it (load) or makes it an arena. All
// three forms have the same state bytes.
//
// Rows beyond RankEnd are not kept: on an append-only input a row that
// leaves the top N never comes back, and Flink's AppendOnlyTopNFunction,
// which may keep a few of them in its buffer, emits nothing for them.
type rankTop struct {
	codec *row.Codec
	rows  []row.Row
	enc   []byte // the encoding read from state, when rows is nil
	// ar is the arena form (rank_arena.go), on the heap without TTL;
	// rows and enc are nil then.
	ar *topArena
}

// rankTopSchema is rankTop's state layout: the one of struct{Enc []byte}
// whose bytes are a uvarint row count then the rows (row.Codec).
const rankTopSchema = "rankTop{count,row.Codec...}"

// StateSchema implements codec.SelfSchema.
func (t rankTop) StateSchema() string { return rankTopSchema }

// AppendState implements codec.SelfEncoder: the length of the body, then
// the body: the row count and the rows.
func (t rankTop) AppendState(dst []byte) []byte {
	if t.ar != nil {
		start := len(dst)
		return prefixLength(t.ar.appendState(dst), start)
	}
	if t.rows == nil {
		dst = binary.AppendUvarint(dst, uint64(len(t.enc)))
		return append(dst, t.enc...)
	}
	start := len(dst)
	dst = binary.AppendUvarint(dst, uint64(len(t.rows)))
	for _, r := range t.rows {
		dst = t.codec.Append(dst, r)
	}
	return prefixLength(dst, start)
}

// CopyState implements state.Copier: the heap backend's copy of a top a
// snapshot in flight shares (state.InPlace). The kept rows are never
// changed (their fields are the operator's own), only moved within the
// slice: the copy has a slice of its own and stays decoded (a copy by
// the codec would hold the encoding, and a full top that no row enters
// would be decoded again for every row).
func (t rankTop) CopyState() rankTop {
	if t.ar != nil {
		return rankTop{codec: t.codec, ar: t.ar.copyArena()}
	}
	return rankTop{codec: t.codec, rows: slices.Clone(t.rows), enc: t.enc}
}

// DecodeState implements codec.SelfDecoder: the body is kept and decoded
// by the operator on use.
func (t *rankTop) DecodeState(src []byte) (int, error) {
	enc, n, err := lengthPrefixed(src, "top-n rows")
	*t = rankTop{enc: enc}
	return n, err
}

// rankAppendFn is Rank on an append-only input (Flink's
// AppendOnlyTopNFunction): one value state per partition, the top rows.
type rankAppendFn struct {
	spec  RankSpec
	codec *row.Codec
	top   state.Value[rankTop]
	slab  row.Slab // fields of emitted rows
	// legacy holds partitions of the retractable layout (snapshots from
	// before append-only inputs had their own) when a restore brought
	// some; nil otherwise (after checkLegacy).
	// A partition moves to "rank-top" on its first row.
	legacy  *rankIndexState
	checked bool // checkLegacy ran
	// cache holds decoded tops (rank_cache.go) where the state does not
	// keep them (Pebble, or a TTL); nil on the heap without TTL, whose
	// state is its own cache. Made by Open: each subtask, and each
	// restore, starts with an empty one.
	cache *topCache
	// ttlMillis is the state TTL as the backend counts it (0: none).
	ttlMillis int64
	// arena: tops are kept in the arena form (rank_arena.go), changed in
	// place (the heap without TTL, state.InPlace).
	arena   bool
	enc     []byte      // an entering row's encoding (arena form)
	scratch []row.Value // fields of a row read back (arena form)
}

func newRankAppendFn(spec RankSpec) *rankAppendFn {
	return &rankAppendFn{spec: spec, codec: row.NewCodec(spec.Types)}
}

func (f *rankAppendFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	ttl := joinStateTTL(f.spec.StateTTL)
	f.top = state.GetValue[string, rankTop](ctx.State(), state.Descriptor{Name: "rank-top", TTL: ttl})
	f.legacy = openRankIndexState(ctx, ttl)
	f.cache, f.ttlMillis = nil, 0
	if f.spec.StateTTL > 0 {
		f.ttlMillis = max(1, f.spec.StateTTL.Milliseconds())
	}
	f.arena = state.InPlace(f.top) && !f.spec.noArena
	if !state.InPlace(f.top) && !f.spec.noCache {
		f.cache = newTopCache(max(f.spec.cacheSize(), f.spec.RankEnd))
	}
	return nil
}

// checkLegacy runs on the first row (restored state is in place only
// after Open): without state of the retractable layout, it is never
// looked at again.
func (f *rankAppendFn) checkLegacy() (err error) {
	f.checked = true
	f.legacy, err = f.legacy.ifRestored()
	return err
}

// migrate returns the current partition's top rows from the retractable
// layout, and clears it there.
func (f *rankAppendFn) migrate() ([]row.Row, error) {
	idx, ok := f.legacy.index.Value()
	if !ok {
		return nil, nil
	}
	var rows []row.Row
	for _, e := range idx {
		encs, _ := f.legacy.data.Get(e.Key)
		for _, enc := range encs {
			if len(rows) < int(f.spec.RankEnd) {
				r, _, err := f.codec.Decode([]byte(enc))
				if err != nil {
					return nil, fmt.Errorf("sql/exec: rank: restored state: %w", err)
				}
				rows = append(rows, row.Row{Kind: row.Insert, Fields: r.Fields})
			}
		}
		f.legacy.data.Remove(e.Key)
	}
	f.legacy.index.Clear()
	return rows, nil
}

// compare orders rows a and b by the ORDER BY items.
func (f *rankAppendFn) compare(a, b row.Row) int {
	return compareByKeys(a, b, f.spec.OrderBy, f.spec.Types)
}

// load returns the rows of t, decoding them if t was read from state.
func (f *rankAppendFn) load(t *rankTop) ([]row.Row, error) {
	if t.rows != nil || len(t.enc) == 0 {
		return t.rows, nil
	}
	b := t.enc
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, fmt.Errorf("sql/exec: rank: state: %w: top-n size", wcodec.ErrCorrupt)
	}
	b = b[k:]
	rows := make([]row.Row, 0, min(int(n)+1, int(f.spec.RankEnd)))
	for range n {
		r, m, err := f.codec.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("sql/exec: rank: state: %w", err)
		}
		rows = append(rows, r)
		b = b[m:]
	}
	return rows, nil
}

// fields returns n fields of an emitted row, carved from the slab. A slab
// is never reused (downstream operators may keep rows).
func (f *rankAppendFn) fields(n int) []row.Value {
	return f.slab.Take(n, outSlab)
}

func (f *rankAppendFn) emit(ctx *weir.KeyedContext[string, row.Row], r row.Row, k row.Kind, rank int64) {
	if rank < f.spec.RankStart || rank > f.spec.RankEnd {
		return
	}
	if !f.spec.OutputRankNumber {
		ctx.Collect(r.WithKind(k))
		return
	}
	fs := f.fields(len(r.Fields) + 1)
	copy(fs, r.Fields)
	fs[len(r.Fields)] = row.Int(rank)
	ctx.Collect(row.Row{Kind: k, Fields: fs})
}

// checkAppendOnlyRow returns an error for in if it is not a row of an
// append-only Top-N's input: s.Types' fields, accumulated.
func (s *RankSpec) checkAppendOnlyRow(in row.Row) error {
	if len(in.Fields) != len(s.Types) {
		return fmt.Errorf("sql/exec: rank: input row has %d fields, want %d", len(in.Fields), len(s.Types))
	}
	if !in.Kind.IsAccumulate() {
		return fmt.Errorf("sql/exec: rank: a %s row on an append-only Top-N input", in.Kind)
	}
	return nil
}

func (f *rankAppendFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if err := f.spec.checkAppendOnlyRow(in); err != nil {
		return err
	}
	if !f.checked {
		if err := f.checkLegacy(); err != nil {
			return err
		}
	}
	if f.cache != nil {
		return f.processCached(ctx, in)
	}
	if f.arena {
		return f.processArena(ctx, in)
	}
	t, ok := f.top.Value()
	rows, err := f.load(&t)
	if err != nil {
		return err
	}
	if t.rows == nil && rows != nil && state.InPlace(f.top) {
		// Read back from a restore: keep the rows decoded, or a full top
		// that no row enters would be decoded for every row (on Pebble
		// every read decodes).
		f.top.Update(rankTop{codec: f.codec, rows: rows})
	}
	if !ok && f.legacy != nil {
		if rows, err = f.migrate(); err != nil {
			return err
		}
		if len(rows) > 0 {
			// Kept even if in does not enter the top.
			f.top.Update(rankTop{codec: f.codec, rows: slices.Clone(rows)})
		}
	}
	n := int(f.spec.RankEnd)
	old := len(rows)
	// A row tying with the N-th does not enter (the earlier row wins).
	if old >= n && f.compare(in, rows[old-1]) >= 0 {
		return nil
	}
	pos := f.position(rows, in)
	in, spare := f.keep(in)
	if err := f.emitEntering(ctx, rows, nil, pos, in, spare); err != nil {
		return err
	}

	if old >= n {
		copy(rows[pos+1:], rows[pos:old-1])
		rows[pos] = in
	} else {
		if old == cap(rows) && old > 0 {
			// A partition's second row makes room for the whole top (up to
			// 16 rows at once) instead of growing by doubling: one
			// allocation instead of up to four on the way to RankEnd.
			rows = slices.Grow(rows, min(n, max(16, 2*old))-old)
		}
		rows = append(rows, row.Row{})
		copy(rows[pos+1:], rows[pos:old])
		rows[pos] = in
	}
	f.top.Update(rankTop{codec: f.codec, rows: rows})
	return nil
}

// position returns where in goes in rows: after every row that sorts
// before or ties with it.
func (f *rankAppendFn) position(rows []row.Row, in row.Row) int {
	lo, hi := 0, len(rows)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if f.compare(rows[m], in) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// keep returns the row to keep for in, which enters the top: fields of
// its own (carved from the slab, they would keep the slab's emitted rows
// alive as long as the row stays in the top). With the row number in the
// output, the fields are allocated with one more slot behind them, for
// in's own output row at the rank it enters (spare, see emitIn); the kept
// row's capacity ends before that slot, so nothing reaches it through the
// kept row.
func (f *rankAppendFn) keep(in row.Row) (kept row.Row, spare []row.Value) {
	n := len(in.Fields)
	if !f.spec.OutputRankNumber {
		return row.Row{Kind: row.Insert, Fields: slices.Clone(in.Fields)}, nil
	}
	spare = make([]row.Value, n+1)
	copy(spare, in.Fields)
	return row.Row{Kind: row.Insert, Fields: spare[:n:n]}, spare
}

// emitIn emits in, the row entering the top, at rank (the rank it enters
// at, so once per row) with kind k. With a spare slot behind its fields
// (keep) its output row is those fields and the row number in the slot:
// no copy of the fields. Kept fields are never changed, and the slot is
// written only here, before the row is emitted.
func (f *rankAppendFn) emitIn(ctx *weir.KeyedContext[string, row.Row], in row.Row, spare []row.Value, k row.Kind, rank int64) {
	if spare == nil || rank < f.spec.RankStart || rank > f.spec.RankEnd {
		f.emit(ctx, in, k, rank)
		return
	}
	spare[len(in.Fields)] = row.Int(rank)
	ctx.Collect(row.Row{Kind: k, Fields: spare})
}

// emitEntering emits what in entering the top (as it was before: rows,
// or the arena a when it is not nil) at pos changes. spare is keep's.
func (f *rankAppendFn) emitEntering(ctx *weir.KeyedContext[string, row.Row], rows []row.Row, a *topArena, pos int, in row.Row, spare []row.Value) error {
	n, old := int(f.spec.RankEnd), len(rows)
	if a != nil {
		old = len(a.spans)
	}
	if f.spec.OutputRankNumber || f.spec.RankStart > 1 {
		// Every rank from in's down moves: -U of the row that had it,
		// +U of the row that has it now; a rank filled for the first
		// time is +I (Flink's processElementWithRowNumber). in itself
		// is emitted once, at pos+1.
		if pos < old && pos < n {
			if f.spec.GenerateUpdateBefore {
				if err := f.emitKept(ctx, rows, a, pos, row.UpdateBefore, int64(pos+1)); err != nil {
					return err
				}
			}
			f.emitIn(ctx, in, spare, row.UpdateAfter, int64(pos+1))
		}
		for i := pos + 1; i < old && i < n; i++ {
			if f.spec.GenerateUpdateBefore {
				if err := f.emitKept(ctx, rows, a, i, row.UpdateBefore, int64(i+1)); err != nil {
					return err
				}
			}
			if err := f.emitKept(ctx, rows, a, i-1, row.UpdateAfter, int64(i+1)); err != nil {
				return err
			}
		}
		if old < n {
			if pos == old {
				f.emitIn(ctx, in, spare, row.Insert, int64(old+1))
			} else if err := f.emitKept(ctx, rows, a, old-1, row.Insert, int64(old+1)); err != nil {
				return err
			}
		}
	} else if old >= n {
		// The last row is pushed out (Flink's
		// processElementWithoutRowNumber).
		if err := f.emitKept(ctx, rows, a, old-1, row.Delete, int64(old)); err != nil {
			return err
		}
		ctx.Collect(in)
	} else {
		ctx.Collect(in)
	}
	return nil
}

// read returns the current partition's top from state (migrated from the
// retractable layout if a restore brought that), and whether it wrote
// state (a migration writes the top).
func (f *rankAppendFn) read() ([]row.Row, bool, error) {
	t, ok := f.top.Value()
	rows, err := f.load(&t)
	if err != nil || ok || f.legacy == nil {
		return rows, false, err
	}
	if rows, err = f.migrate(); err != nil || len(rows) == 0 {
		return rows, false, err
	}
	f.top.Update(rankTop{codec: f.codec, rows: rows})
	return rows, true, nil
}

// processCached is ProcessElement with the cache of decoded tops: a row
// of a cached partition that does not enter its top touches no state; one
// that enters makes a new top (a cached one is never changed), written to
// state and cached.
func (f *rankAppendFn) processCached(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	key := ctx.Key()
	var now, exp int64
	if f.ttlMillis > 0 {
		// Taken before any write: the entry expires no later than the
		// state does.
		now = ctx.CurrentProcessingTime()
		exp = now + f.ttlMillis
	}
	n := int(f.spec.RankEnd)
	e := f.cache.get(key, now)
	if e != nil && e.full && f.compare(in, e.bar) >= 0 {
		// A row tying with the N-th does not enter (the earlier row
		// wins).
		return nil
	}
	var rows []row.Row
	if e != nil && e.rows != nil {
		rows = e.rows
	} else {
		var wrote bool
		var err error
		if rows, wrote, err = f.read(); err != nil {
			f.cache.remove(key)
			return err
		}
		if len(rows) >= n && f.compare(in, rows[len(rows)-1]) >= 0 {
			switch {
			case f.ttlMillis == 0:
				f.cache.putRead(key, rows, n, 0)
			case wrote:
				f.cache.putRead(key, rows, n, exp)
			default:
				// Read only: when the state expires is not known.
				f.cache.remove(key)
			}
			return nil
		}
	}
	pos := f.position(rows, in)
	in, spare := f.keep(in)
	if err := f.emitEntering(ctx, rows, nil, pos, in, spare); err != nil {
		f.cache.remove(key)
		return err
	}
	old := len(rows)
	var next []row.Row
	if old >= n {
		next = make([]row.Row, old)
		copy(next, rows[:pos])
		copy(next[pos+1:], rows[pos:old-1])
	} else {
		next = make([]row.Row, old+1)
		copy(next, rows[:pos])
		copy(next[pos+1:], rows[pos:])
	}
	next[pos] = in
	f.top.Update(rankTop{codec: f.codec, rows: next})
	f.cache.put(key, next, n, exp)
	return nil
}

// processArena is ProcessElement with the top in the arena form
// (rank_arena.go), changed in place: one lookup of the partition per row,
// and for a row entering the top its encoding appended to the arena.
func (f *rankAppendFn) processArena(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	t, ok := f.top.Value()
	a := t.ar
	if a == nil {
		var err error
		switch {
		case t.rows != nil:
			// Not written by this path (a test's state).
			if a, err = f.arenaFromRows(t.rows); err != nil {
				return err
			}
		case len(t.enc) > 0:
			// Read back from a restore.
			if a, err = f.arenaFromEnc(t.enc); err != nil {
				return err
			}
		case !ok && f.legacy != nil:
			rows, err := f.migrate()
			if err != nil {
				return err
			}
			if a, err = f.arenaFromRows(rows); err != nil {
				return err
			}
		default:
			a = &topArena{}
		}
		// Kept even if in does not enter the top.
		f.top.Update(rankTop{codec: f.codec, ar: a})
	}
	n := int(f.spec.RankEnd)
	old := len(a.spans)
	// A row tying with the N-th does not enter (the earlier row wins).
	if old >= n && f.compareKept(a, old-1, in) <= 0 {
		return nil
	}
	pos := f.positionArena(a, in)
	// in's own output rows are copies (emit); the top keeps its encoding.
	if err := f.emitEntering(ctx, nil, a, pos, in.WithKind(row.Insert), nil); err != nil {
		return err
	}
	f.enc = f.codec.Append(f.enc[:0], row.Row{Kind: row.Insert, Fields: in.Fields})
	return f.arenaInsert(a, pos, in, f.enc)
}
