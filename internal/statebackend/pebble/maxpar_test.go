package pebble

import (
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
	engine "github.com/weirstream/weir/statebackend/pebble"
)

// TestMaxParallelism65536 checks the largest max parallelism whose key
// groups fit the keys' 16 bits: the iteration bound of the last group's
// end (1<<16) must not wrap to group 0, which made ForEachKey, TTL cleanup,
// rescaling copies and savepoints (Canonical) see no state at all. A larger
// max parallelism is refused.
func TestMaxParallelism65536(t *testing.T) {
	opts := Options{Engine: engine.New(), Dir: t.TempDir(), MemTableSize: 1 << 20, CacheSize: 1 << 20}
	kc := statebackend.NewKeyContext(keygroup.Hasher[int](), 1<<16, keygroup.Range{Start: 0, End: 1 << 16})
	b, err := New(kc, func() int64 { return 0 }, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	v := NewValue[int, struct{}, int](b, statebackend.TTL{})
	seal(t, b)
	const n = 100
	for k := range n {
		set(t, b, k)
		v.Update(k)
	}
	keys := 0
	if err := v.ForEachKey(func(int, struct{}) { keys++ }); err != nil {
		t.Fatal(err)
	}
	if keys != n {
		t.Errorf("ForEachKey saw %d keys, want %d", keys, n)
	}
	snap, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Native.Release()
	groups := map[int]bool{}
	if err := snap.Native.Canonical(func(kg int, _ []byte) { groups[kg] = true }); err != nil {
		t.Fatal(err)
	}
	want := map[int]bool{}
	for k := range n {
		want[keygroup.Of(keygroup.Hasher[int]()(k), 1<<16)] = true
	}
	if len(groups) != len(want) {
		t.Errorf("canonical snapshot has %d key groups, want %d", len(groups), len(want))
	}

	kc = statebackend.NewKeyContext(keygroup.Hasher[int](), 1<<16+1, keygroup.Range{Start: 0, End: 1<<16 + 1})
	if b2, err := New(kc, func() int64 { return 0 }, Options{Engine: engine.New(), Dir: t.TempDir()}); err == nil {
		b2.Close()
		t.Error("New accepted max parallelism 65537, whose key groups do not fit 16 bits")
	}
}
