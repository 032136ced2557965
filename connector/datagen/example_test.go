package datagen_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
	"github.com/weirstream/weir/connector/print"
)

type reading struct {
	Sensor int
	Temp   float64
}

// Generate five sensor readings, one every second of event time, with
// per-subtask deterministic randomness.
func ExampleNewFactory() {
	env := weir.NewEnvironment(weir.Options{})
	src := datagen.NewFactory(func(subtask int, r *rand.Rand) func(int64) reading {
		return func(seq int64) reading { return reading{Sensor: int(seq % 2), Temp: float64(15 + r.IntN(10))} }
	}, datagen.Options{
		Count:     5,
		Seed:      1,
		Timestamp: func(seq int64) int64 { return seq * 1000 },
	})
	s := weir.FromSource(env, src, weir.ForMonotonousTimestamps[reading](), "sensors")
	s.SinkTo(print.New[reading](os.Stdout).WithFormat(func(r reading) string { return fmt.Sprintf("sensor %d", r.Sensor) }))
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// sensor 0
	// sensor 1
	// sensor 0
	// sensor 1
	// sensor 0
}
