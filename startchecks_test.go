package weir_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// A keyed function without OnTimer fails the job when it registers a timer,
// naming the operator: not when the timer fires, which for this
// processing-time timer an hour ahead would be never in this test.
func TestTimerWithoutOnTimerFailsAtRegistration(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(in weir.Stream[int]) weir.Stream[int]
	}{
		{"keyed process", func(in weir.Stream[int]) weir.Stream[int] {
			return weir.ProcessKeyed(weir.KeyBy(in, func(n int) int { return n }),
				weir.KeyedProcessFunc[int, int, int](func(ctx *weir.KeyedContext[int, int], _ int) error {
					ctx.RegisterProcessingTimeTimer(ctx.CurrentProcessingTime() + 3_600_000)
					return nil
				})).Name("remind")
		}},
		{"keyed co-process", func(in weir.Stream[int]) weir.Stream[int] {
			id := func(n int) int { return n }
			return weir.CoProcessKeyed[int, int, int, int](weir.ConnectKeyed(weir.KeyBy(in, id), weir.KeyBy(in.Filter(func(int) bool { return false }), id)), laterTimer{}).Name("remind")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := weirtest.New(weir.Options{Parallelism: 1})
			in := weirtest.NewInput[int](h)
			weirtest.Capture(h, tc.build(in.Stream()))
			h.Start(t)
			err := in.Push(1, 1)
			if err == nil || !strings.Contains(err.Error(), `operator "remind"`) || !strings.Contains(err.Error(), "registers a timer but does not implement OnTimer") {
				t.Fatalf("Push = %v, want the registration to fail naming the operator", err)
			}
		})
	}
}

type laterTimer struct{}

func (laterTimer) ProcessElement1(ctx *weir.KeyedContext[int, int], _ int) error {
	ctx.RegisterProcessingTimeTimer(ctx.CurrentProcessingTime() + 3_600_000)
	return nil
}
func (laterTimer) ProcessElement2(*weir.KeyedContext[int, int], int) error { return nil }

// chanState keeps a state whose value type no codec can encode.
type chanState struct {
	st state.Value[chan int]
}

func (f *chanState) Open(ctx *weir.KeyedRuntimeContext[int]) error {
	f.st = state.GetValue[int, chan int](ctx.State(), state.Descriptor{Name: "pipes"})
	return nil
}

func (f *chanState) ProcessElement(ctx *weir.KeyedContext[int, int], v int) error {
	f.st.Update(make(chan int))
	ctx.Collect(v)
	return nil
}

// With checkpointing on, a state whose type cannot be encoded fails the job
// when it starts, naming the operator and the state, on either backend (the
// heap backend failed only at the first checkpoint). Without checkpointing
// the heap never encodes and the job runs.
func TestUnencodableStateFailsAtStart(t *testing.T) {
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		t.Run(backend, func(t *testing.T) {
			opts := weir.Options{StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
				Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			env := weir.NewEnvironment(opts)
			// A source that stays open after its records: no final
			// checkpoint; the sink stops the job once they went through.
			src := weir.FromSource[int](env, quietSource{1, 2}, weir.NoWatermarks[int](), "quiet")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var seen atomic.Int64
			weir.ProcessKeyed[int, int, int](weir.KeyBy(src, func(n int) int { return n }), &chanState{}).Name("pipes").
				SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error {
					if seen.Add(1) == 2 {
						cancel()
					}
					return nil
				}))
			err := env.Execute(ctx)
			if err == nil || !strings.Contains(err.Error(), `operator "pipes"`) || !strings.Contains(err.Error(), `state "pipes"`) || !strings.Contains(err.Error(), "chan") {
				t.Fatalf("Execute = %v, want an error naming the operator, the state and its type", err)
			}
		})
	}
	env := weir.NewEnvironment(weir.Options{})
	src := weir.FromSlice(env, []int{1, 2})
	out := weir.Collect(weir.ProcessKeyed[int, int, int](weir.KeyBy(src, func(n int) int { return n }), &chanState{}))
	if err := env.Execute(context.Background()); err != nil || len(out.Values()) != 2 {
		t.Fatalf("without checkpoints: Execute = %v, %v records, want nil, 2", err, len(out.Values()))
	}
}

// Operator settings called on a side output used to change the operator
// that emits it (its SetParallelism set the parallelism of the main
// stream's operator). They now leave the operator alone and fail the job,
// naming the method, the side output and the operator.
func TestSideOutputSettingsFailJob(t *testing.T) {
	odd := weir.NewOutputTag[int]("odd")
	for _, tc := range []struct {
		method string
		call   func(weir.Stream[int]) weir.Stream[int]
	}{
		{"SetParallelism", func(s weir.Stream[int]) weir.Stream[int] { return s.SetParallelism(2) }},
		{"Name", func(s weir.Stream[int]) weir.Stream[int] { return s.Name("odds") }},
		{"UID", func(s weir.Stream[int]) weir.Stream[int] { return s.UID("odds") }},
		{"DisableChaining", func(s weir.Stream[int]) weir.Stream[int] { return s.DisableChaining() }},
	} {
		t.Run(tc.method, func(t *testing.T) {
			build := func(call func(weir.Stream[int]) weir.Stream[int]) *weir.Environment {
				env := weir.NewEnvironment(weir.Options{})
				src := weir.FromSlice(env, []int{1, 2, 3})
				split := weir.Process(src, weir.ProcessFunc[int, int](func(ctx *weir.Context[int], n int) error {
					if n%2 == 1 {
						weir.Output(ctx, odd, n)
						return nil
					}
					ctx.Collect(n)
					return nil
				})).Name("split")
				weir.Collect(split)
				weir.Collect(call(weir.SideOutput(split, odd)))
				return env
			}
			env := build(tc.call)
			want := build(func(s weir.Stream[int]) weir.Stream[int] { return s }).Explain()
			if got := env.Explain(); got != want {
				t.Errorf("the side output's %s changed the plan:\n%s\nwant:\n%s", tc.method, got, want)
			}
			err := env.Execute(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.method+` on side output "odd" of operator "split"`) {
				t.Fatalf("Execute = %v, want the %s error", err, tc.method)
			}
		})
	}
}

// forward emits every record of the non-broadcast input.
type forward struct{}

func (forward) ProcessElement(ctx *weir.BroadcastReadOnlyContext[int], v int) error {
	ctx.Collect(v)
	return nil
}
func (forward) ProcessBroadcastElement(*weir.BroadcastContext[int], int) error { return nil }

// Broadcast state too: with checkpointing on, a map whose value type cannot
// be encoded fails the job when it starts (it failed at the first
// checkpoint).
func TestUnencodableBroadcastStateFailsAtStart(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rules := weir.Broadcast(weir.FromSource[int](env, quietSource{1}, weir.NoWatermarks[int](), "rules"),
		weir.NewMapStateDescriptor[string, func()]("handlers"))
	in := weir.FromSource[int](env, quietSource{1}, weir.NoWatermarks[int](), "in")
	weir.ProcessBroadcast[int, int, int](weir.ConnectBroadcastNonKeyed(in, rules), forward{}).
		SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { cancel(); return nil }))
	err := env.Execute(ctx)
	if err == nil || !strings.Contains(err.Error(), `operator "BroadcastProcess"`) || !strings.Contains(err.Error(), `broadcast state "handlers" cannot be checkpointed`) {
		t.Fatalf("Execute = %v, want the broadcast state's codec error naming the operator", err)
	}
}
