package weir

import (
	"testing"
	"unsafe"

	"github.com/weirstream/weir/internal/cacheline"
	"github.com/weirstream/weir/window"
)

// State a subtask writes per record (or per key and window fired) must
// share no cache line with another allocation: the other subtasks of the
// operator allocate theirs side by side when they open and write them on
// other cores, and a shared line moves between the cores on every write
// (at parallelism 2 on an idle machine, +30 – 50 % CPU per record in
// scenario b). These tests allocate the objects as the operators do and
// fail when one is left unpadded.

func TestWatermarkGeneratorOwnsItsLines(t *testing.T) {
	strategy := ForMonotonousTimestamps[int]()
	keep := make([]WatermarkGenerator[int], 0, 64)
	for i := 0; i < 64; i++ {
		g := strategy.Generator()
		keep = append(keep, g)
		b, ok := g.(*boundedOutOfOrderness[int])
		if !ok {
			t.Fatalf("generator %T", g)
		}
		from := unsafe.Offsetof(b.delay)
		to := unsafe.Offsetof(b.max) + unsafe.Sizeof(b.max)
		if !cacheline.Owns(unsafe.Pointer(b), unsafe.Sizeof(*b), from, to) {
			t.Fatalf("generator %d at %p shares a cache line with another allocation", i, b)
		}
	}
}

func TestWindowTableHeaderOwnsItsLines(t *testing.T) {
	keep := make([]*winTable[uint64, window.TimeWindow, int64], 0, 64)
	for i := 0; i < 64; i++ {
		w := &winTable[uint64, window.TimeWindow, int64]{} // as tableContents.open
		keep = append(keep, w)
		from := unsafe.Offsetof(w.w)
		to := unsafe.Offsetof(w.entries) + unsafe.Sizeof(w.entries)
		if !cacheline.Owns(unsafe.Pointer(w), unsafe.Sizeof(*w), from, to) {
			t.Fatalf("window table %d at %p shares a cache line with another allocation", i, w)
		}
	}
}

func TestWindowStoreOwnsItsLines(t *testing.T) {
	keep := make([]*WindowStore[uint64, window.TimeWindow], 0, 64)
	for i := 0; i < 64; i++ {
		s := &WindowStore[uint64, window.TimeWindow]{states: map[string]any{}} // as windowOp.open
		keep = append(keep, s)
		from := unsafe.Offsetof(s.b)
		to := unsafe.Offsetof(s.noMerge) + unsafe.Sizeof(s.noMerge)
		if !cacheline.Owns(unsafe.Pointer(s), unsafe.Sizeof(*s), from, to) {
			t.Fatalf("window store %d at %p shares a cache line with another allocation", i, s)
		}
	}
}
