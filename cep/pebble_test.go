package cep_test

import (
	"slices"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/cep"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// On Pebble, state values holding pointers are kept encoded: a buffer read
// from state is a copy, so every change to it must be written back. (It was
// written only when new: partial matches and queued events added later
// were lost, and abc matched nothing.)
func TestPatternOnPebble(t *testing.T) {
	h := weirtest.New(weir.Options{StateBackend: weir.StatePebble, Pebble: pebble.New(), StateDir: t.TempDir()})
	in := weirtest.NewInput[ev](h)
	ps := cep.Pattern(weir.KeyBy(in.Stream(), func(e ev) string { return e.Key }), abc())
	out := weirtest.Capture(h, cep.Select(ps, func(k string, m map[string][]ev) (string, error) {
		return k + ":" + m["a"][0].ID + m["b"][0].ID + m["c"][0].ID, nil
	}))
	h.Start(t)
	for i, e := range []ev{{Key: "k", ID: "a1", Name: "a"}, {Key: "k", ID: "x", Name: "x"}, {Key: "k", ID: "b1", Name: "b"}, {Key: "k", ID: "c1", Name: "c"}} {
		if err := in.Push(e, int64(10*(i+1))); err != nil {
			t.Fatal(err)
		}
		if err := in.Watermark(int64(10*(i+1) + 5)); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.End(); err != nil {
		t.Fatal(err)
	}
	if got, want := out.Values(), []string{"k:a1b1c1"}; !slices.Equal(got, want) {
		t.Fatalf("matches %q, want %q", got, want)
	}
}
