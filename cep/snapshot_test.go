package cep

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/codec"
)

type snapEvent struct {
	Name string
	Val  int
}

// A key's buffer goes through the default state codec (what a heap
// snapshot writes) and the restored copy matches exactly as the original
// from then on: no part of the matching state is lost.
func TestBufferSurvivesCodec(t *testing.T) {
	p := Begin[snapEvent]("a").Where(func(e snapEvent) bool { return e.Name == "a" }).
		FollowedByAny("b").Where(func(e snapEvent) bool { return e.Name == "b" }).OneOrMore().
		FollowedBy("c").Where(func(e snapEvent) bool { return e.Name == "c" }).
		Within(time.Minute).Skip(SkipToLast("b"))
	n, err := compile(p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.For[*buffer[snapEvent]]()
	if err != nil {
		t.Fatal(err)
	}
	run := func(b *buffer[snapEvent], input string, from int) []string {
		m := newMatcher(n)
		var out []string
		m.emit = func(b *buffer[snapEvent], pm partial, ts int64) error {
			ms := materialize(b, n.names, pm.Last)
			out = append(out, fmt.Sprint(ts, ms["a"], ms["b"], ms["c"]))
			return nil
		}
		m.timeout = func(b *buffer[snapEvent], pm partial, at int64) error {
			out = append(out, fmt.Sprint("timeout ", at, materialize(b, n.names, pm.Last)))
			return nil
		}
		for i, tok := range strings.Fields(input) {
			if err := m.process(b, snapEvent{Name: tok[:1], Val: from + i}, int64(1000*(from+i))); err != nil {
				t.Fatal(err)
			}
		}
		b.enqueue(snapEvent{Name: "q"}, 99, nil)
		return out
	}
	orig := newBuffer[snapEvent]()
	run(orig, "a b x a b b", 0)
	if len(orig.PMs) == 0 {
		t.Fatal("no partial matches to snapshot")
	}
	data := c.Append(nil, orig)
	restored, used, err := c.Decode(data)
	if err != nil || used != len(data) {
		t.Fatalf("decode: %v (%d of %d bytes)", err, used, len(data))
	}
	rest := "b c a b c x x"
	want := run(orig, rest, 6)
	got := run(restored, rest, 6)
	if len(want) == 0 {
		t.Fatal("no output after the snapshot point")
	}
	if !slices.Equal(got, want) {
		t.Fatalf("restored buffer diverged:\n got %q\nwant %q", got, want)
	}
	if len(restored.Queue) != len(orig.Queue) || restored.QTimer != orig.QTimer || restored.Seq != orig.Seq {
		t.Fatalf("restored queue/timers/seq differ: %+v vs %+v", restored.Queue, orig.Queue)
	}
}
