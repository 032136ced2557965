package cacheline

import (
	"runtime"
	"testing"
	"unsafe"
)

// sink keeps allocations on the heap and alive.
var sink [][]int64

// line is the index of the cache line holding address p.
func line(p uintptr) uintptr { return p / Size }

// TestSliceOwnsItsLines allocates many small padded slices, as subtasks
// opening side by side do, and checks that no line holding an element of
// one holds an element of another. Unpadded 16-byte allocations share
// lines four to a line, so the check fails without the padding.
func TestSliceOwnsItsLines(t *testing.T) {
	type pair struct{ a, b int64 }
	for _, n := range []int{1, 2, 3, 5} {
		owner := map[uintptr]int{}
		keep := make([][]pair, 0, 256)
		for i := 0; i < 256; i++ {
			s := Slice[pair](n)
			if len(s) != n || cap(s) != n {
				t.Fatalf("Slice(%d): len %d, cap %d", n, len(s), cap(s))
			}
			keep = append(keep, s)
			first := uintptr(unsafe.Pointer(&s[0]))
			last := first + uintptr(n)*unsafe.Sizeof(pair{}) - 1
			for l := line(first); l <= line(last); l++ {
				if o, ok := owner[l]; ok && o != i {
					t.Fatalf("Slice(%d): allocations %d and %d share cache line %#x", n, o, i, l*Size)
				}
				owner[l] = i
			}
		}
		runtime.KeepAlive(keep)
	}
}

// The control: plain allocations of the same size do share lines, so the
// test above would notice unpadded slices.
func TestPlainSlicesShareLines(t *testing.T) {
	owner := map[uintptr]int{}
	defer func() { sink = nil }()
	for i := 0; i < 256; i++ {
		s := make([]int64, 2)
		sink = append(sink, s)
		l := line(uintptr(unsafe.Pointer(&s[0])))
		if _, ok := owner[l]; ok {
			return
		}
		owner[l] = i
	}
	t.Fatal("256 allocations of 16 bytes shared no cache line: the allocator changed, and TestSliceOwnsItsLines may pass without padding")
}

func TestSliceZeroSize(t *testing.T) {
	if s := Slice[struct{}](3); len(s) != 3 {
		t.Fatalf("len %d", len(s))
	}
}

func TestOwns(t *testing.T) {
	type padded struct {
		_    Pad
		a, b int64
		_    Pad
	}
	type plain struct{ a, b int64 }
	for i := 0; i < 64; i++ {
		p := new(padded)
		if !Owns(unsafe.Pointer(p), unsafe.Sizeof(*p), unsafe.Offsetof(p.a), unsafe.Offsetof(p.b)+8) {
			t.Fatalf("padded struct at %p: its fields share a line", p)
		}
		q := new(plain)
		if Owns(unsafe.Pointer(q), unsafe.Sizeof(*q), 0, 16) {
			t.Fatalf("16-byte struct at %p owns a 64-byte line", q)
		}
	}
}
