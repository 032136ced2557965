package weirtest_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/weirtest"
)

type event struct {
	Key string
	N   int
}

// timerFn counts events per key and, at an event-time timer one second
// after each key's first event, emits the count so far; a processing-time
// timer emits "pt:<key>".
type timerFn struct {
	count state.Value[int]
}

func (f *timerFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.count = state.GetValue[string, int](ctx.State(), state.Descriptor{Name: "count"})
	return nil
}

func (f *timerFn) ProcessElement(ctx *weir.KeyedContext[string, string], e event) error {
	n, ok := f.count.Value()
	if !ok {
		ctx.RegisterEventTimeTimer(ctx.Timestamp() + 1000)
		ctx.RegisterProcessingTimeTimer(ctx.CurrentProcessingTime() + 500)
		// Registering the same timer again must not fire it twice.
		ctx.RegisterEventTimeTimer(ctx.Timestamp() + 1000)
	}
	f.count.Update(n + e.N)
	return nil
}

func (f *timerFn) OnTimer(ctx *weir.KeyedContext[string, string], ts int64) error {
	if ctx.TimeDomain() == weir.ProcessingTime {
		ctx.Collect("pt:" + ctx.Key())
		return nil
	}
	n, _ := f.count.Value()
	ctx.Collect(ctx.Key() + "=" + strings.Repeat("|", n))
	if ctx.Timestamp() != ts {
		ctx.Collect("bad timestamp")
	}
	return nil
}

func TestKeyedTimers(t *testing.T) {
	for _, p := range []int{1, 3} {
		h := weirtest.New(weir.Options{Parallelism: p})
		in := weirtest.NewInput[event](h)
		out := weirtest.Capture(h, weir.ProcessKeyed[string, event, string](
			weir.KeyBy(in.Stream(), func(e event) string { return e.Key }), &timerFn{}))
		h.Start(t)
		must(t, in.Push(event{"a", 1}, 100))
		must(t, in.Push(event{"b", 2}, 200))
		must(t, in.Push(event{"a", 1}, 300))
		if got := out.Take(); len(got) != 0 {
			t.Fatalf("p=%d: output before any timer: %v", p, got)
		}
		must(t, in.Watermark(1100))
		if diff := cmp.Diff([]string{"a=||"}, out.Take()); diff != "" {
			t.Fatalf("p=%d: after watermark 1100 (-want +got):\n%s", p, diff)
		}
		must(t, in.Push(event{"b", 1}, 1150))
		must(t, in.Watermark(1200))
		if diff := cmp.Diff([]string{"b=|||"}, out.Take()); diff != "" {
			t.Fatalf("p=%d: after watermark 1200 (-want +got):\n%s", p, diff)
		}
		must(t, h.SetProcessingTime(499))
		if got := out.Take(); len(got) != 0 {
			t.Fatalf("p=%d: processing timer fired early: %v", p, got)
		}
		must(t, h.SetProcessingTime(500))
		got := out.Take()
		slices.Sort(got)
		if diff := cmp.Diff([]string{"pt:a", "pt:b"}, got); diff != "" {
			t.Fatalf("p=%d: processing-time timers (-want +got):\n%s", p, diff)
		}
		must(t, in.End())
		if !h.Finished() {
			t.Fatalf("p=%d: job not finished after the input ended", p)
		}
	}
}

func TestEndOfInputFiresPendingTimers(t *testing.T) {
	h := weirtest.New(weir.Options{})
	in := weirtest.NewInput[event](h)
	out := weirtest.Capture(h, weir.ProcessKeyed[string, event, string](
		weir.KeyBy(in.Stream(), func(e event) string { return e.Key }), &timerFn{}))
	h.Start(t)
	must(t, in.Push(event{"x", 1}, 5000))
	must(t, in.End())
	if diff := cmp.Diff([]string{"x=|"}, out.Values()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if wms := out.Watermarks(); len(wms) == 0 || wms[len(wms)-1] != weir.MaxWatermark {
		t.Fatalf("final watermark not forwarded: %v", wms)
	}
}

// ttlFn emits the value it finds before updating it.
type ttlFn struct {
	ttl   state.TTL
	value state.Value[int]
}

func (f *ttlFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.value = state.GetValue[string, int](ctx.State(), state.Descriptor{Name: "v", TTL: f.ttl})
	return nil
}

func (f *ttlFn) ProcessElement(ctx *weir.KeyedContext[string, int], e event) error {
	v, ok := f.value.Value()
	if !ok {
		v = -1
	}
	ctx.Collect(v)
	if e.N != 0 {
		f.value.Update(e.N)
	}
	return nil
}

func TestStateTTL(t *testing.T) {
	cases := []struct {
		name string
		ttl  state.TTL
		// steps: processing time, value to write (0 = read only)
		steps []struct{ at, n int }
		want  []int
	}{
		{
			name: "expires after ttl on create and write",
			ttl:  state.TTL{TTL: time.Second},
			steps: []struct{ at, n int }{
				{0, 5}, {999, 0}, {1000, 0},
			},
			want: []int{-1, 5, -1},
		},
		{
			name: "write refreshes",
			ttl:  state.TTL{TTL: time.Second},
			steps: []struct{ at, n int }{
				{0, 5}, {800, 6}, {1700, 0}, {1800, 0},
			},
			want: []int{-1, 5, 6, -1},
		},
		{
			name: "read does not refresh on create and write",
			ttl:  state.TTL{TTL: time.Second},
			steps: []struct{ at, n int }{
				{0, 5}, {900, 0}, {1100, 0},
			},
			want: []int{-1, 5, -1},
		},
		{
			name: "read refreshes on read and write",
			ttl:  state.TTL{TTL: time.Second, Update: state.OnReadAndWrite},
			steps: []struct{ at, n int }{
				{0, 5}, {900, 0}, {1800, 0}, {2801, 0},
			},
			want: []int{-1, 5, 5, -1},
		},
		{
			name: "no ttl keeps values",
			steps: []struct{ at, n int }{
				{0, 5}, {1 << 40, 0},
			},
			want: []int{-1, 5},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := weirtest.New(weir.Options{})
			in := weirtest.NewInput[event](h)
			out := weirtest.Capture(h, weir.ProcessKeyed[string, event, int](
				weir.KeyBy(in.Stream(), func(e event) string { return e.Key }), &ttlFn{ttl: c.ttl}))
			h.Start(t)
			for _, s := range c.steps {
				must(t, h.SetProcessingTime(int64(s.at)))
				must(t, in.Push(event{"k", s.n}, weir.NoTimestamp))
			}
			if diff := cmp.Diff(c.want, out.Values()); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestWatermarkIsMinOverInputs checks that an operator reading two inputs
// advances its watermark to the minimum of both, ignores an idle input, and
// takes it into account again once it becomes active.
func TestWatermarkIsMinOverInputs(t *testing.T) {
	h := weirtest.New(weir.Options{})
	a := weirtest.NewInput[int](h)
	b := weirtest.NewInput[int](h)
	out := weirtest.Capture(h, weir.Union(a.Stream(), b.Stream()))
	h.Start(t)
	must(t, a.Watermark(100))
	if wms := out.Watermarks(); len(wms) != 0 {
		t.Fatalf("watermark advanced with one input silent: %v", wms)
	}
	must(t, b.Watermark(50))
	must(t, a.Watermark(200))
	must(t, b.Watermark(150))
	if diff := cmp.Diff([]int64{50, 150}, out.Watermarks()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	must(t, b.MarkIdle())
	if diff := cmp.Diff([]int64{50, 150, 200}, out.Watermarks()); diff != "" {
		t.Fatalf("idle input still holds back the watermark (-want +got):\n%s", diff)
	}
	must(t, a.Watermark(300))
	must(t, b.Push(1, 250)) // active again, at 150: holds back from here on
	must(t, a.Watermark(400))
	must(t, b.Watermark(350))
	if diff := cmp.Diff([]int64{50, 150, 200, 300, 350}, out.Watermarks()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
