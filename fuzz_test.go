package weir

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/window"
)

// noTime is a processing-time service that never fires.
type noTime struct{}

func (noTime) Now() int64                            { return 0 }
func (noTime) Schedule(int64, func(now int64) error) {}

// fuzzTimers returns a timer state of string keys and int64 namespaces
// over every key group of max parallelism 128.
func fuzzTimers() (*timerState[string, int64], *runtime.TimerService[string, int64]) {
	kc := statebackend.NewKeyContext(keygroup.Hasher[string](), 128, keygroup.Range{Start: 0, End: 128})
	ts := runtime.NewTimerService[string, int64](noTime{}, nil, nil)
	return &timerState[string, int64]{name: "t", k: &keyed[string]{kc: kc}, ts: ts}, ts
}

func timerList(ts *runtime.TimerService[string, int64]) []string {
	var out []string
	ts.ForEachTimer(func(processing bool, at int64, key string, ns int64) {
		out = append(out, fmt.Sprintf("%v %d %q %d", processing, at, key, ns))
	})
	slices.Sort(out)
	return out
}

// FuzzRestoreTimers restores arbitrary bytes as the timers of one key
// group: no panic; a corrupt body is an error wrapping codec.ErrCorrupt;
// every restored timer's key belongs to the key group (else the next
// snapshot would file it under another one, or drop it); and the timers
// written by a snapshot restore to the same timers.
func FuzzRestoreTimers(f *testing.F) {
	tsState, ts := fuzzTimers()
	for i := range 10 {
		k := fmt.Sprintf("k%d", i)
		tm := runtime.Timer[string, int64]{TS: int64(i * 1000), Key: k, NS: int64(i), KeyGroup: tsState.k.kc.GroupOf(k)}
		if i%2 == 0 {
			ts.RegisterEventTime(tm)
		} else {
			ts.RegisterProcessingTime(tm)
		}
	}
	w, err := tsState.Freeze()
	if err != nil {
		f.Fatal(err)
	}
	for kg := range 128 {
		if b, _ := w(nil, kg); len(b) > 0 {
			f.Add(uint8(kg), b)
		}
	}
	f.Add(uint8(0), []byte{7, 2, 0, 0})
	f.Fuzz(func(t *testing.T, kgb uint8, b []byte) {
		kg := int(kgb) % 128
		st, ts := fuzzTimers()
		if err := st.RestoreGroup(kg, b); err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		ts.ForEachTimer(func(_ bool, _ int64, key string, _ int64) {
			if g := st.k.kc.GroupOf(key); g != kg {
				t.Fatalf("timer of key %q (key group %d) restored in key group %d", key, g, kg)
			}
		})
		w, err := st.Freeze()
		if err != nil {
			t.Fatal(err)
		}
		snap, _ := w(nil, kg)
		st2, ts2 := fuzzTimers()
		if err := st2.RestoreGroup(kg, snap); err != nil {
			t.Fatalf("restoring a snapshot: %v", err)
		}
		if a, b := timerList(ts), timerList(ts2); !slices.Equal(a, b) {
			t.Fatalf("timers %q restore as %q", a, b)
		}
	})
}

// FuzzDecodePending checks the decoder of a sink's pending commits:
// no panic, and decode(encode(p)) == p for whatever decodes.
func FuzzDecodePending(f *testing.F) {
	f.Add(encodePending(pendingCommit{id: 12, items: [][]byte{[]byte("a"), {}, []byte("xyz")}}))
	f.Add([]byte{2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePending(b)
		if err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		q, err := decodePending(encodePending(p))
		if err != nil || q.id != p.id || !slices.EqualFunc(q.items, p.items, bytes.Equal) {
			t.Fatalf("%+v round-trips to %+v (%v)", p, q, err)
		}
	})
}

// FuzzRestorePosition checks the collection source's positions: no
// panic, a restored next index is never negative (the reader indexes its
// slice with it), an item followed by a byte is refused, and every
// position a reader stores restores.
func FuzzRestorePosition(f *testing.F) {
	f.Add(encodePosition(1, 2, 5), uint8(1), uint8(2))
	f.Add([]byte{0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, uint8(0), uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, sub, par uint8) {
		subtask, parallelism := int(sub), int(par)
		if parallelism > 0 && subtask < parallelism {
			for _, next := range []int{subtask, subtask + 1000*parallelism} {
				got, err := restorePosition([][]byte{encodePosition(subtask, parallelism, next)}, subtask, parallelism)
				if err != nil || got != next {
					t.Fatalf("position (%d, %d, %d) restores as %d, %v", subtask, parallelism, next, got, err)
				}
			}
		}
		next, err := restorePosition([][]byte{b}, subtask, parallelism)
		if err != nil {
			return
		}
		if next < 0 {
			t.Fatalf("%x restored next index %d", b, next)
		}
		if _, err := restorePosition([][]byte{append(b[:len(b):len(b)], 0)}, subtask, parallelism); err == nil {
			t.Fatalf("%x with a byte more restored", b)
		}
	})
}

// FuzzBroadcastState checks the decoder of broadcast map state: no panic,
// no allocation for a count the bytes cannot hold, decode(encode(m)) == m,
// and an item with bytes after its entries is refused.
func FuzzBroadcastState(f *testing.F) {
	m := &broadcastMap[string, []int]{m: map[string][]int{"a": {1, 2}, "": nil, "ü": {-1}}}
	b, err := m.encode(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &broadcastMap[string, []int]{m: map[string][]int{}}
		if err := m.decode(b); err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		enc, err := m.encode(nil)
		if err != nil {
			t.Fatal(err)
		}
		m2 := &broadcastMap[string, []int]{m: map[string][]int{}}
		if err := m2.decode(enc); err != nil {
			t.Fatalf("%v encoded as %x does not decode: %v", m.m, enc, err)
		}
		if !maps.EqualFunc(m.m, m2.m, slices.Equal) {
			t.Fatalf("%v round-trips to %v", m.m, m2.m)
		}
		m3 := &broadcastMap[string, []int]{m: map[string][]int{}}
		if err := m3.decode(append(b[:len(b):len(b)], 0)); err == nil {
			t.Fatalf("%x with a byte more decoded", b)
		}
	})
}

// FuzzMergePairs decodes arbitrary bytes as a key's merging window set
// (session windows, as restored from a checkpoint): no panic; what decodes
// encodes to what decodes to the same pairs; and merging its windows with
// a new one gives groups of at least two windows, each a run of touching
// windows merged into the window covering it, no window in two groups.
func FuzzMergePairs(f *testing.F) {
	c, err := codec.For[[]mergePair[window.TimeWindow]]()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.Append(nil, []mergePair[window.TimeWindow]{{Win: window.TimeWindow{Start: 0, End: 10}, State: window.TimeWindow{Start: 0, End: 5}}}), int64(8), int64(20))
	f.Add(c.Append(nil, []mergePair[window.TimeWindow]{{Win: window.TimeWindow{Start: math.MaxInt64 - 1, End: math.MaxInt64}}, {Win: window.TimeWindow{Start: math.MinInt64, End: 0}}}), int64(0), int64(0))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f}, int64(0), int64(1))
	f.Fuzz(func(t *testing.T, b []byte, start, end int64) {
		pairs, _, err := c.Decode(b)
		if err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		again, _, err := c.Decode(c.Append(nil, pairs))
		if err != nil || !slices.Equal(again, pairs) {
			t.Fatalf("%v round-trips to %v (%v)", pairs, again, err)
		}
		var wins []window.TimeWindow
		for _, p := range pairs {
			wins = append(wins, p.Win)
		}
		wins = append(wins, window.TimeWindow{Start: start, End: end})
		in := slices.Clone(wins)
		var groups [][]window.TimeWindow
		window.MergeTimeWindows(wins, func(result window.TimeWindow, merged []window.TimeWindow) {
			if len(merged) < 2 {
				t.Fatalf("a group of %d windows", len(merged))
			}
			cover := merged[0]
			for _, w := range merged[1:] {
				if !cover.Intersects(w) {
					t.Fatalf("group %v is not one run of touching windows", merged)
				}
				cover = cover.Cover(w)
			}
			if cover != result {
				t.Fatalf("group %v merged into %v, covered by %v", merged, result, cover)
			}
			groups = append(groups, slices.Clone(merged))
		})
		// Every input window is in at most one group.
		n := 0
		for _, g := range groups {
			n += len(g)
		}
		if n > len(in) {
			t.Fatalf("%d windows in groups, %d windows", n, len(in))
		}
	})
}
