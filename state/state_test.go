package state_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/weirtest"
)

// op is one state operation applied to key K, described as text so that a
// table reads like a script: "list add 3", "map put a 1", "reduce add 2" ...
type op struct {
	Key string
	Cmd string
}

// kinds applies every op to one state of each kind and reports what reads
// return.
type kinds struct {
	ttl  state.TTL
	list state.List[int]
	m    state.Map[string, int]
	red  state.Reducing[int]
	agg  state.Aggregating[int, string]
}

type avg struct{}

func (avg) CreateAccumulator() [2]int           { return [2]int{} }
func (avg) Add(a [2]int, v int) ([2]int, error) { return [2]int{a[0] + v, a[1] + 1}, nil }
func (avg) Result(a [2]int) (string, error)     { return fmt.Sprintf("%d/%d", a[0], a[1]), nil }
func (avg) Merge(a, b [2]int) ([2]int, error)   { return [2]int{a[0] + b[0], a[1] + b[1]}, nil }
func sum(a, b int) (int, error)                 { return a + b, nil }
func keyOf(o op) string                         { return o.Key }
func (k *kinds) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	d := func(name string) state.Descriptor { return state.Descriptor{Name: name, TTL: k.ttl} }
	k.list = state.GetList[string, int](ctx.State(), d("list"))
	k.m = state.GetMap[string, string, int](ctx.State(), d("map"))
	k.red = state.GetReducing[string, int](ctx.State(), d("reduce"), sum)
	k.agg = state.GetAggregating[string, int, [2]int, string](ctx.State(), d("agg"), avg{})
	return nil
}

func (k *kinds) ProcessElement(ctx *weir.KeyedContext[string, string], o op) error {
	f := strings.Fields(o.Cmd)
	num := func(i int) int {
		var n int
		fmt.Sscan(f[i], &n)
		return n
	}
	switch f[0] + " " + f[1] {
	case "list add":
		k.list.Add(num(2))
	case "list get":
		ctx.Collect(fmt.Sprint(k.list.Get()))
	case "list update":
		var vs []int
		for i := 2; i < len(f); i++ {
			vs = append(vs, num(i))
		}
		k.list.Update(vs)
	case "list clear":
		k.list.Clear()
	case "map put":
		k.m.Put(f[2], num(3))
	case "map remove":
		k.m.Remove(f[2])
	case "map get":
		v, ok := k.m.Get(f[2])
		ctx.Collect(fmt.Sprint(v, ok))
	case "map all":
		var es []string
		for kk, v := range k.m.All() {
			es = append(es, fmt.Sprintf("%s=%d", kk, v))
		}
		slices.Sort(es)
		ctx.Collect(fmt.Sprint(es, k.m.IsEmpty()))
	case "reduce add":
		return k.red.Add(num(2))
	case "reduce get":
		v, ok := k.red.Get()
		ctx.Collect(fmt.Sprint(v, ok))
	case "agg add":
		return k.agg.Add(num(2))
	case "agg get":
		v, ok, err := k.agg.Get()
		ctx.Collect(fmt.Sprintf("%s %v %v", v, ok, err))
	case "agg clear":
		k.agg.Clear()
	default:
		return fmt.Errorf("unknown command %q", o.Cmd)
	}
	return nil
}

func run(t *testing.T, ttl state.TTL, p int, script []struct {
	at int64
	op op
}) []string {
	t.Helper()
	h := weirtest.New(weir.Options{Parallelism: p})
	in := weirtest.NewInput[op](h)
	out := weirtest.Capture(h, weir.ProcessKeyed[string, op, string](weir.KeyBy(in.Stream(), keyOf), &kinds{ttl: ttl}))
	h.Start(t)
	for _, s := range script {
		if err := h.SetProcessingTime(s.at); err != nil {
			t.Fatal(err)
		}
		if err := in.Push(s.op, weir.NoTimestamp); err != nil {
			t.Fatal(err)
		}
	}
	return out.Values()
}

type step = struct {
	at int64
	op op
}

func TestStateKinds(t *testing.T) {
	script := []step{
		{0, op{"a", "list add 1"}}, {0, op{"a", "list add 2"}}, {0, op{"b", "list add 9"}},
		{0, op{"a", "list get"}}, {0, op{"b", "list get"}}, {0, op{"c", "list get"}},
		{0, op{"a", "list update 7 8"}}, {0, op{"a", "list get"}},
		{0, op{"a", "list clear"}}, {0, op{"a", "list get"}},
		{0, op{"a", "map put x 1"}}, {0, op{"a", "map put y 2"}}, {0, op{"b", "map put x 5"}},
		{0, op{"a", "map get x"}}, {0, op{"a", "map get z"}}, {0, op{"a", "map all"}},
		{0, op{"a", "map remove x"}}, {0, op{"a", "map all"}}, {0, op{"a", "map remove y"}}, {0, op{"a", "map all"}},
		{0, op{"b", "map all"}},
		{0, op{"a", "reduce get"}}, {0, op{"a", "reduce add 3"}}, {0, op{"a", "reduce add 4"}}, {0, op{"a", "reduce get"}},
		{0, op{"a", "agg get"}}, {0, op{"a", "agg add 3"}}, {0, op{"a", "agg add 5"}}, {0, op{"a", "agg get"}},
		{0, op{"b", "agg add 1"}}, {0, op{"b", "agg get"}}, {0, op{"a", "agg clear"}}, {0, op{"a", "agg get"}},
	}
	want := []string{
		"[1 2]", "[9]", "[]", "[7 8]", "[]",
		"1 true", "0 false", "[x=1 y=2] false", "[y=2] false", "[] true", "[x=5] false",
		"0 false", "7 true",
		" false <nil>", "8/2 true <nil>", "1/1 true <nil>", " false <nil>",
	}
	for _, p := range []int{1, 3} {
		if diff := cmp.Diff(want, run(t, state.TTL{}, p, script)); diff != "" {
			t.Fatalf("p=%d (-want +got):\n%s", p, diff)
		}
	}
}

func TestStateKindsTTL(t *testing.T) {
	ttl := state.TTL{TTL: time.Second}
	script := []step{
		{0, op{"a", "list add 1"}}, {600, op{"a", "list add 2"}},
		{999, op{"a", "list get"}}, {1000, op{"a", "list get"}}, {1600, op{"a", "list get"}},
		{2000, op{"a", "map put x 1"}}, {2500, op{"a", "map put y 2"}},
		{2999, op{"a", "map all"}}, {3000, op{"a", "map get x"}}, {3000, op{"a", "map all"}}, {3500, op{"a", "map all"}},
		{4000, op{"a", "reduce add 3"}}, {4500, op{"a", "reduce add 4"}}, {5499, op{"a", "reduce get"}}, {5500, op{"a", "reduce get"}},
		{6000, op{"a", "agg add 2"}}, {6999, op{"a", "agg get"}}, {7000, op{"a", "agg get"}},
	}
	want := []string{
		"[1 2]", "[2]", "[]",
		"[x=1 y=2] false", "0 false", "[y=2] false", "[] true",
		"7 true", "0 false",
		"2/1 true <nil>", " false <nil>",
	}
	if diff := cmp.Diff(want, run(t, ttl, 1, script)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}
