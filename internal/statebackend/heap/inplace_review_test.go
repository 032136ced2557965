package heap

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

func newKC() *statebackend.KeyContext[int64] {
	return statebackend.NewKeyContext(keygroup.Hasher[int64](), 128, keygroup.Range{Start: 0, End: 128})
}

// TestInPlaceCopierNilValue: a nil pointer stored in a value state whose
// pointer type copies itself (state.Copier) is handed out as nil while a
// snapshot is being written (a nil shares nothing: there is nothing to
// copy), not passed to CopyState, whose receiver it would dereference.
func TestInPlaceCopierNilValue(t *testing.T) {
	kc := newKC()
	b := New(kc, func() int64 { return 0 })
	v := NewValue[int64, struct{}, *copying](b, statebackend.TTL{})
	v.SetName("c")
	_ = kc.Set(1)
	v.Update(nil)
	write, err := b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Value of a nil value during a snapshot panicked: %v", r)
			}
		}()
		if c, ok := v.Value(); !ok || c != nil {
			t.Fatalf("Value = %v, %v; want nil, true", c, ok)
		}
	}()
	if err := write(func(int, []byte) {}); err != nil {
		t.Fatal(err)
	}
}

// skipping holds a field the codec leaves out (weir:"-"): a cache the
// operator keeps while the job runs, rebuilt after a restore.
type skipping struct {
	N     []int64
	Cache map[int64]int64 `weir:"-"`
}

// TestInPlaceCopyKeepsSkippedFields: taking a checkpoint changes nothing
// the operator sees: the copy Value hands out while a snapshot is being
// written keeps the fields the codec leaves out, as they were, and
// shares no memory with the captured value.
func TestInPlaceCopyKeepsSkippedFields(t *testing.T) {
	kc := newKC()
	b := New(kc, func() int64 { return 0 })
	v := NewValue[int64, struct{}, *skipping](b, statebackend.TTL{})
	v.SetName("s")
	_ = kc.Set(1)
	v.Update(&skipping{N: []int64{1}, Cache: map[int64]int64{7: 49}})
	write, err := b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := v.Value()
	if c.Cache[7] != 49 {
		t.Errorf("the copy handed out during a snapshot lost its weir:\"-\" field: %v", c.Cache)
	}
	c.N[0] = 2
	c.N = append(c.N, 3)
	if c.Cache != nil {
		c.Cache[8] = 64
	}
	groups := map[int][]byte{}
	if err := write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }); err != nil {
		t.Fatal(err)
	}
	rb := New(newKC(), func() int64 { return 0 })
	rv := NewValue[int64, struct{}, *skipping](rb, statebackend.TTL{})
	rv.SetName("s")
	if err := rb.SetRestore(groups); err != nil {
		t.Fatal(err)
	}
	if err := rb.Seal(); err != nil {
		t.Fatal(err)
	}
	_ = rb.kc.Set(1)
	if r, ok := rv.Value(); !ok || !slices.Equal(r.N, []int64{1}) {
		t.Fatalf("snapshot holds %v; want [1]", r)
	}
}

// TestIsNil: isNil tells nil pointers and interfaces from others.
func TestIsNil(t *testing.T) {
	var p *copying
	var e error
	var a any
	if !isNil(p) || !isNil(e) || !isNil(a) {
		t.Fatal("a nil is not nil")
	}
	var np *int
	if isNil(&copying{}) || isNil[error](errTest{}) || isNil[any](np) || isNil[any](0) {
		t.Fatal("a non-nil is nil")
	}
}

type errTest struct{}

func (errTest) Error() string { return "test" }

type inner2 struct {
	X    int64
	Memo []int64 `weir:"-"`
}

type nested struct {
	Items []inner2
	ByID  map[int64]inner2
	P     *inner2
}

// TestInPlaceCopyKeepsNestedSkippedFields: skipped fields deep in the
// value (slice elements, map values, behind pointers) survive the copy.
func TestInPlaceCopyKeepsNestedSkippedFields(t *testing.T) {
	kc := newKC()
	b := New(kc, func() int64 { return 0 })
	v := NewValue[int64, struct{}, *nested](b, statebackend.TTL{})
	v.SetName("n")
	_ = kc.Set(1)
	v.Update(&nested{
		Items: []inner2{{1, []int64{10}}, {2, []int64{20}}},
		ByID:  map[int64]inner2{5: {5, []int64{50}}},
		P:     &inner2{6, []int64{60}},
	})
	write, err := b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := v.Value()
	if c.Items[1].Memo[0] != 20 || c.ByID[5].Memo[0] != 50 || c.P.Memo[0] != 60 || c.Items[0].X != 1 {
		t.Fatalf("copy lost skipped fields: %+v %+v %+v", c.Items, c.ByID, c.P)
	}
	c.Items[0].X = 100
	c.P.X = 100
	if err := write(func(int, []byte) {}); err != nil {
		t.Fatal(err)
	}
}

type nsk struct{ n, k int64 }

// TestInPlaceModelSnapshotsInFlight: random in-place changes (through
// what Value returned, or what was just given to Update), updates and
// clears of namespaced keys, with up to three snapshots in flight at
// once, each written on its own goroutine while the task goes on: every
// snapshot restores exactly the values as they were at its capture.
func TestInPlaceModelSnapshotsInFlight(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 14))
		kc := newKC()
		b := New(kc, func() int64 { return 0 })
		v := NewValue[int64, int64, *counted](b, statebackend.TTL{})
		v.SetName("m")
		model := map[nsk][]int64{}
		type pending struct {
			want map[nsk][]int64
			done chan map[nsk][]int64
			errc chan error
		}
		var all []pending
		inflight := 0
		for op := 0; op < 3000; op++ {
			key := nsk{rng.Int64N(3), rng.Int64N(20)}
			v.SetNamespace(key.n)
			_ = kc.Set(key.k)
			switch r := rng.IntN(100); {
			case r < 55:
				c, ok := v.Value()
				if _, had := model[key]; ok != had {
					t.Fatalf("seed %d: Value of %v = %v, model has it: %v", seed, key, ok, had)
				}
				if !ok {
					continue
				}
				if !slices.Equal(c.N, model[key]) {
					t.Fatalf("seed %d: %v is %v, want %v", seed, key, c.N, model[key])
				}
				c.N[rng.IntN(len(c.N))] += 1
				if rng.IntN(4) == 0 {
					c.N = append(c.N, int64(op))
				}
				model[key] = slices.Clone(c.N)
			case r < 75:
				c := &counted{N: []int64{int64(op)}}
				v.Update(c)
				c.N[0]++ // changed in place after the Update, same record
				model[key] = slices.Clone(c.N)
			case r < 85:
				v.Clear()
				delete(model, key)
			case r < 95:
				if inflight >= 3 {
					continue
				}
				write, err := b.SnapshotAsync()
				if err != nil {
					t.Fatal(err)
				}
				want := map[nsk][]int64{}
				for k, x := range model {
					want[k] = slices.Clone(x)
				}
				p := pending{want, make(chan map[nsk][]int64, 1), make(chan error, 1)}
				all = append(all, p)
				inflight++
				start := make(chan struct{})
				go func() {
					<-start
					groups := map[int][]byte{}
					if err := write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }); err != nil {
						p.errc <- err
						return
					}
					p.done <- restoreNS(groups, &p)
				}()
				close(start)
			default:
				// Wait for the oldest snapshot still in flight.
				if inflight > 0 {
					p := all[len(all)-inflight]
					select {
					case err := <-p.errc:
						t.Fatal(err)
					case got := <-p.done:
						p.done <- got
					}
					inflight--
				}
			}
		}
		for i, p := range all {
			var got map[nsk][]int64
			select {
			case err := <-p.errc:
				t.Fatal(err)
			case got = <-p.done:
			}
			if len(got) != len(p.want) {
				t.Fatalf("seed %d: snapshot %d has %d entries, want %d", seed, i, len(got), len(p.want))
			}
			for k, w := range p.want {
				if !slices.Equal(got[k], w) {
					t.Fatalf("seed %d: snapshot %d: %v = %v, want %v (as at its capture)", seed, i, k, got[k], w)
				}
			}
		}
	}
}

func restoreNS[P any](groups map[int][]byte, _ P) map[nsk][]int64 {
	rb := New(newKC(), func() int64 { return 0 })
	rv := NewValue[int64, int64, *counted](rb, statebackend.TTL{})
	rv.SetName("m")
	out := map[nsk][]int64{}
	if err := rb.SetRestore(groups); err != nil {
		out[nsk{-1, -1}] = []int64{-1}
		return out
	}
	if err := rb.Seal(); err != nil {
		out[nsk{-1, -1}] = []int64{-1}
		return out
	}
	for n, sp := range rv.spaces {
		for k, e := range sp.m {
			out[nsk{n, k}] = e.v.N
		}
	}
	return out
}

// TestInPlaceTTLDuringSnapshot: with TTL (values written back with
// Update), a value read and refreshed (OnReadAndWrite) or read once
// expired (ReturnExpiredIfNotCleanedUp) while a snapshot is being written
// is handed out as a copy: changing it leaves the snapshot as captured.
func TestInPlaceTTLDuringSnapshot(t *testing.T) {
	now := int64(0)
	kc := newKC()
	b := New(kc, func() int64 { return now })
	v := NewValue[int64, struct{}, *counted](b, statebackend.TTL{TTLMillis: 10, Update: statebackend.OnReadAndWrite, Visibility: statebackend.ReturnExpiredIfNotCleanedUp})
	v.SetName("counted")
	for k := range int64(2) {
		_ = kc.Set(k)
		v.Update(&counted{N: []int64{k}})
	}
	write, err := b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	now = 5
	_ = kc.Set(0)
	c, ok := v.Value()
	if !ok {
		t.Fatal("key 0 missing")
	}
	c.N[0] = 100
	v.Update(c)
	c.N[0] = 101
	now = 20
	_ = kc.Set(1)
	c, ok = v.Value()
	if !ok || c.N[0] != 1 {
		t.Fatalf("expired key 1 = %v, %v; want [1], true", c, ok)
	}
	c.N[0] = 200
	got := snapshotValues(t, write)
	if !slices.Equal(got[0], []int64{0}) || !slices.Equal(got[1], []int64{1}) {
		t.Fatalf("snapshot holds %v; want 0:[0] 1:[1]", got)
	}
}

// TestInPlaceForEachKeyDuringSnapshot: visiting every key (ForEachKey, as
// an operator applying a change to all keys does) and changing each
// value in place through Value while a snapshot is being written
// changes each value once, visits each key once, and leaves the snapshot
// as captured.
func TestInPlaceForEachKeyDuringSnapshot(t *testing.T) {
	s := newCounted(statebackend.TTL{})
	for k := range int64(200) {
		_ = s.b.kc.Set(k)
		s.v.Update(&counted{N: []int64{k}})
	}
	write, err := s.b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	if err := s.v.ForEachKey(func(k int64, _ struct{}) {
		seen[k]++
		_ = s.b.kc.Set(k)
		c, _ := s.v.Value()
		c.N[0] += 1000
	}); err != nil {
		t.Fatal(err)
	}
	got := snapshotValues(t, write)
	for k := range int64(200) {
		if seen[k] != 1 {
			t.Fatalf("key %d visited %d times", k, seen[k])
		}
		if !slices.Equal(got[k], []int64{k}) {
			t.Fatalf("snapshot: key %d = %v, want [%d]", k, got[k], k)
		}
		_ = s.b.kc.Set(k)
		if c, _ := s.v.Value(); c.N[0] != k+1000 {
			t.Fatalf("live: key %d = %v", k, c.N)
		}
	}
}
