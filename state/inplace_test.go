package state_test

import (
	"testing"
	"time"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/heap"
	"github.com/weirstream/weir/internal/statebackend/pebble"
	"github.com/weirstream/weir/state"
	engine "github.com/weirstream/weir/statebackend/pebble"
)

type counter struct{ N int64 }

// TestInPlace: only a heap value state without TTL keeps its values by
// reference. With TTL an in-place change would not refresh the expiry;
// Pebble encodes what it is given, so an in-place change would be lost.
func TestInPlace(t *testing.T) {
	kc := func() *statebackend.KeyContext[string] {
		return statebackend.NewKeyContext(keygroup.Hasher[string](), 128, keygroup.Range{Start: 0, End: 128})
	}
	h := state.NewStore[string](heap.New(kc(), func() int64 { return 0 }))
	pb, err := pebble.New(kc(), func() int64 { return 0 }, pebble.Options{Engine: engine.New(), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pb.Close() })
	p := state.NewStore[string](pb)
	for _, c := range []struct {
		name string
		v    state.Value[*counter]
		want bool
	}{
		{"heap", state.GetValue[string, *counter](h, state.Descriptor{Name: "a"}), true},
		{"heap with TTL", state.GetValue[string, *counter](h, state.Descriptor{Name: "b", TTL: state.TTL{TTL: time.Millisecond}}), false},
		{"heap with sub-millisecond TTL", state.GetValue[string, *counter](h, state.Descriptor{Name: "c", TTL: state.TTL{TTL: time.Microsecond}}), false},
		{"pebble", state.GetValue[string, *counter](p, state.Descriptor{Name: "a"}), false},
	} {
		if got := state.InPlace(c.v); got != c.want {
			t.Errorf("%s: InPlace %v, want %v", c.name, got, c.want)
		}
	}
}
