package bench

import (
	"context"

	"github.com/weirstream/weir"
)

// Scenario a: generator → map → filter → discard (sum of values).

var mapFilterGen = genConfig{keys: 1 << 20, eventsPerMs: 1000}

// scaled is the map step's output.
type scaled struct {
	Key   uint64
	Value int64
}

func scale(e Event) scaled       { return scaled{Key: e.Key, Value: e.Value*3 + 1} }
func keep(s scaled) bool         { return s.Value%4 != 0 }
func scaledValue(s scaled) int64 { return s.Value }

func mapFilterEngine(ctx context.Context, n int64, opts weir.Options) (Checksum, error) {
	env := weir.NewEnvironment(opts)
	src := eventStream(env, mapFilterGen, n, weir.NoWatermarks[Event]())
	out := weir.Map(src, scale).Filter(keep)
	return execute(ctx, env, out, scaledValue)
}

func mapFilterLoop(n int64) Checksum {
	var c Checksum
	for i := int64(0); i < n; i++ {
		s := scale(mapFilterGen.event(i))
		if keep(s) {
			c.Records++
			c.Sum += s.Value
		}
	}
	return c
}
