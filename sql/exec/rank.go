package exec

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// OrderKey is one ORDER BY item of a ranking: a column, its direction and
// where NULLs go. Flink's default is NULLS FIRST for ASC and NULLS LAST
// for DESC; the planner fills NullsLast accordingly.
type OrderKey struct {
	Col       int
	Desc      bool
	NullsLast bool
}

// compareByKeys orders rows a and b by keys, each a column of types (the
// rows' field types): NULLs first or last as the key says, descending
// keys reversed; 0 when every key ties.
func compareByKeys(a, b row.Row, keys []OrderKey, types []row.Type) int {
	for _, o := range keys {
		if c := compareKey(a.Fields[o.Col], b.Fields[o.Col], o, types); c != 0 {
			return c
		}
	}
	return 0
}

// compareKey orders x and y, values of ORDER BY item o, as compareByKeys
// does.
func compareKey(x, y row.Value, o OrderKey, types []row.Type) int {
	xn, yn := x.IsNull(), y.IsNull()
	switch {
	case xn && yn:
		return 0
	case xn || yn:
		if xn == !o.NullsLast {
			return -1
		}
		return 1
	}
	c := row.Compare(x, y, types[o.Col])
	if o.Desc {
		c = -c
	}
	return c
}

// RankSpec configures Rank: ROW_NUMBER() OVER (PARTITION BY
// PartitionKeys ORDER BY OrderBy) with RankStart <= rn <= RankEnd.
type RankSpec struct {
	// Types are the input's field types.
	Types []row.Type
	// PartitionKeys are the PARTITION BY columns (may be empty: one
	// partition).
	PartitionKeys []int
	// OrderBy are the sort keys; at least one.
	OrderBy []OrderKey
	// RankStart and RankEnd are the kept row numbers, 1-based and
	// inclusive (WHERE rn <= N is 1..N).
	RankStart, RankEnd int64
	// OutputRankNumber appends the row number (BIGINT) as the last column.
	OutputRankNumber bool
	// Updating says the input is a changelog with retractions; Rank then
	// keeps every row (Flink's RetractableTopNFunction) instead of only
	// the top RankEnd (AppendOnlyTopNFunction).
	Updating bool
	// GenerateUpdateBefore emits -U before each +U (the planner turns it
	// off when the consumer does not need update-before messages).
	GenerateUpdateBefore bool
	// StateTTL is table.exec.state.ttl (0 = keep forever). With a TTL, a
	// retraction of a row no longer in state is ignored; without, it
	// fails the job (Flink's lenient and strict handling).
	StateTTL time.Duration

	// UpdateKey, when set, is a unique key of the input that contains
	// the partition keys, on an input of +I and +U rows whose sort keys
	// only move towards the top: Rank then runs Flink's
	// UpdatableTopNFunction (UpdateFastStrategy, rank_update.go), which
	// keeps one row per key and updates it in place. Updating must be
	// set too.
	UpdateKey []int

	// CacheSize is table.exec.rank.topn-cache-size: how many rows of
	// decoded tops a subtask of the append-only and the updatable Top-N
	// keeps in memory (0: Flink's default, 10000; at least one partition's
	// top is kept). State stays authoritative: every change is written to
	// it, and the cache is only a view of it (rank_cache.go).
	CacheSize int64

	// noCache turns the append-only Top-N's cache of decoded tops off:
	// tests compare the answers with and without it.
	noCache bool
	// noArena keeps the append-only Top-N's tops as decoded rows on the
	// heap without TTL too, not in the arena form (rank_arena.go): tests
	// compare the two, and restore one's snapshots into the other.
	noArena bool
	// retractable runs an append-only input through the retractable
	// layout, as before append-only inputs had their own: tests restore
	// its snapshots into the append-only one.
	retractable bool
	// topN runs an append-only input without ORDER BY keys through the
	// Top-N layout, as before such inputs had their own (rankFirstNFn):
	// tests restore its snapshots into the count.
	topN bool
}

// cacheSize is CacheSize, or its default.
func (s *RankSpec) cacheSize() int64 {
	if s.CacheSize > 0 {
		return s.CacheSize
	}
	return defaultTopNCacheSize
}

func (s *RankSpec) check() error {
	if len(s.OrderBy) == 0 && len(s.PartitionKeys) > 0 {
		// Without order keys rows rank by arrival: LIMIT without ORDER BY
		// (no partition keys).
		return errors.New("sql/exec: rank: no ORDER BY keys")
	}
	for _, c := range s.PartitionKeys {
		if c < 0 || c >= len(s.Types) {
			return fmt.Errorf("sql/exec: rank: partition column %d out of range of %d columns", c, len(s.Types))
		}
	}
	for _, o := range s.OrderBy {
		if o.Col < 0 || o.Col >= len(s.Types) {
			return fmt.Errorf("sql/exec: rank: order column %d out of range of %d columns", o.Col, len(s.Types))
		}
	}
	if s.RankStart < 1 || s.RankEnd < s.RankStart {
		return fmt.Errorf("sql/exec: rank: bad rank range %d..%d", s.RankStart, s.RankEnd)
	}
	if s.StateTTL < 0 {
		return errors.New("sql/exec: rank: negative state TTL")
	}
	if s.CacheSize < 0 {
		return fmt.Errorf("sql/exec: rank: table.exec.rank.topn-cache-size is %d, not a number of rows", s.CacheSize)
	}
	if len(s.UpdateKey) > 0 {
		if !s.Updating {
			return errors.New("sql/exec: rank: an update key needs an updating input")
		}
		for _, c := range s.UpdateKey {
			if c < 0 || c >= len(s.Types) {
				return fmt.Errorf("sql/exec: rank: update key column %d out of range of %d columns", c, len(s.Types))
			}
		}
		for _, p := range s.PartitionKeys {
			if !slices.Contains(s.UpdateKey, p) {
				return fmt.Errorf("sql/exec: rank: the update key %v does not contain partition column %d", s.UpdateKey, p)
			}
		}
	}
	return nil
}

// Rank keeps, per partition, the rows whose ROW_NUMBER() is in
// RankStart..RankEnd, as Flink's streaming Top-N does. Rows with equal sort
// keys are numbered in arrival order (an earlier row ranks first).
//
// Append-only input (AppendOnlyTopNFunction): a row entering the top N is
// emitted +I; a row pushed out is emitted -D before it. With the row
// number column, a row entering moves the rows behind it: each rank whose
// row changes is updated in place (-U of the old row at that rank, +U of
// the new one), the first rank that did not exist before gets +I, and the
// row pushed beyond RankEnd is not retracted (its rank was taken over). Rows
// beyond RankEnd are not kept.
//
// Append-only input without ORDER BY keys (LIMIT without ORDER BY,
// AppendOnlyFirstNFunction): the first RankEnd rows of a partition are its
// top, and the state is their count (rank_firstn.go).
//
// Updating input with an UpdateKey (UpdatableTopNFunction): see
// rank_update.go.
//
// Updating input (RetractableTopNFunction): all rows are kept; accumulating
// rows are handled as above, and a retraction of a row in the top N
// removes it (-D, or with row numbers -U/+U for each rank that moves up and
// -D of the last rank) and brings in the next row beyond RankEnd (+I).
func Rank(in weir.Stream[row.Row], spec RankSpec) (weir.Stream[row.Row], error) {
	if err := spec.check(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	ks := weir.KeyBy(in, joinKeySelector(spec.PartitionKeys, spec.Types))
	if !spec.Updating && !spec.retractable {
		if len(spec.OrderBy) == 0 && !spec.topN {
			// The same name (and so the same uid) as the Top-N it
			// replaced for LIMIT without ORDER BY: its snapshots restore.
			return weir.ProcessKeyed[string, row.Row, row.Row](ks, newRankFirstNFn(spec)).DefaultName("AppendOnlyTopN"), nil
		}
		return weir.ProcessKeyed[string, row.Row, row.Row](ks, newRankAppendFn(spec)).DefaultName("AppendOnlyTopN"), nil
	}
	if len(spec.UpdateKey) > 0 {
		return weir.ProcessKeyed[string, row.Row, row.Row](ks, newRankUpdateFn(spec)).DefaultName(updatableTopNName), nil
	}
	return weir.ProcessKeyed[string, row.Row, row.Row](ks, newRankFn(spec)).DefaultName("RetractableTopN"), nil
}

// rankIndexEntry is one distinct sort key of a partition: its encoding and
// how many rows have it. A partition's entries are kept sorted.
type rankIndexEntry struct {
	Key string
	N   int64
}

// rankIndexState is the retractable layout's state: "rank-index" (a
// partition's sort keys and counts) and "rank-data" (sort key -> rows).
// The append-only Top-N functions hold it only to migrate partitions of
// older snapshots out of it.
type rankIndexState struct {
	index state.Value[[]rankIndexEntry]
	data  state.Map[string, []string]
}

// openRankIndexState gets the retractable layout's states.
func openRankIndexState(ctx *weir.KeyedRuntimeContext[string], ttl state.TTL) *rankIndexState {
	return &rankIndexState{
		index: state.GetValue[string, []rankIndexEntry](ctx.State(), state.Descriptor{Name: "rank-index", TTL: ttl}),
		data:  state.GetMap[string, string, []string](ctx.State(), state.Descriptor{Name: "rank-data", TTL: ttl}),
	}
}

// ifRestored returns s when a restore brought partitions of the layout,
// nil when it brought none (then its holder never looks at it again), and
// s with the error when the keys could not be read. Restored state is in
// place only after Open: it runs on the first row.
func (s *rankIndexState) ifRestored() (*rankIndexState, error) {
	restored, err := hasKeys(s.index)
	if err != nil {
		return s, err
	}
	if !restored {
		return nil, nil
	}
	return s, nil
}

type rankFn struct {
	spec         RankSpec
	codec        *row.Codec
	joinKeyTypes []row.Type
	keyCodec     *row.Codec
	index        state.Value[[]rankIndexEntry]
	data         state.Map[string, []string]

	// per call
	ctx *weir.KeyedContext[string, row.Row]
}

func newRankFn(spec RankSpec) *rankFn {
	kt := make([]row.Type, len(spec.OrderBy))
	for i, o := range spec.OrderBy {
		kt[i] = spec.Types[o.Col]
	}
	return &rankFn{spec: spec, codec: row.NewCodec(spec.Types), joinKeyTypes: kt, keyCodec: row.NewCodec(kt)}
}

func (f *rankFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	ttl := joinStateTTL(f.spec.StateTTL)
	f.index = state.GetValue[string, []rankIndexEntry](ctx.State(), state.Descriptor{Name: "rank-index", TTL: ttl})
	f.data = state.GetMap[string, string, []string](ctx.State(), state.Descriptor{Name: "rank-data", TTL: ttl})
	return nil
}

// sortKey extracts the sort key of r.
func (f *rankFn) sortKey(r row.Row) []row.Value {
	k := make([]row.Value, len(f.spec.OrderBy))
	for i, o := range f.spec.OrderBy {
		k[i] = r.Fields[o.Col]
	}
	return k
}

// compareKeys orders two sort keys by the ORDER BY items.
func (f *rankFn) compareKeys(a, b []row.Value) int {
	for i, o := range f.spec.OrderBy {
		an, bn := a[i].IsNull(), b[i].IsNull()
		switch {
		case an && bn:
			continue
		case an || bn:
			if an == !o.NullsLast {
				return -1
			}
			return 1
		}
		c := row.Compare(a[i], b[i], f.joinKeyTypes[i])
		if o.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func (f *rankFn) decodeKey(enc string) ([]row.Value, error) {
	r, _, err := f.keyCodec.Decode([]byte(enc))
	if err != nil {
		return nil, fmt.Errorf("sql/exec: rank: state: %w", err)
	}
	return r.Fields, nil
}

// find returns the position of key in idx and whether it is there (else
// the position it would be inserted at), decoding only the probed keys.
func (f *rankFn) find(idx []rankIndexEntry, key []row.Value) (int, bool, error) {
	var derr error
	i, found := slices.BinarySearchFunc(idx, key, func(e rankIndexEntry, k []row.Value) int {
		v, err := f.decodeKey(e.Key)
		if err != nil {
			derr = err
			return 0
		}
		return f.compareKeys(v, k)
	})
	return i, found, derr
}

func (f *rankFn) rows(key string) ([]row.Row, error) {
	encs, _ := f.data.Get(key)
	out := make([]row.Row, len(encs))
	for i, e := range encs {
		r, _, err := f.codec.Decode([]byte(e))
		if err != nil {
			return nil, fmt.Errorf("sql/exec: rank: state: %w", err)
		}
		out[i] = r
	}
	return out, nil
}

func (f *rankFn) inRange(rank int64) bool { return rank >= f.spec.RankStart && rank <= f.spec.RankEnd }
func (f *rankFn) inEnd(rank int64) bool   { return rank <= f.spec.RankEnd }

func (f *rankFn) emit(r row.Row, k row.Kind, rank int64) {
	fields := r.Fields
	if f.spec.OutputRankNumber {
		fields = make([]row.Value, len(r.Fields)+1)
		copy(fields, r.Fields)
		fields[len(r.Fields)] = row.Int(rank)
	}
	f.ctx.Collect(row.Row{Kind: k, Fields: fields})
}

// The collect helpers of Flink's AbstractTopNFunction: with a rank, only
// ranks in the range are emitted.
func (f *rankFn) collectInsert(r row.Row, rank int64) {
	if f.inRange(rank) {
		f.emit(r, row.Insert, rank)
	}
}

func (f *rankFn) collectDelete(r row.Row, rank int64) {
	if f.inRange(rank) {
		f.emit(r, row.Delete, rank)
	}
}

func (f *rankFn) collectUpdateBefore(r row.Row, rank int64) {
	if f.spec.GenerateUpdateBefore && f.inRange(rank) {
		f.emit(r, row.UpdateBefore, rank)
	}
}

func (f *rankFn) collectUpdateAfter(r row.Row, rank int64) {
	if f.inRange(rank) {
		f.emit(r, row.UpdateAfter, rank)
	}
}

func (f *rankFn) withRowNumber() bool { return f.spec.OutputRankNumber || f.spec.RankStart > 1 }

func (f *rankFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if len(in.Fields) != len(f.spec.Types) {
		return fmt.Errorf("sql/exec: rank: input row has %d fields, want %d", len(in.Fields), len(f.spec.Types))
	}
	f.ctx = ctx
	defer func() { f.ctx = nil }()
	idx, _ := f.index.Value()
	key := f.sortKey(in)
	pos, found, err := f.find(idx, key)
	if err != nil {
		return err
	}
	kind := in.Kind
	in = in.WithKind(row.Insert)
	switch {
	case !f.spec.Updating && !kind.IsAccumulate():
		return fmt.Errorf("sql/exec: rank: a %s row on an append-only Top-N input", kind)
	case !f.spec.Updating:
		return f.appendOnly(idx, pos, found, key, in)
	case kind.IsAccumulate():
		return f.accumulate(idx, pos, found, key, in)
	}
	return f.retract(idx, pos, found, in, kind)
}

// insert adds in (sort key key) to the partition at pos and returns the
// updated index.
func (f *rankFn) insert(idx []rankIndexEntry, pos int, found bool, key []row.Value, in row.Row) []rankIndexEntry {
	enc := string(f.codec.Append(nil, in))
	if found {
		idx[pos].N++
		rows, _ := f.data.Get(idx[pos].Key)
		f.data.Put(idx[pos].Key, append(rows, enc))
		return idx
	}
	k := string(f.keyCodec.Append(nil, row.Row{Fields: key}))
	idx = slices.Insert(idx, pos, rankIndexEntry{Key: k, N: 1})
	f.data.Put(k, []string{enc})
	return idx
}

func rankTotal(idx []rankIndexEntry) int64 {
	var n int64
	for _, e := range idx {
		n += e.N
	}
	return n
}

// appendOnly is AppendOnlyTopNFunction.processElement.
func (f *rankFn) appendOnly(idx []rankIndexEntry, pos int, found bool, key []row.Value, in row.Row) error {
	// Is the sort key within the buffer's range? A key equal to the worst
	// one only gets in while the buffer is not full (earlier rows win).
	if len(idx) > 0 {
		worst, err := f.decodeKey(idx[len(idx)-1].Key)
		if err != nil {
			return err
		}
		if f.compareKeys(key, worst) >= 0 && rankTotal(idx) >= f.spec.RankEnd {
			return nil
		}
	}
	idx = f.insert(idx, pos, found, key, in)
	if f.withRowNumber() {
		idx, err := f.emitWithRowNumber(idx, pos, in, true)
		if err != nil {
			return err
		}
		f.index.Update(idx)
		return nil
	}
	if rankTotal(idx) > f.spec.RankEnd {
		last := &idx[len(idx)-1]
		encs, _ := f.data.Get(last.Key)
		lastEnc := encs[len(encs)-1]
		if len(encs) <= 1 {
			f.data.Remove(last.Key)
			idx = idx[:len(idx)-1]
		} else {
			f.data.Put(last.Key, encs[:len(encs)-1])
			last.N--
		}
		if lastEnc == string(f.codec.Append(nil, in)) {
			// The row pushed out is (equal to) the new one: no change.
			f.index.Update(idx)
			return nil
		}
		evicted, _, err := f.codec.Decode([]byte(lastEnc))
		if err != nil {
			return fmt.Errorf("sql/exec: rank: state: %w", err)
		}
		f.ctx.Collect(f.plain(evicted, row.Delete))
		f.ctx.Collect(f.plain(in, row.Insert))
	} else {
		f.ctx.Collect(f.plain(in, row.Insert))
	}
	f.index.Update(idx)
	return nil
}

func (f *rankFn) plain(r row.Row, k row.Kind) row.Row { return r.WithKind(k) }

// emitWithRowNumber emits the changes an accumulated row at sort key
// position pos causes to the row numbers (the walk of Flink's
// processElementWithRowNumber / emitRecordsWithRowNumber). The index
// already counts the row. With prune (append-only), sort keys the walk
// did not reach are beyond RankEnd and are dropped from state.
func (f *rankFn) emitWithRowNumber(idx []rankIndexEntry, pos int, in row.Row, prune bool) ([]rankIndexEntry, error) {
	var rank int64
	var cur row.Row
	foundKey := false
	i := 0
	for ; i < len(idx) && f.inEnd(rank); i++ {
		e := idx[i]
		switch {
		case !foundKey && i == pos:
			rank += e.N
			cur = in
			foundKey = true
		case foundKey:
			rows, err := f.rows(e.Key)
			if err != nil {
				return nil, err
			}
			for j := 0; j < len(rows) && f.inEnd(rank); j++ {
				prev := rows[j]
				f.collectUpdateBefore(prev, rank)
				f.collectUpdateAfter(cur, rank)
				cur = prev
				rank++
			}
		default:
			rank += e.N
		}
	}
	if f.inEnd(rank) {
		f.collectInsert(cur, rank)
	}
	if prune {
		for _, e := range idx[i:] {
			f.data.Remove(e.Key)
		}
		idx = idx[:i]
	}
	return idx, nil
}

// accumulate is RetractableTopNFunction.processElement for +I/+U.
func (f *rankFn) accumulate(idx []rankIndexEntry, pos int, found bool, key []row.Value, in row.Row) error {
	idx = f.insert(idx, pos, found, key, in)
	if f.withRowNumber() {
		idx, err := f.emitWithRowNumber(idx, pos, in, false)
		if err != nil {
			return err
		}
		f.index.Update(idx)
		return nil
	}
	// emitRecordsWithoutRowNumber
	var rank int64
	foundKey := false
	var toDelete *row.Row
	collect := false
	for i := 0; i < len(idx) && f.inEnd(rank); i++ {
		e := idx[i]
		switch {
		case !foundKey && i == pos:
			rank += e.N
			collect = f.inRange(rank)
			foundKey = true
		case foundKey:
			last := rank + e.N
			if f.inEnd(last) {
				rank = last
				continue
			}
			rows, err := f.rows(e.Key)
			if err != nil {
				return err
			}
			d := rows[f.spec.RankEnd-rank]
			toDelete = &d
			i = len(idx) // break
		default:
			rank += e.N
		}
	}
	if toDelete != nil {
		f.ctx.Collect(f.plain(*toDelete, row.Delete))
	}
	if collect {
		f.ctx.Collect(f.plain(in, row.Insert))
	}
	f.index.Update(idx)
	return nil
}

// retract is RetractableTopNFunction.processElement for -U/-D.
func (f *rankFn) retract(idx []rankIndexEntry, pos int, found bool, in row.Row, kind row.Kind) error {
	if !found {
		if f.spec.StateTTL > 0 {
			return nil
		}
		return fmt.Errorf("sql/exec: rank: retraction of a row not in state: %s", row.FormatRow(in.WithKind(kind), f.spec.Types))
	}
	inEnc := string(f.codec.Append(nil, in))
	removed := false
	// removeOwn drops the retracted row from its sort key's list.
	removeOwn := func() {
		encs, _ := f.data.Get(idx[pos].Key)
		if j := slices.Index(encs, inEnc); j >= 0 {
			encs = slices.Delete(encs, j, j+1)
			removed = true
		}
		if len(encs) == 0 {
			f.data.Remove(idx[pos].Key)
		} else {
			f.data.Put(idx[pos].Key, encs)
		}
	}
	if f.withRowNumber() {
		var rank int64
		var prev row.Row
		foundRow := false
		for i := 0; i < len(idx) && f.inEnd(rank); i++ {
			e := idx[i]
			switch {
			case !foundRow && i == pos:
				rows, err := f.rows(e.Key)
				if err != nil {
					return err
				}
				encs, _ := f.data.Get(e.Key)
				for j := 0; j < len(rows) && f.inEnd(rank); j++ {
					switch {
					case !foundRow && encs[j] == inEnc:
						prev = rows[j]
						foundRow = true
					case foundRow:
						f.collectUpdateBefore(prev, rank)
						f.collectUpdateAfter(rows[j], rank)
						prev = rows[j]
					}
					rank++
				}
				if foundRow {
					removeOwn()
				}
			case foundRow:
				rows, err := f.rows(e.Key)
				if err != nil {
					return err
				}
				for j := 0; j < len(rows) && f.inEnd(rank); j++ {
					f.collectUpdateBefore(prev, rank)
					f.collectUpdateAfter(rows[j], rank)
					prev = rows[j]
					rank++
				}
			default:
				rank += e.N
			}
		}
		if f.inEnd(rank) && foundRow {
			f.collectDelete(prev, rank)
		}
	} else {
		next := int64(1)
		foundRow := false
		for i := 0; i < len(idx) && f.inEnd(next); i++ {
			e := idx[i]
			switch {
			case !foundRow && i == pos:
				rows, err := f.rows(e.Key)
				if err != nil {
					return err
				}
				encs, _ := f.data.Get(e.Key)
				for j := 0; j < len(rows) && f.inEnd(next); j++ {
					switch {
					case !foundRow && encs[j] == inEnc:
						if f.inRange(next) {
							f.ctx.Collect(f.plain(rows[j], row.Delete))
						}
						next--
						foundRow = true
					case foundRow && next == f.spec.RankEnd:
						// This row moves up into the top N.
						f.ctx.Collect(f.plain(rows[j], row.Insert))
					}
					next++
				}
				if foundRow {
					removeOwn()
				}
			case foundRow:
				last := next + e.N - 1
				if last < f.spec.RankEnd {
					next = last + 1
					continue
				}
				rows, err := f.rows(e.Key)
				if err != nil {
					return err
				}
				f.ctx.Collect(f.plain(rows[f.spec.RankEnd-next], row.Insert))
				i = len(idx) // break
			default:
				next += e.N
			}
		}
	}
	if !removed {
		removeOwn()
	}
	if removed {
		idx[pos].N--
		if idx[pos].N <= 0 {
			idx = slices.Delete(idx, pos, pos+1)
		}
	} else if f.spec.StateTTL == 0 {
		return fmt.Errorf("sql/exec: rank: retraction of a row not in state: %s", row.FormatRow(in.WithKind(kind), f.spec.Types))
	}
	if len(idx) == 0 {
		f.index.Clear()
		return nil
	}
	f.index.Update(idx)
	return nil
}
