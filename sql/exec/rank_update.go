package exec

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// This file is the Top-N of Flink's UpdateFastStrategy
// (UpdatableTopNFunction): the input is an upsert stream (+I and +U rows,
// no -U) with a unique key (RankSpec.UpdateKey) that contains the
// partition keys, and each row's sort key only moves towards the top
// (ORDER BY COUNT(*) DESC over a group aggregation: the count only
// grows). It keeps only the rows of the top N (and, as Flink's buffer
// does, the rows that tie with the N-th), one per unique key, and updates
// a row in place: a row whose sort key did not change keeps its position
// among its ties, and one that moved up shifts the rows it passed down by
// one, with no retraction of its own.

// updatableTopNName is the operator's default name.
const updatableTopNName = "UpdatableTopN"

// rankUpdateItem is one row of the buffer: its unique key, the row, its
// position among the rows with its sort key (1-based, Flink's inner
// rank), and whether state must be written.
type rankUpdateItem struct {
	key   string
	row   row.Row
	inner int
	dirty bool
}

// rankUpdateEntry is one sort key of the buffer and its rows in order.
type rankUpdateEntry struct {
	rows []*rankUpdateItem
}

// rankUpdateBuf is a partition's sorted buffer and its rows by unique key.
type rankUpdateBuf struct {
	entries []rankUpdateEntry
	byKey   map[string]*rankUpdateItem
}

// rankUpdateFn is Rank with an UpdateKey. State: per partition a map from
// the encoded unique key to the row and its inner rank ("rank-update":
// Flink's "data-state-with-update"); each TTL expires its entries one by
// one as Flink's does. The sorted buffer is rebuilt from it when a
// partition is not in the operator's cache of decoded buffers (written
// through: state always holds every change). With a TTL the buffer is
// rebuilt for each row, so that expired rows are gone from it.
type rankUpdateFn struct {
	spec   RankSpec
	codec  *row.Codec
	rowKey func(row.Row) string
	data   state.Map[string, string]

	// legacy: the states of the retractable and append-only layouts,
	// looked at on the first row only (a restore into the wrong layout).
	legacyIndex state.Value[[]rankIndexEntry]
	legacyTop   state.Value[rankTop]
	checked     bool

	// cache holds decoded buffers by partition key (nil with a TTL), at
	// most cacheSize of them.
	cache     map[string]*rankUpdateBuf
	cacheSize int

	// per row
	ctx     *weir.KeyedContext[string, row.Row]
	buf     []rankUpdateEntry
	byKey   map[string]*rankUpdateItem
	removed []string
	entries []state.Entry[string, string]
}

func newRankUpdateFn(spec RankSpec) *rankUpdateFn {
	return &rankUpdateFn{spec: spec, codec: row.NewCodec(spec.Types), rowKey: joinKeySelector(spec.UpdateKey, spec.Types)}
}

func (f *rankUpdateFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	ttl := joinStateTTL(f.spec.StateTTL)
	f.data = state.GetMap[string, string, string](ctx.State(), state.Descriptor{Name: "rank-update", TTL: ttl})
	f.legacyIndex = state.GetValue[string, []rankIndexEntry](ctx.State(), state.Descriptor{Name: "rank-index", TTL: ttl})
	f.legacyTop = state.GetValue[string, rankTop](ctx.State(), state.Descriptor{Name: "rank-top", TTL: ttl})
	if f.spec.StateTTL == 0 {
		f.cache = map[string]*rankUpdateBuf{}
		// Flink's LRU cache holds table.exec.rank.topn-cache-size rows
		// over RankEnd partitions.
		f.cacheSize = int(max(1, f.spec.cacheSize()/f.spec.RankEnd))
	}
	return nil
}

// errRankLayout is returned when a restore brought state of another
// Top-N strategy.
var errRankLayout = errors.New("sql/exec: restored Top-N state of another strategy")

// checkLegacy fails on the first row when the restored state is that of
// the retractable or append-only Top-N: the plan changed strategy
// (RetractStrategy to UpdateFastStrategy), whose state layouts differ.
// Flink does not carry state across such a plan change either; Weir
// refuses it instead of starting from an empty Top-N.
func (f *rankUpdateFn) checkLegacy() error {
	f.checked = true
	for _, l := range []struct {
		st       any
		name     string
		strategy string
	}{{f.legacyIndex, "rank-index", "RetractStrategy (RetractableTopN)"}, {f.legacyTop, "rank-top", "AppendFastStrategy (AppendOnlyTopN)"}} {
		found, err := hasKeys(l.st)
		if err != nil {
			return err
		}
		if found {
			return fmt.Errorf("%w: operator %s (strategy UpdateFastStrategy) was restored with state %q of a Top-N planned with %s; the state layouts differ and cannot be migrated: restore a savepoint taken with the same plan, or start the job without state",
				errRankLayout, updatableTopNName, l.name, l.strategy)
		}
	}
	f.legacyIndex, f.legacyTop = nil, nil
	return nil
}

// compare orders two rows by the sort keys.
func (f *rankUpdateFn) compare(a, b row.Row) int {
	return compareByKeys(a, b, f.spec.OrderBy, f.spec.Types)
}

// load rebuilds the partition's buffer from state: rows sorted by sort
// key, ties by inner rank.
func (f *rankUpdateFn) load() error {
	f.buf = nil
	f.byKey = map[string]*rankUpdateItem{}
	f.entries = state.AppendEntries(f.data, f.entries[:0])
	items := make([]*rankUpdateItem, 0, len(f.entries))
	for _, e := range f.entries {
		b := []byte(e.Value)
		r, n, err := f.codec.Decode(b)
		if err != nil {
			return fmt.Errorf("sql/exec: %s: state: %w", updatableTopNName, err)
		}
		inner, m := binary.Uvarint(b[n:])
		if m <= 0 {
			return fmt.Errorf("sql/exec: %s: state: %w", updatableTopNName, corrupt("inner rank"))
		}
		it := &rankUpdateItem{key: e.Key, row: r, inner: int(inner)}
		items = append(items, it)
		f.byKey[e.Key] = it
	}
	slices.SortFunc(items, func(a, b *rankUpdateItem) int {
		if c := f.compare(a.row, b.row); c != 0 {
			return c
		}
		return cmp.Compare(a.inner, b.inner)
	})
	for i, it := range items {
		if i == 0 || f.compare(items[i-1].row, it.row) != 0 {
			f.buf = append(f.buf, rankUpdateEntry{})
		}
		e := &f.buf[len(f.buf)-1]
		e.rows = append(e.rows, it)
	}
	return nil
}

// flush writes the changed rows and removes the dropped ones.
func (f *rankUpdateFn) flush() {
	for _, k := range f.removed {
		if _, ok := f.byKey[k]; !ok {
			f.data.Remove(k)
		}
	}
	for k, it := range f.byKey {
		if !it.dirty {
			continue
		}
		enc := f.codec.Append(nil, it.row)
		enc = binary.AppendUvarint(enc, uint64(it.inner))
		f.data.Put(k, string(enc))
		it.dirty = false
	}
}

// find returns the index of the entry with r's sort key and whether there
// is one (else where it would go).
func (f *rankUpdateFn) find(r row.Row) (int, bool) {
	return slices.BinarySearchFunc(f.buf, r, func(e rankUpdateEntry, r row.Row) int { return f.compare(e.rows[0].row, r) })
}

// put adds it under its row's sort key, last among its ties, and returns
// its inner rank (TopNBuffer.put).
func (f *rankUpdateFn) put(it *rankUpdateItem) int {
	i, ok := f.find(it.row)
	if !ok {
		f.buf = slices.Insert(f.buf, i, rankUpdateEntry{})
	}
	f.buf[i].rows = append(f.buf[i].rows, it)
	f.byKey[it.key] = it
	return len(f.buf[i].rows)
}

// remove takes the row of key out of the entry of sort key r
// (TopNBuffer.remove).
func (f *rankUpdateFn) remove(r row.Row, key string) {
	i, ok := f.find(r)
	if !ok {
		return
	}
	rows := f.buf[i].rows
	if j := slices.IndexFunc(rows, func(it *rankUpdateItem) bool { return it.key == key }); j >= 0 {
		f.buf[i].rows = slices.Delete(rows, j, j+1)
	}
	if len(f.buf[i].rows) == 0 {
		f.buf = slices.Delete(f.buf, i, i+1)
	}
}

// drop forgets the row of key (rowKeyMap.remove and dataState.remove).
func (f *rankUpdateFn) drop(key string) {
	delete(f.byKey, key)
	f.removed = append(f.removed, key)
}

// size is the number of rows in the buffer.
func (f *rankUpdateFn) size() int64 {
	var n int64
	for _, e := range f.buf {
		n += int64(len(e.rows))
	}
	return n
}

// inBufferRange is TopNBuffer.checkSortKeyInBufferRange with the top
// size RankEnd: r goes in when it sorts before the last row, or while the
// buffer is not full.
func (f *rankUpdateFn) inBufferRange(r row.Row) bool {
	if len(f.buf) == 0 {
		return true
	}
	if f.compare(r, f.buf[len(f.buf)-1].rows[0].row) < 0 {
		return true
	}
	return f.size() < f.spec.RankEnd
}

// updateInner renumbers the rows of the sort key of r after one left it.
func (f *rankUpdateFn) updateInner(r row.Row) {
	i, ok := f.find(r)
	if !ok {
		return
	}
	for j, it := range f.buf[i].rows {
		if it.inner != j+1 {
			it.inner = j + 1
			it.dirty = true
		}
	}
}

// rowNumber returns the rank of key (sort key of r) and its inner rank.
func (f *rankUpdateFn) rowNumber(r row.Row, key string) (int64, error) {
	var rank int64 = 1
	for _, e := range f.buf {
		if f.compare(e.rows[0].row, r) != 0 {
			rank += int64(len(e.rows))
			continue
		}
		for _, it := range e.rows {
			if it.key == key {
				return rank, nil
			}
			rank++
		}
	}
	return 0, fmt.Errorf("sql/exec: %s: a row's unique key is not under its sort key in the buffer", updatableTopNName)
}

func (f *rankUpdateFn) inRange(rank int64) bool {
	return rank >= f.spec.RankStart && rank <= f.spec.RankEnd
}
func (f *rankUpdateFn) inEnd(rank int64) bool { return rank <= f.spec.RankEnd }

// emit collects r (its fields copied: the buffer keeps r) with kind k
// and, with OutputRankNumber, rank.
func (f *rankUpdateFn) emit(r row.Row, k row.Kind, rank int64) {
	n := len(r.Fields)
	if f.spec.OutputRankNumber {
		n++
	}
	fields := make([]row.Value, len(r.Fields), n)
	copy(fields, r.Fields)
	if f.spec.OutputRankNumber {
		fields = append(fields, row.Int(rank))
	}
	f.ctx.Collect(row.Row{Kind: k, Fields: fields})
}

// plain collects r without a rank number.
func (f *rankUpdateFn) plain(r row.Row, k row.Kind) {
	f.ctx.Collect(row.Row{Kind: k, Fields: slices.Clone(r.Fields)})
}

// The collect helpers of Flink's AbstractTopNFunction, with a rank (only
// ranks in the range are emitted) and without.
func (f *rankUpdateFn) insertAt(r row.Row, rank int64) {
	if f.inRange(rank) {
		f.emit(r, row.Insert, rank)
	}
}

func (f *rankUpdateFn) beforeAt(r row.Row, rank int64) {
	if f.spec.GenerateUpdateBefore && f.inRange(rank) {
		f.emit(r, row.UpdateBefore, rank)
	}
}

func (f *rankUpdateFn) afterAt(r row.Row, rank int64) {
	if f.inRange(rank) {
		f.emit(r, row.UpdateAfter, rank)
	}
}

func (f *rankUpdateFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if len(in.Fields) != len(f.spec.Types) {
		return fmt.Errorf("sql/exec: %s: input row has %d fields, want %d", updatableTopNName, len(in.Fields), len(f.spec.Types))
	}
	if !f.checked {
		if err := f.checkLegacy(); err != nil {
			return err
		}
	}
	if !in.Kind.IsAccumulate() {
		// The planner picks the strategy only for an input of +I and +U
		// rows (Flink asks the input for UPDATE_AFTER only).
		return fmt.Errorf("sql/exec: %s: a %s row on an upsert input (+I and +U rows only): %s", updatableTopNName, in.Kind, row.FormatRow(in, f.spec.Types))
	}
	f.ctx = ctx
	defer func() { f.ctx = nil }()
	pk := ctx.Key()
	f.removed = f.removed[:0]
	cached, hit := f.cache[pk]
	if hit {
		f.buf, f.byKey = cached.entries, cached.byKey
	} else if err := f.load(); err != nil {
		return err
	}
	in = in.Clone().WithKind(row.Insert)
	var err error
	if f.spec.OutputRankNumber || f.spec.RankStart > 1 {
		err = f.withRowNumber(in)
	} else {
		f.withoutRowNumber(in)
	}
	if err != nil {
		delete(f.cache, pk)
		return err
	}
	f.flush()
	if f.cache != nil {
		if !hit {
			if len(f.cache) >= f.cacheSize {
				clear(f.cache)
			}
			cached = &rankUpdateBuf{}
			f.cache[pk] = cached
		}
		cached.entries, cached.byKey = f.buf, f.byKey
	}
	f.buf, f.byKey = nil, nil
	return nil
}

// withoutRowNumber is UpdatableTopNFunction.processElementWithoutRowNumber.
func (f *rankUpdateFn) withoutRowNumber(in row.Row) {
	key := f.rowKey(in)
	if old, ok := f.byKey[key]; ok {
		oldRow := old.row
		if f.compare(oldRow, in) != 0 {
			f.remove(oldRow, key)
			it := &rankUpdateItem{key: key, row: in, dirty: true}
			it.inner = f.put(it)
			f.updateInner(oldRow)
		} else {
			f.byKey[key] = &rankUpdateItem{key: key, row: in, inner: old.inner, dirty: true}
			f.replace(old, f.byKey[key])
		}
		if f.spec.GenerateUpdateBefore {
			f.plain(oldRow, row.UpdateBefore)
		}
		f.plain(in, row.UpdateAfter)
		return
	}
	if !f.inBufferRange(in) {
		return
	}
	it := &rankUpdateItem{key: key, row: in, dirty: true}
	it.inner = f.put(it)
	if f.size() > f.spec.RankEnd {
		last := &f.buf[len(f.buf)-1]
		gone := last.rows[len(last.rows)-1]
		last.rows = last.rows[:len(last.rows)-1]
		if len(last.rows) == 0 {
			f.buf = f.buf[:len(f.buf)-1]
		}
		f.drop(gone.key)
		f.plain(gone.row, row.Delete)
	}
	f.plain(in, row.Insert)
}

// replace puts next where old is in the buffer (same sort key, same
// place among its ties).
func (f *rankUpdateFn) replace(old, next *rankUpdateItem) {
	for _, e := range f.buf {
		for j, it := range e.rows {
			if it == old {
				e.rows[j] = next
				return
			}
		}
	}
}

// withRowNumber is UpdatableTopNFunction.processElementWithRowNumber.
func (f *rankUpdateFn) withRowNumber(in row.Row) error {
	key := f.rowKey(in)
	old, ok := f.byKey[key]
	if !ok {
		if !f.inBufferRange(in) {
			return nil
		}
		it := &rankUpdateItem{key: key, row: in, dirty: true}
		it.inner = f.put(it)
		f.emitWithRowNumber(in, nil, 0)
		return nil
	}
	c := f.compare(in, old.row)
	if c == 0 {
		// The sort key did not change: same rank, only the row.
		rank, err := f.rowNumber(in, key)
		if err != nil {
			return err
		}
		next := &rankUpdateItem{key: key, row: in, inner: old.inner, dirty: true}
		f.byKey[key] = next
		f.replace(old, next)
		f.beforeAt(old.row, rank)
		f.afterAt(in, rank)
		return nil
	}
	oldRank, err := f.rowNumber(old.row, key)
	if err != nil {
		return err
	}
	f.remove(old.row, key)
	it := &rankUpdateItem{key: key, row: in, dirty: true}
	it.inner = f.put(it)
	f.updateInner(old.row)
	if c < 0 {
		f.emitWithRowNumber(in, old, oldRank)
		return nil
	}
	// The sort key moved away from the top: the input broke the
	// monotonicity the planner relied on (an upstream operator's state
	// expired, as Flink's message says). Flink is lenient here.
	newRank, err := f.rowNumber(in, key)
	if err != nil {
		return err
	}
	f.emitIgnoringStateError(in, newRank, old, oldRank)
	return nil
}

// emitWithRowNumber is UpdatableTopNFunction.emitRecordsWithRowNumber:
// in (already in the buffer) is new (old nil) or moved up from old at
// oldRank. Rows it passes move down one rank; rows pushed beyond RankEnd
// leave the buffer with their sort keys.
func (f *rankUpdateFn) emitWithRowNumber(in row.Row, old *rankUpdateItem, oldRank int64) {
	var rank int64
	cur := in
	curIsIn := false
	found := false
	oldRetracted := false
	i := 0
walk:
	for ; i < len(f.buf) && f.inEnd(rank); i++ {
		e := f.buf[i]
		head := e.rows[0].row
		switch {
		case !found && f.compare(head, in) == 0:
			rank += int64(len(e.rows))
			cur, curIsIn = in, true
			found = true
		case found && old == nil:
			for j := 0; j < len(e.rows) && f.inEnd(rank); j++ {
				prev := e.rows[j].row
				f.beforeAt(prev, rank)
				f.afterAt(cur, rank)
				cur, curIsIn = prev, false
				rank++
			}
		case found:
			if f.compare(head, old.row) > 0 {
				// Below the old sort key nothing moves.
				i++
				break walk
			}
			for j := 0; j < len(e.rows) && rank < oldRank; j++ {
				prev := e.rows[j].row
				f.beforeAt(prev, rank)
				if curIsIn && !oldRetracted {
					// The old row of the same unique key goes first.
					f.beforeAt(old.row, oldRank)
					oldRetracted = true
				}
				f.afterAt(cur, rank)
				cur, curIsIn = prev, false
				rank++
			}
		default:
			rank += int64(len(e.rows))
		}
	}
	if f.inEnd(rank) {
		if old == nil {
			f.insertAt(cur, rank)
		} else {
			if !oldRetracted {
				f.beforeAt(old.row, oldRank)
			}
			f.afterAt(cur, rank)
		}
		return
	}
	// The sort keys after the one the walk stopped in are out of the top.
	for _, e := range f.buf[i:] {
		for _, it := range e.rows {
			f.drop(it.key)
		}
	}
	f.buf = f.buf[:i]
}

// emitIgnoringStateError is Flink's
// emitRecordsWithRowNumberIgnoreStateError: in moved down from oldRank to
// newRank.
func (f *rankUpdateFn) emitIgnoringStateError(in row.Row, newRank int64, old *rankUpdateItem, oldRank int64) {
	var rank int64
	var prev row.Row
	for i := 0; i < len(f.buf) && rank <= newRank; i++ {
		for _, it := range f.buf[i].rows {
			rank++
			if oldRank <= rank {
				if rank == oldRank {
					f.beforeAt(old.row, oldRank)
				} else {
					f.beforeAt(prev, rank)
					f.afterAt(prev, rank-1)
					if rank == newRank {
						f.afterAt(in, rank)
					}
				}
			}
			prev = it.row
		}
	}
}
