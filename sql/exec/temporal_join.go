package exec

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// TemporalJoinSpec configures TemporalJoin, the event-time temporal join
// of a table with a versioned table (Flink's TemporalRowTimeJoinOperator):
//
//	FROM l [LEFT] JOIN r FOR SYSTEM_TIME AS OF l.time ON l.k = r.k
type TemporalJoinSpec struct {
	// Type is INNER or LEFT.
	Type JoinType
	// LeftTypes and RightTypes are the field types of the inputs.
	LeftTypes, RightTypes []row.Type
	// LeftKeys and RightKeys are the equi-join key columns, pairwise; at
	// least one pair. The planner makes sure the right keys contain the
	// versioned table's primary key, so each key of the right side holds
	// the versions of one row. A left row with a NULL key joins nothing.
	LeftKeys, RightKeys []int
	// LeftTime is the left time attribute (the FOR SYSTEM_TIME AS OF
	// column), RightTime the versioned table's rowtime: TIMESTAMP or
	// TIMESTAMP_LTZ columns, compared as epoch milliseconds.
	LeftTime, RightTime int
	// Condition is the optional residual condition (nil = none),
	// evaluated on a left row and the version it joins.
	Condition JoinCondition
	// StateTTL is table.exec.state.ttl: when positive, a key whose state
	// was not touched for between StateTTL and 1.5 × StateTTL (processing
	// time) loses all its state, as Flink's temporal join's state
	// retention does; 0 keeps state until the watermark clears it.
	StateTTL time.Duration
	// UID and Name identify the operator (default name
	// "TemporalJoin(INNER|LEFT)").
	UID, Name string
}

func (s *TemporalJoinSpec) check() error {
	if s.Type != InnerJoin && s.Type != LeftJoin {
		return fmt.Errorf("sql/exec: temporal join: Temporal table join currently only support INNER JOIN and LEFT JOIN, but was %s JOIN", s.Type)
	}
	if len(s.LeftKeys) == 0 || len(s.LeftKeys) != len(s.RightKeys) {
		return fmt.Errorf("sql/exec: temporal join: need equal, non-empty lists of left and right key columns (have %d and %d)", len(s.LeftKeys), len(s.RightKeys))
	}
	for i := range s.LeftKeys {
		l, r := s.LeftKeys[i], s.RightKeys[i]
		if l < 0 || l >= len(s.LeftTypes) || r < 0 || r >= len(s.RightTypes) {
			return fmt.Errorf("sql/exec: temporal join: key pair %d (%d, %d) out of range of %d left and %d right columns", i, l, r, len(s.LeftTypes), len(s.RightTypes))
		}
		if err := checkJoinKeyTypes(s.LeftTypes[l], s.RightTypes[r]); err != nil {
			return fmt.Errorf("sql/exec: temporal join: key pair %d: %w", i, err)
		}
	}
	if s.LeftTime < 0 || s.LeftTime >= len(s.LeftTypes) || !s.LeftTypes[s.LeftTime].IsTimestamp() {
		return fmt.Errorf("sql/exec: temporal join: left time column %d is not a timestamp column", s.LeftTime)
	}
	if s.RightTime < 0 || s.RightTime >= len(s.RightTypes) || !s.RightTypes[s.RightTime].IsTimestamp() {
		return fmt.Errorf("sql/exec: temporal join: right time column %d is not a timestamp column", s.RightTime)
	}
	if s.StateTTL < 0 {
		return errors.New("sql/exec: temporal join: negative state TTL")
	}
	return nil
}

// TemporalJoin joins each left row with the version of the right
// (versioned) table's row of its key that was valid at the left row's time
// (Flink's TemporalRowTimeJoinOperator).
//
// Both inputs are keyed by the join keys. A left row (any kind) is kept in
// state until the watermark, the minimum of both inputs' watermarks,
// reaches its time; then it is joined with the latest right row whose
// rowtime is at or before the left row's, and removed. If that version is
// a -D row (the row was deleted then), or there is none, or the residual
// condition rejects the pair, an inner join drops the left row and a LEFT
// join emits it padded with NULLs. Output rows keep the left row's kind
// and carry its time as their timestamp; left rows that become due at the
// same watermark are emitted in arrival order. The left time attribute
// stays a time attribute: every output row is emitted before the watermark
// that made it due, so it is not late downstream when its left row was not
// late.
//
// The right side is a changelog: +I and +U rows are versions valid from
// their rowtime, -D rows end the validity of the row at their rowtime, and
// -U rows are ignored (Flink's planner asks the versioned side for its
// changes without update-before rows). One version per rowtime is kept:
// a later row at the same rowtime replaces it. When the watermark passes,
// versions older than the latest one at or before the watermark are
// removed: later left rows (which are at least as new, unless late) cannot
// need them. A late left row (its time already behind the watermark) is
// joined at the next watermark with the versions still in state, as in
// Flink. Rows with a NULL time attribute fail the job, naming the row.
//
// State, per key: map state "tj-left" (arrival sequence number → left row)
// with value state "tj-next" (the next sequence number), map state
// "tj-right" (rowtime → right row with its kind), value state "tj-timer"
// (the one event-time timer registered: the smallest time of a row not
// processed yet) and, with StateTTL, value state "tj-cleanup" (the
// processing-time timer that clears the key).
func TemporalJoin(left, right weir.Stream[row.Row], spec TemporalJoinSpec) (weir.Stream[row.Row], error) {
	if err := spec.check(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	fn := &temporalJoinFn{spec: spec, lcodec: row.NewCodec(spec.LeftTypes), rcodec: row.NewCodec(spec.RightTypes)}
	ks := weir.ConnectKeyed(
		weir.KeyBy(left, joinKeySelector(spec.LeftKeys, spec.LeftTypes)),
		weir.KeyBy(right, joinKeySelector(spec.RightKeys, spec.RightTypes)))
	name := spec.Name
	if name == "" {
		name = "TemporalJoin(" + spec.Type.String() + ")"
	}
	out := weir.CoProcessKeyed[string, row.Row, row.Row, row.Row](ks, fn).DefaultName(name)
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

type temporalJoinFn struct {
	spec           TemporalJoinSpec
	lcodec, rcodec *row.Codec

	left    state.Map[int64, string]
	next    state.Value[int64]
	right   state.Map[int64, string]
	timer   state.Value[int64]
	cleanup state.Value[int64]

	// Scratch, per subtask (nil in the shared template).
	due      []tjLeft
	versions []tjVersion
	nullRow  []row.Value
}

// tjLeft is a decoded left row with its arrival sequence number.
type tjLeft struct {
	seq int64
	r   row.Row
}

// tjVersion is a decoded right row with its rowtime.
type tjVersion struct {
	time int64
	r    row.Row
}

type tjCtx = weir.KeyedContext[string, row.Row]

func (f *temporalJoinFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	st := ctx.State()
	f.left = state.GetMap[string, int64, string](st, state.Descriptor{Name: "tj-left"})
	f.next = state.GetValue[string, int64](st, state.Descriptor{Name: "tj-next"})
	f.right = state.GetMap[string, int64, string](st, state.Descriptor{Name: "tj-right"})
	f.timer = state.GetValue[string, int64](st, state.Descriptor{Name: "tj-timer"})
	f.cleanup = state.GetValue[string, int64](st, state.Descriptor{Name: "tj-cleanup"})
	f.nullRow = make([]row.Value, len(f.spec.RightTypes))
	return nil
}

// rowTime returns the epoch milliseconds of a row's time attribute.
func (f *temporalJoinFn) rowTime(r row.Row, col int, types []row.Type, side string) (int64, error) {
	if len(r.Fields) != len(types) {
		return 0, fmt.Errorf("sql/exec: temporal join: %s input row has %d fields, want %d", side, len(r.Fields), len(types))
	}
	v := r.Fields[col]
	if v.IsNull() {
		return 0, fmt.Errorf("sql/exec: temporal join: the time attribute (column %d) of %s row %s is NULL", col, side, row.FormatRow(r, types))
	}
	return v.Millis(), nil
}

func (f *temporalJoinFn) ProcessElement1(ctx *tjCtx, in row.Row) error {
	t, err := f.rowTime(in, f.spec.LeftTime, f.spec.LeftTypes, "left")
	if err != nil {
		return err
	}
	seq, _ := f.next.Value()
	f.next.Update(seq + 1)
	f.left.Put(seq, string(f.lcodec.Append(nil, in)))
	f.registerSmallestTimer(ctx, t)
	f.touch(ctx)
	return nil
}

func (f *temporalJoinFn) ProcessElement2(ctx *tjCtx, in row.Row) error {
	if in.Kind == row.UpdateBefore {
		// The +U that follows carries the new version (Flink asks the
		// versioned side for its changes without update-before rows).
		return nil
	}
	t, err := f.rowTime(in, f.spec.RightTime, f.spec.RightTypes, "right")
	if err != nil {
		return err
	}
	f.right.Put(t, string(f.rcodec.Append(nil, in)))
	f.registerSmallestTimer(ctx, t)
	f.touch(ctx)
	return nil
}

// registerSmallestTimer keeps one event-time timer per key, at the
// smallest time of a row not processed yet.
func (f *temporalJoinFn) registerSmallestTimer(ctx *tjCtx, t int64) {
	cur, ok := f.timer.Value()
	if ok && cur <= t {
		return
	}
	if ok {
		ctx.DeleteEventTimeTimer(cur)
	}
	f.timer.Update(t)
	ctx.RegisterEventTimeTimer(t)
}

// touch moves the key's state-retention timer (Flink's
// registerProcessingCleanupTimer): the key is cleared when it was not
// touched for StateTTL; the timer is only moved when it would fire
// before now + StateTTL, to between StateTTL and 1.5 × StateTTL.
func (f *temporalJoinFn) touch(ctx *tjCtx) {
	if f.spec.StateTTL <= 0 {
		return
	}
	minRet := f.spec.StateTTL.Milliseconds()
	now := ctx.CurrentProcessingTime()
	cur, ok := f.cleanup.Value()
	if ok && now+minRet <= cur {
		return
	}
	if ok {
		ctx.DeleteProcessingTimeTimer(cur)
	}
	at := now + minRet*3/2
	f.cleanup.Update(at)
	ctx.RegisterProcessingTimeTimer(at)
}

func (f *temporalJoinFn) OnTimer(ctx *tjCtx, ts int64) error {
	if ctx.TimeDomain() == weir.ProcessingTime {
		if at, ok := f.cleanup.Value(); ok && at == ts {
			f.left.Clear()
			f.right.Clear()
			f.next.Clear()
			f.timer.Clear()
			f.cleanup.Clear()
		}
		return nil
	}
	if cur, ok := f.timer.Value(); !ok || cur != ts {
		// A timer the state no longer knows (the key was cleared by
		// state retention): nothing is waiting for it.
		return nil
	}
	f.timer.Clear()
	pending, err := f.emitDue(ctx, ctx.CurrentWatermark())
	if err != nil {
		return err
	}
	if f.spec.StateTTL <= 0 {
		return nil
	}
	if pending || !f.right.IsEmpty() {
		f.touch(ctx)
		return nil
	}
	// Nothing left for this key: drop the retention timer too.
	if at, ok := f.cleanup.Value(); ok {
		ctx.DeleteProcessingTimeTimer(at)
		f.cleanup.Clear()
	}
	f.next.Clear()
	return nil
}

// emitDue joins and removes the left rows whose time is at or before wm,
// in arrival order, then removes the versions no later left row needs,
// and re-registers the timer for the rows still waiting. It reports
// whether left rows are still waiting.
func (f *temporalJoinFn) emitDue(ctx *tjCtx, wm int64) (bool, error) {
	// The versions in time order.
	f.versions = f.versions[:0]
	for t, enc := range f.right.All() {
		r, _, err := f.rcodec.Decode([]byte(enc))
		if err != nil {
			return false, fmt.Errorf("sql/exec: temporal join: state: %w", err)
		}
		f.versions = append(f.versions, tjVersion{time: t, r: r})
	}
	slices.SortFunc(f.versions, func(a, b tjVersion) int { return cmp.Compare(a.time, b.time) })

	// The due left rows, in arrival order.
	f.due = f.due[:0]
	next, pending := int64(0), false
	for seq, enc := range f.left.All() {
		l, _, err := f.lcodec.Decode([]byte(enc))
		if err != nil {
			return false, fmt.Errorf("sql/exec: temporal join: state: %w", err)
		}
		t := l.Fields[f.spec.LeftTime].Millis()
		if t <= wm {
			f.due = append(f.due, tjLeft{seq: seq, r: l})
			continue
		}
		if !pending || t < next {
			next, pending = t, true
		}
	}
	slices.SortFunc(f.due, func(a, b tjLeft) int { return cmp.Compare(a.seq, b.seq) })
	for _, d := range f.due {
		f.left.Remove(d.seq)
		if err := f.join(ctx, d.r); err != nil {
			return false, err
		}
	}

	// Keep the latest version at or before the watermark and every later
	// one (Flink's firstIndexToKeep).
	keepFrom := sort.Search(len(f.versions), func(i int) bool { return f.versions[i].time > wm }) - 1
	for i := 0; i < keepFrom; i++ {
		f.right.Remove(f.versions[i].time)
	}
	if pending {
		f.timer.Update(next)
		ctx.RegisterEventTimeTimer(next)
	}
	return pending, nil
}

// join emits a due left row joined with the version valid at its time.
func (f *temporalJoinFn) join(ctx *tjCtx, l row.Row) error {
	t := l.Fields[f.spec.LeftTime].Millis()
	// The latest version at or before t.
	i := sort.Search(len(f.versions), func(i int) bool { return f.versions[i].time > t }) - 1
	if i >= 0 && f.versions[i].r.Kind.IsAccumulate() && !hasNullKey(l, f.spec.LeftKeys) {
		r := f.versions[i].r
		ok := true
		if f.spec.Condition != nil {
			var err error
			if ok, err = f.spec.Condition(l.Fields, r.Fields); err != nil {
				return fmt.Errorf("sql/exec: temporal join condition: %w", err)
			}
		}
		if ok {
			ctx.CollectWithTimestamp(joinRows(l.Kind, l.Fields, r.Fields), t)
			return nil
		}
	}
	if f.spec.Type == LeftJoin {
		ctx.CollectWithTimestamp(joinRows(l.Kind, l.Fields, f.nullRow), t)
	}
	return nil
}
