package heap

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

// encodes counts the encodings of counted values (AppendState).
var encodes atomic.Int64

// counted is a value changed in place that counts its encodings.
type counted struct{ N []int64 }

func (c counted) AppendState(dst []byte) []byte {
	encodes.Add(1)
	dst = binary.AppendUvarint(dst, uint64(len(c.N)))
	for _, x := range c.N {
		dst = binary.AppendVarint(dst, x)
	}
	return dst
}

func (c *counted) DecodeState(src []byte) (int, error) {
	n, p := binary.Uvarint(src)
	if p <= 0 || n > uint64(len(src)) {
		return 0, codec.ErrCorrupt
	}
	c.N = make([]int64, n)
	for i := range c.N {
		x, k := binary.Varint(src[p:])
		if k <= 0 {
			return 0, codec.ErrCorrupt
		}
		c.N[i], p = x, p+k
	}
	return p, nil
}

type countedState struct {
	b *Backend[int64]
	v *Value[int64, struct{}, *counted]
}

func newCounted(ttl statebackend.TTL) countedState {
	kc := statebackend.NewKeyContext(keygroup.Hasher[int64](), 128, keygroup.Range{Start: 0, End: 128})
	b := New(kc, func() int64 { return 0 })
	v := NewValue[int64, struct{}, *counted](b, ttl)
	v.SetName("counted")
	return countedState{b, v}
}

// snapshotValues writes a captured snapshot and restores it into a new
// backend: key -> value.
func snapshotValues(t testing.TB, write func(put func(kg int, section []byte)) error) map[int64][]int64 {
	t.Helper()
	out, err := trySnapshotValues(write)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func trySnapshotValues(write func(put func(kg int, section []byte)) error) (map[int64][]int64, error) {
	groups := map[int][]byte{}
	if err := write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }); err != nil {
		return nil, err
	}
	r := newCounted(statebackend.TTL{})
	if err := r.b.SetRestore(groups); err != nil {
		return nil, err
	}
	if err := r.b.Seal(); err != nil {
		return nil, err
	}
	out := map[int64][]int64{}
	for _, m := range r.v.groups {
		for k, e := range m {
			out[k] = e.v.N
		}
	}
	return out, nil
}

// TestInPlaceCaptureIsAsync: capturing a value state whose values are
// changed in place encodes none of them on the task (SnapshotAsync); the
// first access of a key after the capture copies its value once (a
// second access, or a key set after the capture, copies nothing), keys
// not accessed are not copied at all, and the snapshot holds the values
// as they were at the capture.
func TestInPlaceCaptureIsAsync(t *testing.T) {
	s := newCounted(statebackend.TTL{})
	const n = 1000
	want := map[int64][]int64{}
	ptrs := map[int64]*counted{}
	for k := range int64(n) {
		_ = s.b.kc.Set(k)
		c := &counted{N: []int64{k}}
		s.v.Update(c)
		want[k] = []int64{k}
		ptrs[k] = c
	}
	encodes.Store(0)
	write, err := s.b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	if got := encodes.Load(); got != 0 {
		t.Fatalf("the capture encoded %d values on the task, want 0", got)
	}
	// Change the even keys in place, twice each; set key n anew and
	// change it.
	for round := range 2 {
		for k := int64(0); k < n; k += 2 {
			_ = s.b.kc.Set(k)
			c, ok := s.v.Value()
			if !ok {
				t.Fatalf("key %d lost", k)
			}
			c.N[0] += 1000
			c.N = append(c.N, int64(round))
		}
	}
	_ = s.b.kc.Set(n)
	s.v.Update(&counted{N: []int64{-1}})
	c, _ := s.v.Value()
	c.N[0] = -2
	if got := encodes.Load(); got != n/2 {
		t.Fatalf("%d values copied after the capture, want %d (each even key once)", got, n/2)
	}
	if got := snapshotValues(t, write); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("snapshot holds changes made after its capture:\n got %v\nwant %v", got, want)
	}
	for k := int64(1); k < n; k += 2 {
		_ = s.b.kc.Set(k)
		if c, _ := s.v.Value(); c != ptrs[k] {
			t.Fatalf("key %d not accessed during the snapshot was copied", k)
		}
	}
	// No snapshot in flight: values are handed out as they are.
	encodes.Store(0)
	_ = s.b.kc.Set(0)
	a, _ := s.v.Value()
	b, _ := s.v.Value()
	if a != b || encodes.Load() != 0 || a.N[0] != 2000 || len(a.N) != 3 {
		t.Fatalf("without a snapshot in flight: %p %p %v, %d encodes", a, b, a.N, encodes.Load())
	}
	if s.v.forked != nil {
		t.Fatal("the record of copies outlives the snapshot")
	}
}

// TestInPlaceSnapshotsInFlight: several snapshots in flight, written in
// any order, each hold the values at their own capture; with TTL (values
// changed before their Update) and in namespaces too.
func TestInPlaceSnapshotsInFlight(t *testing.T) {
	for _, ttl := range []statebackend.TTL{{}, {TTLMillis: 1 << 40}} {
		s := newCounted(ttl)
		live := map[int64][]int64{}
		for k := range int64(50) {
			_ = s.b.kc.Set(k)
			s.v.Update(&counted{N: []int64{k}})
			live[k] = []int64{k}
		}
		type inflight struct {
			want  map[int64][]int64
			write func(put func(kg int, section []byte)) error
		}
		var fl []inflight
		for step := range 4 {
			w, err := s.b.SnapshotAsync()
			if err != nil {
				t.Fatal(err)
			}
			want := map[int64][]int64{}
			for k, v := range live {
				want[k] = slices.Clone(v)
			}
			fl = append(fl, inflight{want, w})
			for k := int64(step); k < 50; k += 3 {
				_ = s.b.kc.Set(k)
				c, _ := s.v.Value()
				c.N = append(c.N, int64(step))
				c.N[0]++
				if ttl.TTLMillis > 0 {
					s.v.Update(c)
				}
				live[k] = slices.Clone(c.N)
			}
		}
		for _, i := range []int{2, 0, 3, 1} {
			if got := snapshotValues(t, fl[i].write); fmt.Sprint(got) != fmt.Sprint(fl[i].want) {
				t.Fatalf("ttl %v: snapshot %d:\n got %v\nwant %v", ttl, i, got, fl[i].want)
			}
		}
		for k, v := range live {
			_ = s.b.kc.Set(k)
			if c, _ := s.v.Value(); fmt.Sprint(c.N) != fmt.Sprint(v) {
				t.Fatalf("ttl %v: key %d live %v, want %v", ttl, k, c.N, v)
			}
		}
	}
}

// TestInPlaceNamespaced: a namespaced value state (windows) forks per
// (namespace, key).
func TestInPlaceNamespaced(t *testing.T) {
	kc := statebackend.NewKeyContext(keygroup.Hasher[int64](), 128, keygroup.Range{Start: 0, End: 128})
	b := New(kc, func() int64 { return 0 })
	v := NewValue[int64, window, *counted](b, statebackend.TTL{})
	v.SetName("w")
	for k := range int64(20) {
		_ = kc.Set(k)
		for w := range int64(3) {
			v.SetNamespace(window{w, w + 1})
			v.Update(&counted{N: []int64{k*10 + w}})
		}
	}
	encodes.Store(0)
	write, err := b.SnapshotAsync()
	if err != nil || encodes.Load() != 0 {
		t.Fatalf("capture: %v, %d encodes", err, encodes.Load())
	}
	for k := range int64(20) {
		_ = kc.Set(k)
		for w := range int64(3) {
			v.SetNamespace(window{w, w + 1})
			c, _ := v.Value()
			c.N[0] = -1
		}
	}
	if encodes.Load() != 60 {
		t.Fatalf("%d copies, want 60", encodes.Load())
	}
	groups := map[int][]byte{}
	if err := write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }); err != nil {
		t.Fatal(err)
	}
	rb := New(statebackend.NewKeyContext(keygroup.Hasher[int64](), 128, keygroup.Range{Start: 0, End: 128}), func() int64 { return 0 })
	rv := NewValue[int64, window, *counted](rb, statebackend.TTL{})
	rv.SetName("w")
	if err := rb.SetRestore(groups); err != nil {
		t.Fatal(err)
	}
	if err := rb.Seal(); err != nil {
		t.Fatal(err)
	}
	for k := range int64(20) {
		_ = rb.kc.Set(k)
		for w := range int64(3) {
			rv.SetNamespace(window{w, w + 1})
			if c, ok := rv.Value(); !ok || c.N[0] != k*10+w {
				t.Fatalf("key %d window %d restored as %v", k, w, c)
			}
		}
	}
}

// TestInPlaceConcurrentWriters (run with -race): snapshots are written on
// other goroutines while the task changes values in place, sets new ones
// and clears keys; every snapshot holds the values at its capture.
func TestInPlaceConcurrentWriters(t *testing.T) {
	s := newCounted(statebackend.TTL{})
	rng := rand.New(rand.NewPCG(1, 2))
	live := map[int64][]int64{}
	type result struct {
		want map[int64][]int64
		got  chan map[int64][]int64
	}
	var results []result
	var wg sync.WaitGroup
	for step := range 20000 {
		k := rng.Int64N(300)
		_ = s.b.kc.Set(k)
		switch op := rng.IntN(10); {
		case op < 6:
			c, ok := s.v.Value()
			if !ok {
				c = &counted{N: []int64{0}}
				s.v.Update(c)
			}
			c.N[0]++
			if len(c.N) < 8 {
				c.N = append(c.N, int64(step))
			}
			live[k] = slices.Clone(c.N)
		case op < 8:
			c := &counted{N: []int64{int64(step)}}
			s.v.Update(c)
			c.N[0]++ // changed after the Update, before the next capture
			live[k] = slices.Clone(c.N)
		case op < 9:
			s.v.Clear()
			delete(live, k)
		}
		if step%997 == 0 {
			write, err := s.b.SnapshotAsync()
			if err != nil {
				t.Fatal(err)
			}
			want := map[int64][]int64{}
			for k, v := range live {
				want[k] = slices.Clone(v)
			}
			r := result{want, make(chan map[int64][]int64, 1)}
			results = append(results, r)
			wg.Go(func() {
				got, err := trySnapshotValues(write)
				if err != nil {
					t.Error(err)
				}
				r.got <- got
			})
		}
	}
	wg.Wait()
	for i, r := range results {
		if got := <-r.got; fmt.Sprint(got) != fmt.Sprint(r.want) {
			t.Fatalf("snapshot %d:\n got %v\nwant %v", i, got, r.want)
		}
	}
}

// copying is a value changed in place that copies itself (state.Copier).
type copying struct {
	counted
	copies *int
}

func (c *copying) CopyState() *copying {
	*c.copies++
	return &copying{counted{slices.Clone(c.N)}, c.copies}
}

// TestInPlaceCopier: a value type with CopyState is copied with it, not
// with its codec, and the snapshot still holds the captured values.
func TestInPlaceCopier(t *testing.T) {
	kc := statebackend.NewKeyContext(keygroup.Hasher[int64](), 128, keygroup.Range{Start: 0, End: 128})
	b := New(kc, func() int64 { return 0 })
	v := NewValue[int64, struct{}, *copying](b, statebackend.TTL{})
	v.SetName("c")
	copies := 0
	for k := range int64(10) {
		_ = kc.Set(k)
		v.Update(&copying{counted{[]int64{k}}, &copies})
	}
	write, err := b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	encodes.Store(0)
	for k := range int64(10) {
		_ = kc.Set(k)
		c, _ := v.Value()
		c.N[0] = 100
	}
	if copies != 10 || encodes.Load() != 0 {
		t.Fatalf("%d CopyState calls, %d encodes; want 10, 0", copies, encodes.Load())
	}
	groups := map[int][]byte{}
	if err := write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }); err != nil {
		t.Fatal(err)
	}
	rb := New(statebackend.NewKeyContext(keygroup.Hasher[int64](), 128, keygroup.Range{Start: 0, End: 128}), func() int64 { return 0 })
	rv := NewValue[int64, struct{}, *copying](rb, statebackend.TTL{})
	rv.SetName("c")
	if err := rb.SetRestore(groups); err != nil {
		t.Fatal(err)
	}
	if err := rb.Seal(); err != nil {
		t.Fatal(err)
	}
	for k := range int64(10) {
		_ = rb.kc.Set(k)
		if c, ok := rv.Value(); !ok || c.N[0] != k {
			t.Fatalf("key %d restored as %v", k, c)
		}
	}
}
