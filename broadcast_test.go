package weir_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

// gatedSource emits its values once gate is closed. Tests use it to order
// the two inputs of an operator, which the runtime does not: the test closes
// the gate when the operator has seen all of the other input.
type gatedSource[T any] struct {
	gate   <-chan struct{}
	values []T
}

func (g gatedSource[T]) CreateReader(weir.SourceContext) (weir.SourceReader[T], error) {
	return &gatedReader[T]{g: g}, nil
}

type gatedReader[T any] struct{ g gatedSource[T] }

func (r *gatedReader[T]) Poll(_ context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	select {
	case <-r.g.gate:
	default:
		return weir.NothingAvailable, nil
	}
	for _, v := range r.g.values {
		out.Collect(v)
	}
	return weir.EndOfInput, nil
}

func (r *gatedReader[T]) Available() <-chan struct{} { return r.g.gate }
func (r *gatedReader[T]) Close() error               { return nil }

// gatedContext bounds a test whose gate might never open: a broken
// operator fails the test instead of hanging it.
func gatedContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func fromGated[T any](env *weir.Environment, gate <-chan struct{}, values []T) weir.Stream[T] {
	return weir.FromSource[T](env, gatedSource[T]{gate: gate, values: values}, weir.NoWatermarks[T](), "gated").SetParallelism(1)
}

// latch closes a channel once a shared counter reaches n.
type latch struct {
	n    int64
	seen atomic.Int64
	once sync.Once
	ch   chan struct{}
}

func newLatch(n int64) *latch { return &latch{n: n, ch: make(chan struct{})} }

func (l *latch) add() {
	if l.seen.Add(1) == l.n {
		l.once.Do(func() { close(l.ch) })
	}
}

type reading struct {
	Sensor string
	V      int
	TS     int64
}

type limitRule struct {
	Sensor string
	Limit  int
	TS     int64
}

// version identifies a limit: the sensor and the event time it takes effect.
type version struct {
	Sensor string
	From   int64
}

type alert struct {
	Sensor   string
	V, Limit int
}

// limitAt returns the limit of sensor at event time ts: the rule with the
// latest time at or before ts, or the "*" rule if the sensor has none.
func limitAt(rules weir.ReadOnlyBroadcastState[version, int], sensor string, ts int64) (int, bool) {
	best := map[string]int64{}
	limit := map[string]int{}
	for v, l := range rules.All() {
		if v.From > ts || (v.Sensor != sensor && v.Sensor != "*") {
			continue
		}
		if from, ok := best[v.Sensor]; !ok || v.From > from {
			best[v.Sensor], limit[v.Sensor] = v.From, l
		}
	}
	if l, ok := limit[sensor]; ok {
		return l, true
	}
	l, ok := limit["*"]
	return l, ok
}

// alerting judges each reading by the limit in effect at its event time.
// Rules are versioned by time in broadcast state; readings wait in keyed
// state until the watermark passes them, when every rule up to their time
// has arrived: the answer does not depend on how the inputs interleave.
type alerting struct {
	limits  weir.MapStateDescriptor[version, int]
	pending state.Map[int64, []int]
}

func (a *alerting) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	a.pending = state.GetMap[string, int64, []int](ctx.State(), state.Descriptor{Name: "pending"})
	return nil
}

func (a *alerting) ProcessElement(ctx *weir.KeyedReadOnlyContext[string, alert], r reading) error {
	vs, _ := a.pending.Get(ctx.Timestamp())
	a.pending.Put(ctx.Timestamp(), append(vs, r.V))
	ctx.RegisterEventTimeTimer(ctx.Timestamp())
	return nil
}

func (a *alerting) OnTimer(ctx *weir.KeyedReadOnlyContext[string, alert], ts int64) error {
	if ctx.CurrentWatermark() < ts {
		return fmt.Errorf("timer %d fired at watermark %d", ts, ctx.CurrentWatermark())
	}
	vs, _ := a.pending.Get(ts)
	a.pending.Remove(ts)
	limit, ok := limitAt(weir.GetReadOnlyBroadcastState(ctx, a.limits), ctx.Key(), ts)
	if !ok {
		return nil
	}
	for _, v := range vs {
		if v > limit {
			ctx.Collect(alert{Sensor: ctx.Key(), V: v, Limit: limit})
		}
	}
	return nil
}

func (a *alerting) ProcessBroadcastElement(ctx *weir.KeyedBroadcastContext[string, alert], r limitRule) error {
	weir.GetBroadcastState(ctx, a.limits).Put(version{r.Sensor, ctx.Timestamp()}, r.Limit)
	return nil
}

func TestKeyedBroadcastRulesInEventTime(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var readings []reading
	for i := range 600 {
		readings = append(readings, reading{Sensor: fmt.Sprint("s", r.IntN(6)), V: r.IntN(100), TS: int64(i / 2)})
	}
	rules := []limitRule{
		{"*", 90, 0},
		{"s1", 50, 20},
		{"*", 70, 60},
		{"s1", 95, 100},
		{"s2", 10, 101},
		{"s2", 80, 150},
		{"*", 30, 250},
		{"s3", 99, 250},
	}
	// Reference: every reading against the rule in effect at its time.
	var want []string
	for _, rd := range readings {
		limit, found := -1, false
		var from, fromAll int64 = -1, -1
		starLimit := -1
		for _, rule := range rules {
			if rule.TS > rd.TS {
				continue
			}
			if rule.Sensor == rd.Sensor && rule.TS >= from {
				from, limit, found = rule.TS, rule.Limit, true
			}
			if rule.Sensor == "*" && rule.TS >= fromAll {
				fromAll, starLimit = rule.TS, rule.Limit
			}
		}
		if !found {
			limit = starLimit
		}
		if rd.V > limit {
			want = append(want, fmt.Sprintf("%v@%d", alert{rd.Sensor, rd.V, limit}, rd.TS))
		}
	}
	slices.Sort(want)
	for _, p := range []int{1, 3} {
		env := weir.NewEnvironment(exact(p))
		rs := weir.FromTimestamped(env, timestamped(readings, func(r reading) int64 { return r.TS }), weir.ForBoundedOutOfOrderness[reading](0))
		ls := weir.FromTimestamped(env, timestamped(rules, func(r limitRule) int64 { return r.TS }), weir.ForBoundedOutOfOrderness[limitRule](0))
		limits := weir.NewMapStateDescriptor[version, int]("limits")
		c := weir.ConnectBroadcast(weir.KeyBy(rs, func(r reading) string { return r.Sensor }), weir.Broadcast(ls, limits))
		got := weir.Collect(weir.ProcessKeyedBroadcast[string, reading, limitRule, alert](c, &alerting{limits: limits}))
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		if g := sorted(got); !slices.Equal(g, want) {
			t.Fatalf("p=%d: %d alerts, want %d\n got %v\nwant %v", p, len(g), len(want), g, want)
		}
	}
}

// summer keeps a sum per key; broadcast commands act on the sums of all
// keys through ApplyToKeyedState.
type summer struct {
	seen *latch
	sum  state.Value[int]
}

func (s *summer) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	s.sum = state.GetValue[string, int](ctx.State(), state.Descriptor{Name: "sum"})
	return nil
}

func (s *summer) ProcessElement(ctx *weir.KeyedReadOnlyContext[string, string], in string) error {
	_, v, _ := strings.Cut(in, "=")
	n := len(v)
	cur, _ := s.sum.Value()
	s.sum.Update(cur + n)
	s.seen.add()
	return nil
}

func (s *summer) ProcessBroadcastElement(ctx *weir.KeyedBroadcastContext[string, string], cmd string) error {
	switch cmd {
	case "double":
		return weir.ApplyToKeyedState(ctx, s.sum, func(_ string, st state.Value[int]) error {
			v, _ := st.Value()
			st.Update(2 * v)
			return nil
		})
	case "flush":
		return weir.ApplyToKeyedState(ctx, s.sum, func(k string, st state.Value[int]) error {
			v, ok := st.Value()
			if !ok {
				return fmt.Errorf("key %s visited without state", k)
			}
			ctx.Collect(fmt.Sprintf("%s=%d", k, v))
			st.Clear()
			return nil
		})
	case "not-state":
		return weir.ApplyToKeyedState(ctx, 42, func(string, int) error { return nil })
	case "fail":
		return weir.ApplyToKeyedState(ctx, s.sum, func(string, state.Value[int]) error { return fmt.Errorf("failing on purpose") })
	}
	return fmt.Errorf("unknown command %q", cmd)
}

func runSummer(t *testing.T, p int, records, cmds []string) ([]string, error) {
	t.Helper()
	env := weir.NewEnvironment(weir.Options{Parallelism: p})
	seen := newLatch(int64(len(records)))
	data := weir.FromSlice(env, records)
	control := weir.Broadcast(fromGated(env, seen.ch, cmds))
	keyed := weir.KeyBy(data, func(s string) string { k, _, _ := strings.Cut(s, "="); return k })
	got := weir.Collect(weir.ProcessKeyedBroadcast[string, string, string, string](weir.ConnectBroadcast(keyed, control), &summer{seen: seen}))
	err := env.Execute(gatedContext(t))
	v := got.Values()
	slices.Sort(v)
	return v, err
}

func TestKeyedBroadcastApplyToKeyedState(t *testing.T) {
	var records []string
	sums := map[string]int{}
	for i := range 500 {
		k := fmt.Sprint("k", i%13)
		v := strings.Repeat("x", i%5)
		records = append(records, k+"="+v)
		sums[k] += len(v)
	}
	var want []string
	for k, v := range sums {
		want = append(want, fmt.Sprintf("%s=%d", k, 2*v))
	}
	slices.Sort(want)
	for _, p := range []int{1, 3} {
		// The second flush finds no state: the first cleared it.
		got, err := runSummer(t, p, records, []string{"double", "flush", "flush"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("p=%d: %v, want %v", p, got, want)
		}
	}
	for cmd, want := range map[string]string{"fail": "failing on purpose", "not-state": "int is not a keyed state"} {
		_, err := runSummer(t, 2, records, []string{cmd})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `"KeyedBroadcastProcess"`) {
			t.Fatalf("%s: Execute = %v, want an error naming the operator and containing %q", cmd, err, want)
		}
	}
}

// blocker drops the words that the broadcast side blocked.
type blocker struct {
	blocked weir.MapStateDescriptor[string, bool]
	applied *latch
}

func (b *blocker) ProcessElement(ctx *weir.BroadcastReadOnlyContext[string], w string) error {
	if blocked, _ := weir.GetReadOnlyBroadcastState(ctx, b.blocked).Get(w); !blocked {
		ctx.Collect(w)
	}
	return nil
}

func (b *blocker) ProcessBroadcastElement(ctx *weir.BroadcastContext[string], w string) error {
	st := weir.GetBroadcastState(ctx, b.blocked)
	if strings.HasPrefix(w, "-") {
		st.Remove(w[1:])
	} else {
		st.Put(w, true)
	}
	b.applied.add()
	return nil
}

func TestBroadcastNonKeyed(t *testing.T) {
	words := strings.Fields("a b c d a b e f a g")
	rules := []string{"a", "c", "g", "-c"}
	want := strings.Fields("b d b e f c")
	slices.Sort(want)
	for _, p := range []int{1, 3} {
		env := weir.NewEnvironment(weir.Options{Parallelism: p})
		// The words wait until every subtask applied every rule.
		applied := newLatch(int64(p * len(rules)))
		blocked := weir.NewMapStateDescriptor[string, bool]("blocked")
		ruleStream := weir.Broadcast(weir.FromSlice(env, rules), blocked)
		wordStream := fromGated(env, applied.ch, words)
		out := weir.ProcessBroadcast[string, string, string](weir.ConnectBroadcastNonKeyed(wordStream, ruleStream), &blocker{blocked: blocked, applied: applied})
		got := weir.Collect(out)
		if err := env.Execute(gatedContext(t)); err != nil {
			t.Fatal(err)
		}
		v := got.Values()
		slices.Sort(v)
		if !slices.Equal(v, want) {
			t.Fatalf("p=%d: %v, want %v", p, v, want)
		}
	}
}

// misuse reads broadcast state it should not.
type misuse struct {
	read func(ctx *weir.BroadcastReadOnlyContext[int])
}

func (m *misuse) ProcessElement(ctx *weir.BroadcastReadOnlyContext[int], _ int) error {
	m.read(ctx)
	return nil
}

func (m *misuse) ProcessBroadcastElement(*weir.BroadcastContext[int], int) error { return nil }

func TestBroadcastStateMisuse(t *testing.T) {
	declared := weir.NewMapStateDescriptor[string, int]("rules")
	tests := []struct {
		name  string
		descs []weir.BroadcastStateDescriptor
		read  func(ctx *weir.BroadcastReadOnlyContext[int])
		want  string
	}{{
		name:  "undeclared",
		descs: []weir.BroadcastStateDescriptor{declared},
		read: func(ctx *weir.BroadcastReadOnlyContext[int]) {
			weir.GetReadOnlyBroadcastState(ctx, weir.NewMapStateDescriptor[string, int]("other"))
		},
		want: `broadcast state "other" was not declared`,
	}, {
		name:  "other types",
		descs: []weir.BroadcastStateDescriptor{declared},
		read: func(ctx *weir.BroadcastReadOnlyContext[int]) {
			weir.GetReadOnlyBroadcastState(ctx, weir.NewMapStateDescriptor[string, string]("rules"))
		},
		want: `broadcast state "rules" is a map from string to int, requested as a map from string to string`,
	}, {
		name:  "declared twice",
		descs: []weir.BroadcastStateDescriptor{declared, declared},
		read:  func(*weir.BroadcastReadOnlyContext[int]) {},
		want:  `broadcast state "rules" declared twice`,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := weir.NewEnvironment(weir.Options{})
			b := weir.Broadcast(weir.FromSlice(env, []int{1}), tc.descs...)
			weir.Collect(weir.ProcessBroadcast[int, int, int](weir.ConnectBroadcastNonKeyed(weir.FromSlice(env, []int{1}), b), &misuse{read: tc.read}))
			err := env.Execute(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"BroadcastProcess"`) {
				t.Fatalf("Execute = %v, want an error naming BroadcastProcess and containing %q", err, tc.want)
			}
		})
	}
}
