package pebble

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/heap"
)

// FuzzRegEntry checks the decoder of state registry values: no panic; an
// accepted value names a state id below the registry's own prefix and
// re-encodes to the same bytes (the layout is fixed-width).
func FuzzRegEntry(f *testing.F) {
	f.Add(appendRegEntry(nil, regEntry{sid: 3, kind: statebackend.KindMap, schema: "string|struct{}|int"}))
	f.Add([]byte{0xff, 0xff, 1})
	f.Add([]byte{0, 1})
	f.Fuzz(func(t *testing.T, v []byte) {
		e, err := decodeRegEntry(v)
		if err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if e.sid > maxSID {
			t.Fatalf("%x: state id %d", v, e.sid)
		}
		if again := appendRegEntry(nil, e); !bytes.Equal(again, v) {
			t.Fatalf("%x decoded as %+v, encodes as %x", v, e, again)
		}
	})
}

type fuzzStates struct {
	val *Value[string, struct{}, int]
	lst *List[string, int64, string]
	mp  *Map[string, struct{}, int, []byte]
}

func fuzzBackend(t testing.TB) (*Backend[string], fuzzStates) {
	b := newBackend[string](t.(*testing.T), full, nil)
	s := fuzzStates{
		val: NewValue[string, struct{}, int](b, statebackend.TTL{}),
		lst: NewList[string, int64, string](b, statebackend.TTL{}),
		mp:  NewMap[string, struct{}, int, []byte](b, statebackend.TTL{}),
	}
	s.val.SetName("val")
	s.lst.SetName("list")
	s.mp.SetName("map")
	return b, s
}

// canonicalOf writes b's snapshot in canonical form.
func canonicalOf(t *testing.T, b *Backend[string]) map[int][]byte {
	t.Helper()
	snap, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[int][]byte{}
	put := func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }
	if err := snap.Write(put); err != nil {
		t.Fatal(err)
	}
	if snap.Native != nil {
		if err := snap.Native.Canonical(put); err != nil {
			t.Fatal(err)
		}
		if err := snap.Native.Release(); err != nil {
			t.Fatal(err)
		}
	}
	return groups
}

// sectionEntries lists the entries of canonical sections, independently of
// their order: per key group and section, the sorted bytes of the body.
func sectionEntries(t *testing.T, groups map[int][]byte) []string {
	t.Helper()
	var out []string
	for kg, data := range groups {
		for len(data) > 0 {
			name, kind, schema, body, rest, err := statebackend.ReadSection(data)
			if err != nil {
				t.Fatalf("key group %d: %v", kg, err)
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

// FuzzRestoreCanonical restores arbitrary bytes as one canonical key
// group into a Pebble backend with value, list (namespaced) and map
// states: no panic; every entry lands in its key's group; and the
// backend's canonical snapshot restores into a heap backend, which
// writes the same canonical state again. (One Pebble database per input:
// some tens of inputs a second.)
func FuzzRestoreCanonical(f *testing.F) {
	valSchema := codec.Schema[string]() + "|" + codec.Schema[struct{}]() + "|" + codec.Schema[int]()
	// Key "" (key group 25) with expiry 0 and value 0, in key group 0.
	f.Add(uint8(0), statebackend.AppendSection(nil, "val", statebackend.KindValue, valSchema, []byte{0, 0, 0}))
	f.Add(uint8(25), statebackend.AppendSection(nil, "val", statebackend.KindValue, valSchema, []byte{0, 0, 0}))
	f.Add(uint8(5), statebackend.AppendSection(nil, "val", statebackend.KindValue, "", nil))
	f.Add(uint8(0), statebackend.AppendSection(nil, "list", statebackend.KindList, "", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}))
	f.Fuzz(func(t *testing.T, kgb uint8, data []byte) {
		kg := int(kgb) % full.End
		b, s := fuzzBackend(t)
		if err := b.SetRestore(map[int][]byte{kg: data}); err != nil {
			return
		}
		if err := b.Seal(); err != nil {
			return
		}
		check := func(k string) {
			if g := b.kc.GroupOf(k); g != kg {
				t.Fatalf("key %q of key group %d restored in key group %d", k, g, kg)
			}
		}
		_ = s.val.ForEachKey(func(k string, _ struct{}) { check(k) })
		_ = s.lst.ForEachKey(func(k string, _ int64) { check(k) })
		_ = s.mp.ForEachKey(func(k string, _ struct{}) { check(k) })
		snap := canonicalOf(t, b)

		want := sectionEntries(t, snap)

		kc := statebackend.NewKeyContext(keygroup.Hasher[string](), 128, full)
		h := heap.New(kc, func() int64 { return 0 })
		heap.NewValue[string, struct{}, int](h, statebackend.TTL{}).SetName("val")
		heap.NewList[string, int64, string](h, statebackend.TTL{}).SetName("list")
		heap.NewMap[string, struct{}, int, []byte](h, statebackend.TTL{}).SetName("map")
		if err := h.SetRestore(snap); err != nil {
			t.Fatalf("heap restoring a Pebble snapshot: %v", err)
		}
		if err := h.Seal(); err != nil {
			t.Fatalf("heap restoring a Pebble snapshot: %v", err)
		}
		hs := map[int][]byte{}
		if err := h.WriteSnapshot(func(kg int, sec []byte) { hs[kg] = append(hs[kg], sec...) }); err != nil {
			t.Fatal(err)
		}
		if got := sectionEntries(t, hs); !slices.Equal(got, want) {
			t.Fatalf("heap snapshot of a Pebble snapshot differs:\n%q\n%q", want, got)
		}
	})
}
