// Package cacheline keeps state that one goroutine writes per record off
// the cache lines of state other goroutines write.
//
// Subtasks of one operator run in goroutines of their own, on different
// cores, and each allocates its small per-subtask objects (a watermark
// generator, an exchange batch header, a window buffer) when it opens.
// Go's allocator hands out objects of one size class side by side, so two
// subtasks' 16-byte objects often share a 64-byte cache line. When both
// subtasks write theirs per record, the line moves between the cores on
// every write (false sharing): each write waits for the other core, and the
// cost grows with how much the subtasks run at the same time, so it shows
// on an idle machine and not on a loaded one.
//
// Pad fields before and after such state (Pad) or an allocation with
// padding around it (Slice) keep the state's lines its own: no byte of
// another object lies in a line it occupies. The package holds no state
// and is safe for concurrent use.
package cacheline

import "unsafe"

// Size is the cache line size assumed: 64 bytes on amd64 and arm64
// servers (the padding is correct, only wasteful, where lines are
// shorter).
const Size = 64

// Pad is a blank field of one cache line. A struct whose per-record state
// lies between a leading and a trailing Pad shares no line of that state
// with another allocation.
type Pad [Size]byte

// Slice returns a slice of n zero elements whose backing array has at
// least a cache line of unused elements before and after it, so its lines
// hold no byte of another allocation. Its capacity is n: an append beyond
// it allocates a new, unpadded array.
func Slice[E any](n int) []E {
	size := int(unsafe.Sizeof(*new(E)))
	if size == 0 {
		return make([]E, n)
	}
	k := (Size + size - 1) / size
	return make([]E, n+2*k)[k : k+n : k+n]
}

// Owns reports whether the cache lines holding bytes [from, to) of the
// object at base, of size bytes, hold no byte outside the object: whether
// state kept there shares no line with another allocation. For tests.
func Owns(base unsafe.Pointer, size, from, to uintptr) bool {
	if from >= to {
		return true
	}
	b := uintptr(base)
	first := (b + from) / Size * Size
	last := (b+to-1)/Size*Size + Size
	return first >= b && last <= b+size
}
