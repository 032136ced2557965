package heap

import (
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

// ptrVal is a value held by pointer, changed in place (state.InPlace).
type ptrVal struct{ A, B, C int64 }

// BenchmarkCapture1MInPlace is BenchmarkCapture1MKeys for a value state
// whose values are pointers (int64 -> *ptrVal, changed in place): the
// synchronous part of its snapshot, what the task pauses for at a barrier.
func BenchmarkCapture1MInPlace(b *testing.B) {
	kc := statebackend.NewKeyContext(keygroup.Hasher[int64](), 128, keygroup.Range{Start: 0, End: 128})
	be := New(kc, func() int64 { return 0 })
	v := NewValue[int64, struct{}, *ptrVal](be, statebackend.TTL{})
	v.SetName("v")
	for i := int64(0); i < 1_000_000; i++ {
		_ = kc.Set(i)
		v.Update(&ptrVal{i, i, i})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		write, err := be.SnapshotAsync()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := write(func(int, []byte) {}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
