package window

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

func TestStartWithOffset(t *testing.T) {
	tests := []struct {
		ts, offset, size, want int64
	}{
		{0, 0, 10, 0},
		{9, 0, 10, 0},
		{10, 0, 10, 10},
		{-1, 0, 10, -10},
		{-10, 0, 10, -10},
		{-11, 0, 10, -20},
		{7, 3, 10, 3},
		{2, 3, 10, -7},
		{-8, -3, 10, -13},
		{1000, 0, 1000, 1000},
		{math.MaxInt64 - 5, 0, 10, math.MaxInt64 - 7},
	}
	for _, tt := range tests {
		got := StartWithOffset(tt.ts, tt.offset, tt.size)
		if got != tt.want {
			t.Errorf("StartWithOffset(%d, %d, %d) = %d, want %d", tt.ts, tt.offset, tt.size, got, tt.want)
		}
		if got > tt.ts || tt.ts-got >= tt.size {
			t.Errorf("StartWithOffset(%d, %d, %d) = %d: timestamp outside [start, start+size)", tt.ts, tt.offset, tt.size, got)
		}
	}
}

type clock int64

func (c clock) CurrentProcessingTime() int64 { return int64(c) }

func TestAssigners(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		a    Assigner[int, TimeWindow]
		ts   int64
		now  int64
		want []TimeWindow
	}{
		{"tumbling start", TumblingEventTime[int](10 * ms), 0, 0, []TimeWindow{{0, 10}}},
		{"tumbling end is next window", TumblingEventTime[int](10 * ms), 10, 0, []TimeWindow{{10, 20}}},
		{"tumbling last ms", TumblingEventTime[int](10 * ms), 19, 0, []TimeWindow{{10, 20}}},
		{"tumbling negative", TumblingEventTime[int](10 * ms), -1, 0, []TimeWindow{{-10, 0}}},
		{"tumbling offset", TumblingEventTime[int](10 * ms).WithOffset(3 * ms), 12, 0, []TimeWindow{{3, 13}}},
		{"tumbling negative offset", TumblingEventTime[int](time.Hour).WithOffset(-15 * time.Minute), 0, 0,
			[]TimeWindow{{-15 * 60000, 45 * 60000}}},
		{"tumbling processing time", TumblingProcessingTime[int](10 * ms), 999, 25, []TimeWindow{{20, 30}}},
		{"sliding", SlidingEventTime[int](10*ms, 5*ms), 7, 0, []TimeWindow{{5, 15}, {0, 10}}},
		{"sliding boundary", SlidingEventTime[int](10*ms, 5*ms), 10, 0, []TimeWindow{{10, 20}, {5, 15}}},
		{"sliding uneven", SlidingEventTime[int](10*ms, 3*ms), 9, 0, []TimeWindow{{9, 19}, {6, 16}, {3, 13}, {0, 10}}},
		{"sliding negative", SlidingEventTime[int](10*ms, 5*ms), -3, 0, []TimeWindow{{-5, 5}, {-10, 0}}},
		{"sliding offset", SlidingEventTime[int](10*ms, 5*ms).WithOffset(2 * ms), 7, 0, []TimeWindow{{7, 17}, {2, 12}}},
		{"sliding processing time", SlidingProcessingTime[int](10*ms, 5*ms), 0, 12, []TimeWindow{{10, 20}, {5, 15}}},
		{"session", EventTimeSession[int](10 * ms), 42, 0, []TimeWindow{{42, 52}}},
		{"dynamic session", DynamicEventTimeSession(func(v int) time.Duration { return time.Duration(v) * ms }), 42, 0,
			[]TimeWindow{{42, 49}}},
		{"processing session", ProcessingTimeSession[int](10 * ms), 42, 100, []TimeWindow{{100, 110}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v, ok := tt.a.(Validator); ok {
				if err := v.Validate(); err != nil {
					t.Fatal(err)
				}
			}
			buf := make([]TimeWindow, 0, 1)
			got, err := tt.a.AssignWindows(7, tt.ts, clock(tt.now), buf)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAssignerErrors(t *testing.T) {
	ms := time.Millisecond
	invalid := []Validator{
		TumblingEventTime[int](0), TumblingEventTime[int](10 * ms).WithOffset(10 * ms),
		SlidingEventTime[int](10*ms, 0), SlidingEventTime[int](10*ms, 5*ms).WithOffset(-5 * ms),
		EventTimeSession[int](0), Count[int, GlobalWindow](0), CountEvict[int, GlobalWindow](0),
		ContinuousEventTime[int, TimeWindow](0), DeltaEvict[int, GlobalWindow](1, nil),
	}
	for i, v := range invalid {
		if err := v.Validate(); err == nil {
			t.Errorf("%d: %T: no validation error", i, v)
		}
	}
	if _, err := TumblingEventTime[int](10*ms).AssignWindows(1, NoTimestamp, clock(0), nil); err == nil {
		t.Error("tumbling event time accepted a record without timestamp")
	}
	gap := DynamicEventTimeSession(func(int) time.Duration { return 0 })
	if _, err := gap.AssignWindows(1, 5, clock(0), nil); err == nil {
		t.Error("dynamic session accepted a zero gap")
	}
}

func TestAssignReusesBuffer(t *testing.T) {
	a := SlidingEventTime[int](10*time.Millisecond, 2*time.Millisecond)
	buf := make([]TimeWindow, 0, 8)
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = a.AssignWindows(1, 12345, clock(0), buf)
	})
	if allocs != 0 || len(buf) != 5 {
		t.Fatalf("allocs %v, windows %v", allocs, buf)
	}
}

func TestMergeTimeWindows(t *testing.T) {
	tests := []struct {
		in   []TimeWindow
		want string
	}{
		{[]TimeWindow{{0, 10}}, ""},
		{[]TimeWindow{{0, 10}, {20, 30}}, ""},
		{[]TimeWindow{{0, 10}, {10, 20}}, "[0,20)<-[[0,10) [10,20)] "},
		{[]TimeWindow{{15, 25}, {0, 10}, {5, 16}}, "[0,25)<-[[0,10) [5,16) [15,25)] "},
		{[]TimeWindow{{0, 10}, {11, 20}, {30, 40}, {35, 45}}, "[30,45)<-[[30,40) [35,45)] "},
		{[]TimeWindow{{0, 100}, {10, 20}}, "[0,100)<-[[0,100) [10,20)] "},
	}
	for _, tt := range tests {
		got := ""
		MergeTimeWindows(slices.Clone(tt.in), func(r TimeWindow, m []TimeWindow) {
			got += fmt.Sprintf("%v<-%v ", r, m)
		})
		if got != tt.want {
			t.Errorf("MergeTimeWindows(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTimeWindow(t *testing.T) {
	w := TimeWindow{0, 10}
	if w.MaxTimestamp() != 9 {
		t.Fatalf("MaxTimestamp = %d", w.MaxTimestamp())
	}
	if !w.Intersects(TimeWindow{10, 20}) || w.Intersects(TimeWindow{11, 20}) || !w.Intersects(TimeWindow{-5, 0}) {
		t.Fatal("Intersects")
	}
	if c := w.Cover(TimeWindow{15, 20}); c != (TimeWindow{0, 20}) {
		t.Fatalf("Cover = %v", c)
	}
	if (GlobalWindow{}).MaxTimestamp() != math.MaxInt64 {
		t.Fatal("GlobalWindow.MaxTimestamp")
	}
}

// fakeCtx is a TriggerContext for one key and window.
type fakeCtx struct {
	wm, now    int64
	event      map[int64]bool
	proc       map[int64]bool
	state      map[string]int64
	mergeFrom  []map[string]int64
	registered []string
}

func newFakeCtx() *fakeCtx {
	return &fakeCtx{wm: math.MinInt64, event: map[int64]bool{}, proc: map[int64]bool{}, state: map[string]int64{}}
}

func (c *fakeCtx) CurrentWatermark() int64              { return c.wm }
func (c *fakeCtx) CurrentProcessingTime() int64         { return c.now }
func (c *fakeCtx) RegisterEventTimeTimer(ts int64)      { c.event[ts] = true }
func (c *fakeCtx) DeleteEventTimeTimer(ts int64)        { delete(c.event, ts) }
func (c *fakeCtx) RegisterProcessingTimeTimer(ts int64) { c.proc[ts] = true }
func (c *fakeCtx) DeleteProcessingTimeTimer(ts int64)   { delete(c.proc, ts) }
func (c *fakeCtx) Int64State(name string) Int64State    { return fakeState{c, name} }
func (c *fakeCtx) timers(m map[int64]bool) []int64      { return slices.Sorted(mapsKeys(m)) }
func (c *fakeCtx) MergeInt64State(name string, merge func(a, b int64) int64) {
	v, have := c.state[name]
	for _, s := range c.mergeFrom {
		if x, ok := s[name]; ok {
			if have {
				v = merge(v, x)
			} else {
				v, have = x, true
			}
		}
	}
	if have {
		c.state[name] = v
	}
}

func mapsKeys(m map[int64]bool) func(func(int64) bool) {
	return func(yield func(int64) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

type fakeState struct {
	c    *fakeCtx
	name string
}

func (s fakeState) Get() (int64, bool) { v, ok := s.c.state[s.name]; return v, ok }
func (s fakeState) Set(v int64)        { s.c.state[s.name] = v }
func (s fakeState) Clear()             { delete(s.c.state, s.name) }

func TestEventTimeTrigger(t *testing.T) {
	tr := EventTimeTrigger[int, TimeWindow]{}
	w := TimeWindow{0, 10}
	c := newFakeCtx()
	if r := tr.OnElement(1, 3, w, c); r != Continue || !c.event[9] {
		t.Fatalf("OnElement = %v, timers %v", r, c.event)
	}
	if r := tr.OnEventTime(9, w, c); r != Fire {
		t.Fatalf("OnEventTime(9) = %v", r)
	}
	if r := tr.OnEventTime(15, w, c); r != Continue {
		t.Fatalf("OnEventTime(15) = %v (cleanup timer must not fire)", r)
	}
	c.wm = 9
	if r := tr.OnElement(1, 3, w, c); r != Fire {
		t.Fatalf("late OnElement = %v, want FIRE", r)
	}
	tr.Clear(w, c)
	if len(c.event) != 0 {
		t.Fatalf("timers after Clear: %v", c.event)
	}
	c.wm = 5
	tr.OnMerge(TimeWindow{0, 20}, c)
	if !c.event[19] {
		t.Fatalf("OnMerge did not register the merged window's timer: %v", c.event)
	}
}

func TestCountAndPurgingTrigger(t *testing.T) {
	tr := Purging[int, GlobalWindow](Count[int, GlobalWindow](3))
	c := newFakeCtx()
	var got []Result
	for i := 0; i < 7; i++ {
		got = append(got, tr.OnElement(i, 0, GlobalWindow{}, c))
	}
	want := []Result{Continue, Continue, FireAndPurge, Continue, Continue, FireAndPurge, Continue}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	c.mergeFrom = []map[string]int64{{countState: 1}}
	tr.OnMerge(GlobalWindow{}, c)
	if v := c.state[countState]; v != 2 {
		t.Fatalf("merged count %d, want 2", v)
	}
	if r := tr.OnElement(0, 0, GlobalWindow{}, c); r != FireAndPurge {
		t.Fatalf("after merge: %v", r)
	}
	tr.Clear(GlobalWindow{}, c)
	if len(c.state) != 0 {
		t.Fatalf("state after Clear: %v", c.state)
	}
}

func TestContinuousEventTimeTrigger(t *testing.T) {
	tr := ContinuousEventTime[int, TimeWindow](4 * time.Millisecond)
	w := TimeWindow{0, 10}
	c := newFakeCtx()
	tr.OnElement(1, 1, w, c)
	if got := c.timers(c.event); !slices.Equal(got, []int64{4, 9}) {
		t.Fatalf("timers %v, want [4 9]", got)
	}
	var fires []int64
	for _, ts := range []int64{4, 8, 9} {
		if tr.OnEventTime(ts, w, c).IsFire() {
			fires = append(fires, ts)
		}
	}
	if !slices.Equal(fires, []int64{4, 8, 9}) {
		t.Fatalf("fired at %v, want [4 8 9]", fires)
	}
	tr.Clear(w, c)
	if _, ok := c.state[fireTimeState]; ok {
		t.Fatal("fire time kept after Clear")
	}
}

func TestContinuousProcessingTimeTrigger(t *testing.T) {
	tr := ContinuousProcessingTime[int, TimeWindow](5 * time.Millisecond)
	w := TimeWindow{0, 100}
	c := newFakeCtx()
	c.now = 12
	tr.OnElement(1, 0, w, c)
	if got := c.timers(c.proc); !slices.Equal(got, []int64{15}) {
		t.Fatalf("timers %v, want [15]", got)
	}
	if r := tr.OnProcessingTime(15, w, c); r != Fire || !c.proc[20] {
		t.Fatalf("OnProcessingTime(15) = %v, timers %v", r, c.proc)
	}
	if r := tr.OnProcessingTime(17, w, c); r != Continue {
		t.Fatalf("OnProcessingTime(17) = %v", r)
	}
}

func TestProcessingTimeTrigger(t *testing.T) {
	tr := ProcessingTimeTrigger[int, TimeWindow]{}
	c := newFakeCtx()
	if r := tr.OnElement(1, 0, TimeWindow{0, 10}, c); r != Continue || !c.proc[9] {
		t.Fatalf("OnElement = %v, %v", r, c.proc)
	}
	if r := tr.OnProcessingTime(9, TimeWindow{0, 10}, c); r != Fire {
		t.Fatalf("OnProcessingTime = %v", r)
	}
	if r := tr.OnEventTime(9, TimeWindow{0, 10}, c); r != Continue {
		t.Fatalf("OnEventTime = %v", r)
	}
}

func elems(ts ...int64) []Element[int] {
	var out []Element[int]
	for _, t := range ts {
		out = append(out, Element[int]{Value: int(t), TS: t})
	}
	return out
}

func values(es []Element[int]) []int {
	var out []int
	for _, e := range es {
		out = append(out, e.Value)
	}
	return out
}

func TestEvictors(t *testing.T) {
	w := GlobalWindow{}
	c := newFakeCtx()
	tests := []struct {
		name          string
		ev            Evictor[int, GlobalWindow]
		in            []Element[int]
		before, after []int
	}{
		{"count", CountEvict[int, GlobalWindow](2), elems(1, 2, 3), []int{2, 3}, []int{2, 3}},
		{"count after", CountEvict[int, GlobalWindow](2).After(), elems(1, 2, 3), []int{1, 2, 3}, []int{2, 3}},
		{"count under", CountEvict[int, GlobalWindow](5), elems(1, 2), []int{1, 2}, []int{1, 2}},
		{"time", TimeEvict[int, GlobalWindow](3 * time.Millisecond), elems(1, 5, 3, 7), []int{5, 7}, []int{5, 7}},
		{"time after", TimeEvict[int, GlobalWindow](3 * time.Millisecond).After(), elems(1, 5, 3, 7), []int{1, 5, 3, 7}, []int{5, 7}},
		{"delta", DeltaEvict[int, GlobalWindow](3, func(a, b int) float64 { return math.Abs(float64(a - b)) }),
			elems(1, 9, 6, 8, 10, 7), []int{9, 6, 8, 7}, []int{9, 6, 8, 7}},
	}
	for _, tt := range tests {
		b := tt.ev.EvictBefore(slices.Clone(tt.in), w, c)
		if got := values(b); !slices.Equal(got, tt.before) {
			t.Errorf("%s: before = %v, want %v", tt.name, got, tt.before)
		}
		if got := values(tt.ev.EvictAfter(b, w, c)); !slices.Equal(got, tt.after) {
			t.Errorf("%s: after = %v, want %v", tt.name, got, tt.after)
		}
	}
}
