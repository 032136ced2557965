package cep_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/cep"
	"github.com/weirstream/weir/weirtest"
)

func abc() *cep.Seq[ev] {
	return cep.Begin[ev]("a").Where(is("a")).FollowedBy("b").Where(is("b")).FollowedBy("c").Where(is("c"))
}

// Keys spread over two CEP subtasks are matched independently, each subtask
// with its own matcher and state.
func TestParallelKeys(t *testing.T) {
	h := weirtest.New(weir.Options{Parallelism: 2})
	in := weirtest.NewInput[ev](h)
	ps := cep.Pattern(weir.KeyBy(in.Stream(), func(e ev) string { return e.Key }), abc())
	out := weirtest.Capture(h, cep.Select(ps, func(k string, m map[string][]ev) (string, error) {
		return k + ":" + m["a"][0].ID + m["b"][0].ID + m["c"][0].ID, nil
	}))
	h.Start(t)
	var want []string
	for round := 0; round < 3; round++ {
		for k := 0; k < 20; k++ {
			key := fmt.Sprintf("k%d", k)
			for i, name := range []string{"a", "x", "b", "c"} {
				id := fmt.Sprintf("%s%d", name, round)
				if err := in.Push(ev{Key: key, ID: id, Name: name}, int64(round*100+k*4+i)); err != nil {
					t.Fatal(err)
				}
			}
			want = append(want, fmt.Sprintf("%s:a%db%dc%d", key, round, round, round))
		}
	}
	if err := in.End(); err != nil {
		t.Fatal(err)
	}
	got := out.Values()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("got %d matches %q\nwant %d %q", len(got), got, len(want), want)
	}
}

func TestFlatSelect(t *testing.T) {
	h := weirtest.New(weir.Options{Parallelism: 1})
	in := weirtest.NewInput[ev](h)
	p := cep.Begin[ev]("a").Where(is("a")).FollowedBy("b").Where(is("b")).OneOrMore()
	ps := cep.Pattern(weir.KeyBy(in.Stream(), func(e ev) string { return e.Key }), p)
	out := weirtest.Capture(h, cep.FlatSelect(ps, func(_ string, m map[string][]ev, emit func(string)) error {
		for _, b := range m["b"] {
			emit(m["a"][0].ID + "-" + b.ID)
		}
		return nil
	}))
	h.Start(t)
	for i, id := range []string{"a1", "b1", "b2"} {
		e, _, _ := parseEvent(id, i)
		if err := in.Push(e, int64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Watermark(10); err != nil {
		t.Fatal(err)
	}
	recs := out.Records()
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s@%d", r.Value, r.TS))
	}
	// {a1 b1} completes at b1 (ts 2), {a1 b1 b2} at b2 (ts 3): records carry
	// the completing event's timestamp.
	want := []string{"a1-b1@2", "a1-b1@3", "a1-b2@3"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestSelectErrorFailsJob(t *testing.T) {
	h := weirtest.New(weir.Options{Parallelism: 1})
	in := weirtest.NewInput[ev](h)
	ps := cep.Pattern(weir.KeyBy(in.Stream(), func(e ev) string { return e.Key }), cep.Begin[ev]("a").Where(is("a")))
	weirtest.Capture(h, cep.Select(ps, func(string, map[string][]ev) (int, error) { return 0, errors.New("select broke") }))
	h.Start(t)
	if err := in.Push(ev{Name: "a"}, 1); err != nil {
		t.Fatal(err) // buffered until the watermark
	}
	err := in.Watermark(5)
	if err == nil || !strings.Contains(err.Error(), "select broke") {
		t.Fatalf("got %v, want the select error", err)
	}
}

// An idle key's partial match times out when the watermark passes its
// deadline, without further events for the key.
func TestTimeoutWithoutFurtherEvents(t *testing.T) {
	h := weirtest.New(weir.Options{Parallelism: 1})
	in := weirtest.NewInput[ev](h)
	tag := weir.NewOutputTag[cep.TimedOut[string, ev]]("t")
	ps := cep.Pattern(weir.KeyBy(in.Stream(), func(e ev) string { return e.Key }), abc().Within(100*time.Millisecond)).SideOutputTimeouts(tag)
	sel := cep.Select(ps, func(string, map[string][]ev) (string, error) { return "", nil })
	timeouts := weirtest.Capture(h, weir.SideOutput(sel, tag))
	h.Start(t)
	for _, e := range []struct {
		id string
		ts int64
	}{{"a1", 10}, {"b1", 20}} {
		ev, _, _ := parseEvent(e.id, 0)
		if err := in.Push(ev, e.ts); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Watermark(109); err != nil {
		t.Fatal(err)
	}
	if n := len(timeouts.Values()); n != 0 {
		t.Fatalf("%d timeouts before the deadline", n)
	}
	if err := in.Watermark(110); err != nil {
		t.Fatal(err)
	}
	got := timeouts.Records()
	if len(got) != 1 || got[0].Value.At != 110 || got[0].TS != 110 || len(got[0].Value.Events["a"]) != 1 || len(got[0].Value.Events["b"]) != 1 {
		t.Fatalf("timeouts = %+v, want one at 110 with a1 and b1", got)
	}
}

// Two patterns in one job get distinct default names, so plans, errors and
// metrics tell them apart; a name given with Name is kept.
func TestPatternsGetDistinctDefaultNames(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{})
	ks := weir.KeyBy(weir.FromSlice(env, []ev{{Key: "k", Name: "a"}}), func(e ev) string { return e.Key })
	sel := func(string, map[string][]ev) (int, error) { return 0, nil }
	p := cep.Begin[ev]("a").Where(is("a"))
	for range 2 {
		weir.Collect(cep.Select(cep.Pattern(ks, p).InProcessingTime(), sel).DisableChaining())
	}
	weir.Collect(cep.Select(cep.Pattern(ks, p).InProcessingTime(), sel).Name("mine").DisableChaining())
	plan := env.Explain()
	for _, want := range []string{"\nCEP -> Collect ", "\nCEP-2 -> Collect-2 ", "\nmine -> Collect-3 "} {
		if !strings.Contains("\n"+plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
}
