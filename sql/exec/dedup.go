package exec

import (
	"errors"
	"fmt"
	"time"

	"github.com/weirstream/weir"
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
	last  state.Value[string]
}

func (f *dedupFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	ttl := joinStateTTL(f.spec.StateTTL)
	f.seen = state.GetValue[string, bool](ctx.State(), state.Descriptor{Name: "dedup-seen", TTL: ttl})
	f.last = state.GetValue[string, string](ctx.State(), state.Descriptor{Name: "dedup-row", TTL: ttl})
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
	prevEnc, hasPrev := f.last.Value()
	var prev row.Row
	if hasPrev && (s.RowTime || s.GenerateUpdateBefore) {
		var err error
		if prev, _, err = f.codec.Decode([]byte(prevEnc)); err != nil {
			return fmt.Errorf("sql/exec: deduplicate: state: %w", err)
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
	f.last.Update(string(f.codec.Append(nil, in)))
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
	prevEnc, hasPrev := f.last.Value()
	var prev row.Row
	if hasPrev {
		var err error
		if prev, _, err = f.codec.Decode([]byte(prevEnc)); err != nil {
			return fmt.Errorf("sql/exec: deduplicate: state: %w", err)
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
		f.last.Update(string(f.codec.Append(nil, in.WithKind(row.Insert))))
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
