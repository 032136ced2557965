package bench

import (
	"context"
	"testing"

	"github.com/weirstream/weir"
)

// BenchmarkMapFilterEngine runs scenario a's pipeline (b.N records) for
// profiling: go test -run '^$' -bench MapFilterEngine -cpuprofile ...
func BenchmarkMapFilterEngine(b *testing.B) {
	b.ReportAllocs()
	if _, err := mapFilterEngine(context.Background(), int64(b.N), weir.Options{}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFlatMapEngine is scenario a with one FlatMap doing the map and
// the filter.
func BenchmarkFlatMapEngine(b *testing.B) {
	b.ReportAllocs()
	env := weir.NewEnvironment(weir.Options{})
	src := eventStream(env, mapFilterGen, int64(b.N), weir.NoWatermarks[Event]())
	out := weir.FlatMap(src, func(e Event, c weir.Collector[scaled]) error {
		if s := scale(e); keep(s) {
			c.Collect(s)
		}
		return nil
	})
	if _, err := execute(context.Background(), env, out, scaledValue); err != nil {
		b.Fatal(err)
	}
}
