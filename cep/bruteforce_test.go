package cep

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// The same-answer test: random small patterns (single and times(n) steps
// with strict, relaxed or non-deterministic contiguity between and inside
// steps, optionally Within) over random short streams, matched by the NFA
// and by a brute-force enumeration of every subsequence against the
// declarative definition of the contiguities:
//
//   - strict: the event right after the previous accepted one;
//   - relaxed: the first event after the previous accepted one that meets
//     the step's condition;
//   - non-deterministic: any later event that meets it.

type bfStep struct {
	letter byte
	outer  contiguity
	n      int  // times (1 = single)
	loop   bool // OneOrMore / TimesOrMore(n)
	opt    bool
	inner  contiguity
}

type bfEvent struct {
	letter byte
	pos    int
}

type bfSlot struct {
	letter byte
	contig contiguity // to the previous slot
	step   int
}

// bfMatches enumerates, for every choice of how many events each step
// takes, every subsequence of events that fits the slots.
func bfMatches(steps []bfStep, events []bfEvent, within int) []string {
	var out []string
	counts := make([]int, len(steps))
	var expand func(i int)
	expand = func(i int) {
		if i == len(steps) {
			var slots []bfSlot
			for si, s := range steps {
				for k := 0; k < counts[si]; k++ {
					c := s.inner
					if k == 0 {
						c = s.outer
					}
					slots = append(slots, bfSlot{letter: s.letter, contig: c, step: si})
				}
			}
			if len(slots) > 0 && len(slots) <= len(events) {
				out = append(out, bfSlots(slots, events, within)...)
			}
			return
		}
		s := steps[i]
		var options []int
		if s.opt {
			options = append(options, 0)
		}
		if s.loop {
			for n := s.n; n <= len(events); n++ {
				options = append(options, n)
			}
		} else {
			options = append(options, s.n)
		}
		for _, n := range options {
			counts[i] = n
			expand(i + 1)
		}
	}
	expand(0)
	slices.Sort(out)
	return out
}

func bfSlots(slots []bfSlot, events []bfEvent, within int) []string {
	var out []string
	idx := make([]int, 0, len(slots))
	var rec func(k, from int)
	rec = func(k, from int) {
		if k == len(slots) {
			if within > 0 && events[idx[len(idx)-1]].pos-events[idx[0]].pos >= within {
				return
			}
			var sb strings.Builder
			for j, i := range idx {
				fmt.Fprintf(&sb, "%d:s%d ", events[i].pos, slots[j].step)
			}
			out = append(out, sb.String())
			return
		}
		for i := from; i < len(events); i++ {
			if events[i].letter != slots[k].letter {
				continue
			}
			if k > 0 {
				prev := idx[k-1]
				switch slots[k].contig {
				case strict:
					if i != prev+1 {
						continue
					}
				case relaxed:
					first := -1
					for j := prev + 1; j < len(events); j++ {
						if events[j].letter == slots[k].letter {
							first = j
							break
						}
					}
					if i != first {
						continue
					}
				}
			}
			idx = append(idx, i)
			rec(k+1, i+1)
			idx = idx[:len(idx)-1]
		}
	}
	rec(0, 0)
	return out
}

func bfPattern(steps []bfStep, within int) *Seq[bfEvent] {
	var p *Seq[bfEvent]
	for i, s := range steps {
		name := fmt.Sprintf("s%d", i)
		switch {
		case i == 0:
			p = Begin[bfEvent](name)
		case s.outer == strict:
			p = p.Next(name)
		case s.outer == relaxed:
			p = p.FollowedBy(name)
		default:
			p = p.FollowedByAny(name)
		}
		letter := s.letter
		p = p.Where(func(e bfEvent) bool { return e.letter == letter })
		switch {
		case s.loop:
			p = p.TimesOrMore(s.n)
		case s.n > 1:
			p = p.Times(s.n)
		}
		if s.loop || s.n > 1 {
			switch s.inner {
			case strict:
				p = p.Consecutive()
			case nondeterministic:
				p = p.AllowCombinations()
			}
		}
		if s.opt {
			p = p.Optional()
		}
	}
	if within > 0 {
		p = p.Within(time.Duration(within) * time.Millisecond)
	}
	return p
}

// nfaMatches runs the matcher over events; with skipInert it drops the
// events the matcher finds inert, as the operator does.
func nfaMatches(t *testing.T, p *Seq[bfEvent], events []bfEvent, skipInert bool) []string {
	t.Helper()
	n, err := compile(p)
	if err != nil {
		t.Fatal(err)
	}
	m := newMatcher(n)
	var out []string
	m.emit = func(b *buffer[bfEvent], pm partial, _ int64) error {
		var parts []string
		for i := pm.Last; i >= 0; i = b.Nodes[i].Prev {
			parts = append(parts, fmt.Sprintf("%d:%s ", b.Events[b.Nodes[i].Ev].V.pos, n.names[b.Nodes[i].Name]))
		}
		slices.Reverse(parts)
		out = append(out, strings.Join(parts, ""))
		return nil
	}
	b := newBuffer[bfEvent]()
	for _, e := range events {
		if skipInert && m.inert(e) {
			continue
		}
		if err := m.process(b, e, int64(e.pos)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.advance(b, 1<<40); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestSameAnswerAsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	contigs := []contiguity{strict, relaxed, nondeterministic}
	const letters = "abcd" // d: in no pattern
	cases := 3000
	if testing.Short() {
		cases = 500
	}
	nonEmpty := 0
	for c := 0; c < cases; c++ {
		steps := make([]bfStep, 1+rng.IntN(3))
		for i := range steps {
			steps[i] = bfStep{letter: letters[rng.IntN(3)], outer: contigs[rng.IntN(3)], n: 1, inner: contigs[rng.IntN(3)]}
			switch rng.IntN(5) {
			case 0:
				steps[i].n = 2 + rng.IntN(2)
			case 1:
				steps[i].loop = true
				steps[i].n = 1 + rng.IntN(2)
			}
			// optional steps, but not the only or the last (an optional last
			// step completes as soon as the step before it; the brute force
			// would need the same emission rule)
			steps[i].opt = i < len(steps)-1 && rng.IntN(4) == 0
		}
		within := 0
		if rng.IntN(3) == 0 {
			within = 2 + rng.IntN(5)
		}
		events := make([]bfEvent, 1+rng.IntN(9))
		for i := range events {
			events[i] = bfEvent{letter: letters[rng.IntN(4)], pos: i}
		}
		want := bfMatches(steps, events, within)
		if len(want) > 0 {
			nonEmpty++
		}
		got := nfaMatches(t, bfPattern(steps, within), events, false)
		if filtered := nfaMatches(t, bfPattern(steps, within), events, true); !slices.Equal(got, filtered) {
			t.Fatalf("case %d: steps %+v within %d: dropping inert events changes the matches:\n%v\n%v", c, steps, within, got, filtered)
		}
		if !slices.Equal(got, want) {
			var sb strings.Builder
			for _, e := range events {
				sb.WriteByte(e.letter)
			}
			t.Fatalf("case %d: steps %+v within %d events %s:\n got %v\nwant %v", c, steps, within, sb.String(), got, want)
		}
	}
	if nonEmpty < cases/4 {
		t.Fatalf("only %d of %d cases have matches: the generator is too sparse", nonEmpty, cases)
	}
	t.Logf("%d of %d cases with matches", nonEmpty, cases)
}

// BenchmarkMatcher measures the matching engine alone (no job, no state
// backend, no timers): the bench pattern a, b, c within 10 minutes over
// 100k keys, buffers in a Go map.
func BenchmarkMatcher(b *testing.B) {
	type event struct {
		key  uint32
		kind uint8
	}
	p := Begin[event]("a").Where(func(e event) bool { return e.kind == 0 }).
		FollowedBy("b").Where(func(e event) bool { return e.kind == 1 }).
		FollowedBy("c").Where(func(e event) bool { return e.kind == 2 }).
		Within(10 * time.Minute)
	n, err := compile(p)
	if err != nil {
		b.Fatal(err)
	}
	m := newMatcher(n)
	matches := 0
	m.emit = func(*buffer[event], partial, int64) error { matches++; return nil }
	const keys = 100_000
	bufs := make(map[uint32]*buffer[event], keys)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := event{key: uint32(i % keys), kind: uint8((i / keys) % 4)}
		buf, ok := bufs[e.key]
		if !ok {
			buf = newBuffer[event]()
			bufs[e.key] = buf
		}
		if err := m.process(buf, e, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(matches)/float64(b.N), "matches/event")
}
