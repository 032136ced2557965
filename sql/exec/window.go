package exec

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// WindowKind is the window table function.
type WindowKind uint8

// The window table functions.
const (
	// TumbleWindow is TUMBLE(size [, offset]).
	TumbleWindow WindowKind = iota + 1
	// HopWindow is HOP(slide, size [, offset]).
	HopWindow
	// CumulateWindow is CUMULATE(step, max size [, offset]).
	CumulateWindow
	// SessionWindow is SESSION(gap), partitioned by the group keys.
	SessionWindow
)

// Window is a window table function's windowing. Build it with Tumble,
// Hop, Cumulate or Session.
type Window struct {
	Kind WindowKind
	// Size is TUMBLE's and HOP's size and CUMULATE's max size.
	Size time.Duration
	// Slide is HOP's slide; Step is CUMULATE's step; Gap is SESSION's gap.
	Slide, Step, Gap time.Duration
	// Offset shifts the window boundaries of TUMBLE, HOP and CUMULATE
	// (from the epoch).
	Offset time.Duration
	// Zone, for a TIMESTAMP_LTZ time attribute or processing time, is the
	// session time zone (Flink's table.local-time-zone): windows are
	// aligned in its wall clock and window_start/window_end are wall
	// clock values (see window_zone.go). Nil: no shift (TIMESTAMP).
	Zone *time.Location
	// Unsliced allows a HOP whose size is not a multiple of its slide (the
	// legacy GROUP BY HOP(..) group window, Flink's sliding window
	// assigner): its windows are kept one by one, never sliced.
	Unsliced bool
}

// Tumble is TUMBLE(size).
func Tumble(size time.Duration) Window { return Window{Kind: TumbleWindow, Size: size} }

// Hop is HOP(slide, size).
func Hop(slide, size time.Duration) Window { return Window{Kind: HopWindow, Size: size, Slide: slide} }

// Cumulate is CUMULATE(step, maxSize).
func Cumulate(step, maxSize time.Duration) Window {
	return Window{Kind: CumulateWindow, Size: maxSize, Step: step}
}

// Session is SESSION(gap).
func Session(gap time.Duration) Window { return Window{Kind: SessionWindow, Gap: gap} }

// WithOffset returns w with an offset (TUMBLE, HOP, CUMULATE).
func (w Window) WithOffset(o time.Duration) Window { w.Offset = o; return w }

// String prints the window as its table function.
func (w Window) String() string {
	off := ""
	if w.Offset != 0 {
		off = ", " + w.Offset.String()
	}
	switch w.Kind {
	case TumbleWindow:
		return fmt.Sprintf("TUMBLE(%v%s)", w.Size, off)
	case HopWindow:
		return fmt.Sprintf("HOP(%v, %v%s)", w.Slide, w.Size, off)
	case CumulateWindow:
		return fmt.Sprintf("CUMULATE(%v, %v%s)", w.Step, w.Size, off)
	case SessionWindow:
		return fmt.Sprintf("SESSION(%v)", w.Gap)
	}
	return fmt.Sprintf("Window(%d)", w.Kind)
}

// check validates w as Flink's planner does.
func (w Window) check() error {
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	switch w.Kind {
	case TumbleWindow:
		if ms(w.Size) <= 0 {
			return fmt.Errorf("sql/exec: TUMBLE size must be positive (milliseconds), got %v", w.Size)
		}
	case HopWindow:
		if ms(w.Size) <= 0 || ms(w.Slide) <= 0 {
			return fmt.Errorf("sql/exec: HOP size and slide must be positive, got %v", w)
		}
		if ms(w.Size)%ms(w.Slide) != 0 && !w.Unsliced {
			return fmt.Errorf("sql/exec: HOP table function based aggregate requires size must be an integral multiple of slide, but got size %d ms and slide %d ms", ms(w.Size), ms(w.Slide))
		}
	case CumulateWindow:
		if ms(w.Size) <= 0 || ms(w.Step) <= 0 {
			return fmt.Errorf("sql/exec: CUMULATE step and max size must be positive, got %v", w)
		}
		if ms(w.Size)%ms(w.Step) != 0 {
			return fmt.Errorf("sql/exec: CUMULATE table function based aggregate requires maxSize must be an integral multiple of step, but got maxSize %d ms and step %d ms", ms(w.Size), ms(w.Step))
		}
	case SessionWindow:
		if ms(w.Gap) <= 0 {
			return fmt.Errorf("sql/exec: SESSION gap must be positive, got %v", w.Gap)
		}
	default:
		return fmt.Errorf("sql/exec: unknown window kind %d", w.Kind)
	}
	return nil
}

// mod is the non-negative remainder.
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// AssignWindows calls fn with the [start, end) of every window of w
// (TUMBLE, HOP or CUMULATE) that contains the time t (milliseconds),
// in order of their end. A SESSION window depends on other rows: it
// calls fn with [t, t+gap), the row's own session before merging.
func AssignWindows(w Window, t int64, fn func(start, end int64)) {
	o := w.Offset.Milliseconds()
	switch w.Kind {
	case TumbleWindow:
		s := w.Size.Milliseconds()
		start := t - mod(t-o, s)
		fn(start, start+s)
	case HopWindow:
		size, slide := w.Size.Milliseconds(), w.Slide.Milliseconds()
		r := mod(t-o, slide)
		last := t - r
		if size <= r {
			return // a gap between windows (Flink's SlidingWindowAssigner)
		}
		// The earliest start on the slide's grid after t - size (size need
		// not be a multiple of slide).
		first := last - (size-1-r)/slide*slide
		for start := first; start <= last; start += slide {
			fn(start, start+size)
		}
	case CumulateWindow:
		size, step := w.Size.Milliseconds(), w.Step.Milliseconds()
		base := t - mod(t-o, size)
		for end := t - mod(t-o, step) + step; end <= base+size; end += step {
			fn(base, end)
		}
	case SessionWindow:
		fn(t, t+w.Gap.Milliseconds())
	}
}

// windowStart returns the start of the window (not SESSION) that ends at
// end.
func (w Window) windowStart(end int64) int64 {
	switch w.Kind {
	case CumulateWindow:
		s := w.Size.Milliseconds()
		return (end - 1) - mod(end-1-w.Offset.Milliseconds(), s)
	}
	return end - w.Size.Milliseconds()
}

// ProcTime is the time column of a window on processing time.
const ProcTime = -1

// WindowAggSpec describes a window table function aggregation (Flink's
// StreamExecWindowAggregate): GROUP BY window_start, window_end, keys.
type WindowAggSpec struct {
	// InputTypes are the types of the input columns.
	InputTypes []row.Type
	// TimeCol is the column of the event-time attribute (TIMESTAMP(3) or
	// TIMESTAMP_LTZ(3): its milliseconds are the event time), or
	// ProcTime for windows on processing time.
	TimeCol int
	// Window is the windowing.
	Window Window
	// GroupKeys are the grouping columns besides the window (for
	// SESSION, its PARTITION BY columns), in output order.
	GroupKeys []int
	// Aggs are the aggregate calls, in output order. SESSION windows need
	// mergeable functions (not FIRST_VALUE or LAST_VALUE), as in Flink.
	Aggs []AggCall
	// UpdatingInput accepts a changelog input: -U and -D rows retract
	// from the windows of their time (MIN, MAX, FIRST_VALUE and
	// LAST_VALUE then keep multisets). Without it the input must be
	// append-only (+I rows).
	UpdatingInput bool
	// UID and Name identify the operator (default name "WindowAggregate").
	UID, Name string
	// Counters, if set, receives the operator's counters.
	Counters *Counters

	// perWindow keeps one accumulator per HOP window (the layout before
	// slicing): tests restore its snapshots into the sliced layout.
	perWindow bool
	// stateBacked keeps TUMBLE and HOP windows in keyed state with a
	// timer per key (the path before the slice table, window_mem.go):
	// tests restore its snapshots into the slice table and back.
	stateBacked bool
	// memLimit, if positive, replaces memWindowMaxEntries (tests).
	memLimit int
}

func (s WindowAggSpec) compile() (*aggSet, error) {
	if err := s.Window.check(); err != nil {
		return nil, err
	}
	if err := checkKeys(s.InputTypes, s.GroupKeys, "group key"); err != nil {
		return nil, err
	}
	if s.TimeCol != ProcTime {
		if s.TimeCol < 0 || s.TimeCol >= len(s.InputTypes) {
			return nil, fmt.Errorf("sql/exec: time column %d out of range (%d input columns)", s.TimeCol, len(s.InputTypes))
		}
		if !s.InputTypes[s.TimeCol].IsTimestamp() {
			return nil, fmt.Errorf("sql/exec: the time attribute column %d is %v, not TIMESTAMP(3) or TIMESTAMP_LTZ(3)", s.TimeCol, s.InputTypes[s.TimeCol])
		}
	}
	if err := checkJSONArrayAggWindow(s); err != nil {
		return nil, err
	}
	if s.Window.Kind == SessionWindow {
		for _, c := range s.Aggs {
			if !mergeable(c.Func) || (c.UDF != nil && !c.UDF.CanMerge()) {
				name := c.Func.String()
				if c.UDF != nil {
					name = c.UDFName
				}
				return nil, fmt.Errorf("sql/exec: %s does not implement merge, which SESSION windows need", name)
			}
		}
	}
	return newAggSet(s.Aggs, s.InputTypes, s.UpdatingInput)
}

// windowColumnTypes returns the types of window_start, window_end and
// window_time for a time column type (nil for processing time).
// window_start and window_end are TIMESTAMP(3), over a TIMESTAMP_LTZ or
// processing-time attribute the session zone's wall clock (Flink's);
// window_time has the attribute's type.
func windowColumnTypes(in []row.Type, timeCol int) (start, end, wtime row.Type) {
	t := row.Type{Root: row.TypeTimestamp, Precision: 3}
	if timeCol == ProcTime {
		wt := row.TimestampLTZType(3).NotNull()
		wt.TimeAttr = row.Proctime
		return t, t, wt
	}
	wt := row.Type{Root: in[timeCol].Root, Precision: 3}
	wt.TimeAttr = row.Rowtime
	return t, t, wt
}

// OutputTypes returns the output column types: the group keys, the
// aggregate results, then window_start, window_end (TIMESTAMP(3)) and
// window_time (the time attribute's type, a rowtime attribute; a
// proctime TIMESTAMP_LTZ(3) for processing-time windows).
func (s WindowAggSpec) OutputTypes() ([]row.Type, error) {
	set, err := s.compile()
	if err != nil {
		return nil, err
	}
	ws, we, wt := windowColumnTypes(s.InputTypes, s.TimeCol)
	out := append(keyTypes(s.InputTypes, s.GroupKeys), set.resultTypes()...)
	return append(out, ws, we, wt), nil
}

// WindowAggregate aggregates an append-only stream per window and group
// (Flink's window TVF aggregation): one +I row per group and window, once
// the watermark (or, on processing time, the clock) passes the window's
// end; rows of windows already fired are dropped and counted. It fails on
// a spec that does not fit the input.
func WindowAggregate(in weir.Stream[row.Row], spec WindowAggSpec) (weir.Stream[row.Row], error) {
	if _, err := spec.compile(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	ks := weir.KeyBy(in, keySelector(spec.InputTypes, spec.GroupKeys))
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &windowAggFn{spec: spec}).DefaultName("WindowAggregate")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

// windowAggFn is the keyed function of WindowAggregate. Per key it keeps
// a map from window end (TUMBLE, HOP, CUMULATE) or session start
// (SESSION) to the window's encoded accumulators (for sessions, preceded
// by the session's end), and one timer per window at its end - 1.
type windowAggFn struct {
	spec    WindowAggSpec
	set     *aggSet
	other   *aggSet
	windows state.Map[int64, string]
	// entries is a scratch copy of the current key's windows or slices
	// (state.AppendEntries: ranging over All allocates per call).
	entries  []state.Entry[int64, string]
	distinct state.Map[string, int64] // DISTINCT multisets (not SESSION), or nil
	ns       []byte
	metrics  *int64
	keyTypes []row.Type
	buf      []byte
	// SESSION scratch, reused across rows: the first overlapping
	// session's accumulators (decoded into tmp; further ones, rare, get
	// a set of their own) and the overlapping sessions.
	tmp    *aggSet
	merged []session
	// slices, for sliced HOP windows (see window_slice.go), maps a slice's
	// end to its encoded accumulators; nil otherwise.
	slices state.Map[int64, string]
	// global marks the second phase of a two-phase aggregation
	// (window_twophase.go): its input rows are a local aggregate's; part
	// holds one's decoded accumulators.
	global bool
	part   *aggSet
	// fixed: each timer fires the window ending at Window.endOfTimer of
	// it (no zone, or a zone without offset changes); otherwise a timer
	// fires the windows whose fire time it is (window_zone.go).
	fixed bool
	ends  []int64
	// mem, for event-time TUMBLE and HOP windows, is the slice table
	// (window_mem.go); nil otherwise.
	mem *memWindows
}

// session is a SESSION window of the current key: [start, end) and its
// encoded accumulators.
type session struct {
	start, end int64
	enc        string
}

func (f *windowAggFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	set, err := f.spec.compile()
	if err != nil {
		return err
	}
	f.set = set
	f.other = set.clone(f.spec.InputTypes, f.spec.UpdatingInput)
	f.keyTypes = keyTypes(f.spec.InputTypes, f.spec.GroupKeys)
	if f.spec.Window.Kind == SessionWindow || canSlice(f.spec, set) {
		f.tmp = set.clone(f.spec.InputTypes, f.spec.UpdatingInput)
	}
	f.metrics = &ctx.Metrics().LateRecordsDropped
	f.fixed = f.spec.Window.fixedOffset()
	// The per-window state is declared in the sliced layout too: a
	// snapshot taken before HOP windows were sliced holds its windows
	// there, and fireSlices merges them in.
	f.windows = state.GetMap[string, int64, string](ctx.State(), state.Descriptor{Name: "window-aggs"})
	if useMem(f.spec, set) {
		f.mem = newMemWindows(f.spec.Window, ctx.Metrics())
		if f.spec.memLimit > 0 {
			f.mem.limit = f.spec.memLimit
		}
	}
	if canSlice(f.spec, set) {
		f.slices = state.GetMap[string, int64, string](ctx.State(), state.Descriptor{Name: "window-slices"})
		return nil
	}
	if set.hasDistinct() && f.spec.Window.Kind != SessionWindow {
		// Sessions merge accumulators, so theirs keep the multisets inside.
		f.distinct = state.GetMap[string, string, int64](ctx.State(), state.Descriptor{Name: "window-distinct"})
		set.useDistinctView(mapView{f.distinct})
	}
	return nil
}

func (f *windowAggFn) late() {
	atomic.AddInt64(f.metrics, 1)
	if f.spec.Counters != nil {
		f.spec.Counters.LateRecordsDropped.Add(1)
	}
}

func (f *windowAggFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if f.global {
		return f.processGlobal(ctx, in)
	}
	retract := in.Kind.IsRetract()
	if retract && !f.spec.UpdatingInput {
		return fmt.Errorf("sql/exec: WindowAggregate without UpdatingInput takes an append-only input, got a %v row", in.Kind)
	}
	var t int64
	proc := f.spec.TimeCol == ProcTime
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
	if w.Kind == SessionWindow {
		return f.addToSession(ctx, in, t, proc, retract)
	}
	if f.mem != nil {
		own, err := f.memOwns(ctx)
		if err != nil {
			return err
		}
		if own {
			return f.memAdd(ctx, in, t)
		}
	}
	if f.slices != nil {
		return f.addToSlice(ctx, in, t, proc, retract)
	}
	// A row goes to every window of its time that has not fired yet; it
	// is late, dropped and counted, only when all of them have (Flink's
	// slicing window processor adds a row whose slice fired to the
	// windows still open).
	wm := ctx.CurrentWatermark()
	var err error
	added := false
	AssignWindows(f.spec.Window, t, func(_, end int64) {
		if err != nil || (!proc && w.fire(end) <= wm) {
			return
		}
		added = true
		f.namespace(end)
		enc, ok := f.windows.Get(end)
		if ok {
			if err = f.set.decode(enc); err != nil {
				return
			}
		} else {
			f.set.reset()
			f.register(ctx, end, proc)
		}
		f.set.apply(in, retract)
		if err = f.set.failed(); err != nil {
			err = fmt.Errorf("sql: WindowAggregate on row %s: %w", row.FormatRow(in, f.spec.InputTypes), err)
			return
		}
		f.windows.Put(end, f.set.encode())
	})
	if !added {
		f.late()
	}
	return err
}

// addToSession adds a row to the key's sessions: the row's session
// [t, t+gap) merged with every session it overlaps.
func (f *windowAggFn) addToSession(ctx *weir.KeyedContext[string, row.Row], in row.Row, t int64, proc, retract bool) error {
	err := f.mergeSessions(ctx, in, t, proc, retract)
	clear(f.merged) // no encodings kept alive
	f.merged = f.merged[:0]
	return err
}

func (f *windowAggFn) mergeSessions(ctx *weir.KeyedContext[string, row.Row], in row.Row, t int64, proc, retract bool) error {
	start, end := t, t+f.spec.Window.Gap.Milliseconds()
	f.set.reset()
	f.set.apply(in, retract)
	merged := f.merged[:0]
	f.entries = state.AppendEntries(f.windows, f.entries[:0])
	for _, en := range f.entries {
		s, v := en.Key, en.Value
		e, n := binary.Varint([]byte(v))
		if n <= 0 {
			return corrupt("session end")
		}
		// Sessions that overlap or touch merge (Flink's
		// TimeWindow.intersects: start <= other.end && end >= other.start).
		if s <= end && start <= e {
			merged = append(merged, session{s, e, v[n:]})
		}
	}
	f.merged = merged
	clear(f.entries) // no encodings kept alive
	// Merge in order of start, the earlier rows first.
	for i := 1; i < len(merged); i++ {
		for j := i; j > 0 && merged[j].start < merged[j-1].start; j-- {
			merged[j], merged[j-1] = merged[j-1], merged[j]
		}
	}
	newStart, newEnd := start, end
	for _, m := range merged {
		newStart, newEnd = min(newStart, m.start), max(newEnd, m.end)
	}
	if !proc && f.spec.Window.fire(newEnd) <= ctx.CurrentWatermark() {
		f.late()
		return nil
	}
	acc := f.other
	acc.reset()
	rowMerged := false
	for i, m := range merged {
		if !rowMerged && t < m.start {
			acc.merge(f.set)
			rowMerged = true
		}
		if err := f.set2(m.enc, i == 0); err != nil {
			return err
		}
		if m.start != newStart {
			// (The merged session's entry is overwritten below: removing
			// it first would drop the key's map and make a new one.)
			f.windows.Remove(m.start)
		}
		if m.end != newEnd {
			f.deleteTimer(ctx, f.spec.Window.fire(m.end), proc)
		}
	}
	if !rowMerged {
		acc.merge(f.set)
	}
	if err := f.set.failed(); err != nil {
		return err
	}
	if err := acc.failed(); err != nil {
		return err
	}
	f.buf = binary.AppendVarint(f.buf[:0], newEnd)
	f.buf = acc.appendTo(f.buf)
	f.windows.Put(newStart, string(f.buf))
	f.register(ctx, newEnd, proc)
	return nil
}

// set2 merges an encoded session's accumulators into f.other, decoded
// into f.tmp for the row's first overlapping session (f.other was reset
// before, so it holds nothing of f.tmp's previous contents) and into a
// set of its own for any further one.
func (f *windowAggFn) set2(enc string, first bool) error {
	tmp := f.tmp
	if !first {
		tmp = f.other.clone(f.spec.InputTypes, f.spec.UpdatingInput)
	}
	if err := tmp.decode(enc); err != nil {
		return err
	}
	f.other.merge(tmp)
	return nil
}

func (f *windowAggFn) deleteTimer(ctx *weir.KeyedContext[string, row.Row], ts int64, proc bool) {
	if proc {
		ctx.DeleteProcessingTimeTimer(ts)
	} else {
		ctx.DeleteEventTimeTimer(ts)
	}
}

func (f *windowAggFn) OnTimer(ctx *weir.KeyedContext[string, row.Row], ts int64) error {
	if f.mem != nil {
		// Only keys restored with window state, and the table written
		// for a snapshot, have timers.
		if err := f.memFinal(ctx, ts); err != nil {
			return err
		}
		// The table's windows that end before this timer's go first.
		if err := f.memFireDue(ctx, ts); err != nil {
			return err
		}
		defer f.memForget(ctx)
	}
	if f.slices != nil {
		return f.fireSlices(ctx, ts)
	}
	if f.spec.Window.Kind == SessionWindow {
		f.entries = state.AppendEntries(f.windows, f.entries[:0])
		defer clear(f.entries)
		for _, en := range f.entries {
			s, v := en.Key, en.Value
			e, n := binary.Varint([]byte(v))
			if n <= 0 {
				return corrupt("session end")
			}
			if f.spec.Window.fire(e) != ts {
				continue
			}
			if err := f.set.decode(v[n:]); err != nil {
				return err
			}
			if err := f.emit(ctx, s, e); err != nil {
				return err
			}
			f.windows.Remove(s)
			if f.fixed {
				return nil
			}
		}
		return nil
	}
	for _, end := range f.timerEnds(ts) {
		if err := f.fireWindow(ctx, end); err != nil {
			return err
		}
	}
	return nil
}

// fireWindow emits the window ending at end (a wall clock end for a
// shifted window) and drops its state.
func (f *windowAggFn) fireWindow(ctx *weir.KeyedContext[string, row.Row], end int64) error {
	enc, ok := f.windows.Get(end)
	if !ok {
		return nil
	}
	f.namespace(end)
	if err := f.set.decode(enc); err != nil {
		return err
	}
	if err := f.emit(ctx, f.spec.Window.windowStart(end), end); err != nil {
		return err
	}
	f.windows.Remove(end)
	if f.distinct != nil {
		var done []string
		for k := range f.distinct.All() {
			if strings.HasPrefix(k, string(f.ns)) {
				done = append(done, k)
			}
		}
		for _, k := range done {
			f.distinct.Remove(k)
		}
	}
	return nil
}

// namespace points the DISTINCT multisets at the window ending at end.
func (f *windowAggFn) namespace(end int64) {
	if f.distinct != nil {
		f.ns = binary.AppendVarint(f.ns[:0], end)
		f.set.setNamespace(f.ns)
	}
}

// emit sends the result of the window [start, end) of the current key,
// whose accumulators are in f.set; a window whose rows were all retracted
// emits nothing.
func (f *windowAggFn) emit(ctx *weir.KeyedContext[string, row.Row], start, end int64) error {
	return f.emitKey(ctx, ctx.Key(), f.set, start, end)
}

// emitKey sends the result of the window [start, end) of key, whose
// accumulators are set.
func (f *windowAggFn) emitKey(ctx *weir.KeyedContext[string, row.Row], key string, set *aggSet, start, end int64) error {
	if set.rows == 0 {
		return nil
	}
	fields := make([]row.Value, 0, len(f.keyTypes)+len(set.calls)+3)
	fields, err := decodeKey(fields, key, f.keyTypes)
	if err != nil {
		return err
	}
	fields = set.appendValues(fields)
	if err := set.failed(); err != nil {
		return err
	}
	wt := f.spec.Window.epoch(end - 1)
	fields = append(fields, row.Timestamp(start, 0), row.Timestamp(end, 0), row.Timestamp(wt, 0))
	if f.spec.TimeCol == ProcTime {
		ctx.Collect(row.Row{Kind: row.Insert, Fields: fields})
	} else {
		ctx.CollectWithTimestamp(row.Row{Kind: row.Insert, Fields: fields}, wt)
	}
	return nil
}

// decodeKey appends the values of a group key encoded by row.AppendKey.
func decodeKey(dst []row.Value, key string, types []row.Type) ([]row.Value, error) {
	b := []byte(key)
	off := 0
	for _, t := range types {
		v, err := readNullable(b, &off, t)
		if err != nil {
			return nil, err
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// WindowAssignSpec describes a window table function without
// aggregation: SELECT * FROM TABLE(TUMBLE(...)) and the like (not
// SESSION, which Weir runs only under an aggregation).
type WindowAssignSpec struct {
	// InputTypes are the types of the input columns.
	InputTypes []row.Type
	// TimeCol is the event-time column, or ProcTime.
	TimeCol int
	// Window is the windowing (TUMBLE, HOP or CUMULATE).
	Window Window
	// Name is the operator's display name (default "WindowTableFunction").
	Name string
}

// OutputTypes returns the input types followed by window_start,
// window_end and window_time.
func (s WindowAssignSpec) OutputTypes() ([]row.Type, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	ws, we, wt := windowColumnTypes(s.InputTypes, s.TimeCol)
	return append(append([]row.Type(nil), s.InputTypes...), ws, we, wt), nil
}

func (s WindowAssignSpec) check() error {
	if s.Window.Kind == SessionWindow {
		return fmt.Errorf("sql/exec: a SESSION window table function needs an aggregation over it")
	}
	_, err := WindowAggSpec{InputTypes: s.InputTypes, TimeCol: s.TimeCol, Window: s.Window}.compile()
	return err
}

// WindowAssign appends window_start, window_end and window_time to every
// row, once per window the row falls into (HOP and CUMULATE give several
// rows per input row). It keeps no state and drops no late rows.
func WindowAssign(in weir.Stream[row.Row], spec WindowAssignSpec) (weir.Stream[row.Row], error) {
	if err := spec.check(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	out := weir.Process[row.Row, row.Row](in, &windowAssignFn{spec: spec}).DefaultName("WindowTableFunction")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	return out, nil
}

type windowAssignFn struct{ spec WindowAssignSpec }

func (f *windowAssignFn) ProcessElement(ctx *weir.Context[row.Row], in row.Row) error {
	var t int64
	if f.spec.TimeCol == ProcTime {
		t = ctx.CurrentProcessingTime()
	} else {
		v := in.Fields[f.spec.TimeCol]
		if v.IsNull() {
			return fmt.Errorf("sql/exec: the rowtime column %d is NULL; the time attribute of a window must not be NULL", f.spec.TimeCol)
		}
		t = v.Millis()
	}
	w := f.spec.Window
	AssignWindows(w, w.local(t), func(start, end int64) {
		fields := make([]row.Value, len(in.Fields), len(in.Fields)+3)
		copy(fields, in.Fields)
		fields = append(fields, row.Timestamp(start, 0), row.Timestamp(end, 0), row.Timestamp(w.epoch(end-1), 0))
		ctx.Collect(row.Row{Kind: in.Kind, Fields: fields})
	})
	return nil
}
