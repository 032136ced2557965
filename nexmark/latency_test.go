package nexmark

import (
	"context"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

func TestHistogramBuckets(t *testing.T) {
	for _, v := range []int64{0, 1, 63, 64, 65, 127, 128, 1000, 999_999, 1 << 40, math.MaxInt64 - 1, math.MaxInt64} {
		i := bucketOf(v)
		if hi := bucketHigh(i); hi < v {
			t.Errorf("value %d: bucket %d ends at %d", v, i, hi)
		}
		if i > 0 && bucketHigh(i-1) >= v {
			t.Errorf("value %d: bucket %d before it ends at %d", v, i-1, bucketHigh(i-1))
		}
		if lo := bucketHigh(i-1) + 1; i > 0 && v >= 64 && float64(bucketHigh(i)-lo+1) > float64(lo)/subBuckets {
			t.Errorf("value %d: bucket %d is [%d, %d], wider than 1/32", v, i, lo, bucketHigh(i))
		}
		if i >= numBuckets {
			t.Errorf("value %d: bucket %d out of range", v, i)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	if h.quantile(0.99) != 0 {
		t.Error("empty histogram: quantile not 0")
	}
	for v := int64(1); v <= 10000; v++ {
		h.record(v * 1000)
	}
	var o histogram
	o.record(20_000_000)
	h.merge(&o)
	for _, c := range []struct {
		q    float64
		want int64
	}{{0.5, 5_000_000}, {0.99, 9_900_000}, {1, 20_000_000}} {
		got := h.quantile(c.q)
		if got < c.want || float64(got) > float64(c.want)*(1+1.0/subBuckets) {
			t.Errorf("quantile %v = %d, want %d within 1/32 above", c.q, got, c.want)
		}
	}
	if h.n != 10001 || h.max != 20_000_000 {
		t.Errorf("n %d max %d", h.n, h.max)
	}
}

// TestEmissions drives the generator wrapper by hand: slots remember the
// first emission of each millisecond, lookups scan forward over empty
// slots and past the last event return the end of input.
func TestEmissions(t *testing.T) {
	cfg := DefaultConfig(10000, 0)
	cfg.Rate = 100 // one event every 10 ms: 99,990 ms of event time
	var events atomic.Int64
	em := newEmissions(cfg, time.Now(), &events)
	if len(em.slots) != 99991 || em.width != 1 {
		t.Fatalf("%d slots of %d ms", len(em.slots), em.width)
	}
	if _, ok := em.emitted(cfg.BaseTime); ok {
		t.Error("emission known before any event")
	}
	gen := em.generator(func(int64) Event { return Event{} }, cfg.Timestamp)
	for n := range int64(countBatch - 1) {
		gen(n)
	}
	if got := events.Load(); got != 0 {
		t.Errorf("counted %d events before a batch was full", got)
	}
	gen(countBatch - 1)
	if got := events.Load(); got != countBatch {
		t.Errorf("counted %d events, want %d", got, countBatch)
	}
	at10, ok := em.emitted(cfg.BaseTime + 10)
	if !ok || at10 != em.slots[10].Load() || at10 == 0 {
		t.Errorf("event 1: %d %v, want slot 10's %d", at10, ok, em.slots[10].Load())
	}
	if at, _ := em.emitted(cfg.BaseTime + 5); at != at10 {
		t.Errorf("between events: %d, want the next event's %d", at, at10)
	}
	// Past the last event so far, before the end: the latest slot.
	last := (countBatch - 1) * 10
	if at, _ := em.emitted(cfg.BaseTime + 50000); at != em.slots[last].Load() || em.end.Load() != 0 {
		t.Errorf("past the events: %d, want slot %d's %d", at, last, em.slots[last].Load())
	}
	for n := int64(countBatch); n < cfg.Events; n++ {
		gen(n)
	}
	end, _ := em.emitted(cfg.BaseTime + 200000)
	if end != em.end.Load() || end < em.slots[99990].Load() {
		t.Errorf("past the end: %d, want the end %d", end, em.end.Load())
	}
	if events.Load() != cfg.Events {
		t.Errorf("counted %d events, want %d", events.Load(), cfg.Events)
	}
}

// TestBenchLatency checks Bench's latency and progress figures: measured
// per event for q0, from the watermark for q7, not at all for q12; the
// progress counter ends at the event count.
func TestBenchLatency(t *testing.T) {
	cfg := DefaultConfig(30000, 1)
	cfg.Rate = 1000 // 30 s of event time: q7's windows fire during the run
	const p = 2
	for _, c := range []struct {
		query, from string
		sample      int64 // every sample-th row of each sink subtask is measured
	}{{"q0", "event", perEventSample}, {"q7", "watermark", 1}, {"q12", "", 0}} {
		q, _ := Lookup(c.query)
		var prog Progress
		r, err := Bench(context.Background(), q, cfg, weir.Options{Parallelism: p}, &prog)
		if err != nil {
			t.Fatal(err)
		}
		if prog.Events() != cfg.Events {
			t.Errorf("%s: progress counted %d events, want %d", c.query, prog.Events(), cfg.Events)
		}
		if r.LatencyFrom != c.from {
			t.Errorf("%s: latency from %q, want %q", c.query, r.LatencyFrom, c.from)
		}
		if c.from == "" {
			if r.LatencyRows != 0 || r.LatencyP99Ms != 0 {
				t.Errorf("%s: latency measured: %+v", c.query, r)
			}
			continue
		}
		if lo := r.Rows / c.sample; r.LatencyRows < lo || r.LatencyRows > lo+p || r.LatencyRows == 0 {
			t.Errorf("%s: %d rows measured of %d, want every %d-th per subtask", c.query, r.LatencyRows, r.Rows, c.sample)
		}
		if !(r.LatencyP50Ms > 0 && r.LatencyP50Ms <= r.LatencyP99Ms && r.LatencyP99Ms <= r.LatencyMaxMs) || r.LatencyResolutionMs <= 0 {
			t.Errorf("%s: latency p50 %v p99 %v max %v resolution %v", c.query, r.LatencyP50Ms, r.LatencyP99Ms, r.LatencyMaxMs, r.LatencyResolutionMs)
		}
	}
}
