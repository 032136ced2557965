package exec

import (
	"fmt"
	"strings"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// WindowRankSpec configures WindowRank: ROW_NUMBER() OVER (PARTITION BY
// window_start, window_end, PartitionKeys ORDER BY OrderBy) with
// RankStart <= rn <= RankEnd, over the output of a windowing table
// function (TUMBLE, HOP, CUMULATE) or a window aggregation.
type WindowRankSpec struct {
	// Types are the input's field types.
	Types []row.Type
	// PartitionKeys are the PARTITION BY columns besides the window's.
	PartitionKeys []int
	// WindowStart and WindowEnd are the window_start and window_end
	// columns (TIMESTAMP or TIMESTAMP_LTZ).
	WindowStart, WindowEnd int
	// OrderBy are the sort keys; at least one.
	OrderBy []OrderKey
	// RankStart and RankEnd are the kept row numbers, 1-based, inclusive.
	RankStart, RankEnd int64
	// OutputRankNumber appends the row number (BIGINT) as the last column.
	OutputRankNumber bool
	// Zone is the session time zone when the windows are over a
	// TIMESTAMP_LTZ time attribute: window_end is then its wall clock
	// and the window fires at that wall clock's instant (window_zone.go).
	Zone *time.Location
}

func checkWindowColumns(types []row.Type, start, end int) error {
	if start < 0 || start >= len(types) || !types[start].IsTimestamp() {
		return fmt.Errorf("window_start column %d is not a timestamp column", start)
	}
	if end < 0 || end >= len(types) || !types[end].IsTimestamp() {
		return fmt.Errorf("window_end column %d is not a timestamp column", end)
	}
	return nil
}

func (s *WindowRankSpec) check() error {
	rs := RankSpec{Types: s.Types, PartitionKeys: s.PartitionKeys, OrderBy: s.OrderBy, RankStart: s.RankStart, RankEnd: s.RankEnd}
	if err := rs.check(); err != nil {
		return fmt.Errorf("sql/exec: window %s", strings.TrimPrefix(err.Error(), "sql/exec: "))
	}
	if err := checkWindowColumns(s.Types, s.WindowStart, s.WindowEnd); err != nil {
		return fmt.Errorf("sql/exec: window rank: %w", err)
	}
	return nil
}

// windowKeySelector keys rows by their partition columns and window.
func windowKeySelector(keys []int, start, end int, types []row.Type) func(row.Row) string {
	idx := append(append([]int{}, keys...), start, end)
	return joinKeySelector(idx, types)
}

// WindowRank is Flink's window Top-N (WindowRankOperator): the rows of
// each window and partition are buffered (only the best RankEnd, ties in
// arrival order) until the watermark reaches the window's end - 1 ms, then
// the rows ranked RankStart..RankEnd are emitted as +I in rank order and
// the window's state is dropped. A row whose window has already fired is
// late and dropped. Input and output are append-only.
func WindowRank(in weir.Stream[row.Row], spec WindowRankSpec) (weir.Stream[row.Row], error) {
	if err := spec.check(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	fn := &windowRankFn{spec: spec, rank: newRankFn(RankSpec{Types: spec.Types, OrderBy: spec.OrderBy,
		RankStart: spec.RankStart, RankEnd: spec.RankEnd, OutputRankNumber: spec.OutputRankNumber})}
	ks := weir.KeyBy(in, windowKeySelector(spec.PartitionKeys, spec.WindowStart, spec.WindowEnd, spec.Types))
	return weir.ProcessKeyed[string, row.Row, row.Row](ks, fn).DefaultName("WindowRank"), nil
}

type windowRankFn struct {
	spec WindowRankSpec
	rank *rankFn // sort key helpers, the codec and the emitting context
	buf  state.Value[[]string]
}

func (f *windowRankFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	// Each subtask gets a shallow copy of f (perSubtask), which shares
	// the pointer to rank: rank's context, set while a timer emits, is
	// the subtask's own only in a copy of its own.
	rank := *f.rank
	f.rank = &rank
	f.buf = state.GetValue[string, []string](ctx.State(), state.Descriptor{Name: "window-rank"})
	return nil
}

// windowFire returns the time the row's window fires (end - 1) and
// whether the window has already fired.
func windowFireTime(ctx *weir.KeyedContext[string, row.Row], r row.Row, end int, zone *time.Location) (int64, bool, error) {
	e := r.Fields[end]
	if e.IsNull() {
		// No window: the padded side of an outer window join. Flink reads
		// the NULL timestamp of its binary row as the epoch, a window
		// that has long fired: the row is late.
		return 0, true, nil
	}
	fire := Window{Zone: zone}.fire(e.Millis())
	return fire, fire <= ctx.CurrentWatermark(), nil
}

func (f *windowRankFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: window rank: input must be append-only, got a %s row", in.Kind)
	}
	if len(in.Fields) != len(f.spec.Types) {
		return fmt.Errorf("sql/exec: window rank: input row has %d fields, want %d", len(in.Fields), len(f.spec.Types))
	}
	fire, late, err := windowFireTime(ctx, in, f.spec.WindowEnd, f.spec.Zone)
	if err != nil {
		return fmt.Errorf("sql/exec: window rank: %w", err)
	}
	if late {
		return nil
	}
	rows, _ := f.buf.Value()
	key := f.rank.sortKey(in)
	// Insert after every row that sorts before or equal (arrival order
	// among ties), keeping at most RankEnd rows.
	pos := len(rows)
	for i, enc := range rows {
		r, _, err := f.rank.codec.Decode([]byte(enc))
		if err != nil {
			return fmt.Errorf("sql/exec: window rank: state: %w", err)
		}
		if f.rank.compareKeys(key, f.rank.sortKey(r)) < 0 {
			pos = i
			break
		}
	}
	if int64(pos) >= f.spec.RankEnd {
		return nil
	}
	if len(rows) == 0 {
		ctx.RegisterEventTimeTimer(fire)
	}
	rows = append(rows[:pos], append([]string{string(f.rank.codec.Append(nil, in))}, rows[pos:]...)...)
	if int64(len(rows)) > f.spec.RankEnd {
		rows = rows[:f.spec.RankEnd]
	}
	f.buf.Update(rows)
	return nil
}

func (f *windowRankFn) OnTimer(ctx *weir.KeyedContext[string, row.Row], _ int64) error {
	rows, _ := f.buf.Value()
	f.buf.Clear()
	f.rank.ctx = ctx
	defer func() { f.rank.ctx = nil }()
	for i, enc := range rows {
		r, _, err := f.rank.codec.Decode([]byte(enc))
		if err != nil {
			return fmt.Errorf("sql/exec: window rank: state: %w", err)
		}
		f.rank.collectInsert(r, int64(i+1))
	}
	return nil
}

// WindowDedupSpec configures WindowDeduplicate: ROW_NUMBER() OVER
// (PARTITION BY window_start, window_end, Keys ORDER BY rowtime ASC|DESC)
// = 1.
type WindowDedupSpec struct {
	// Types are the input's field types.
	Types []row.Type
	// Keys are the PARTITION BY columns besides the window's.
	Keys []int
	// WindowStart and WindowEnd are the window columns.
	WindowStart, WindowEnd int
	// TimeCol is the rowtime column ordered by.
	TimeCol int
	// KeepLast is ORDER BY rowtime DESC.
	KeepLast bool
	// Zone: see WindowRankSpec.Zone.
	Zone *time.Location
}

// WindowDeduplicate is Flink's window deduplication
// (RowTimeWindowDeduplicateRecordsCombiner): per window and key it keeps
// the row with the earliest rowtime (the first to arrive among equal
// times), or with KeepLast the latest (the last to arrive among equal
// times), and emits it as +I when the watermark reaches the window's
// end - 1 ms. Late rows are dropped. Input and output are append-only.
func WindowDeduplicate(in weir.Stream[row.Row], spec WindowDedupSpec) (weir.Stream[row.Row], error) {
	if err := checkWindowColumns(spec.Types, spec.WindowStart, spec.WindowEnd); err != nil {
		return weir.Stream[row.Row]{}, fmt.Errorf("sql/exec: window deduplicate: %w", err)
	}
	for _, c := range spec.Keys {
		if c < 0 || c >= len(spec.Types) {
			return weir.Stream[row.Row]{}, fmt.Errorf("sql/exec: window deduplicate: key column %d out of range", c)
		}
	}
	if spec.TimeCol < 0 || spec.TimeCol >= len(spec.Types) || !spec.Types[spec.TimeCol].IsTimestamp() {
		return weir.Stream[row.Row]{}, fmt.Errorf("sql/exec: window deduplicate: time column %d is not a timestamp column", spec.TimeCol)
	}
	fn := &windowDedupFn{spec: spec, codec: row.NewCodec(spec.Types)}
	ks := weir.KeyBy(in, windowKeySelector(spec.Keys, spec.WindowStart, spec.WindowEnd, spec.Types))
	return weir.ProcessKeyed[string, row.Row, row.Row](ks, fn).DefaultName("WindowDeduplicate"), nil
}

type windowDedupFn struct {
	spec  WindowDedupSpec
	codec *row.Codec
	kept  state.Value[string]
}

func (f *windowDedupFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.kept = state.GetValue[string, string](ctx.State(), state.Descriptor{Name: "window-dedup"})
	return nil
}

func (f *windowDedupFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: window deduplicate: input must be append-only, got a %s row", in.Kind)
	}
	if len(in.Fields) != len(f.spec.Types) {
		return fmt.Errorf("sql/exec: window deduplicate: input row has %d fields, want %d", len(in.Fields), len(f.spec.Types))
	}
	fire, late, err := windowFireTime(ctx, in, f.spec.WindowEnd, f.spec.Zone)
	if err != nil {
		return fmt.Errorf("sql/exec: window deduplicate: %w", err)
	}
	if late {
		return nil
	}
	enc, ok := f.kept.Value()
	if ok {
		prev, _, err := f.codec.Decode([]byte(enc))
		if err != nil {
			return fmt.Errorf("sql/exec: window deduplicate: state: %w", err)
		}
		c := row.Compare(in.Fields[f.spec.TimeCol], prev.Fields[f.spec.TimeCol], f.spec.Types[f.spec.TimeCol])
		if (f.spec.KeepLast && c < 0) || (!f.spec.KeepLast && c >= 0) {
			return nil
		}
	} else {
		ctx.RegisterEventTimeTimer(fire)
	}
	f.kept.Update(string(f.codec.Append(nil, in)))
	return nil
}

func (f *windowDedupFn) OnTimer(ctx *weir.KeyedContext[string, row.Row], _ int64) error {
	enc, ok := f.kept.Value()
	if !ok {
		return nil
	}
	f.kept.Clear()
	r, _, err := f.codec.Decode([]byte(enc))
	if err != nil {
		return fmt.Errorf("sql/exec: window deduplicate: state: %w", err)
	}
	ctx.Collect(r)
	return nil
}
