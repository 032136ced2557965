package bench

// Micro-benchmarks behind the suggestions in docs/benchmarks.md: a typed
// binary heap against container/heap (which boxes every element pushed or
// popped), and window state keyed by (window, key) in one map against one
// map per window. They model the engine's data structures in isolation; run
// with
//
//	go test -run '^$' -bench 'Heap|WindowState' -benchtime 2000000x ./bench

import (
	"container/heap"
	"testing"
)

type benchTimer struct {
	ts  int64
	key uint64
	kg  int
}

type boxedHeap []benchTimer

func (h boxedHeap) Len() int           { return len(h) }
func (h boxedHeap) Less(i, j int) bool { return h[i].ts < h[j].ts }
func (h boxedHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *boxedHeap) Push(x any)        { *h = append(*h, x.(benchTimer)) }
func (h *boxedHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type typedHeap []benchTimer

func (h *typedHeap) push(t benchTimer) {
	*h = append(*h, t)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].ts <= s[i].ts {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *typedHeap) pop() benchTimer {
	s := *h
	t := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].ts < s[l].ts {
			m = r
		}
		if s[i].ts <= s[m].ts {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return t
}

// liveTimers is the heap size while pushing and popping, as in scenario d.
const liveTimers = 100_000

func BenchmarkHeapContainer(b *testing.B) {
	b.ReportAllocs()
	h := &boxedHeap{}
	for i := range liveTimers {
		heap.Push(h, benchTimer{ts: int64(i)})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		heap.Push(h, benchTimer{ts: int64(i + liveTimers), key: uint64(i)})
		_ = heap.Pop(h).(benchTimer)
	}
}

func BenchmarkHeapTyped(b *testing.B) {
	b.ReportAllocs()
	h := &typedHeap{}
	for i := range liveTimers {
		h.push(benchTimer{ts: int64(i)})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.push(benchTimer{ts: int64(i + liveTimers), key: uint64(i)})
		_ = h.pop()
	}
}

type benchWindow struct{ start, end int64 }

type windowKey struct {
	w benchWindow
	k uint64
}

// Scenario e's (formerly b's) access pattern: 100k keys, 1M records per 1-second window,
// records in event-time order, each window dropped one window after it
// ends (the watermark lags), read then written per record as a value state
// is.
const (
	wsKeys      = 100_000
	wsPerWindow = 1_000_000
)

func BenchmarkWindowStateCompositeKey(b *testing.B) {
	m := map[windowKey]int64{}
	var live []windowKey
	for i := 0; i < b.N; i++ {
		w := int64(i / wsPerWindow)
		k := windowKey{benchWindow{w * 1000, w*1000 + 1000}, splitmix64(uint64(i)) % wsKeys}
		v, ok := m[k]
		if !ok {
			live = append(live, k)
		}
		m[k] = v + 1
		if i%wsPerWindow == 0 && w >= 2 {
			// Fire the window two back: delete its entries one by one.
			old := benchWindow{(w - 2) * 1000, (w-2)*1000 + 1000}
			kept := live[:0]
			for _, lk := range live {
				if lk.w == old {
					delete(m, lk)
				} else {
					kept = append(kept, lk)
				}
			}
			live = kept
		}
	}
}

func BenchmarkWindowStatePerWindowMap(b *testing.B) {
	m := map[benchWindow]map[uint64]int64{}
	var last benchWindow
	var cur map[uint64]int64
	for i := 0; i < b.N; i++ {
		w := int64(i / wsPerWindow)
		ns := benchWindow{w * 1000, w*1000 + 1000}
		if cur == nil || ns != last {
			if cur = m[ns]; cur == nil {
				cur = map[uint64]int64{}
				m[ns] = cur
			}
			last = ns
		}
		k := splitmix64(uint64(i)) % wsKeys
		v := cur[k]
		cur[k] = v + 1
		if i%wsPerWindow == 0 && w >= 2 {
			delete(m, benchWindow{(w - 2) * 1000, (w-2)*1000 + 1000})
		}
	}
}
