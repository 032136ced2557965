package exec

import (
	"encoding/binary"
	"errors"
	"fmt"
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
	return nil
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
	fn := &dedupFn{spec: spec, codec: row.NewCodec(spec.Types)}
	ks := weir.KeyBy(in, joinKeySelector(spec.Keys, spec.Types))
	name := "ProcTimeDeduplicate"
	if spec.RowTime {
		name = "RowTimeDeduplicate"
	}
	return weir.ProcessKeyed[string, row.Row, row.Row](ks, fn).DefaultName(name), nil
}

type dedupFn struct {
	spec  DedupSpec
	codec *row.Codec
	seen  state.Value[bool]
	last  state.Value[dedupRow]
}

// dedupRow is the row a key keeps. On the heap backend its fields stay
// decoded; they are encoded when state is snapshotted or written (Pebble),
// and a dedupRow read back holds the encoding until the operator decodes
// it (load). The bytes are those of the string of the row's encoding that
// the state held before (Value[string]), so that state stays readable.
type dedupRow struct {
	codec  *row.Codec
	fields []row.Value
	enc    []byte // the row's encoding read from state, when fields is nil
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
	enc, n, err := lengthPrefixed(src, "deduplicate row")
	*d = dedupRow{enc: enc}
	return n, err
}

// load returns the kept row (as an insert row).
func (f *dedupFn) load(d dedupRow) (row.Row, error) {
	if d.fields != nil {
		return row.Row{Fields: d.fields}, nil
	}
	r, _, err := f.codec.Decode(d.enc)
	if err != nil {
		return row.Row{}, fmt.Errorf("sql/exec: deduplicate: state: %w", err)
	}
	return r.WithKind(row.Insert), nil
}

// keep stores a copy of r's fields as the kept row (fields of its own: a
// slab shared with other keys' rows would stay alive as long as one of
// them is kept).
func (f *dedupFn) keep(r row.Row) {
	f.last.Update(dedupRow{codec: f.codec, fields: slices.Clone(r.Fields)})
}

func (f *dedupFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	ttl := joinStateTTL(f.spec.StateTTL)
	f.seen = state.GetValue[string, bool](ctx.State(), state.Descriptor{Name: "dedup-seen", TTL: ttl})
	f.last = state.GetValue[string, dedupRow](ctx.State(), state.Descriptor{Name: "dedup-row", TTL: ttl})
	return nil
}

func (f *dedupFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	s := &f.spec
	if s.Updating {
		return f.changelog(ctx, in)
	}
	if in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: deduplicate: input must be append-only, got a %s row", in.Kind)
	}
	if len(in.Fields) != len(s.Types) {
		return fmt.Errorf("sql/exec: deduplicate: input row has %d fields, want %d", len(in.Fields), len(s.Types))
	}
	if !s.RowTime && !s.KeepLast {
		if seen, _ := f.seen.Value(); !seen {
			f.seen.Update(true)
			ctx.Collect(in)
		}
		return nil
	}
	kept, hasPrev := f.last.Value()
	var prev row.Row
	if hasPrev && (s.RowTime || s.GenerateUpdateBefore) {
		var err error
		if prev, err = f.load(kept); err != nil {
			return err
		}
	}
	if s.RowTime && hasPrev {
		pt, ct := prev.Fields[s.TimeCol], in.Fields[s.TimeCol]
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
		ctx.Collect(in.WithKind(row.UpdateAfter))
		return nil
	}
	f.keep(in)
	switch {
	case !s.GenerateUpdateBefore && !s.GenerateInsert:
		ctx.Collect(in.WithKind(row.UpdateAfter))
	case !hasPrev:
		ctx.Collect(in.WithKind(row.Insert))
	default:
		if s.GenerateUpdateBefore {
			ctx.Collect(prev.WithKind(row.UpdateBefore))
		}
		ctx.Collect(in.WithKind(row.UpdateAfter))
	}
	return nil
}

// changelog is keep-last deduplication of an updating input.
func (f *dedupFn) changelog(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if len(in.Fields) != len(f.spec.Types) {
		return fmt.Errorf("sql/exec: deduplicate: input row has %d fields, want %d", len(in.Fields), len(f.spec.Types))
	}
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
			ctx.Collect(in.WithKind(row.Insert))
		} else {
			if f.spec.GenerateUpdateBefore {
				ctx.Collect(prev.WithKind(row.UpdateBefore))
			}
			ctx.Collect(in.WithKind(row.UpdateAfter))
		}
		f.keep(in)
		return nil
	}
	// -U or -D: the kept row is gone (even after -U no +U may follow).
	// The kept row has the full content; the retraction may not.
	if !hasPrev {
		ctx.Collect(in.WithKind(row.Delete))
		return nil
	}
	ctx.Collect(prev.WithKind(row.Delete))
	f.last.Clear()
	return nil
}
