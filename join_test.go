package weir

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/graph"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/statebackend/pebble"
)

// capture is an output that records what it receives.
type capture[T any] struct {
	recs []TimestampedValue[T]
	wms  []int64
}

func (c *capture[T]) ProcessElement(v T, ts int64) error {
	c.recs = append(c.recs, TimestampedValue[T]{Value: v, TS: ts})
	return nil
}
func (c *capture[T]) ProcessWatermark(wm int64) error   { c.wms = append(c.wms, wm); return nil }
func (c *capture[T]) ProcessWatermarkStatus(bool) error { return nil }

// take returns the captured records rendered as "v@ts", sorted, and forgets
// them.
func (c *capture[T]) take() []string {
	var out []string
	for _, r := range c.recs {
		out = append(out, fmt.Sprintf("%v@%d", r.Value, r.TS))
	}
	c.recs = nil
	slices.Sort(out)
	return out
}

type joinHarness struct {
	op                *intervalJoinOp[string, string, string, string]
	ctx               *runtime.OperatorContext
	out, lateL, lateR *capture[string]
}

// newJoinHarness returns an interval join operator to drive by hand, with
// string records keyed by joinKey, a function that emits "left+right", and
// captured main and late-data outputs.
func newJoinHarness(t *testing.T, j IntervalJoined[string, string, string]) *joinHarness {
	t.Helper()
	return newJoinHarnessOn(t, j, StateHeap)
}

// newJoinHarnessOn is newJoinHarness with keyed state on the given backend.
func newJoinHarnessOn(t *testing.T, j IntervalJoined[string, string, string], backend string) *joinHarness {
	t.Helper()
	h := &joinHarness{out: &capture[string]{}, lateL: &capture[string]{}, lateR: &capture[string]{}}
	outs := newOutputs[string](graph.Outputs{
		Main: runtime.Output[string](h.out),
		Side: map[string]any{"late-left": runtime.Output[string](h.lateL), "late-right": runtime.Output[string](h.lateR)},
	})
	fn := ProcessJoinFunc[string, string, string](func(a, b string, ctx *JoinContext[string]) error {
		if ctx.Timestamp() != max(ctx.LeftTimestamp(), ctx.RightTimestamp()) {
			return fmt.Errorf("pair timestamp %d, left %d, right %d", ctx.Timestamp(), ctx.LeftTimestamp(), ctx.RightTimestamp())
		}
		ctx.Collect(a + "+" + b)
		return nil
	})
	op, err := newIntervalJoinOp(j, fn, outs)
	if err != nil {
		t.Fatal(err)
	}
	h.op = op
	h.ctx = &runtime.OperatorContext{
		Name: "IntervalJoin", Parallelism: 1, MaxParallelism: 128,
		KeyGroups:    keygroup.RangeFor(128, 1, 0),
		Time:         runtime.NewTimerQueue(clockFunc(func() int64 { return 0 })),
		Logger:       slog.New(slog.DiscardHandler),
		Metrics:      &runtime.OperatorMetrics{CurrentWatermark: runtime.MinWatermark},
		StateBackend: backend,
		StateEngine:  pebble.New(),
		StateDir:     t.TempDir(),
	}
	if err := op.Open(h.ctx); err != nil {
		t.Fatal(err)
	}
	if err := op.AfterOpen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.CloseState() })
	return h
}

// joinKey keys harness records: "a.x" has key "x"; names without a dot
// have key "k".
func joinKey(s string) string {
	if _, k, ok := strings.Cut(s, "."); ok {
		return k
	}
	return "k"
}

func joined(lower, upper time.Duration) IntervalJoined[string, string, string] {
	ks := KeyedStream[string, string]{key: joinKey}
	return IntervalJoin(ks, ks).Between(lower, upper)
}

// TestIntervalJoinScript drives the operator step by step. Script lines:
//
//	L <value> <ts> [=> <pair@ts>...]   left record and the pairs it emits
//	R <value> <ts> [=> <pair@ts>...]   right record and the pairs it emits
//	W <wm> [=> buffered <left> <right>] watermark; timestamps left buffered
//	dropped <n>                        late records dropped so far
//	late-left|late-right <v@ts>...     late records sent to side outputs
func TestIntervalJoinScript(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		join   IntervalJoined[string, string, string]
		script string
	}{{
		name: "inclusive bounds, lateness and cleanup",
		join: joined(-2*ms, 3*ms),
		script: `
L a1 10
R b1 8  => a1+b1@10
R b0 7
R b2 13 => a1+b2@13
R b3 14
L a2 11 => a2+b2@13 a2+b3@14
R b.x 12
L a.x 20
W 12 => buffered 3 3
dropped 0
L a3 12 => a3+b2@13 a3+b3@14
R b4 11
L a4 9
dropped 2
R b5 12 => a1+b5@12 a2+b5@12 a3+b5@12
W 14 => buffered 3 4
W 100 => buffered 0 0
dropped 2
`,
	}, {
		name: "a record exactly at the watermark still joins",
		join: joined(0, 2*ms),
		script: `
L a1 10
W 12 => buffered 1 0
R b1 12 => a1+b1@12
W 13 => buffered 0 0
R b2 13
`,
	}, {
		name: "exclusive bounds",
		join: joined(0, 2*ms).LowerBoundExclusive().UpperBoundExclusive(),
		script: `
L a 10
R b1 10
R b2 11 => a+b2@11
R b3 12
L a2 11 => a2+b3@12
`,
	}, {
		name: "lower bound exclusive makes an empty interval",
		join: joined(0, 0).LowerBoundExclusive(),
		script: `
L a 5
R b 5
R b2 6
`,
	}, {
		name: "upper bound exclusive",
		join: joined(-1*ms, 1*ms).UpperBoundExclusive(),
		script: `
R b 10
L a1 9
L a2 10 => a2+b@10
L a3 11 => a3+b@11
L a4 12
`,
	}, {
		name: "negative interval: right records before left ones",
		join: joined(-5*ms, -1*ms),
		script: `
L a 10
R b1 9 => a+b1@10
R b2 10
R b3 5 => a+b3@10
R b4 4
W 11 => buffered 0 2
R b5 11
L a2 12 => a2+b1@12 a2+b2@12 a2+b5@12
W 17 => buffered 0 0
`,
	}, {
		name: "late records to side outputs",
		join: joined(0, 0).SideOutputLeftLateData(NewOutputTag[string]("late-left")).SideOutputRightLateData(NewOutputTag[string]("late-right")),
		script: `
W 10
L a 9
R b 8
R c 10
L d 10 => d+c@10
late-left a@9
late-right b@8
dropped 0
`,
	}}
	for _, tc := range tests {
		for _, backend := range []string{StateHeap, StatePebble} {
			t.Run(tc.name+"/"+backend, func(t *testing.T) {
				h := newJoinHarnessOn(t, tc.join, backend)
				for n, line := range strings.Split(strings.TrimSpace(tc.script), "\n") {
					cmd, want, _ := strings.Cut(line, "=>")
					f := strings.Fields(cmd)
					wantF := strings.Fields(want)
					fail := func(format string, args ...any) {
						t.Helper()
						t.Fatalf("line %d %q: %s", n+1, line, fmt.Sprintf(format, args...))
					}
					num := func(s string) int64 {
						if s == "max" {
							return MaxWatermark
						}
						v, err := strconv.ParseInt(s, 10, 64)
						if err != nil {
							fail("bad number: %v", err)
						}
						return v
					}
					switch f[0] {
					case "L", "R":
						var err error
						if f[0] == "L" {
							err = h.op.ProcessElement1(f[1], num(f[2]))
						} else {
							err = h.op.ProcessElement2(f[1], num(f[2]))
						}
						if err != nil {
							fail("%v", err)
						}
						slices.Sort(wantF)
						if got := h.out.take(); !slices.Equal(got, wantF) {
							fail("emitted %v, want %v", got, wantF)
						}
					case "W":
						if err := h.op.ProcessWatermark(num(f[1])); err != nil {
							fail("%v", err)
						}
						if got := h.out.take(); len(got) != 0 {
							fail("watermark emitted %v", got)
						}
						if len(wantF) == 3 && wantF[0] == "buffered" {
							l, r := h.op.bufferedLen()
							if l != int(num(wantF[1])) || r != int(num(wantF[2])) {
								fail("buffered %d left, %d right timestamps; want %s %s", l, r, wantF[1], wantF[2])
							}
						}
						if last := h.out.wms; len(last) == 0 || last[len(last)-1] != num(f[1]) {
							fail("watermark not forwarded: %v", last)
						}
					case "dropped":
						if got := h.ctx.Metrics.LateRecordsDropped; got != num(f[1]) {
							fail("dropped %d", got)
						}
					case "late-left", "late-right":
						c := h.lateL
						if f[0] == "late-right" {
							c = h.lateR
						}
						if got := c.take(); !slices.Equal(got, f[1:]) {
							fail("late %v", got)
						}
					default:
						fail("unknown command")
					}
				}
			})
		}
	}
}

// joinRec is a record of the random pipeline test.
type joinRec struct {
	ID  int
	Key int
	TS  int64
}

// randomJoinSide returns records whose timestamps go forward with jitter of
// at most d+1 ms behind the highest so far: never behind the watermark of
// ForBoundedOutOfOrderness(d), sometimes exactly at it.
func randomJoinSide(r *rand.Rand, n, keys int, d int64, firstID int) []tsJoinRec {
	var out []tsJoinRec
	var base int64 = 100
	for i := range n {
		base += int64(r.IntN(3))
		ts := base - r.Int64N(d+2)
		out = append(out, tsJoinRec{Value: joinRec{ID: firstID + i, Key: r.IntN(keys), TS: ts}, TS: ts})
	}
	return out
}

type tsJoinRec = TimestampedValue[joinRec]

func TestIntervalJoinMatchesNestedLoops(t *testing.T) {
	ms := time.Millisecond
	r := rand.New(rand.NewPCG(7, 11))
	const d = 4
	left := randomJoinSide(r, 300, 5, d, 0)
	right := randomJoinSide(r, 300, 5, d, 1000)
	bounds := []struct {
		lower, upper    time.Duration
		lowExcl, upExcl bool
	}{
		{-3 * ms, 4 * ms, false, false},
		{0, 0, false, false},
		{-5 * ms, -1 * ms, true, false},
		{2 * ms, 6 * ms, false, true},
		{-4 * ms, 4 * ms, true, true},
		{0, 1 * ms, true, false},
		{-20 * ms, 20 * ms, false, false},
	}
	for _, b := range bounds {
		// Reference: every pair with the same key in the interval.
		lo, hi := b.lower.Milliseconds(), b.upper.Milliseconds()
		if b.lowExcl {
			lo++
		}
		if b.upExcl {
			hi--
		}
		var want []string
		for _, a := range left {
			for _, c := range right {
				if a.Value.Key == c.Value.Key && c.TS >= a.TS+lo && c.TS <= a.TS+hi {
					want = append(want, fmt.Sprintf("%d-%d@%d", a.Value.ID, c.Value.ID, max(a.TS, c.TS)))
				}
			}
		}
		slices.Sort(want)
		if len(want) == 0 && hi >= lo {
			t.Fatalf("bounds %+v: the reference join is empty; the test input is too sparse", b)
		}
		for _, p := range []int{1, 3} {
			env := NewEnvironment(Options{Parallelism: p, AutoWatermarkInterval: -1})
			ls := FromTimestamped(env, left, ForBoundedOutOfOrderness[joinRec](d*ms))
			rs := FromTimestamped(env, right, ForBoundedOutOfOrderness[joinRec](d*ms))
			key := func(j joinRec) int { return j.Key }
			j := IntervalJoin(KeyBy(ls, key), KeyBy(rs, key)).Between(b.lower, b.upper)
			if b.lowExcl {
				j = j.LowerBoundExclusive()
			}
			if b.upExcl {
				j = j.UpperBoundExclusive()
			}
			out := ProcessJoin(j, ProcessJoinFunc[joinRec, joinRec, string](func(a, c joinRec, ctx *JoinContext[string]) error {
				ctx.Collect(fmt.Sprintf("%d-%d", a.ID, c.ID))
				return nil
			}))
			got := Collect(out)
			if err := env.Execute(context.Background()); err != nil {
				t.Fatal(err)
			}
			var g []string
			for _, v := range got.Timestamped() {
				g = append(g, fmt.Sprintf("%s@%d", v.Value, v.TS))
			}
			slices.Sort(g)
			if !slices.Equal(g, want) {
				t.Fatalf("bounds %+v p=%d: %d pairs, want %d; missing %v, extra %v", b, p, len(g), len(want), minus(want, g), minus(g, want))
			}
		}
	}
}

func TestIntervalJoinErrors(t *testing.T) {
	ms := time.Millisecond
	id := func(n int) int { return n }
	pair := ProcessJoinFunc[int, int, int](func(a, b int, ctx *JoinContext[int]) error {
		ctx.Collect(a + b)
		return nil
	})
	tests := []struct {
		name  string
		build func(env *Environment)
		want  string
	}{{
		name: "records without timestamps",
		build: func(env *Environment) {
			a := FromSlice(env, []int{1})
			b := FromSlice(env, []int{1})
			Collect(ProcessJoin(IntervalJoin(KeyBy(a, id), KeyBy(b, id)).Between(0, ms), pair))
		},
		want: "no event timestamp",
	}, {
		name: "lower bound above upper bound",
		build: func(env *Environment) {
			a := FromTimestamped(env, []TimestampedValue[int]{{Value: 1, TS: 1}}, ForMonotonousTimestamps[int]())
			Collect(ProcessJoin(IntervalJoin(KeyBy(a, id), KeyBy(a, id)).Between(2*ms, ms), pair))
		},
		want: "lower bound 2ms exceeds upper bound 1ms",
	}, {
		name: "function error",
		build: func(env *Environment) {
			a := FromTimestamped(env, []TimestampedValue[int]{{Value: 1, TS: 1}}, ForMonotonousTimestamps[int]())
			Collect(ProcessJoin(IntervalJoin(KeyBy(a, id), KeyBy(a, id)).Between(0, 0),
				ProcessJoinFunc[int, int, int](func(int, int, *JoinContext[int]) error { return fmt.Errorf("boom") })))
		},
		want: "boom",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := NewEnvironment(Options{AutoWatermarkInterval: -1})
			tc.build(env)
			err := env.Execute(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"IntervalJoin"`) {
				t.Fatalf("Execute = %v, want an error naming IntervalJoin and containing %q", err, tc.want)
			}
		})
	}
}

// minus returns the elements of the sorted multiset a that are not in the
// sorted multiset b.
func minus(a, b []string) []string {
	var out []string
	for len(a) > 0 {
		switch {
		case len(b) == 0 || a[0] < b[0]:
			out = append(out, a[0])
			a = a[1:]
		case a[0] == b[0]:
			a, b = a[1:], b[1:]
		default:
			b = b[1:]
		}
	}
	return out
}

func TestIntervalSelfJoin(t *testing.T) {
	var vs []TimestampedValue[int]
	for i := range 6 {
		vs = append(vs, TimestampedValue[int]{Value: i, TS: int64(10 * i)})
	}
	for _, p := range []int{1, 2} {
		env := NewEnvironment(Options{Parallelism: p, AutoWatermarkInterval: -1})
		ks := KeyBy(FromTimestamped(env, vs, ForMonotonousTimestamps[int]()), func(n int) bool { return n%2 == 0 })
		out := Collect(ProcessJoin(IntervalJoin(ks, ks).Between(-20*time.Millisecond, 20*time.Millisecond),
			ProcessJoinFunc[int, int, string](func(a, b int, ctx *JoinContext[string]) error {
				ctx.Collect(fmt.Sprintf("%d-%d", a, b))
				return nil
			})))
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, a := range vs {
			for _, b := range vs {
				if a.Value%2 == b.Value%2 && b.TS >= a.TS-20 && b.TS <= a.TS+20 {
					want = append(want, fmt.Sprintf("%d-%d@%d", a.Value, b.Value, max(a.TS, b.TS)))
				}
			}
		}
		slices.Sort(want)
		var got []string
		for _, v := range out.Timestamped() {
			got = append(got, fmt.Sprintf("%s@%d", v.Value, v.TS))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("p=%d: %v, want %v", p, got, want)
		}
	}
}
