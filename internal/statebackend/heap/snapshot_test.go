package heap

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

type window struct{ Start, End int64 }

type states struct {
	b   *Backend[string]
	val *Value[string, struct{}, int]
	lst *List[string, window, string]
	mp  *Map[string, struct{}, int, []byte]
	agg *Aggregating[string, window, int, [2]int, int]
}

type sumCount struct{}

func (sumCount) CreateAccumulator() [2]int           { return [2]int{} }
func (sumCount) Add(a [2]int, v int) ([2]int, error) { return [2]int{a[0] + v, a[1] + 1}, nil }
func (sumCount) Result(a [2]int) (int, error)        { return a[0] * a[1], nil }
func (sumCount) Merge(a, b [2]int) ([2]int, error)   { return [2]int{a[0] + b[0], a[1] + b[1]}, nil }
func newStates(r keygroup.Range, withMap bool) *states {
	kc := statebackend.NewKeyContext(keygroup.Hasher[string](), 128, r)
	b := New(kc, func() int64 { return 0 })
	s := &states{b: b}
	s.val = NewValue[string, struct{}, int](b, statebackend.TTL{})
	s.val.SetName("val")
	s.lst = NewList[string, window, string](b, statebackend.TTL{TTLMillis: 1000})
	s.lst.SetName("list")
	if withMap {
		s.mp = NewMap[string, struct{}, int, []byte](b, statebackend.TTL{})
		s.mp.SetName("map")
	}
	s.agg = NewAggregating[string, window, int, [2]int, int](b, statebackend.TTL{}, sumCount{})
	s.agg.SetName("agg")
	return s
}

// dump reads every key's state through the public accessors.
func (s *states) dump(keys []string) []string {
	var out []string
	for _, k := range keys {
		if err := s.b.kc.Set(k); err != nil {
			continue // not in this backend's range
		}
		v, ok := s.val.Value()
		s.lst.SetNamespace(window{0, 10})
		l := s.lst.Get()
		s.agg.SetNamespace(window{5, 15})
		a, aok, _ := s.agg.Get()
		line := fmt.Sprintf("%s val=%d/%v list=%v agg=%d/%v", k, v, ok, l, a, aok)
		if s.mp != nil {
			var es []string
			for i := 0; i < 3; i++ {
				if b, ok := s.mp.Get(i); ok {
					es = append(es, fmt.Sprintf("%d:%s", i, b))
				}
			}
			line += fmt.Sprintf(" map=%v", es)
		}
		out = append(out, line)
	}
	return out
}

func TestSnapshotRestoreRescale(t *testing.T) {
	full := keygroup.Range{Start: 0, End: 128}
	src := newStates(full, true)
	var keys []string
	for i := 0; i < 200; i++ {
		k := fmt.Sprintf("key-%d", i)
		keys = append(keys, k)
		if err := src.b.kc.Set(k); err != nil {
			t.Fatal(err)
		}
		src.val.Update(i)
		src.lst.SetNamespace(window{0, 10})
		src.lst.Add(k + "a")
		src.lst.Add(k + "b")
		src.mp.Put(i%3, []byte(k))
		src.agg.SetNamespace(window{5, 15})
		_ = src.agg.Add(i)
		_ = src.agg.Add(1)
	}
	if err := src.b.Seal(); err != nil {
		t.Fatal(err)
	}
	groups := map[int][]byte{}
	if err := src.b.WriteSnapshot(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }); err != nil {
		t.Fatal(err)
	}
	want := src.dump(keys)

	// Restore at parallelism 3: every key is in exactly one new backend with
	// the same state. The new job does not register the map state: its
	// content must survive into the next snapshot.
	var got []string
	var again = map[int][]byte{}
	for i := 0; i < 3; i++ {
		dst := newStates(keygroup.RangeFor(128, 3, i), false)
		if err := dst.b.SetRestore(groups); err != nil {
			t.Fatal(err)
		}
		if err := dst.b.Seal(); err != nil {
			t.Fatal(err)
		}
		got = append(got, dst.dump(keys)...)
		if err := dst.b.WriteSnapshot(func(kg int, sec []byte) { again[kg] = append(again[kg], sec...) }); err != nil {
			t.Fatal(err)
		}
	}
	stripMap := func(lines []string) []string {
		out := make([]string, len(lines))
		for i, l := range lines {
			out[i] = l
			if idx := strings.Index(l, " map="); idx >= 0 {
				out[i] = l[:idx]
			}
		}
		return out
	}
	if diff := cmp.Diff(sortLines(stripMap(want)), sortLines(got)); diff != "" {
		t.Fatalf("restored at parallelism 3 (-want +got):\n%s", diff)
	}
	// Back to one backend, with the map registered again: everything,
	// including the map state carried over unregistered, is there.
	back := newStates(full, true)
	if err := back.b.SetRestore(again); err != nil {
		t.Fatal(err)
	}
	if err := back.b.Seal(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, back.dump(keys)); diff != "" {
		t.Fatalf("restored back at parallelism 1 (-want +got):\n%s", diff)
	}
}

func TestRestoreRefusesOtherLayout(t *testing.T) {
	full := keygroup.Range{Start: 0, End: 128}
	src := newStates(full, false)
	_ = src.b.kc.Set("k")
	src.val.Update(1)
	groups := map[int][]byte{}
	if err := src.b.WriteSnapshot(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }); err != nil {
		t.Fatal(err)
	}
	kc := statebackend.NewKeyContext(keygroup.Hasher[string](), 128, full)
	b := New(kc, func() int64 { return 0 })
	v := NewValue[string, struct{}, string](b, statebackend.TTL{})
	v.SetName("val")
	if err := b.SetRestore(groups); err != nil {
		t.Fatal(err)
	}
	err := b.Seal()
	if err == nil || !strings.Contains(err.Error(), `state "val" was stored with layout`) {
		t.Fatalf("Seal = %v, want a layout error", err)
	}
}

func sortLines(l []string) []string {
	out := append([]string(nil), l...)
	slices.Sort(out)
	return out
}

// TestCopyOnWriteSnapshot captures a snapshot, then changes every kind of
// state while the capture is written on another goroutine, and checks that
// the snapshot holds the state as it was at the capture.
func TestCopyOnWriteSnapshot(t *testing.T) {
	full := keygroup.Range{Start: 0, End: 128}
	src := newStates(full, true)
	var keys []string
	for i := 0; i < 300; i++ {
		k := fmt.Sprintf("key-%d", i)
		keys = append(keys, k)
		_ = src.b.kc.Set(k)
		src.val.Update(i)
		src.lst.SetNamespace(window{0, 10})
		src.lst.Add(k + "a")
		src.mp.Put(i%3, []byte(k))
		src.agg.SetNamespace(window{5, 15})
		_ = src.agg.Add(i)
	}
	want := src.dump(keys)
	write, err := src.b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[int][]byte{}
	done := make(chan error)
	go func() {
		done <- write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) })
	}()
	// Change everything while the snapshot is written.
	for round := 0; round < 3; round++ {
		for i, k := range keys {
			_ = src.b.kc.Set(k)
			src.val.Update(-i)
			src.lst.SetNamespace(window{0, 10})
			src.lst.Add("more")
			if i%2 == 0 {
				src.lst.Clear()
			}
			src.mp.Put(7, []byte("new"))
			src.mp.Remove(i % 3)
			src.agg.SetNamespace(window{5, 15})
			if i%3 == 0 {
				src.agg.Clear()
			} else {
				_ = src.agg.Add(1000)
			}
			src.agg.SetNamespace(window{20, 30})
			_ = src.agg.Add(1)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	restored := newStates(full, true)
	if err := restored.b.SetRestore(groups); err != nil {
		t.Fatal(err)
	}
	if err := restored.b.Seal(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, restored.dump(keys)); diff != "" {
		t.Fatalf("snapshot does not hold the state at capture (-want +got):\n%s", diff)
	}
	// Once written, changes go to the maps directly again (no clone).
	_ = src.b.kc.Set("key-1")
	src.val.Update(42)
	if v, _ := src.val.Value(); v != 42 {
		t.Fatalf("value after snapshot = %d", v)
	}
}

// A state created after Seal (on first use, as a window's per-window
// state) gets its restored state when it is named, and no longer stays an
// orphan; a later snapshot holds it once.
func TestLateStateClaimsRestoredState(t *testing.T) {
	full := keygroup.Range{Start: 0, End: 128}
	src := newStates(full, false)
	keys := []string{"a", "b", "c", "d"}
	for i, k := range keys {
		_ = src.b.kc.Set(k)
		src.val.Update(i + 1)
		src.lst.SetNamespace(window{0, 10})
		src.lst.Add(k + "1")
	}
	snap := snapshotOf(t, src)

	kc := statebackend.NewKeyContext(keygroup.Hasher[string](), 128, full)
	b := New(kc, func() int64 { return 0 })
	if err := b.SetRestore(snap); err != nil {
		t.Fatal(err)
	}
	if err := b.Seal(); err != nil { // nothing registered yet
		t.Fatal(err)
	}
	val := NewValue[string, struct{}, int](b, statebackend.TTL{})
	val.SetName("val")
	lst := NewList[string, window, string](b, statebackend.TTL{TTLMillis: 1000})
	lst.SetName("list")
	for i, k := range keys {
		_ = kc.Set(k)
		if v, ok := val.Value(); !ok || v != i+1 {
			t.Fatalf("%s: val = %d/%v, want %d", k, v, ok, i+1)
		}
		lst.SetNamespace(window{0, 10})
		if l := lst.Get(); !slices.Equal(l, []string{k + "1"}) {
			t.Fatalf("%s: list = %v", k, l)
		}
	}
	if _, ok := b.orphans["val"]; ok {
		t.Fatal("the claimed state is still an orphan")
	}
	// The next snapshot holds "val" once: restoring it Seal-time works.
	again := map[int][]byte{}
	if err := b.WriteSnapshot(func(kg int, sec []byte) { again[kg] = append(again[kg], sec...) }); err != nil {
		t.Fatal(err)
	}
	dst := newStates(full, false)
	if err := dst.b.SetRestore(again); err != nil {
		t.Fatal(err)
	}
	if err := dst.b.Seal(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(src.dump(keys), dst.dump(keys)); diff != "" {
		t.Fatalf("after a late claim and a snapshot (-want +got):\n%s", diff)
	}
	// A late state of another layout fails loudly.
	b2 := New(statebackend.NewKeyContext(keygroup.Hasher[string](), 128, full), func() int64 { return 0 })
	if err := b2.SetRestore(snap); err != nil {
		t.Fatal(err)
	}
	if err := b2.Seal(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `state "val" was stored with layout`) {
			t.Fatalf("recover = %v, want a layout error", r)
		}
	}()
	NewValue[string, struct{}, string](b2, statebackend.TTL{}).SetName("val")
}

// A map state of immutable values is captured lazily (copy on write of the
// outer map and of each key's inner map, held by value): changes while the
// snapshot is written, including new keys, emptied keys and new user keys
// of existing keys, do not reach it, and reach the live state.
func TestCopyOnWriteMapState(t *testing.T) {
	full := keygroup.Range{Start: 0, End: 128}
	newMap := func() (*Backend[string], *Map[string, struct{}, int64, uint8]) {
		b := New(statebackend.NewKeyContext(keygroup.Hasher[string](), 128, full), func() int64 { return 0 })
		m := NewMap[string, struct{}, int64, uint8](b, statebackend.TTL{})
		m.SetName("ids")
		return b, m
	}
	dump := func(b *Backend[string], m *Map[string, struct{}, int64, uint8], keys []string) []string {
		var out []string
		for _, k := range keys {
			_ = b.kc.Set(k)
			var es []string
			for uk, v := range m.All() {
				es = append(es, fmt.Sprintf("%d:%d", uk, v))
			}
			slices.Sort(es)
			out = append(out, fmt.Sprintf("%s empty=%v %v", k, m.IsEmpty(), es))
		}
		return out
	}
	b, m := newMap()
	var keys []string
	for i := range 200 {
		k := fmt.Sprintf("key-%d", i)
		keys = append(keys, k)
		_ = b.kc.Set(k)
		for j := range int64(i % 12) {
			m.Put(j, uint8(i))
		}
	}
	want := dump(b, m, keys)
	write, err := b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[int][]byte{}
	done := make(chan error)
	go func() {
		done <- write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) })
	}()
	for i, k := range append(keys, "late-1", "late-2") {
		_ = b.kc.Set(k)
		switch i % 3 {
		case 0:
			m.Put(int64(100+i), 1)
			m.Put(0, 99)
		case 1:
			for j := range int64(12) {
				m.Remove(j)
			}
		default:
			m.Clear()
			m.Put(7, 7)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	after := dump(b, m, keys)
	restoredB, restored := newMap()
	if err := restoredB.SetRestore(groups); err != nil {
		t.Fatal(err)
	}
	if err := restoredB.Seal(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, dump(restoredB, restored, keys)); diff != "" {
		t.Fatalf("snapshot does not hold the state at capture (-want +got):\n%s", diff)
	}
	if slices.Equal(want, after) {
		t.Fatal("the changes did not reach the live state")
	}
	_ = b.kc.Set("key-1")
	if !m.IsEmpty() {
		t.Fatalf("key-1 emptied during the snapshot still has entries: %v", dump(b, m, []string{"key-1"}))
	}
}
