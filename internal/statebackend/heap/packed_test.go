package heap

import (
	"maps"
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

// TestPackingOf checks which user key and value types pack into slots.
func TestPackingOf(t *testing.T) {
	type byteish uint8
	for _, c := range []struct {
		name string
		got  packing
		ok   bool
	}{
		{"int64/uint8", packingOf[int64, uint8](), true},
		{"uint64/struct{}", packingOf[uint64, struct{}](), true},
		{"int32/float32", packingOf[int32, float32](), true},
		{"int/byteish", packingOf[int, byteish](), true},
		{"int64/int64", packingOf[int64, int64](), false},
		{"float64/uint8", packingOf[float64, uint8](), false},
		{"string/uint8", packingOf[string, uint8](), false},
		{"int64/[3]byte", packingOf[int64, [3]byte](), false},
	} {
		if c.got.ok != c.ok {
			t.Errorf("%s: packs %v, want %v", c.name, c.got.ok, c.ok)
		}
	}
}

// TestKeyBitsRoundTrip checks that a key that fits a slot comes back as it
// went in, and that the keys that do not fit are the ones that could not.
func TestKeyBitsRoundTrip(t *testing.T) {
	pk := packingOf[int64, uint8]() // 55-bit signed keys
	for _, c := range []struct {
		k   int64
		fit bool
	}{{0, true}, {-1, true}, {1<<54 - 1, true}, {-1 << 54, true}, {1 << 54, false}, {-1<<54 - 1, false}, {-1 << 63, false}} {
		x, ok := keyBits(&pk, c.k)
		if ok != c.fit {
			t.Errorf("key %d: fits %v, want %v", c.k, ok, c.fit)
			continue
		}
		if !ok {
			continue
		}
		w := x<<pk.sh | 7<<1 | 1
		if got := keyOf[int64](&pk, w); got != c.k {
			t.Errorf("key %d came back as %d", c.k, got)
		}
		if got := valueOf[uint8](&pk, w); got != 7 {
			t.Errorf("key %d: value came back as %d", c.k, got)
		}
	}
	pu := packingOf[uint32, int32]() // 31-bit keys
	for _, c := range []struct {
		k   uint32
		fit bool
	}{{0, true}, {1<<30 - 1, true}, {1 << 30, false}, {1<<32 - 1, false}} {
		x, ok := keyBits(&pu, c.k)
		if ok != c.fit {
			t.Errorf("uint32 key %d: fits %v, want %v", c.k, ok, c.fit)
		} else if ok && keyOf[uint32](&pu, x<<pu.sh|1) != c.k {
			t.Errorf("uint32 key %d does not come back", c.k)
		}
	}
}

func newPackedMap(t *testing.T, ttl statebackend.TTL) (*Backend[string], *Map[string, struct{}, int64, uint8]) {
	t.Helper()
	b := New(statebackend.NewKeyContext(keygroup.Hasher[string](), 128, keygroup.Range{Start: 0, End: 128}), func() int64 { return 0 })
	m := NewMap[string, struct{}, int64, uint8](b, ttl)
	m.SetName("m")
	if err := b.kc.Set("k"); err != nil {
		t.Fatal(err)
	}
	return b, m
}

// TestMapPacks checks that a state without TTL of integer keys and small
// values keeps its entries packed, one with TTL in Go maps, and that a
// key that does not fit moves the key's entries to a Go map.
func TestMapPacks(t *testing.T) {
	_, m := newPackedMap(t, statebackend.TTL{})
	for i := range int64(100) {
		m.Put(i*7, uint8(i))
	}
	if in := m.read()["k"]; in.p == nil || in.m != nil || in.size() != 100 {
		t.Fatalf("without TTL: packed %v, %d entries", in.p != nil, in.size())
	}
	m.Put(1<<60, 1)
	if in := m.read()["k"]; in.p != nil || len(in.m) != 101 {
		t.Fatalf("after a key that does not fit: packed %v, %d entries", in.p != nil, in.size())
	}
	for i := range int64(100) {
		if v, ok := m.Get(i * 7); !ok || v != uint8(i) {
			t.Fatalf("Get(%d) = %d/%v after unpacking", i*7, v, ok)
		}
	}
	_, mt := newPackedMap(t, statebackend.TTL{TTLMillis: 10})
	mt.Put(1, 1)
	if in := mt.read()["k"]; in.p != nil {
		t.Fatal("a state with TTL packed its entries")
	}
}

// TestMapPackedIterateWhileChanging changes a packed key's entries from
// inside All's loop (removing entries not reached yet, updating them,
// adding enough to grow the table, with a snapshot taken in between) and
// checks Go map range semantics: no entry twice, no entry removed before
// it was reached, every entry neither removed nor added produced, with its
// value as it is when it is reached.
func TestMapPackedIterateWhileChanging(t *testing.T) {
	// With snapshots and growth, and with neither (the table changed in
	// place but for the copy iteration makes).
	t.Run("snapshots", func(t *testing.T) { testPackedIterate(t, true) })
	t.Run("in-place", func(t *testing.T) { testPackedIterate(t, false) })
}

func testPackedIterate(t *testing.T, snapshots bool) {
	b, m := newPackedMap(t, statebackend.TTL{})
	model := map[int64]uint8{}
	for i := range int64(40) {
		m.Put(i, 1)
		model[i] = 1
	}
	orig := maps.Clone(model)
	seen := map[int64]bool{}
	removed := map[int64]bool{}
	step := 0
	for uk, v := range m.All() {
		if seen[uk] {
			t.Fatalf("%d produced twice", uk)
		}
		seen[uk] = true
		if removed[uk] {
			t.Fatalf("%d produced after it was removed", uk)
		}
		if want, ok := model[uk]; ok && v != want {
			t.Fatalf("%d produced with %d, want %d", uk, v, want)
		}
		step++
		switch step % 4 {
		case 0:
			// Remove an entry not reached yet, if any.
			for k := range model {
				if !seen[k] {
					m.Remove(k)
					delete(model, k)
					removed[k] = true
					break
				}
			}
		case 1:
			for k := range model {
				if !seen[k] {
					m.Put(k, 2)
					model[k] = 2
					break
				}
			}
		case 2:
			if !snapshots {
				// Remove an entry already reached: entries after it
				// in its probe run must still be produced.
				for k := range model {
					if seen[k] {
						m.Remove(k)
						delete(model, k)
						break
					}
				}
				continue
			}
			for j := range int64(10) {
				k := 1000 + int64(step)*10 + j
				m.Put(k, 3)
				model[k] = 3
			}
		default:
			if !snapshots {
				continue
			}
			if _, err := b.SnapshotAsync(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for k := range orig {
		if !removed[k] && !seen[k] {
			t.Errorf("%d never produced", k)
		}
	}
	got := map[int64]uint8{}
	for uk, v := range m.All() {
		got[uk] = v
	}
	if !maps.Equal(got, model) {
		t.Fatalf("after the loop: %v, want %v", got, model)
	}
}

// TestMapPackedIterateRemoveReached removes, from inside All's loop, the
// entry just produced, in a probe run of keys that all hash to one slot:
// the entries after it, moved back into its slot by the deletion, must
// still be produced, each once.
func TestMapPackedIterateRemoveReached(t *testing.T) {
	_, m := newPackedMap(t, statebackend.TTL{})
	var keys []int64
	for k := int64(0); len(keys) < 5; k++ { // 5 keys of one home slot in 8
		x, _ := keyBits(&m.pk, k)
		if home(x, 7) == 3 {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		m.Put(k, 1)
	}
	seen := map[int64]int{}
	for uk := range m.All() {
		seen[uk]++
		m.Remove(uk)
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Errorf("key %d produced %d times", k, seen[k])
		}
	}
	if !m.IsEmpty() {
		t.Error("entries left after removing each one produced")
	}
}
