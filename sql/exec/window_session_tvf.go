package exec

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// SessionTVFSpec describes the SESSION window table function used
// without an aggregation over it (Flink 1.19's FLINK-34100):
//
//	SELECT * FROM TABLE(SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), gap))
//
// Unlike TUMBLE, HOP and CUMULATE, a row's session is known only when the
// session closes, so rows wait in keyed state until then, as in Flink's
// unaligned window table function operator.
type SessionTVFSpec struct {
	// InputTypes are the types of the input columns.
	InputTypes []row.Type
	// TimeCol is the event-time column, or ProcTime.
	TimeCol int
	// Window is the SESSION windowing (its Gap and Zone).
	Window Window
	// PartitionKeys are the PARTITION BY columns: sessions are per value
	// of them (none: one session sequence for the whole input).
	PartitionKeys []int
	// UID and Name identify the operator (default name
	// "WindowTableFunction").
	UID, Name string
	// Counters, if set, receives the operator's counters.
	Counters *Counters
}

// OutputTypes returns the input types followed by window_start,
// window_end and window_time.
func (s SessionTVFSpec) OutputTypes() ([]row.Type, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	ws, we, wt := windowColumnTypes(s.InputTypes, s.TimeCol)
	return append(append([]row.Type(nil), s.InputTypes...), ws, we, wt), nil
}

func (s SessionTVFSpec) check() error {
	if s.Window.Kind != SessionWindow {
		return fmt.Errorf("sql/exec: SessionTVF takes a SESSION window, got %v", s.Window)
	}
	_, err := WindowAggSpec{InputTypes: s.InputTypes, TimeCol: s.TimeCol, Window: s.Window, GroupKeys: s.PartitionKeys}.compile()
	return err
}

// SessionTVF appends window_start, window_end and window_time to every row
// of an append-only stream once the row's session closes: when the
// watermark (or, on processing time, the clock) passes the session's end
// (the last row's time plus the gap). Rows within gap of each other, of
// the same partition key, are one session, [first row's time, last row's
// time + gap); a row that would join or open a session already closed is
// late, dropped and counted. Each output row keeps its input row's
// fields; window_time is window_end - 1 ms, the row's event time.
func SessionTVF(in weir.Stream[row.Row], spec SessionTVFSpec) (weir.Stream[row.Row], error) {
	if err := spec.check(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	ks := weir.KeyBy(in, keySelector(spec.InputTypes, spec.PartitionKeys))
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &sessionTVFFn{spec: spec}).DefaultName("WindowTableFunction")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

// sessionTVFFn is the keyed function of SessionTVF. Per key it keeps a map
// from session start to the session: its end (a varint), then its rows,
// each field encoded by appendNullable, in the order of their times (ties
// in arrival order). A timer per session fires at its end - 1.
type sessionTVFFn struct {
	spec     SessionTVFSpec
	sessions state.Map[int64, string]
	entries  []state.Entry[int64, string]
	metrics  *int64
	buf      []byte
	merged   []sessionRows
	rows     []encodedRow
}

type sessionRows struct {
	start, end int64
	rows       string
}

// encodedRow is one row of a session: its time and encoding.
type encodedRow struct {
	t   int64
	enc string
}

func (f *sessionTVFFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.sessions = state.GetMap[string, int64, string](ctx.State(), state.Descriptor{Name: "session-tvf-rows"})
	f.metrics = &ctx.Metrics().LateRecordsDropped
	return nil
}

func (f *sessionTVFFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: the SESSION window table function takes an append-only input, got a %v row", in.Kind)
	}
	proc := f.spec.TimeCol == ProcTime
	var t int64
	if proc {
		t = ctx.CurrentProcessingTime()
	} else {
		v := in.Fields[f.spec.TimeCol]
		if v.IsNull() {
			return fmt.Errorf("sql/exec: the rowtime column %d is NULL; the time attribute of a window must not be NULL", f.spec.TimeCol)
		}
		t = v.Millis()
	}
	w := f.spec.Window
	t = w.local(t)
	start, end := t, t+w.Gap.Milliseconds()
	f.entries = state.AppendEntries(f.sessions, f.entries[:0])
	merged := f.merged[:0]
	for _, en := range f.entries {
		e, n := binary.Varint([]byte(en.Value))
		if n <= 0 {
			return corrupt("session end")
		}
		// Sessions that overlap or touch merge (Flink's
		// TimeWindow.intersects), as in the SESSION window aggregation.
		if en.Key <= end && start <= e {
			merged = append(merged, sessionRows{en.Key, e, en.Value[n:]})
		}
	}
	clear(f.entries)
	f.merged = merged
	defer func() { clear(f.merged); f.merged = f.merged[:0] }()
	newStart, newEnd := start, end
	for _, m := range merged {
		newStart, newEnd = min(newStart, m.start), max(newEnd, m.end)
	}
	if !proc && w.fire(newEnd) <= ctx.CurrentWatermark() {
		atomic.AddInt64(f.metrics, 1)
		if f.spec.Counters != nil {
			f.spec.Counters.LateRecordsDropped.Add(1)
		}
		return nil
	}
	// The new row's encoding: its local time, then its fields.
	f.buf = binary.AppendVarint(f.buf[:0], t)
	for i, v := range in.Fields {
		f.buf = appendNullable(f.buf, v, f.spec.InputTypes[i])
	}
	// The new row goes after the merged sessions' rows, so that the
	// stable sort keeps rows of equal times in arrival order.
	newRow := encodedRow{t, string(f.buf)}
	rows := f.rows[:0]
	for _, m := range merged {
		var err error
		if rows, err = f.splitRows(rows, m.rows); err != nil {
			return err
		}
		if m.start != newStart {
			f.sessions.Remove(m.start)
		}
		if m.end != newEnd {
			if proc {
				ctx.DeleteProcessingTimeTimer(w.fire(m.end))
			} else {
				ctx.DeleteEventTimeTimer(w.fire(m.end))
			}
		}
	}
	rows = append(rows, newRow)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].t < rows[j].t })
	f.buf = binary.AppendVarint(f.buf[:0], newEnd)
	for _, r := range rows {
		f.buf = binary.AppendUvarint(f.buf, uint64(len(r.enc)))
		f.buf = append(f.buf, r.enc...)
	}
	clear(rows)
	f.rows = rows[:0]
	f.sessions.Put(newStart, string(f.buf))
	if proc {
		ctx.RegisterProcessingTimeTimer(w.fire(newEnd))
	} else {
		ctx.RegisterEventTimeTimer(w.fire(newEnd))
	}
	return nil
}

// splitRows appends the rows of an encoded session to dst.
func (f *sessionTVFFn) splitRows(dst []encodedRow, b string) ([]encodedRow, error) {
	for len(b) > 0 {
		n, k := binary.Uvarint([]byte(b))
		if k <= 0 || uint64(len(b)-k) < n {
			return dst, corrupt("session row")
		}
		enc := b[k : k+int(n)]
		t, tk := binary.Varint([]byte(enc))
		if tk <= 0 {
			return dst, corrupt("session row time")
		}
		dst = append(dst, encodedRow{t, enc})
		b = b[k+int(n):]
	}
	return dst, nil
}

func (f *sessionTVFFn) OnTimer(ctx *weir.KeyedContext[string, row.Row], ts int64) error {
	w := f.spec.Window
	f.entries = state.AppendEntries(f.sessions, f.entries[:0])
	defer clear(f.entries)
	for _, en := range f.entries {
		e, n := binary.Varint([]byte(en.Value))
		if n <= 0 {
			return corrupt("session end")
		}
		if w.fire(e) != ts {
			continue
		}
		rows, err := f.splitRows(f.rows[:0], en.Value[n:])
		if err != nil {
			return err
		}
		wt := w.epoch(e - 1)
		for _, r := range rows {
			b := []byte(r.enc)
			_, off := binary.Varint(b)
			fields := make([]row.Value, 0, len(f.spec.InputTypes)+3)
			for _, typ := range f.spec.InputTypes {
				v, err := readNullable(b, &off, typ)
				if err != nil {
					return err
				}
				fields = append(fields, v)
			}
			fields = append(fields, row.Timestamp(en.Key, 0), row.Timestamp(e, 0), row.Timestamp(wt, 0))
			if f.spec.TimeCol == ProcTime {
				ctx.Collect(row.Row{Kind: row.Insert, Fields: fields})
			} else {
				ctx.CollectWithTimestamp(row.Row{Kind: row.Insert, Fields: fields}, wt)
			}
		}
		clear(rows)
		f.rows = rows[:0]
		f.sessions.Remove(en.Key)
	}
	return nil
}
