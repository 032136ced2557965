package heap

import (
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

// BenchmarkSnapshot1MKeys measures the synchronous snapshot of a value
// state holding one million keys (int64 -> int64).
func BenchmarkSnapshot1MKeys(b *testing.B) {
	kc := statebackend.NewKeyContext(keygroup.Hasher[int64](), 128, keygroup.Range{Start: 0, End: 128})
	be := New(kc, func() int64 { return 0 })
	v := NewValue[int64, struct{}, int64](be, statebackend.TTL{})
	v.SetName("v")
	for i := int64(0); i < 1_000_000; i++ {
		_ = kc.Set(i)
		v.Update(i)
	}
	bufs := make([][]byte, 128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range bufs {
			bufs[j] = bufs[j][:0]
		}
		if err := be.WriteSnapshot(func(kg int, sec []byte) { bufs[kg] = append(bufs[kg], sec...) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCapture1MKeys measures only the synchronous part of a snapshot of
// one million keys: what the task pauses for at a barrier. The encoding
// runs outside the timer, as it runs off the task's goroutine.
func BenchmarkCapture1MKeys(b *testing.B) {
	kc := statebackend.NewKeyContext(keygroup.Hasher[int64](), 128, keygroup.Range{Start: 0, End: 128})
	be := New(kc, func() int64 { return 0 })
	v := NewValue[int64, struct{}, int64](be, statebackend.TTL{})
	v.SetName("v")
	for i := int64(0); i < 1_000_000; i++ {
		_ = kc.Set(i)
		v.Update(i)
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
