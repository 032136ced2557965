package exec

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// TemporalSortSpec describes ORDER BY time ASC [, more keys] on a stream
// (Flink's StreamExecTemporalSort).
type TemporalSortSpec struct {
	// Types are the input's column types.
	Types []row.Type
	// TimeCol is the rowtime column sorted on first, or ProcTime.
	TimeCol int
	// Then are the secondary sort keys among rows of one time.
	Then []OrderKey
	// UID and Name identify the operator (default name "TemporalSort").
	UID, Name string
	// Counters, if set, receives the late-row count.
	Counters *Counters
}

func (s TemporalSortSpec) check() error {
	if s.TimeCol != ProcTime && (s.TimeCol < 0 || s.TimeCol >= len(s.Types) || !s.Types[s.TimeCol].IsTimestamp()) {
		return fmt.Errorf("sql/exec: TemporalSort: time column %d is not a timestamp column of %d", s.TimeCol, len(s.Types))
	}
	for _, o := range s.Then {
		if o.Col < 0 || o.Col >= len(s.Types) {
			return fmt.Errorf("sql/exec: TemporalSort: sort column %d out of range of %d columns", o.Col, len(s.Types))
		}
	}
	return nil
}

// TemporalSort emits an append-only stream sorted by time, on one
// subtask. On event time (Flink's RowTimeSortOperator) rows wait in state
// until the watermark passes their time, then go out in time order, rows
// of one time sorted by Then (stably, in arrival order otherwise); a row
// not after the last time emitted is late: dropped and counted
// (late_records_dropped_total; Flink drops it without counting). On
// processing time (ProcTimeSortOperator) the rows that arrived in one
// millisecond go out sorted by Then when the clock passes it. Updates
// (-U, +U, -D) fail the job.
func TemporalSort(in weir.Stream[row.Row], spec TemporalSortSpec) (weir.Stream[row.Row], error) {
	if err := spec.check(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	ks := weir.KeyBy(in, func(row.Row) string { return "" })
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &sortFn{spec: spec}).DefaultName("TemporalSort")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

// sortFn keeps, under the one key, map state "sort-rows": time -> the
// rows of that time (row.Codec, back to back), and value state
// "sort-last": the last time emitted (event time).
type sortFn struct {
	spec   TemporalSortSpec
	codec  *row.Codec
	rows   state.Map[int64, string]
	last   state.Value[int64]
	metric *int64
}

func (f *sortFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.codec = row.NewCodec(f.spec.Types)
	f.rows = state.GetMap[string, int64, string](ctx.State(), state.Descriptor{Name: "sort-rows"})
	f.last = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "sort-last"})
	f.metric = &ctx.Metrics().LateRecordsDropped
	return nil
}

func (f *sortFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: TemporalSort doesn't support consuming update and delete changes: got a %v row %s", in.Kind, row.FormatRow(in, f.spec.Types))
	}
	var t int64
	if f.spec.TimeCol == ProcTime {
		t = ctx.CurrentProcessingTime()
	} else {
		v := in.Fields[f.spec.TimeCol]
		if v.IsNull() {
			return fmt.Errorf("sql/exec: TemporalSort: the rowtime column %d of row %s is NULL", f.spec.TimeCol, row.FormatRow(in, f.spec.Types))
		}
		t = v.Millis()
		if last, ok := f.last.Value(); ok && t <= last {
			atomic.AddInt64(f.metric, 1)
			if f.spec.Counters != nil {
				f.spec.Counters.LateRecordsDropped.Add(1)
			}
			return nil
		}
	}
	enc, ok := f.rows.Get(t)
	f.rows.Put(t, string(f.codec.Append([]byte(enc), in)))
	if !ok {
		if f.spec.TimeCol == ProcTime {
			ctx.RegisterProcessingTimeTimer(t + 1)
		} else {
			ctx.RegisterEventTimeTimer(t)
		}
	}
	return nil
}

func (f *sortFn) OnTimer(ctx *weir.KeyedContext[string, row.Row], ts int64) error {
	t, outTS := ts, ts
	if f.spec.TimeCol == ProcTime {
		t, outTS = ts-1, weir.NoTimestamp
	}
	enc, ok := f.rows.Get(t)
	if !ok {
		return nil
	}
	b := []byte(enc)
	var rs []row.Row
	for off := 0; off < len(b); {
		r, n, err := f.codec.Decode(b[off:])
		if err != nil {
			return fmt.Errorf("sql/exec: TemporalSort: state: %w", err)
		}
		rs = append(rs, r)
		off += n
	}
	slices.SortStableFunc(rs, func(a, b row.Row) int { return compareByKeys(a, b, f.spec.Then, f.spec.Types) })
	for _, r := range rs {
		ctx.CollectWithTimestamp(r, outTS)
	}
	f.rows.Remove(t)
	if f.spec.TimeCol != ProcTime {
		f.last.Update(t)
	}
	return nil
}
