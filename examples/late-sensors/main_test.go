package main

import (
	"bytes"
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// expected replays the readings in arrival order with the rules of Flink's
// event-time trigger and allowed lateness, written out directly: the
// watermark after a reading is the largest timestamp so far minus the
// out-of-orderness minus 1 ms; a window fires when the watermark reaches its
// last millisecond, and again on each reading that joins it after that; a
// reading whose window's last millisecond plus the lateness is at or below
// the watermark is too late.
func expected(readings []Reading, outOfOrder, lateness time.Duration) ([]Average, []Reading) {
	type key struct {
		sensor string
		start  int64
	}
	type win struct {
		count int64
		sum   float64
		fired bool
	}
	wins := map[key]*win{}
	var order []key
	var firings []Average
	var late []Reading
	fire := func(k key, w *win) {
		w.fired = true
		firings = append(firings, Average{Sensor: k.sensor, Start: k.start, End: k.start + 60_000, Count: w.count, Avg: w.sum / float64(w.count)})
	}
	wm := int64(math.MinInt64)
	maxTS := int64(math.MinInt64)
	for _, r := range readings {
		start := r.TS - r.TS%60_000
		last := start + 60_000 - 1
		if last+lateness.Milliseconds() <= wm {
			late = append(late, r)
		} else {
			k := key{r.Sensor, start}
			w := wins[k]
			if w == nil {
				w = &win{}
				wins[k] = w
				order = append(order, k)
			}
			w.count++
			w.sum += r.Value
			if last <= wm {
				fire(k, w)
			}
		}
		maxTS = max(maxTS, r.TS)
		wm = max(wm, maxTS-outOfOrder.Milliseconds()-1)
		for _, k := range order {
			if w := wins[k]; !w.fired && k.start+60_000-1 <= wm {
				fire(k, w)
			}
		}
	}
	for _, k := range order {
		if w := wins[k]; !w.fired {
			fire(k, w)
		}
	}
	return firings, late
}

func TestLateSensors(t *testing.T) {
	readings := Generate(5, 4, 40)
	wantAvgs, wantLate := expected(readings, 10*time.Second, 30*time.Second)
	windows := map[Average]bool{}
	for _, a := range wantAvgs {
		windows[Average{Sensor: a.Sensor, Start: a.Start}] = true
	}
	if refires := len(wantAvgs) - len(windows); len(wantLate) < 5 || refires < 5 {
		t.Fatalf("the generated readings have %d too-late readings and %d late firings; the test needs both", len(wantLate), refires)
	}
	opts := []cmp.Option{
		cmpopts.EquateApprox(0, 1e-9),
		cmpopts.SortSlices(func(a, b Average) bool {
			if a.Sensor != b.Sensor {
				return a.Sensor < b.Sensor
			}
			if a.Start != b.Start {
				return a.Start < b.Start
			}
			return a.Count < b.Count
		}),
		cmpopts.SortSlices(func(a, b Reading) bool {
			if a.Sensor != b.Sensor {
				return a.Sensor < b.Sensor
			}
			return a.TS < b.TS
		}),
	}
	for _, p := range []int{1, 3} {
		// Two print sinks write to out from their subtasks: a bytes.Buffer
		// needs a lock (os.Stdout does not).
		var out lockedBuffer
		avgs, late, err := Run(context.Background(), Config{Parallelism: p}, readings, &out)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(wantAvgs, avgs, opts...); d != "" {
			t.Errorf("parallelism %d: window firings differ (-want +got):\n%s", p, d)
		}
		if d := cmp.Diff(wantLate, late, opts...); d != "" {
			t.Errorf("parallelism %d: too-late readings differ (-want +got):\n%s", p, d)
		}
		if n := bytes.Count(out.b.Bytes(), []byte("\n")); n != len(wantAvgs)+len(wantLate) {
			t.Errorf("parallelism %d: printed %d lines, want %d", p, n, len(wantAvgs)+len(wantLate))
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
