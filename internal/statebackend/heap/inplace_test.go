package heap

import (
	"fmt"
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

// box is a value changed in place through the pointer a value state keeps
// (state.InPlace).
type box struct{ N []int64 }

// TestInPlaceSnapshotIsTheCapture: values of a state that keeps references
// (no TTL) are changed through the pointer Value returned, without Update,
// after SnapshotAsync captured the state and before its writer runs (as the
// task goes on while the snapshot is written), and again after a restore.
// The snapshot must hold the values at capture; a restore must not share
// memory with the bytes it came from (a second restore of the same
// snapshot sees the captured values); a key group split (rescale) too.
func TestInPlaceSnapshotIsTheCapture(t *testing.T) {
	full := keygroup.Range{Start: 0, End: 128}
	newB := func(r keygroup.Range, ttl statebackend.TTL) (*Backend[string], *Value[string, struct{}, *box]) {
		kc := statebackend.NewKeyContext(keygroup.Hasher[string](), 128, r)
		b := New(kc, func() int64 { return 0 })
		v := NewValue[string, struct{}, *box](b, ttl)
		v.SetName("box")
		return b, v
	}
	if _, v := newB(full, statebackend.TTL{TTLMillis: 1000}); v.KeepsReferences() {
		t.Fatal("a value state with TTL keeps references: in-place changes would not refresh the expiry")
	}
	b, v := newB(full, statebackend.TTL{})
	if !v.KeepsReferences() {
		t.Fatal("a heap value state without TTL does not keep references")
	}
	var keys []string
	for i := range 200 {
		k := fmt.Sprintf("k%d", i)
		keys = append(keys, k)
		_ = b.kc.Set(k)
		v.Update(&box{N: []int64{int64(i)}})
	}
	mutate := func(b *Backend[string], v *Value[string, struct{}, *box], add int64) {
		for _, k := range keys {
			if b.kc.Set(k) != nil {
				continue
			}
			x, ok := v.Value()
			if !ok {
				t.Fatalf("key %s lost", k)
			}
			x.N[0] += add
			x.N = append(x.N, add)
		}
	}
	write, err := b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	mutate(b, v, 1000) // after the capture, before the writer runs
	groups := map[int][]byte{}
	if err := write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }); err != nil {
		t.Fatal(err)
	}
	mutate(b, v, 1) // after the writer ran
	check := func(what string, r keygroup.Range, add int64) (*Backend[string], *Value[string, struct{}, *box]) {
		t.Helper()
		rb, rv := newB(r, statebackend.TTL{})
		if err := rb.SetRestore(groups); err != nil {
			t.Fatal(err)
		}
		if err := rb.Seal(); err != nil {
			t.Fatal(err)
		}
		n := 0
		for i, k := range keys {
			if rb.kc.Set(k) != nil {
				continue
			}
			n++
			x, ok := rv.Value()
			if !ok || len(x.N) != 1 || x.N[0] != int64(i)+add {
				t.Fatalf("%s: key %s restored as %+v (%v), want [%d]", what, k, x, ok, int64(i)+add)
			}
		}
		if n == 0 {
			t.Fatalf("%s: no key in range %v", what, r)
		}
		return rb, rv
	}
	rb, rv := check("restore", full, 0)
	mutate(rb, rv, 7) // a restored job changes its values in place
	check("second restore of the same snapshot", full, 0)
	check("key groups 0-63", keygroup.Range{Start: 0, End: 64}, 0)
	check("key groups 64-127", keygroup.Range{Start: 64, End: 128}, 0)
}
