package heap

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

// TestMapKeyKeptAcrossSnapshots checks a map state's copy-on-write when the
// current key stays set while snapshots are captured (a state that
// remembered the key's inner map between calls would have to notice that a
// snapshot now shares it): entries are added, removed until the key has
// none, cleared and added again, and every snapshot, restored split over
// two subtasks, holds the state as it was when it was captured.
func TestMapKeyKeptAcrossSnapshots(t *testing.T) {
	full := keygroup.Range{Start: 0, End: 128}
	newMap := func(r keygroup.Range) (*Backend[string], *Map[string, struct{}, int64, int64]) {
		b := New(statebackend.NewKeyContext(keygroup.Hasher[string](), 128, r), func() int64 { return 0 })
		m := NewMap[string, struct{}, int64, int64](b, statebackend.TTL{})
		m.SetName("m")
		return b, m
	}
	dump := func(b *Backend[string], m *Map[string, struct{}, int64, int64], keys []string) []string {
		var out []string
		for _, k := range keys {
			if b.kc.Set(k) != nil {
				continue // another subtask's key
			}
			var es []string
			for uk, v := range m.All() {
				es = append(es, fmt.Sprintf("%d:%d", uk, v))
			}
			slices.Sort(es)
			out = append(out, fmt.Sprintf("%s %v", k, es))
		}
		return out
	}
	b, m := newMap(full)
	keys := []string{"a", "b", "c"}
	for _, k := range keys {
		_ = b.kc.Set(k)
		m.Put(1, 1)
	}
	// Between a snapshot's capture and the writes below no key is set.
	type captured struct {
		want  []string
		write func(put func(kg int, section []byte)) error
	}
	var snaps []captured
	for round := range int64(4) {
		want := dump(b, m, keys) // ends with "c" set
		write, err := b.SnapshotAsync()
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, captured{want: want, write: write})
		if v, ok := m.Get(1); round == 2 && (ok || v != 0) {
			t.Fatalf("round %d: cleared entry reads %d/%v", round, v, ok)
		}
		m.Put(1, 10+round)
		m.Put(round+2, round)
		if round == 1 {
			for uk := range int64(8) {
				m.Remove(uk)
			}
			if !m.IsEmpty() {
				t.Fatal("map still has entries after every one was removed")
			}
		}
		if round == 3 {
			m.Clear()
			m.Put(9, 9)
		}
	}
	final := dump(b, m, keys)
	if want := []string{"a [1:1]", "b [1:1]", "c [9:9]"}; !slices.Equal(final, want) {
		t.Fatalf("live state %v, want %v", final, want)
	}
	for i, s := range snaps {
		groups := map[int][]byte{}
		if err := s.write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range []keygroup.Range{{Start: 0, End: 64}, {Start: 64, End: 128}} {
			rb, rm := newMap(r)
			part := map[int][]byte{}
			for kg, sec := range groups {
				if r.Contains(kg) {
					part[kg] = sec
				}
			}
			if err := rb.SetRestore(part); err != nil {
				t.Fatal(err)
			}
			if err := rb.Seal(); err != nil {
				t.Fatal(err)
			}
			got = append(got, dump(rb, rm, keys)...)
		}
		slices.Sort(got)
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Fatalf("snapshot %d restored over two subtasks (-want +got):\n%s", i, diff)
		}
	}
}
