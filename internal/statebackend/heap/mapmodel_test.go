package heap

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

// pairKey is a user key of struct type.
type pairKey struct {
	A int32
	B string
}

// TestMapStateAgainstModel runs random operations on map states (one
// without namespace, one namespaced) of several user key types against Go
// maps, with snapshots captured in between and written only later, while
// the task goes on changing what they captured. The user key domain widens
// and narrows, so that keys' entries grow and are emptied again. Every read
// is checked against the model, and every snapshot, restored split over two
// subtasks (rescaling), must hold the model as it was captured. It guards
// any change of the heap map state's layout (it was written for per-key
// open-addressing tables, see docs/benchmarks.md, branch dsflat).
func TestMapStateAgainstModel(t *testing.T) {
	v64 := func(step int) int64 { return int64(step) }
	t.Run("int64", func(t *testing.T) { testMapModel(t, func(i int) int64 { return int64(i) * 1e9 }, v64) })
	t.Run("int8", func(t *testing.T) { testMapModel(t, func(i int) int8 { return int8(i) }, v64) })
	t.Run("uint32", func(t *testing.T) { testMapModel(t, func(i int) uint32 { return uint32(i) << 16 }, v64) })
	t.Run("string", func(t *testing.T) { testMapModel(t, func(i int) string { return fmt.Sprint("uk-", i) }, v64) })
	t.Run("struct", func(t *testing.T) {
		testMapModel(t, func(i int) pairKey { return pairKey{int32(i % 7), fmt.Sprint(i / 7)} }, v64)
	})
	// States whose entries pack into open-addressing tables (packed.go):
	// integer user keys, values of at most 4 bytes.
	t.Run("packed/int64-uint8", func(t *testing.T) {
		testMapModel(t, func(i int) int64 { return int64(i-40) * 1e9 }, func(step int) uint8 { return uint8(step) })
	})
	t.Run("packed/uint32-set", func(t *testing.T) {
		testMapModel(t, func(i int) uint32 { return uint32(i) << 26 }, func(int) struct{} { return struct{}{} })
	})
	t.Run("packed/int16-bool", func(t *testing.T) {
		testMapModel(t, func(i int) int16 { return int16(i - 40) }, func(step int) bool { return step%3 == 0 })
	})
	t.Run("packed/uint16-int32", func(t *testing.T) {
		testMapModel(t, func(i int) uint16 { return uint16(i) << 10 }, func(step int) int32 { return -int32(step) })
	})
	// Some user keys do not fit a slot: their key's entries move to a Go
	// map (and can come back packed once the key was emptied).
	t.Run("packed/int64-spill", func(t *testing.T) {
		testMapModel(t, func(i int) int64 {
			if i%29 == 28 {
				return int64(i) << 57
			}
			return -int64(i)
		}, func(step int) uint16 { return uint16(step) })
	})
	t.Run("packed/uint64-spill", func(t *testing.T) {
		testMapModel(t, func(i int) uint64 {
			if i%31 == 30 {
				return 1<<63 | uint64(i)
			}
			return uint64(i) << 40
		}, func(step int) uint8 { return uint8(step) })
	})
}

func testMapModel[UK comparable, UV comparable](t *testing.T, ukOf func(int) UK, vOf func(step int) UV) {
	full := keygroup.Range{Start: 0, End: 128}
	type pair struct {
		b  *Backend[string]
		m  *Map[string, struct{}, UK, UV]
		nm *Map[string, int64, UK, UV]
	}
	newPair := func(r keygroup.Range) pair {
		b := New(statebackend.NewKeyContext(keygroup.Hasher[string](), 128, r), func() int64 { return 0 })
		p := pair{b: b, m: NewMap[string, struct{}, UK, UV](b, statebackend.TTL{}), nm: NewMap[string, int64, UK, UV](b, statebackend.TTL{})}
		p.m.SetName("m")
		p.nm.SetName("nm")
		return p
	}
	// model: "ns/key" -> user key -> value; ns -1 is the state without
	// namespace.
	type model map[string]map[UK]UV
	name := func(ns int64, k string) string { return fmt.Sprintf("%d/%s", ns, k) }
	keys := []string{"a", "b", "c", "d", "e", "f"}
	nss := []int64{-1, 1, 2}
	dump := func(p pair) model {
		out := model{}
		for _, k := range keys {
			if p.b.kc.Set(k) != nil {
				continue // another subtask's key
			}
			for _, ns := range nss {
				var all func(func(UK, UV) bool)
				var empty bool
				if ns < 0 {
					all, empty = p.m.All(), p.m.IsEmpty()
				} else {
					p.nm.SetNamespace(ns)
					all, empty = p.nm.All(), p.nm.IsEmpty()
				}
				es := map[UK]UV{}
				for uk, v := range all {
					if _, dup := es[uk]; dup {
						t.Fatalf("%s: user key %v iterated twice", name(ns, k), uk)
					}
					es[uk] = v
				}
				if empty != (len(es) == 0) {
					t.Fatalf("%s: IsEmpty %v with %d entries", name(ns, k), empty, len(es))
				}
				if len(es) > 0 {
					out[name(ns, k)] = es
				}
			}
		}
		return out
	}
	clone := func(m model) model {
		c := model{}
		for k, es := range m {
			c[k] = maps.Clone(es)
		}
		return c
	}
	type captured struct {
		want  model
		write func(put func(kg int, section []byte)) error
	}
	check := func(step int, s captured) {
		t.Helper()
		groups := map[int][]byte{}
		if err := s.write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }); err != nil {
			t.Fatal(err)
		}
		got := model{}
		for _, r := range []keygroup.Range{{Start: 0, End: 64}, {Start: 64, End: 128}} {
			rp := newPair(r)
			part := map[int][]byte{}
			for kg, sec := range groups {
				if r.Contains(kg) {
					part[kg] = sec
				}
			}
			if err := rp.b.SetRestore(part); err != nil {
				t.Fatal(err)
			}
			if err := rp.b.Seal(); err != nil {
				t.Fatal(err)
			}
			maps.Copy(got, dump(rp))
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Fatalf("step %d: snapshot restored over two subtasks (-want +got):\n%s", step, diff)
		}
	}

	p := newPair(full)
	live := model{}
	var inflight []captured
	rng := rand.New(rand.NewPCG(1, 2))
	const steps = 20000
	for step := range steps {
		k := keys[rng.IntN(len(keys))]
		ns := nss[rng.IntN(len(nss))]
		if err := p.b.kc.Set(k); err != nil {
			t.Fatal(err)
		}
		var m statebackend.Map[struct{}, UK, UV] = p.m
		var nm statebackend.Map[int64, UK, UV] = p.nm
		get, put, remove, clear := m.Get, m.Put, m.Remove, m.Clear
		if ns >= 0 {
			nm.SetNamespace(ns)
			get, put, remove, clear = nm.Get, nm.Put, nm.Remove, nm.Clear
		}
		// The domain widens and narrows so that keys grow large and
		// are emptied again.
		domain := 4 + (step/500%8)*12
		uk := ukOf(rng.IntN(domain))
		key := name(ns, k)
		switch r := rng.IntN(100); {
		case r < 45:
			v := vOf(step)
			put(uk, v)
			if live[key] == nil {
				live[key] = map[UK]UV{}
			}
			live[key][uk] = v
		case r < 80:
			remove(uk)
			delete(live[key], uk)
			if len(live[key]) == 0 {
				delete(live, key)
			}
		case r < 97:
			v, ok := get(uk)
			wv, wok := live[key][uk]
			if v != wv || ok != wok {
				t.Fatalf("step %d: %s Get(%v) = %v/%v, want %v/%v", step, key, uk, v, ok, wv, wok)
			}
		case r < 98:
			clear()
			delete(live, key)
		default:
			write, err := p.b.SnapshotAsync()
			if err != nil {
				t.Fatal(err)
			}
			inflight = append(inflight, captured{want: clone(live), write: write})
		}
		// Write a captured snapshot now and then, after more changes.
		if len(inflight) > 0 && (len(inflight) > 3 || rng.IntN(200) == 0) {
			check(step, inflight[0])
			inflight = slices.Delete(inflight, 0, 1)
		}
		if step%1000 == 0 || step == steps-1 {
			if diff := cmp.Diff(live, dump(p)); diff != "" {
				t.Fatalf("step %d: live state (-want +got):\n%s", step, diff)
			}
		}
	}
	for _, s := range inflight {
		check(steps, s)
	}
}

// TestMapStateTTL checks per-entry expiry of a map state: an expired entry
// is not returned, is not iterated and is removed (the key too once it has
// none), and OnReadAndWrite refreshes the entry read while a snapshot that
// saw the old expiry keeps it.
func TestMapStateTTL(t *testing.T) {
	now := int64(0)
	b := New(statebackend.NewKeyContext(keygroup.Hasher[string](), 128, keygroup.Range{Start: 0, End: 128}), func() int64 { return now })
	m := NewMap[string, struct{}, int64, string](b, statebackend.TTL{TTLMillis: 10, Update: statebackend.OnReadAndWrite})
	m.SetName("m")
	if err := b.kc.Set("k"); err != nil {
		t.Fatal(err)
	}
	for i := range int64(20) {
		now = i
		m.Put(i, fmt.Sprint(i))
	}
	write, err := b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	now = 15 // entries put at 0..5 expired
	if v, ok := m.Get(3); ok {
		t.Fatalf("expired entry 3 read as %q", v)
	}
	if v, ok := m.Get(12); !ok || v != "12" {
		t.Fatalf("Get(12) = %q/%v", v, ok)
	}
	now = 23 // 12 was refreshed at 15 to 25; the others put at 6..13 expired
	var got []int64
	for uk := range m.All() {
		got = append(got, uk)
	}
	slices.Sort(got)
	if want := []int64{12, 14, 15, 16, 17, 18, 19}; !slices.Equal(got, want) {
		t.Fatalf("All = %v, want %v", got, want)
	}
	if m.Len() != 1 {
		t.Fatalf("%d keys", m.Len())
	}
	now = 100
	if !m.IsEmpty() {
		t.Fatal("key still has entries after all expired")
	}
	if m.Len() != 0 {
		t.Fatalf("key kept after its last entry expired: %d keys", m.Len())
	}
	// The snapshot captured before holds all 20 entries with their first
	// expiry.
	groups := map[int][]byte{}
	if err := write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }); err != nil {
		t.Fatal(err)
	}
	now = 0
	rb := New(statebackend.NewKeyContext(keygroup.Hasher[string](), 128, keygroup.Range{Start: 0, End: 128}), func() int64 { return now })
	rm := NewMap[string, struct{}, int64, string](rb, statebackend.TTL{TTLMillis: 10})
	rm.SetName("m")
	if err := rb.SetRestore(groups); err != nil {
		t.Fatal(err)
	}
	if err := rb.Seal(); err != nil {
		t.Fatal(err)
	}
	if err := rb.kc.Set("k"); err != nil {
		t.Fatal(err)
	}
	now = 12 // entries of 0, 1, 2 expired (at 10, 11, 12); 12 expires at 22 as captured
	n := 0
	for range rm.All() {
		n++
	}
	if n != 17 {
		t.Fatalf("restored %d live entries at 12, want 17", n)
	}
	now = 22
	if _, ok := rm.Get(12); ok {
		t.Fatal("restored entry 12 has the expiry refreshed after the snapshot")
	}
}
