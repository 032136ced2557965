package cep

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/codec"
)

// FuzzBufferDecode decodes arbitrary bytes as a key's matching state (as
// a restore does) and runs the matcher on it: decoding and check fail
// with codec.ErrCorrupt or give a buffer the matcher processes without
// panicking or looping, and which stays consistent (check passes) after
// every event. Buffers the matcher builds always pass check.
func FuzzBufferDecode(f *testing.F) {
	p := Begin[snapEvent]("a").Where(func(e snapEvent) bool { return e.Name == "a" }).
		FollowedByAny("b").Where(func(e snapEvent) bool { return e.Name == "b" }).OneOrMore().
		FollowedBy("c").Where(func(e snapEvent) bool { return e.Name == "c" }).
		Within(time.Minute).Skip(SkipToLast("b"))
	n, err := compile(p)
	if err != nil {
		f.Fatal(err)
	}
	c, err := codec.For[*buffer[snapEvent]]()
	if err != nil {
		f.Fatal(err)
	}
	run := func(b *buffer[snapEvent], input string) error {
		m := newMatcher(n)
		m.emit = func(b *buffer[snapEvent], pm partial, ts int64) error {
			materialize(b, n.names, pm.Last)
			return nil
		}
		m.timeout = m.emit
		for i, tok := range strings.Fields(input) {
			if err := m.process(b, snapEvent{Name: tok[:1], Val: i}, int64(1000*i)); err != nil {
				return err
			}
			if err := b.check(len(n.states), len(n.names)); err != nil {
				return err
			}
		}
		return nil
	}
	for _, in := range []string{"a b x a b b", "a b c a b c", "a a a b b b c", ""} {
		b := newBuffer[snapEvent]()
		if err := run(b, in); err != nil {
			f.Fatalf("%q: %v", in, err)
		}
		f.Add(c.Append(nil, b), "b c a b c x")
	}
	f.Fuzz(func(t *testing.T, data []byte, input string) {
		b, _, err := c.Decode(data)
		if err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if err := b.check(len(n.states), len(n.names)); err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if err := run(b, input); err != nil {
			t.Fatalf("a checked buffer: %v", err)
		}
	})
}
