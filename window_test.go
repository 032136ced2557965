package weir_test

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
	"github.com/weirstream/weir/window"
)

// The window scripts in testdata/window drive a real keyed window pipeline
// step by step through weirtest. A script has a header, a line "----", and
// steps:
//
//	window tumbling SIZE [OFFSET] | sliding SIZE SLIDE [OFFSET] | session GAP |
//	       dynsession KEY=GAP... | ptumbling SIZE | psliding SIZE SLIDE |
//	       psession GAP | global
//	countwindow SIZE [SLIDE]
//	trigger event | processing | count N | purging-count N |
//	        continuous-event MS | continuous-processing MS | purging-event
//	evictor count N [after] | time MS [after] | delta THRESHOLD [after]
//	lateness MS
//	sideoutput
//	functions NAME...    (default: reduce aggregate process reduceprocess aggregateprocess)
//	parallelism P...     (default: 1 4)
//	----
//	record KEY TS VALUE
//	watermark TS
//	proctime TS
//	end
//	> KEY WINDOW SUM @TS     (a window result the step must emit)
//	late> KEY TS VALUE       (a record the step must send to the late side output)
//
// Each step must emit exactly the lines that follow it (in any order across
// keys, in order within a key). Functions without a window context
// (reduce, aggregate) print no window: the WINDOW column is ignored for
// them. Every script runs once per function and parallelism, so all window
// functions must give the same answer. @max stands for math.MaxInt64.

type rec struct {
	Key string
	V   int64
}

type sumAgg struct{}

type sumAcc struct {
	Key string
	Sum int64
	N   int
}

func (sumAgg) CreateAccumulator() sumAcc { return sumAcc{} }
func (sumAgg) Add(a sumAcc, r rec) (sumAcc, error) {
	return sumAcc{r.Key, a.Sum + r.V, a.N + 1}, nil
}
func (sumAgg) Result(a sumAcc) (rec, error) { return rec{a.Key, a.Sum}, nil }
func (sumAgg) Merge(a, b sumAcc) (sumAcc, error) {
	if a.Key != b.Key && a.N > 0 && b.N > 0 {
		return a, fmt.Errorf("merging accumulators of keys %q and %q", a.Key, b.Key)
	}
	return sumAcc{max(a.Key, b.Key), a.Sum + b.Sum, a.N + b.N}, nil
}

func sumReduce(a, b rec) (rec, error) { return rec{a.Key, a.V + b.V}, nil }

type script struct {
	header map[string][]string
	steps  []step
}

type step struct {
	line      int
	cmd       []string
	want      []string
	wantLate  []string
	rawHeader string
}

func parseScript(t *testing.T, path string) script {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := script{header: map[string][]string{}}
	inSteps := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if line == "----" {
			inSteps = true
			continue
		}
		fields := strings.Fields(line)
		if !inSteps {
			s.header[fields[0]] = fields[1:]
			continue
		}
		switch fields[0] {
		case ">":
			if len(s.steps) == 0 {
				t.Fatalf("%s:%d: expectation before any step", path, n)
			}
			st := &s.steps[len(s.steps)-1]
			st.want = append(st.want, strings.Join(fields[1:], " "))
		case "late>":
			if len(s.steps) == 0 {
				t.Fatalf("%s:%d: expectation before any step", path, n)
			}
			st := &s.steps[len(s.steps)-1]
			st.wantLate = append(st.wantLate, strings.Join(fields[1:], " "))
		default:
			s.steps = append(s.steps, step{line: n, cmd: fields})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("bad number %q", s)
	}
	return v
}

func ms(t *testing.T, s string) time.Duration {
	return time.Duration(atoi(t, s)) * time.Millisecond
}

func fmtTS(ts int64) string {
	if ts == math.MaxInt64 {
		return "max"
	}
	return strconv.FormatInt(ts, 10)
}

// buildWindows builds the windowed stream a script's header describes; W is
// TimeWindow or GlobalWindow.
func buildTimeWindows(t *testing.T, h map[string][]string, ks weir.KeyedStream[string, rec]) (weir.WindowedStream[string, rec, window.TimeWindow], bool) {
	w, ok := h["window"]
	if !ok || w[0] == "global" {
		return weir.WindowedStream[string, rec, window.TimeWindow]{}, false
	}
	var a window.Assigner[rec, window.TimeWindow]
	switch w[0] {
	case "tumbling", "ptumbling":
		tw := window.TumblingEventTime[rec](ms(t, w[1]))
		if w[0] == "ptumbling" {
			tw = window.TumblingProcessingTime[rec](ms(t, w[1]))
		}
		if len(w) > 2 {
			tw = tw.WithOffset(ms(t, w[2]))
		}
		a = tw
	case "sliding", "psliding":
		sw := window.SlidingEventTime[rec](ms(t, w[1]), ms(t, w[2]))
		if w[0] == "psliding" {
			sw = window.SlidingProcessingTime[rec](ms(t, w[1]), ms(t, w[2]))
		}
		if len(w) > 3 {
			sw = sw.WithOffset(ms(t, w[3]))
		}
		a = sw
	case "session":
		a = window.EventTimeSession[rec](ms(t, w[1]))
	case "psession":
		a = window.ProcessingTimeSession[rec](ms(t, w[1]))
	case "dynsession":
		gaps := map[string]time.Duration{}
		for _, kv := range w[1:] {
			k, v, _ := strings.Cut(kv, "=")
			gaps[k] = ms(t, v)
		}
		a = window.DynamicEventTimeSession(func(r rec) time.Duration { return gaps[r.Key] })
	default:
		t.Fatalf("unknown window %q", w[0])
	}
	ws := weir.Window(ks, a)
	if tr, ok := h["trigger"]; ok {
		ws = ws.Trigger(buildTrigger[window.TimeWindow](t, tr))
	}
	if ev, ok := h["evictor"]; ok {
		ws = ws.Evictor(buildEvictor[window.TimeWindow](t, ev))
	}
	return ws, true
}

func buildGlobalWindows(t *testing.T, h map[string][]string, ks weir.KeyedStream[string, rec]) weir.WindowedStream[string, rec, window.GlobalWindow] {
	var ws weir.WindowedStream[string, rec, window.GlobalWindow]
	if c, ok := h["countwindow"]; ok {
		if len(c) > 1 {
			ws = weir.SlidingCountWindow(ks, atoi(t, c[0]), atoi(t, c[1]))
		} else {
			ws = weir.CountWindow(ks, atoi(t, c[0]))
		}
	} else {
		ws = weir.Window(ks, window.Global[rec]{})
	}
	if tr, ok := h["trigger"]; ok {
		ws = ws.Trigger(buildTrigger[window.GlobalWindow](t, tr))
	}
	if ev, ok := h["evictor"]; ok {
		ws = ws.Evictor(buildEvictor[window.GlobalWindow](t, ev))
	}
	return ws
}

func buildTrigger[W window.Window](t *testing.T, tr []string) window.Trigger[rec, W] {
	switch tr[0] {
	case "event":
		return window.EventTimeTrigger[rec, W]{}
	case "purging-event":
		return window.Purging[rec, W](window.EventTimeTrigger[rec, W]{})
	case "processing":
		return window.ProcessingTimeTrigger[rec, W]{}
	case "count":
		return window.Count[rec, W](atoi(t, tr[1]))
	case "purging-count":
		return window.Purging[rec, W](window.Count[rec, W](atoi(t, tr[1])))
	case "continuous-event":
		return window.ContinuousEventTime[rec, W](ms(t, tr[1]))
	case "continuous-processing":
		return window.ContinuousProcessingTime[rec, W](ms(t, tr[1]))
	}
	t.Fatalf("unknown trigger %q", tr[0])
	return nil
}

func buildEvictor[W window.Window](t *testing.T, ev []string) window.Evictor[rec, W] {
	after := len(ev) > 2 && ev[2] == "after"
	switch ev[0] {
	case "count":
		e := window.CountEvict[rec, W](atoi(t, ev[1]))
		if after {
			e = e.After()
		}
		return e
	case "time":
		e := window.TimeEvict[rec, W](ms(t, ev[1]))
		if after {
			e = e.After()
		}
		return e
	case "delta":
		e := window.DeltaEvict[rec, W](float64(atoi(t, ev[1])), func(a, b rec) float64 { return math.Abs(float64(a.V - b.V)) })
		if after {
			e = e.After()
		}
		return e
	}
	t.Fatalf("unknown evictor %q", ev[0])
	return nil
}

var lateTag = weir.NewOutputTag[rec]("late")

// applyFunction ends a windowed stream with the named window function; the
// output lines are "key window sum" (process functions) or "key sum".
func applyFunction[W window.Window](t *testing.T, ws weir.WindowedStream[string, rec, W], fn string, lateness time.Duration, side bool) (weir.Stream[string], weir.Stream[rec]) {
	ws = ws.AllowedLateness(lateness)
	if side {
		ws = ws.SideOutputLateData(lateTag)
	}
	pw := func(ctx *weir.WindowContext[string, string, W], key string, sum int64) {
		ctx.Collect(fmt.Sprintf("%s %v %d", key, ctx.Window(), sum))
	}
	var out weir.Stream[string]
	switch fn {
	case "reduce":
		r := weir.WindowReduce(ws, sumReduce)
		out = weir.Map(r, func(r rec) string { return fmt.Sprintf("%s %d", r.Key, r.V) })
		return out, weir.SideOutput(r, lateTag)
	case "aggregate":
		var agg state.AggregateFunction[rec, sumAcc, rec] = sumAgg{}
		a := weir.WindowAggregate(ws, agg)
		out = weir.Map(a, func(r rec) string { return fmt.Sprintf("%s %d", r.Key, r.V) })
		return out, weir.SideOutput(a, lateTag)
	case "process":
		out = weir.WindowProcess(ws, weir.ProcessWindowFunc[string, rec, string, W](
			func(ctx *weir.WindowContext[string, string, W], key string, els []rec) error {
				var s int64
				for _, e := range els {
					if e.Key != key {
						return fmt.Errorf("element of key %q in window of key %q", e.Key, key)
					}
					s += e.V
				}
				pw(ctx, key, s)
				return nil
			}))
	case "reduceprocess":
		out = weir.WindowReduceProcess(ws, sumReduce, weir.ProcessWindowFunc[string, rec, string, W](
			func(ctx *weir.WindowContext[string, string, W], key string, els []rec) error {
				if len(els) != 1 {
					return fmt.Errorf("reduce+process got %d elements, want 1", len(els))
				}
				pw(ctx, key, els[0].V)
				return nil
			}))
	case "aggregateprocess":
		var agg state.AggregateFunction[rec, sumAcc, rec] = sumAgg{}
		out = weir.WindowAggregateProcess(ws, agg, weir.ProcessWindowFunc[string, rec, string, W](
			func(ctx *weir.WindowContext[string, string, W], key string, els []rec) error {
				if len(els) != 1 || els[0].Key != key {
					return fmt.Errorf("aggregate+process got %v, want one result of key %q", els, key)
				}
				pw(ctx, key, els[0].V)
				return nil
			}))
	default:
		t.Fatalf("unknown function %q", fn)
	}
	return out, weir.SideOutput(out, lateTag)
}

// canon orders lines by key (the first field), keeping the order within a
// key: only that order is deterministic across parallelism.
func canon(lines []string) []string {
	out := slices.Clone(lines)
	slices.SortStableFunc(out, func(a, b string) int {
		ka, _, _ := strings.Cut(a, " ")
		kb, _, _ := strings.Cut(b, " ")
		return strings.Compare(ka, kb)
	})
	return out
}

// dropWindow removes the window column of expected lines, for functions
// that do not see the window.
func dropWindow(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) == 4 {
			f = append(f[:1], f[2:]...)
		}
		out[i] = strings.Join(f, " ")
	}
	return out
}

func TestWindowScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/window/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, path := range files {
		s := parseScript(t, path)
		fns := s.header["functions"]
		if fns == nil {
			fns = []string{"reduce", "aggregate", "process", "reduceprocess", "aggregateprocess"}
		}
		pars := s.header["parallelism"]
		if pars == nil {
			pars = []string{"1", "4"}
		}
		for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
			for _, fn := range fns {
				for _, p := range pars {
					name := fmt.Sprintf("%s/%s/%s/p%s", strings.TrimSuffix(filepath.Base(path), ".txt"), backend, fn, p)
					t.Run(name, func(t *testing.T) { runScript(t, path, s, backend, fn, int(atoi(t, p))) })
				}
			}
		}
	}
}

// runScript runs a window script on a state backend: every script runs on
// the heap (with its fast path for event-time windows) and on Pebble (with
// every timer registered), and must give the same output on both.
func runScript(t *testing.T, path string, s script, backend, fn string, par int) {
	opts := weir.Options{Parallelism: par, StateBackend: backend}
	if backend == weir.StatePebble {
		opts.StateDir, opts.Pebble = t.TempDir(), pebble.New()
	}
	h := weirtest.New(opts)
	in := weirtest.NewInput[rec](h)
	ks := weir.KeyBy(in.Stream(), func(r rec) string { return r.Key })
	var lateness time.Duration
	if l, ok := s.header["lateness"]; ok {
		lateness = ms(t, l[0])
	}
	_, side := s.header["sideoutput"]
	var out weir.Stream[string]
	var late weir.Stream[rec]
	if ws, ok := buildTimeWindows(t, s.header, ks); ok {
		out, late = applyFunction(t, ws, fn, lateness, side)
	} else {
		out, late = applyFunction(t, buildGlobalWindows(t, s.header, ks), fn, lateness, side)
	}
	results := weirtest.Capture(h, out)
	lateOut := weirtest.Capture(h, late)
	h.Start(t)
	process := strings.HasSuffix(fn, "process")
	seen, seenLate := 0, 0
	for _, st := range s.steps {
		where := fmt.Sprintf("%s:%d %v", path, st.line, st.cmd)
		var err error
		switch st.cmd[0] {
		case "record":
			err = in.Push(rec{st.cmd[1], atoi(t, st.cmd[3])}, atoi(t, st.cmd[2]))
		case "watermark":
			err = in.Watermark(atoi(t, st.cmd[1]))
		case "proctime":
			err = h.SetProcessingTime(atoi(t, st.cmd[1]))
		case "end":
			err = in.End()
		default:
			t.Fatalf("%s: unknown step", where)
		}
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		var gotLines []string
		recs := results.Records()
		for _, r := range recs[seen:] {
			gotLines = append(gotLines, r.Value+" @"+fmtTS(r.TS))
		}
		want := st.want
		if !process {
			want = dropWindow(want)
		}
		if g, w := canon(gotLines), canon(want); !slices.Equal(g, w) {
			t.Fatalf("%s: output\n got: %q\nwant: %q", where, g, w)
		}
		var gotLate []string
		seen = len(recs)
		lateRecs := lateOut.Records()
		seenLate, lateRecs = len(lateRecs), lateRecs[seenLate:]
		for _, r := range lateRecs {
			gotLate = append(gotLate, fmt.Sprintf("%s %d %d", r.Value.Key, r.TS, r.Value.V))
		}
		if g, w := canon(gotLate), canon(st.wantLate); !slices.Equal(g, w) {
			t.Fatalf("%s: late side output\n got: %q\nwant: %q", where, g, w)
		}
	}
}

// keepRegistry keeps the job's metrics after the job unregistered them, so
// a test can read the final values.
type keepRegistry struct{ *prometheus.Registry }

func (keepRegistry) Unregister(prometheus.Collector) bool { return true }

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func TestWindowLateRecordsDroppedMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1, Registry: keepRegistry{reg}})
	in := []weir.TimestampedValue[rec]{
		{Value: rec{"a", 1}, TS: 1},
		{Value: rec{"a", 2}, TS: 20}, // watermark 19: [0,10) fired and dropped
		{Value: rec{"a", 4}, TS: 5},  // late: dropped
		{Value: rec{"b", 8}, TS: 9},  // late: dropped
		{Value: rec{"b", 16}, TS: 25},
	}
	src := weir.FromTimestamped(env, in, weir.ForBoundedOutOfOrderness[rec](0))
	out := weir.Collect(weir.WindowReduce(weir.Window(weir.KeyBy(src, func(r rec) string { return r.Key }),
		window.TumblingEventTime[rec](10*time.Millisecond)), sumReduce))
	if err := env.Execute(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range out.Timestamped() {
		got = append(got, fmt.Sprintf("%s %d @%d", r.Value.Key, r.Value.V, r.TS))
	}
	want := []string{"a 1 @9", "a 2 @29", "b 16 @29"}
	if g := canon(got); !slices.Equal(g, want) {
		t.Fatalf("output %q, want %q", g, want)
	}
	if n := counterValue(t, reg, "weir_operator_late_records_dropped_total"); n != 2 {
		t.Fatalf("late records dropped = %v, want 2", n)
	}
}

// randomInput returns records of 20 keys whose timestamps go up with
// jitter, so that some arrive late.
func randomInput(seed uint64, n int) []weir.TimestampedValue[rec] {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]weir.TimestampedValue[rec], n)
	ts := int64(0)
	for i := range out {
		ts += r.Int64N(4)
		jitter := r.Int64N(40)
		out[i] = weir.TimestampedValue[rec]{Value: rec{fmt.Sprintf("k%02d", r.IntN(20)), r.Int64N(100)}, TS: ts - jitter}
	}
	return out
}

// runWindowJob runs one window job over in (watermark = highest timestamp
// - 10 - 1 after every record) and returns its main and late output as
// canonical lines.
func runWindowJob(t *testing.T, in []weir.TimestampedValue[rec], par int, assigner window.Assigner[rec, window.TimeWindow], fn string) (main, late []string) {
	t.Helper()
	env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1, Parallelism: par})
	src := weir.FromTimestamped(env, in, weir.ForBoundedOutOfOrderness[rec](10*time.Millisecond))
	ws := weir.Window(weir.KeyBy(src, func(r rec) string { return r.Key }), assigner).
		AllowedLateness(15 * time.Millisecond).SideOutputLateData(lateTag)
	out, lateS := applyFunction(t, ws, fn, 15*time.Millisecond, true)
	got, gotLate := weir.Collect(out), weir.Collect(lateS)
	if err := env.Execute(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, r := range got.Timestamped() {
		main = append(main, fmt.Sprintf("%s @%d", r.Value, r.TS))
	}
	for _, r := range gotLate.Timestamped() {
		late = append(late, fmt.Sprintf("%s %d %d", r.Value.Key, r.TS, r.Value.V))
	}
	return canon(main), canon(late)
}

// TestWindowSameAnswer checks that incremental aggregation and a full
// process-window function give the same results, at parallelism 1 and 4,
// over random out-of-order input with lateness and late firings.
func TestWindowSameAnswer(t *testing.T) {
	ms := time.Millisecond
	assigners := map[string]window.Assigner[rec, window.TimeWindow]{
		"tumbling": window.TumblingEventTime[rec](25 * ms),
		"sliding":  window.SlidingEventTime[rec](30*ms, 10*ms),
		"session":  window.EventTimeSession[rec](8 * ms),
	}
	in := randomInput(1, 3000)
	for name, a := range assigners {
		t.Run(name, func(t *testing.T) {
			wantMain, wantLate := runWindowJob(t, in, 1, a, "process")
			if len(wantMain) == 0 || (name != "sliding" && len(wantLate) == 0) {
				t.Fatalf("degenerate input: %d results, %d late", len(wantMain), len(wantLate))
			}
			for _, fn := range []string{"process", "aggregateprocess", "reduceprocess"} {
				for _, p := range []int{1, 4} {
					if fn == "process" && p == 1 {
						continue
					}
					gotMain, gotLate := runWindowJob(t, in, p, a, fn)
					if !slices.Equal(gotMain, wantMain) {
						t.Errorf("%s p=%d: %d results differ from process p=1 (%d results)", fn, p, len(gotMain), len(wantMain))
					}
					if !slices.Equal(gotLate, wantLate) {
						t.Errorf("%s p=%d: late output differs", fn, p)
					}
				}
			}
		})
	}
}

// TestWindowTumblingReference compares a tumbling window job with a direct
// computation: the last result of each window is the sum of the records
// that arrived before the window's cleanup time, and every other record is
// in the late output.
func TestWindowTumblingReference(t *testing.T) {
	const size, delay, lateness = 25, 10, 15
	in := randomInput(2, 3000)
	type kw struct {
		key   string
		start int64
	}
	want := map[kw]int64{}
	var wantLate []string
	wm := int64(math.MinInt64)
	maxTS := int64(math.MinInt64)
	for _, r := range in {
		start := window.StartWithOffset(r.TS, 0, size)
		if start+size-1+lateness <= wm {
			wantLate = append(wantLate, fmt.Sprintf("%s %d %d", r.Value.Key, r.TS, r.Value.V))
		} else {
			want[kw{r.Value.Key, start}] += r.Value.V
		}
		maxTS = max(maxTS, r.TS)
		wm = max(wm, maxTS-delay-1)
	}
	main, late := runWindowJob(t, in, 4, window.TumblingEventTime[rec](size*time.Millisecond), "aggregateprocess")
	last := map[kw]int64{}
	for _, l := range main {
		var key string
		var s, e, sum, ts int64
		if _, err := fmt.Sscanf(l, "%s [%d,%d) %d @%d", &key, &s, &e, &sum, &ts); err != nil {
			t.Fatalf("bad line %q: %v", l, err)
		}
		if ts != e-1 || e-s != size {
			t.Fatalf("result %q: timestamp must be End-1", l)
		}
		last[kw{key, s}] = sum
	}
	if len(last) != len(want) {
		t.Fatalf("%d windows, want %d", len(last), len(want))
	}
	for k, v := range want {
		if last[k] != v {
			t.Errorf("window %v: last result %d, want %d", k, last[k], v)
		}
	}
	if wl := canon(wantLate); !slices.Equal(late, wl) {
		t.Errorf("late output: %d records, want %d", len(late), len(wl))
	}
}

// stateFn counts, per window, how often the window fired (per-window
// state) and, per key, how many firings there were in all (global state).
type stateFn struct {
	total   state.Value[int64]
	cleared *[]string
}

func (f *stateFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.total = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "total"})
	return nil
}

func (f *stateFn) Process(ctx *weir.WindowContext[string, string, window.TimeWindow], key string, els []rec) error {
	firings := weir.WindowValue[int64](ctx.WindowState(), "firings")
	n, _ := firings.Value()
	firings.Update(n + 1)
	tot, _ := f.total.Value()
	f.total.Update(tot + 1)
	ctx.Collect(fmt.Sprintf("%s %v n=%d total=%d size=%d", key, ctx.Window(), n+1, tot+1, len(els)))
	return nil
}

func (f *stateFn) Clear(ctx *weir.WindowContext[string, string, window.TimeWindow]) error {
	n, _ := weir.WindowValue[int64](ctx.WindowState(), "firings").Value()
	*f.cleared = append(*f.cleared, fmt.Sprintf("%s %v n=%d", ctx.Key(), ctx.Window(), n))
	return nil
}

func TestProcessWindowState(t *testing.T) {
	var cleared []string
	h := weirtest.New(weir.Options{Parallelism: 2})
	in := weirtest.NewInput[rec](h)
	ws := weir.Window(weir.KeyBy(in.Stream(), func(r rec) string { return r.Key }),
		window.TumblingEventTime[rec](10*time.Millisecond)).
		AllowedLateness(10 * time.Millisecond)
	out := weirtest.Capture(h, weir.WindowProcess(ws, weir.ProcessWindowFunction[string, rec, string, window.TimeWindow](&stateFn{cleared: &cleared})))
	h.Start(t)
	steps := []struct {
		do   func() error
		want []string
	}{
		{func() error { return in.Push(rec{"a", 1}, 1) }, nil},
		{func() error { return in.Watermark(9) }, []string{"a [0,10) n=1 total=1 size=1"}},
		{func() error { return in.Push(rec{"a", 1}, 2) }, []string{"a [0,10) n=2 total=2 size=2"}},
		{func() error { return in.Push(rec{"a", 1}, 15) }, nil},
		{func() error { return in.Watermark(19) }, []string{"a [10,20) n=1 total=3 size=1"}},
	}
	for i, st := range steps {
		if err := st.do(); err != nil {
			t.Fatal(err)
		}
		if got := out.Take(); !slices.Equal(got, st.want) {
			t.Fatalf("step %d: got %q, want %q", i, got, st.want)
		}
	}
	if len(cleared) != 1 || cleared[0] != "a [0,10) n=2" {
		t.Fatalf("cleared %q, want [0,10) cleared once at watermark 19 with its state", cleared)
	}
	if err := in.End(); err != nil {
		t.Fatal(err)
	}
	if len(cleared) != 2 || cleared[1] != "a [10,20) n=1" {
		t.Fatalf("cleared %q", cleared)
	}
}

func TestWindowErrors(t *testing.T) {
	ms := time.Millisecond
	type build func(ks weir.KeyedStream[string, rec]) weir.Stream[rec]
	tumbling := window.TumblingEventTime[rec](10 * ms)
	tests := []struct {
		name  string
		noTS  bool
		build build
		want  string
	}{
		{"no timestamp", true, func(ks weir.KeyedStream[string, rec]) weir.Stream[rec] {
			return weir.WindowReduce(weir.Window(ks, tumbling), sumReduce)
		}, "no timestamp"},
		{"zero size", false, func(ks weir.KeyedStream[string, rec]) weir.Stream[rec] {
			return weir.WindowReduce(weir.Window(ks, window.TumblingEventTime[rec](0)), sumReduce)
		}, "size"},
		{"negative lateness", false, func(ks weir.KeyedStream[string, rec]) weir.Stream[rec] {
			return weir.WindowReduce(weir.Window(ks, tumbling).AllowedLateness(-ms), sumReduce)
		}, "lateness"},
		{"reduce error", false, func(ks weir.KeyedStream[string, rec]) weir.Stream[rec] {
			return weir.WindowReduce(weir.Window(ks, tumbling), func(a, b rec) (rec, error) { return a, fmt.Errorf("boom") })
		}, "boom"},
		{"window state with sessions", false, func(ks weir.KeyedStream[string, rec]) weir.Stream[rec] {
			return weir.WindowProcess(weir.Window(ks, window.EventTimeSession[rec](10*ms)),
				weir.ProcessWindowFunc[string, rec, rec, window.TimeWindow](func(ctx *weir.WindowContext[string, rec, window.TimeWindow], _ string, _ []rec) error {
					weir.WindowValue[int](ctx.WindowState(), "x").Update(1)
					return nil
				}))
		}, "merging"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1})
			in := []weir.TimestampedValue[rec]{{Value: rec{"a", 1}, TS: 1}, {Value: rec{"a", 2}, TS: 2}}
			var src weir.Stream[rec]
			if tt.noTS {
				src = weir.FromSlice(env, []rec{{"a", 1}})
			} else {
				src = weir.FromTimestamped(env, in, weir.ForBoundedOutOfOrderness[rec](0))
			}
			weir.Collect(tt.build(weir.KeyBy(src, func(r rec) string { return r.Key })))
			err := env.Execute(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

type click struct {
	User string
	N    int64
}

type clickCount struct{}

func (clickCount) CreateAccumulator() int64              { return 0 }
func (clickCount) Add(acc int64, c click) (int64, error) { return acc + c.N, nil }
func (clickCount) Result(acc int64) (int64, error)       { return acc, nil }
func (clickCount) Merge(a, b int64) (int64, error)       { return a + b, nil }

// Clicks per user in tumbling one-minute event-time windows, with the
// window in the output: an incremental aggregate (one accumulator per user
// and window) followed by a process-window function that sees the window.
func ExampleWindowAggregateProcess() {
	env := weir.NewEnvironment(weir.Options{})
	min := int64(time.Minute / time.Millisecond)
	clicks := weir.FromTimestamped(env, []weir.TimestampedValue[click]{
		{Value: click{"ann", 1}, TS: 0},
		{Value: click{"bob", 1}, TS: 10},
		{Value: click{"ann", 2}, TS: min - 1},
		{Value: click{"ann", 1}, TS: min}, // the next window
	}, weir.ForBoundedOutOfOrderness[click](time.Second))
	perUser := weir.Window(weir.KeyBy(clicks, func(c click) string { return c.User }),
		window.TumblingEventTime[click](time.Minute))
	counts := weir.WindowAggregateProcess(perUser, clickCount{},
		weir.ProcessWindowFunc[string, int64, string, window.TimeWindow](
			func(ctx *weir.WindowContext[string, string, window.TimeWindow], user string, n []int64) error {
				ctx.Collect(fmt.Sprintf("%s %v: %d", user, ctx.Window(), n[0]))
				return nil
			}))
	out := weir.Collect(counts)
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range canon(out.Values()) {
		fmt.Println(line)
	}
	// Output:
	// ann [0,60000): 3
	// ann [60000,120000): 1
	// bob [0,60000): 1
}
