package weir_test

import (
	"strings"
	"testing"

	"github.com/weirstream/weir"
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
