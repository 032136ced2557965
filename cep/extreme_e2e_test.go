package cep_test

import (
	"math"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/cep"
	"github.com/weirstream/weir/weirtest"
)

// One record at an extreme timestamp and Times(3).Within(10m): the job
// ends, with the partial match timed out at its saturated deadline. The
// deadline used to wrap around to the far past, where its timer fired and
// was registered again without end (the job spun and grew until killed).
func TestExtremeTimestampEnds(t *testing.T) {
	for _, ts := range []int64{math.MaxInt64 - 1, 9.22e18, -9.22e18, math.MinInt64 + 1} {
		h := weirtest.New(weir.Options{Parallelism: 1})
		in := weirtest.NewInput[ev](h)
		tag := weir.NewOutputTag[cep.TimedOut[string, ev]]("t")
		p := cep.Begin[ev]("a").Where(is("a")).Times(3).Within(10 * time.Minute)
		ps := cep.Pattern(weir.KeyBy(in.Stream(), func(e ev) string { return e.Key }), p).SideOutputTimeouts(tag)
		sel := cep.Select(ps, func(string, map[string][]ev) (string, error) { return "match", nil })
		matches := weirtest.Capture(h, sel)
		timeouts := weirtest.Capture(h, weir.SideOutput(sel, tag))
		h.Start(t)
		if err := in.Push(ev{Key: "k", ID: "a1", Name: "a"}, ts); err != nil {
			t.Fatal(err)
		}
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
		if !h.Finished() {
			t.Fatalf("ts %d: job not finished", ts)
		}
		want := ts + int64(10*time.Minute/time.Millisecond)
		if ts > math.MaxInt64-int64(10*time.Minute/time.Millisecond) {
			want = math.MaxInt64
		}
		if got := timeouts.Values(); len(got) != 1 || got[0].At != want {
			t.Fatalf("ts %d: timeouts %+v, want one at %d", ts, got, want)
		}
		if n := len(matches.Values()); n != 0 {
			t.Fatalf("ts %d: %d matches", ts, n)
		}
	}
}
