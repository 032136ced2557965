package runtime

import (
	"testing"
	"unsafe"

	"github.com/weirstream/weir/internal/cacheline"
)

// A writer appends to its batches' Recs and Hashes per record while the
// writers of the other subtasks fill batches allocated next to them: the
// header of a pooled batch must share no cache line with another
// allocation (else the line moves between the cores per record). Fails
// with an unpadded 48-byte header.
func TestBatchHeaderOwnsItsLines(t *testing.T) {
	pool := NewBatchPool[int](16)
	keep := make([]*Batch[int], 0, 64)
	for i := 0; i < 64; i++ {
		b := pool.Get()
		keep = append(keep, b)
		from := unsafe.Offsetof(b.Recs)
		to := unsafe.Offsetof(b.Hashes) + unsafe.Sizeof(b.Hashes)
		if !cacheline.Owns(unsafe.Pointer(b), unsafe.Sizeof(*b), from, to) {
			t.Fatalf("batch %d at %p: Recs and Hashes share a cache line with another allocation", i, b)
		}
	}
	for _, b := range keep {
		pool.Put(b)
	}
}
