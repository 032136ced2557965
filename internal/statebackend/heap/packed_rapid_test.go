package heap

import (
	"fmt"
	"maps"
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

// TestPackedMapRapid runs random operations (Put, Remove, Get, Contains,
// Clear, IsEmpty, All with changes from inside the loop, AppendEntries,
// async snapshots captured and written later, restores) on map states
// whose entries pack (packed.go), with user keys drawn near the edges of
// what fits a slot, against a plain Go map model. Every snapshot must
// restore to the model as it was at capture.
func TestPackedMapRapid(t *testing.T) {
	t.Run("int64-uint8", func(t *testing.T) {
		rapid.Check(t, func(rt *rapid.T) {
			checkPackedModel(rt, rapid.OneOf(rapid.Int64Range(-12, 12), rapid.SampledFrom([]int64{
				math.MinInt64, math.MaxInt64, 1<<54 - 1, -1 << 54, 1 << 54, -1<<54 - 1, 1 << 40, 2 << 40, 3 << 40, -1 << 40,
			})), rapid.Uint8())
		})
	})
	t.Run("uint64-struct", func(t *testing.T) {
		rapid.Check(t, func(rt *rapid.T) {
			checkPackedModel(rt, rapid.OneOf(rapid.Uint64Range(0, 20), rapid.SampledFrom([]uint64{
				math.MaxUint64, math.MaxUint64 - 3, 1 << 63, 1<<63 + 1, 1 << 62, 1<<62 - 1, 1<<63 - 1,
			})), rapid.Just(struct{}{}))
		})
	})
	t.Run("int8-bool", func(t *testing.T) {
		rapid.Check(t, func(rt *rapid.T) {
			checkPackedModel(rt, rapid.Int8(), rapid.Bool())
		})
	})
	t.Run("uint32-int32", func(t *testing.T) {
		rapid.Check(t, func(rt *rapid.T) {
			checkPackedModel(rt, rapid.OneOf(rapid.Uint32Range(0, 20), rapid.SampledFrom([]uint32{
				1<<30 - 1, 1 << 30, math.MaxUint32, 1 << 31,
			})), rapid.OneOf(rapid.Int32(), rapid.Just(int32(0)), rapid.Just(int32(-1))))
		})
	})
	t.Run("int16-uint16", func(t *testing.T) {
		rapid.Check(t, func(rt *rapid.T) {
			checkPackedModel(rt, rapid.Int16(), rapid.Uint16())
		})
	})
}

func checkPackedModel[UK, UV comparable](rt *rapid.T, genUK *rapid.Generator[UK], genUV *rapid.Generator[UV]) {
	full := keygroup.Range{Start: 0, End: 128}
	newState := func() (*Backend[string], *Map[string, struct{}, UK, UV]) {
		b := New(statebackend.NewKeyContext(keygroup.Hasher[string](), 128, full), func() int64 { return 0 })
		m := NewMap[string, struct{}, UK, UV](b, statebackend.TTL{})
		m.SetName("m")
		return b, m
	}
	b, m := newState()
	if !m.pk.ok {
		rt.Fatalf("state does not pack")
	}
	keys := []string{"a", "b"}
	type model map[string]map[UK]UV
	live := model{}
	clone := func(md model) model {
		c := model{}
		for k, es := range md {
			c[k] = maps.Clone(es)
		}
		return c
	}
	set := func(k string) {
		if err := b.kc.Set(k); err != nil {
			rt.Fatal(err)
		}
	}
	put := func(k string, uk UK, v UV) {
		m.Put(uk, v)
		if live[k] == nil {
			live[k] = map[UK]UV{}
		}
		live[k][uk] = v
	}
	remove := func(k string, uk UK) {
		m.Remove(uk)
		delete(live[k], uk)
		if len(live[k]) == 0 {
			delete(live, k)
		}
	}
	dump := func(b *Backend[string], m *Map[string, struct{}, UK, UV]) model {
		out := model{}
		for _, k := range keys {
			if err := b.kc.Set(k); err != nil {
				rt.Fatal(err)
			}
			es := map[UK]UV{}
			for _, e := range m.AppendEntries(nil) {
				if _, dup := es[e.Key]; dup {
					rt.Fatalf("%s: %v listed twice", k, e.Key)
				}
				es[e.Key] = e.Value
			}
			it := map[UK]UV{}
			for uk, v := range m.All() {
				if _, dup := it[uk]; dup {
					rt.Fatalf("%s: %v iterated twice", k, uk)
				}
				it[uk] = v
			}
			if !maps.Equal(es, it) {
				rt.Fatalf("%s: AppendEntries %v, All %v", k, es, it)
			}
			if m.IsEmpty() != (len(es) == 0) {
				rt.Fatalf("%s: IsEmpty %v with %d entries", k, m.IsEmpty(), len(es))
			}
			if len(es) > 0 {
				out[k] = es
			}
		}
		return out
	}
	check := func(what string, want, got model) {
		if fmt.Sprint(want) != fmt.Sprint(got) { // fmt sorts map keys
			rt.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
	// A snapshot is written on a goroutine of its own as soon as it is
	// captured, while the task goes on changing the state (run with -race).
	type captured struct {
		want   model
		groups map[int][]byte
		done   chan error
	}
	var inflight []captured
	finish := func() {
		s := inflight[0]
		inflight = inflight[1:]
		if err := <-s.done; err != nil {
			rt.Fatal(err)
		}
		rb, rm := newState()
		if err := rb.SetRestore(s.groups); err != nil {
			rt.Fatal(err)
		}
		if err := rb.Seal(); err != nil {
			rt.Fatal(err)
		}
		check("restored snapshot", s.want, dump(rb, rm))
	}
	snapshot := func() {
		write, err := b.SnapshotAsync()
		if err != nil {
			rt.Fatal(err)
		}
		c := captured{want: clone(live), groups: map[int][]byte{}, done: make(chan error, 1)}
		go func() {
			c.done <- write(func(kg int, sec []byte) { c.groups[kg] = append(c.groups[kg], sec...) })
		}()
		inflight = append(inflight, c)
	}

	steps := rapid.IntRange(1, 200).Draw(rt, "steps")
	for range steps {
		k := rapid.SampledFrom(keys).Draw(rt, "key")
		set(k)
		switch op := rapid.IntRange(0, 9).Draw(rt, "op"); op {
		case 0, 1, 2:
			put(k, genUK.Draw(rt, "uk"), genUV.Draw(rt, "v"))
		case 3, 4:
			remove(k, genUK.Draw(rt, "uk"))
		case 5:
			uk := genUK.Draw(rt, "uk")
			v, ok := m.Get(uk)
			wv, wok := live[k][uk]
			if v != wv || ok != wok || m.Contains(uk) != wok {
				rt.Fatalf("%s: Get(%v) = %v/%v, want %v/%v", k, uk, v, ok, wv, wok)
			}
		case 6:
			if rapid.IntRange(0, 3).Draw(rt, "clear?") == 0 {
				m.Clear()
				delete(live, k)
			}
		case 7:
			snapshot()
		case 8:
			if len(inflight) > 0 {
				finish()
			}
		case 9:
			// Iterate, changing the key's entries from inside the loop
			// (Go map range semantics).
			start := maps.Clone(live[k])
			stop := rapid.IntRange(0, 40).Draw(rt, "stop after")
			removed := map[UK]bool{}
			seen := map[UK]bool{}
			n := 0
			for uk, v := range m.All() {
				// An entry produced, removed and added again is one
				// created during the iteration: a Go map's range may
				// produce it again.
				if seen[uk] && !removed[uk] {
					rt.Fatalf("%s: %v produced twice", k, uk)
				}
				seen[uk] = true
				if wv, ok := live[k][uk]; !ok || wv != v {
					rt.Fatalf("%s: produced %v=%v, model %v/%v", k, uk, v, wv, ok)
				}
				n++
				if n > stop {
					break
				}
				switch rapid.IntRange(0, 4).Draw(rt, "body op") {
				case 0:
					put(k, genUK.Draw(rt, "body uk"), genUV.Draw(rt, "body v"))
				case 1:
					uk := genUK.Draw(rt, "body uk")
					remove(k, uk)
					removed[uk] = true
				case 2:
					remove(k, uk)
					removed[uk] = true
				case 3:
					snapshot()
				}
			}
			if n <= stop {
				for uk := range start {
					if !removed[uk] && !seen[uk] {
						rt.Fatalf("%s: %v present throughout never produced", k, uk)
					}
				}
			}
		}
		check("live", live, dump(b, m))
	}
	for len(inflight) > 0 {
		finish()
	}
}
