package exec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/weirstream/weir"
	wcodec "github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// DedupSpec configures Deduplicate: ROW_NUMBER() OVER (PARTITION BY Keys
// ORDER BY time ASC|DESC) WHERE rn = 1.
type DedupSpec struct {
	// Types are the input's field types.
	Types []row.Type
	// Keys are the PARTITION BY columns (may be empty: one partition).
	Keys []int
	// KeepLast is ORDER BY ... DESC (keep the last row); false keeps the
	// first row (ASC).
	KeepLast bool
	// RowTime orders by the event-time column TimeCol (Flink's
	// RowTimeDeduplicateFunction); false orders by processing time, that
	// is by arrival.
	RowTime bool
	// TimeCol is the rowtime column (TIMESTAMP or TIMESTAMP_LTZ) when
	// RowTime is set.
	TimeCol int
	// GenerateUpdateBefore emits -U of the replaced row before the +U of
	// its successor.
	GenerateUpdateBefore bool
	// GenerateInsert emits a partition's first row as +I (otherwise every
	// row is +U, which upsert consumers accept). Flink's planner sets it
	// unless table.exec.deduplicate.insert-update-after-sensitive-enabled
	// is turned off.
	GenerateInsert bool
	// Updating says the input is a changelog (only for keep-last on
	// processing time, Flink's processLastRowOnChangelog): +I/+U replace
	// the kept row as above, -U/-D delete it (-D of the kept row).
	Updating bool
	// StateTTL is table.exec.state.ttl (0 = keep forever).
	StateTTL time.Duration
	// MiniBatch, when enabled, holds rows in memory (Flink's
	// ProcTimeMiniBatchDeduplicateKeepFirstRowFunction and
	// KeepLastRowFunction, on event time RowTimeMiniBatchDeduplicateFunction;
	// see dedup_minibatch.go).
	MiniBatch MiniBatch
	// CompactChanges, on event time with MiniBatch, holds one row per key
	// and batch and emits only its net change (Flink's
	// RowTimeMiniBatchLatestChangeDeduplicateFunction,
	// table.exec.deduplicate.mini-batch.compact-changes-enabled).
	CompactChanges bool
}

func (s *DedupSpec) check() error {
	for _, c := range s.Keys {
		if c < 0 || c >= len(s.Types) {
			return fmt.Errorf("sql/exec: deduplicate: key column %d out of range of %d columns", c, len(s.Types))
		}
	}
	if s.RowTime && (s.TimeCol < 0 || s.TimeCol >= len(s.Types) || !s.Types[s.TimeCol].IsTimestamp()) {
		return fmt.Errorf("sql/exec: deduplicate: time column %d is not a timestamp column", s.TimeCol)
	}
	if s.StateTTL < 0 {
		return errors.New("sql/exec: deduplicate: negative state TTL")
	}
	if s.Updating && (!s.KeepLast || s.RowTime) {
		return errors.New("sql/exec: deduplicate: an updating input needs keep-last on processing time")
	}
	return s.MiniBatch.check()
}

// Deduplicate keeps the first or the last row of each partition of an
// append-only stream, as Flink's deduplication functions:
//
//   - processing time, first row (ProcTimeDeduplicateKeepFirstRowFunction):
//     the first row of a key is emitted +I, later rows are dropped; the
//     output is append-only.
//   - processing time, last row (ProcTimeDeduplicateKeepLastRowFunction):
//     the first row is +I, each later row replaces it: -U of the previous
//     row (GenerateUpdateBefore) then +U of the new one.
//   - event time (RowTimeDeduplicateFunction): a row replaces the kept one
//     when its rowtime is later or equal (last row) or strictly earlier
//     (first row), emitted as above; other rows are dropped.
//
// Without GenerateUpdateBefore and GenerateInsert every emitted row is +U.
// With Updating, keep-last on processing time also accepts a changelog
// (see DedupSpec.Updating).
func Deduplicate(in weir.Stream[row.Row], spec DedupSpec) (weir.Stream[row.Row], error) {
	if err := spec.check(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	fn := &dedupFn{spec: spec, codec: row.NewCodec(spec.Types), compact: !spec.GenerateUpdateBefore && !spec.Updating, name: "ProcTimeDeduplicate"}
	if spec.RowTime {
		fn.name = "RowTimeDeduplicate"
	}
	ks := weir.KeyBy(in, joinKeySelector(spec.Keys, spec.Types))
	return weir.ProcessKeyed[string, row.Row, row.Row](ks, fn).DefaultName(fn.name), nil
}

type dedupFn struct {
	spec  DedupSpec
	codec *row.Codec
	name  string // the operator's name, for errors
	seen  state.Value[bool]
	// last is "dedup-row", each key's kept row, when not compact.
	last state.Value[dedupRow]
	// lastT is "dedup-time", each key's kept rowtime, when compact; when
	// not compact it is only looked at once, to refuse state a compact
	// plan wrote (see checkTimes).
	lastT state.Value[keptTime]
	// lastC is "dedup-row" when compact (last is then nil): the kept rows
	// of the layout before "dedup-time" (up to fc3f498, and the state of
	// a plan that emitted -U), moved to lastT key by key (see kept; with
	// a state TTL only when a row replaces them, in keep).
	lastC state.Value[keptRow]
	// compact: no output needs the kept row itself (no -U, no changelog
	// input), so it is only compared (rowtime) or tested for presence,
	// and only its rowtime is kept (lastT).
	compact bool
	// checked: the one look at the other layout's state (lastC when
	// compact, lastT otherwise) is done; hasOld: lastC had keys then.
	checked, hasOld bool
	// inRow: the row kept returned last was read from lastC (keep
	// clears it there when it writes lastT).
	inRow bool
	// mb holds the rows of a mini-batch (nil without mini-batch).
	mb *dedupBundle
	// flushing: the rows emitted now are a mini-batch's, with timestamp
	// ts (in ProcessElement the context gives the input's).
	flushing bool
	ts       int64
}

// collect emits r: with the input row's timestamp, or with the held
// row's when a mini-batch is flushed.
func (f *dedupFn) collect(ctx *weir.KeyedContext[string, row.Row], r row.Row) {
	if f.flushing {
		ctx.CollectWithTimestamp(r, f.ts)
		return
	}
	ctx.Collect(r)
}

// dedupRow is the row a key keeps, in one of three forms, all stored as
// the same bytes (the string of the row's encoding that the state held
// before, Value[string], so that state stays readable):
//
//   - decoded (fields set): the row's fields, encoded when state is
//     snapshotted or written (Pebble); kept when the operator emits the
//     kept row again (-U, changelog input).
//   - compact (timed, or enc set with fields nil by keep): the row's
//     encoding, and its rowtime (millis, nanos) when the operator orders by
//     one. No pointer into the row's fields or strings: one pointer-free
//     allocation per kept row, which the GC marks but does not scan, and
//     the input's strings are not kept alive.
//   - read back from state (fields nil, timed false): the encoding, decoded
//     by the operator on use.
type dedupRow struct {
	codec  *row.Codec
	fields []row.Value
	enc    string
	ms     int64 // rowtime of a timed compact row
	ns     int32
	timed  bool
	// timeOnly: the row is not held, only its rowtime (ms, ns when timed,
	// NULL otherwise): read from "dedup-time".
	timeOnly bool
}

// StateSchema implements codec.SelfSchema: the layout of a string.
func (d dedupRow) StateSchema() string { return "string" }

// AppendState implements codec.SelfEncoder: the length of the row's
// encoding, then the encoding (as a string is encoded).
func (d dedupRow) AppendState(dst []byte) []byte {
	if d.fields == nil {
		dst = binary.AppendUvarint(dst, uint64(len(d.enc)))
		return append(dst, d.enc...)
	}
	start := len(dst)
	return prefixLength(d.codec.Append(dst, row.Row{Fields: d.fields}), start)
}

// prefixLength puts the length of dst[start:] (uvarint) before it, as a
// string or []byte is encoded: the bytes are appended first, then shifted
// right by the size of the prefix.
func prefixLength(dst []byte, start int) []byte {
	n := len(dst) - start
	var pre [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(pre[:], uint64(n))
	dst = append(dst, pre[:k]...)
	copy(dst[start+k:], dst[start:start+n])
	copy(dst[start:], pre[:k])
	return dst
}

// lengthPrefixed returns a copy of the length-prefixed bytes at the start
// of src (what prefixLength wrote) and the size read; what names them in
// an error.
func lengthPrefixed(src []byte, what string) ([]byte, int, error) {
	n, k := binary.Uvarint(src)
	if k <= 0 || uint64(len(src)-k) < n {
		return nil, 0, fmt.Errorf("%w: %s", wcodec.ErrCorrupt, what)
	}
	return slices.Clone(src[k : k+int(n)]), k + int(n), nil
}

// DecodeState implements codec.SelfDecoder: the encoding is kept and
// decoded by the operator on use.
func (d *dedupRow) DecodeState(src []byte) (int, error) {
	n, k := binary.Uvarint(src)
	if k <= 0 || uint64(len(src)-k) < n {
		*d = dedupRow{}
		return 0, fmt.Errorf("%w: %s", wcodec.ErrCorrupt, "deduplicate row")
	}
	*d = dedupRow{enc: string(src[k : k+int(n)])}
	return k + int(n), nil
}

// keptRow is the compact form of dedupRow alone: the row's encoding and
// its rowtime. The compact form never has a codec or fields, so its
// state's map entries are 32 bytes instead of dedupRow's 64: the map of
// every key's kept row (q18 keeps one per bidder and auction) is half the
// size to grow, rehash and scan. The same state bytes and schema as
// dedupRow (the string of the row's encoding), so snapshots restore across
// the two in both directions.
type keptRow struct {
	enc   string
	ms    int64 // rowtime, when timed
	ns    int32
	timed bool
}

// StateSchema implements codec.SelfSchema: the layout of a string.
func (d keptRow) StateSchema() string { return "string" }

// AppendState implements codec.SelfEncoder: as dedupRow's.
func (d keptRow) AppendState(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(d.enc)))
	return append(dst, d.enc...)
}

// DecodeState implements codec.SelfDecoder: as dedupRow's (the rowtime is
// read from the row on use).
func (d *keptRow) DecodeState(src []byte) (int, error) {
	var r dedupRow
	n, err := r.DecodeState(src)
	*d = keptRow{enc: r.enc}
	return n, err
}

// keptTime is a key's state in a compact deduplication ("dedup-time"):
// nothing emits the kept row again, so only its rowtime is kept, to decide
// whether a later row replaces it (or, on processing time, that the key
// has a row). No pointer: the state's entries are not scanned by the GC,
// and no row is encoded or allocated per kept row.
type keptTime struct {
	ms   int64
	ns   int32
	null bool // NULL rowtime, or processing time (none)
}

// keptTimeSchema names keptTime's encoding.
const keptTimeSchema = "sql/exec.keptTime/1"

// StateSchema implements codec.SelfSchema.
func (keptTime) StateSchema() string { return keptTimeSchema }

// AppendState implements codec.SelfEncoder: a flag byte (1: NULL), then
// for a rowtime its milliseconds (zigzag varint) and nanoseconds of the
// millisecond (uvarint).
func (t keptTime) AppendState(dst []byte) []byte {
	if t.null {
		return append(dst, 1)
	}
	dst = append(dst, 0)
	dst = binary.AppendVarint(dst, t.ms)
	return binary.AppendUvarint(dst, uint64(t.ns))
}

// DecodeState implements codec.SelfDecoder.
func (t *keptTime) DecodeState(src []byte) (int, error) {
	*t = keptTime{}
	if len(src) == 0 || src[0] > 1 {
		return 0, fmt.Errorf("%w: %s", wcodec.ErrCorrupt, "deduplicate rowtime")
	}
	if src[0] == 1 {
		t.null = true
		return 1, nil
	}
	ms, k := binary.Varint(src[1:])
	if k <= 0 {
		return 0, fmt.Errorf("%w: %s", wcodec.ErrCorrupt, "deduplicate rowtime")
	}
	ns, k2 := binary.Uvarint(src[1+k:])
	if k2 <= 0 || ns >= 1_000_000 {
		return 0, fmt.Errorf("%w: %s", wcodec.ErrCorrupt, "deduplicate rowtime")
	}
	t.ms, t.ns = ms, int32(ns)
	return 1 + k + k2, nil
}

// kept returns the current key's kept row.
func (f *dedupFn) kept() (dedupRow, bool, error) {
	if !f.compact {
		d, ok := f.last.Value()
		return d, ok, nil
	}
	f.inRow = false
	t, ok := f.lastT.Value()
	if !ok {
		var err error
		if t, ok, err = f.restoredRow(); err != nil {
			return dedupRow{}, false, err
		}
		switch {
		case !ok:
		case f.spec.StateTTL > 0:
			// Moved when a row replaces it (keep): a write would extend
			// its time to live.
			f.inRow = true
		default:
			// Moved now: decoded once, not on each of the key's rows.
			f.lastC.Clear()
			f.lastT.Update(t)
		}
	}
	return dedupRow{ms: t.ms, ns: t.ns, timed: !t.null, timeOnly: true}, ok, nil
}

// restoredRow returns the rowtime of the current key's row restored into
// "dedup-row" (the layout before "dedup-time", or a plan that emitted -U);
// whether "dedup-row" holds any key is asked once per subtask, on the
// first key without a rowtime. With a state TTL the row stays there until
// a row replaces it (keep): a row the deduplication drops writes no state,
// so, as in Flink, it does not extend the key's time to live
// (OnCreateAndWrite); without, kept moves it at once.
func (f *dedupFn) restoredRow() (keptTime, bool, error) {
	if !f.checked {
		f.checked = true
		if err := state.KeysOf[string](f.lastC, func(string) { f.hasOld = true }); err != nil {
			return keptTime{}, false, fmt.Errorf("sql/exec: %s: state: %w", f.name, err)
		}
	}
	if !f.hasOld {
		return keptTime{}, false, nil
	}
	k, ok := f.lastC.Value()
	if !ok {
		return keptTime{}, false, nil
	}
	t := keptTime{null: true}
	if f.spec.RowTime {
		tv, err := f.keptTime(dedupRow{enc: k.enc, ms: k.ms, ns: k.ns, timed: k.timed})
		if err != nil {
			return keptTime{}, false, err
		}
		if !tv.IsNull() {
			t = keptTime{ms: tv.Millis(), ns: tv.NanoOfMilli()}
		}
	}
	return t, true, nil
}

// checkTimes refuses, once per subtask, a restored "dedup-time": a plan
// that emits -U rows (or reads a changelog) needs each key's kept row,
// and a compact plan kept only its rowtime.
func (f *dedupFn) checkTimes() error {
	f.checked = true
	n := 0
	if err := state.KeysOf[string](f.lastT, func(string) { n++ }); err != nil {
		return fmt.Errorf("sql/exec: %s: state: %w", f.name, err)
	}
	if n > 0 {
		held := "the rowtime of the row kept"
		if !f.spec.RowTime {
			held = "that a row was kept (not the row)"
		}
		return fmt.Errorf("sql/exec: %s: the restored state holds only %s for %d keys of this subtask "+
			"(written by a plan whose deduplication emitted no -U rows); this plan emits -U rows and needs the rows "+
			"themselves: restore a savepoint of a plan that emits -U rows, or start the job without this savepoint", f.name, held, n)
	}
	return nil
}

// load returns the kept row (as an insert row).
func (f *dedupFn) load(d dedupRow) (row.Row, error) {
	if d.fields != nil {
		return row.Row{Fields: d.fields}, nil
	}
	r, _, err := f.codec.Decode([]byte(d.enc))
	if err != nil {
		return row.Row{}, fmt.Errorf("sql/exec: deduplicate: state: %w", err)
	}
	return r.WithKind(row.Insert), nil
}

// keptTime returns the rowtime of the kept row.
func (f *dedupFn) keptTime(d dedupRow) (row.Value, error) {
	if d.timed {
		return row.Timestamp(d.ms, d.ns), nil
	}
	if d.timeOnly {
		return row.Null(), nil
	}
	r, err := f.load(d)
	if err != nil {
		return row.Value{}, err
	}
	return r.Fields[f.spec.TimeCol], nil
}

// keep stores r as the kept row: its rowtime when compact (see
// keptTime; a row restored into "dedup-row" that kept read is dropped
// there), or a copy of r's fields (fields of its own: a slab shared with
// other keys' rows would stay alive as long as one of them is kept).
func (f *dedupFn) keep(r row.Row) {
	if !f.compact {
		f.last.Update(dedupRow{codec: f.codec, fields: slices.Clone(r.Fields)})
		return
	}
	t := keptTime{null: true}
	if f.spec.RowTime {
		if tv := r.Fields[f.spec.TimeCol]; !tv.IsNull() {
			t = keptTime{ms: tv.Millis(), ns: tv.NanoOfMilli()}
		}
	}
	f.lastT.Update(t)
	if f.inRow {
		f.lastC.Clear()
		f.inRow = false
	}
}

func (f *dedupFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	ttl := joinStateTTL(f.spec.StateTTL)
	f.seen = state.GetValue[string, bool](ctx.State(), state.Descriptor{Name: "dedup-seen", TTL: ttl})
	f.lastT = state.GetValue[string, keptTime](ctx.State(), state.Descriptor{Name: "dedup-time", TTL: ttl})
	if f.compact {
		f.lastC = state.GetValue[string, keptRow](ctx.State(), state.Descriptor{Name: "dedup-row", TTL: ttl})
	} else {
		f.last = state.GetValue[string, dedupRow](ctx.State(), state.Descriptor{Name: "dedup-row", TTL: ttl})
	}
	if f.spec.MiniBatch.Enabled() {
		// In Open: each subtask has its own copy of f (and so of mb).
		f.mb = &dedupBundle{rows: map[string]*heldRow{}, wm: math.MinInt64}
	}
	return nil
}

func (f *dedupFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	s := &f.spec
	if len(in.Fields) != len(s.Types) {
		return fmt.Errorf("sql/exec: deduplicate: input row has %d fields, want %d", len(in.Fields), len(s.Types))
	}
	if !s.Updating && in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: deduplicate: input must be append-only, got a %s row", in.Kind)
	}
	if !f.compact && !f.checked && (s.RowTime || s.KeepLast) {
		if err := f.checkTimes(); err != nil {
			return err
		}
	}
	if f.mb != nil {
		return f.buffer(ctx, in)
	}
	return f.process(ctx, in)
}

// process handles one row (of the input, or the row a mini-batch kept
// for its key).
func (f *dedupFn) process(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	s := &f.spec
	if s.Updating {
		return f.changelog(ctx, in)
	}
	if !s.RowTime && !s.KeepLast {
		if seen, _ := f.seen.Value(); !seen {
			f.seen.Update(true)
			f.collect(ctx, in)
		}
		return nil
	}
	kept, hasPrev, err := f.kept()
	if err != nil {
		return err
	}
	var prev row.Row
	if hasPrev && s.GenerateUpdateBefore {
		var err error
		if prev, err = f.load(kept); err != nil {
			return err
		}
	}
	if s.RowTime && hasPrev {
		var pt row.Value
		if prev.Fields != nil {
			pt = prev.Fields[s.TimeCol] // decoded already (for the -U row)
		} else {
			var err error
			if pt, err = f.keptTime(kept); err != nil {
				return err
			}
		}
		ct := in.Fields[s.TimeCol]
		t := s.Types[s.TimeCol]
		var replace bool
		if s.KeepLast {
			replace = row.Compare(pt, ct, t) <= 0
		} else {
			replace = row.Compare(ct, pt, t) < 0
		}
		if !replace {
			return nil
		}
	}
	if !s.RowTime && !s.GenerateUpdateBefore && !s.GenerateInsert {
		// Nothing to remember: every row is an upsert.
		f.collect(ctx, in.WithKind(row.UpdateAfter))
		return nil
	}
	f.keep(in)
	switch {
	case !s.GenerateUpdateBefore && !s.GenerateInsert:
		f.collect(ctx, in.WithKind(row.UpdateAfter))
	case !hasPrev:
		f.collect(ctx, in.WithKind(row.Insert))
	default:
		if s.GenerateUpdateBefore {
			f.collect(ctx, prev.WithKind(row.UpdateBefore))
		}
		f.collect(ctx, in.WithKind(row.UpdateAfter))
	}
	return nil
}

// changelog is keep-last deduplication of an updating input.
func (f *dedupFn) changelog(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	kept, hasPrev := f.last.Value()
	var prev row.Row
	if hasPrev {
		var err error
		if prev, err = f.load(kept); err != nil {
			return err
		}
	}
	if in.Kind.IsAccumulate() {
		if !hasPrev {
			f.collect(ctx, in.WithKind(row.Insert))
		} else {
			if f.spec.GenerateUpdateBefore {
				f.collect(ctx, prev.WithKind(row.UpdateBefore))
			}
			f.collect(ctx, in.WithKind(row.UpdateAfter))
		}
		f.keep(in)
		return nil
	}
	// -U or -D: the kept row is gone (even after -U no +U may follow).
	// The kept row has the full content; the retraction may not.
	if !hasPrev {
		f.collect(ctx, in.WithKind(row.Delete))
		return nil
	}
	f.collect(ctx, prev.WithKind(row.Delete))
	f.last.Clear()
	return nil
}
