package heap

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

// fingerprint summarizes a snapshot independently of the order of entries
// (maps iterate in random order): per key group and section, the kind,
// schema, body length and the sorted bytes of the body.
func fingerprint(t *testing.T, snap map[int][]byte) []string {
	t.Helper()
	var out []string
	for kg, data := range snap {
		for len(data) > 0 {
			name, kind, schema, body, rest, err := statebackend.ReadSection(data)
			if err != nil {
				t.Fatalf("snapshot key group %d: %v", kg, err)
			}
			sorted := slices.Clone(body)
			slices.Sort(sorted)
			out = append(out, fmt.Sprintf("%d %q %d %q %d %x", kg, name, kind, schema, len(body), sorted))
			data = rest
		}
	}
	slices.Sort(out)
	return out
}

func snapshotOf(t *testing.T, s *states) map[int][]byte {
	t.Helper()
	snap := map[int][]byte{}
	if err := s.b.WriteSnapshot(func(kg int, sec []byte) { snap[kg] = append(snap[kg], sec...) }); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return snap
}

// FuzzRestore restores arbitrary bytes as one key group of a heap backend
// with value, list, map and aggregating states (namespaced and not): no
// panic, a corrupt body is an error wrapping codec.ErrCorrupt, every
// restored key belongs to the key group it was restored in, and a snapshot
// of what was restored restores to a backend whose snapshot is the same.
func FuzzRestore(f *testing.F) {
	full := keygroup.Range{Start: 0, End: 128}
	src := newStates(full, true)
	for i := 0; i < 20; i++ {
		if err := src.b.kc.Set(fmt.Sprintf("key-%d", i)); err != nil {
			f.Fatal(err)
		}
		src.val.Update(i)
		src.lst.SetNamespace(window{0, 10})
		src.lst.Add("x")
		src.mp.Put(i%3, []byte("v"))
		src.agg.SetNamespace(window{5, 15})
		if err := src.agg.Add(i); err != nil {
			f.Fatal(err)
		}
	}
	if err := src.b.WriteSnapshot(func(kg int, sec []byte) { f.Add(uint8(kg), bytes.Clone(sec)) }); err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), statebackend.AppendSection(nil, "list", kindList, src.lst.StateSchema(), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f}))
	f.Add(uint8(1), statebackend.AppendSection(nil, "orphan", 9, "?", []byte("anything")))
	f.Fuzz(func(t *testing.T, kgb uint8, data []byte) {
		kg := int(kgb) % full.End
		s := newStates(full, true)
		err := s.b.SetRestore(map[int][]byte{kg: data})
		if err == nil {
			err = s.b.Seal()
		}
		if err != nil {
			return // corrupt sections, or another kind or layout than registered
		}
		check := func(k string) {
			if g := s.b.kc.GroupOf(k); g != kg {
				t.Fatalf("key %q of key group %d restored in key group %d", k, g, kg)
			}
		}
		_ = s.val.ForEachKey(func(k string, _ struct{}) { check(k) })
		_ = s.lst.ForEachKey(func(k string, _ window) { check(k) })
		_ = s.mp.ForEachKey(func(k string, _ struct{}) { check(k) })
		_ = s.agg.ForEachKey(func(k string, _ window) { check(k) })

		snap := snapshotOf(t, s)
		for g := range snap {
			if g != kg {
				t.Fatalf("restored key group %d, the snapshot has key group %d", kg, g)
			}
		}
		s2 := newStates(full, true)
		if err := s2.b.SetRestore(snap); err != nil {
			t.Fatalf("restoring a snapshot: %v", err)
		}
		if err := s2.b.Seal(); err != nil {
			t.Fatalf("restoring a snapshot: %v", err)
		}
		if a, b := fingerprint(t, snap), fingerprint(t, snapshotOf(t, s2)); !slices.Equal(a, b) {
			t.Fatalf("snapshot after restore changed:\n%q\n%q", a, b)
		}
	})
}

// FuzzReadSection checks the section framing: any bytes read as a
// section or fail with codec.ErrCorrupt, never slicing past the input;
// what reads re-appends to the same bytes; any section round-trips.
func FuzzReadSection(f *testing.F) {
	f.Add(statebackend.AppendSection(nil, "val", kindValue, "string|struct{}|int", []byte{1, 2, 3}), "n", byte(2), "s", []byte("body"))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f}, "", byte(0), "", []byte{})
	f.Fuzz(func(t *testing.T, data []byte, name string, kind byte, schema string, body []byte) {
		n, k, sc, b, rest, err := statebackend.ReadSection(data)
		if err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
		} else {
			again := statebackend.AppendSection(nil, n, k, sc, b)
			if len(again)+len(rest) > len(data) || !bytes.Equal(data[len(data)-len(rest):], rest) {
				t.Fatalf("section %q of %x leaves %x", n, data, rest)
			}
			n2, k2, sc2, b2, _, err := statebackend.ReadSection(again)
			if err != nil || n2 != n || k2 != k || sc2 != sc || !bytes.Equal(b2, b) {
				t.Fatalf("section %q does not round-trip: %v", n, err)
			}
		}
		sec := statebackend.AppendSection(slices.Clone(data), name, kind, schema, body)
		n, k, sc, b, rest, err = statebackend.ReadSection(sec[len(data):])
		if err != nil || n != name || k != kind || sc != schema || !bytes.Equal(b, body) || len(rest) != 0 {
			t.Fatalf("section (%q, %d, %q, %x) read as (%q, %d, %q, %x, rest %x): %v", name, kind, schema, body, n, k, sc, b, rest, err)
		}
	})
}
