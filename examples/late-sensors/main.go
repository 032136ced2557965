// Command late-sensors is an event-time tumbling window with allowed
// lateness and a side output for data later than that (Flink's
// allowedLateness and sideOutputLateData): one-minute averages per sensor
// from readings that arrive out of order.
//
//	go run ./examples/late-sensors -sensors 5 -minutes 30
//
// Readings are generated with a network delay: most arrive within seconds,
// some minutes late. The watermark trails the largest timestamp seen by
// -out-of-order (10 s); a window fires when the watermark passes its end, and
// fires again (an updated average) for each reading that arrives within the
// allowed lateness (30 s) after that; readings later still go to the
// "too-late" side output instead of being dropped silently.
//
// Lateness depends on when watermarks are emitted relative to the records.
// AutoWatermarkInterval -1 emits a watermark after every record, so the
// output is the same on every run; with a periodic interval (Flink's
// default, 200 ms) the same input read quickly is late less often.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/print"
	"github.com/weirstream/weir/window"
)

// Reading is a sensor's measurement taken at TS (epoch milliseconds).
type Reading struct {
	Sensor string
	Value  float64
	TS     int64
}

// Average is one firing of a sensor's one-minute window.
type Average struct {
	Sensor     string
	Start, End int64
	Count      int64
	Avg        float64
}

func (a Average) String() string {
	return fmt.Sprintf("%s [%v, %v) avg %.2f over %d readings", a.Sensor,
		time.Duration(a.Start)*time.Millisecond, time.Duration(a.End)*time.Millisecond, a.Avg, a.Count)
}

// Config is the job's shape.
type Config struct {
	OutOfOrder      time.Duration // watermark delay (default 10 s)
	AllowedLateness time.Duration // default 30 s
	Parallelism     int
}

type acc struct {
	Count int64
	Sum   float64
}

type mean struct{}

func (mean) CreateAccumulator() acc            { return acc{} }
func (mean) Add(a acc, r Reading) (acc, error) { return acc{a.Count + 1, a.Sum + r.Value}, nil }
func (mean) Result(a acc) (acc, error)         { return a, nil }
func (mean) Merge(a, b acc) (acc, error)       { return acc{a.Count + b.Count, a.Sum + b.Sum}, nil }

// Generate returns readings of n sensors, one every 5 s for the given
// minutes, in arrival order: each is delayed by a few seconds, one in 20 by
// up to two minutes.
func Generate(seed uint64, sensors, minutes int) []Reading {
	r := rand.New(rand.NewPCG(seed, 11))
	type arrival struct {
		Reading
		at int64
	}
	var all []arrival
	for m := range minutes * 12 {
		for s := range sensors {
			ts := int64(m)*5000 + r.Int64N(5000)
			delay := r.Int64N(3000)
			if r.IntN(20) == 0 {
				delay = r.Int64N(120_000)
			}
			all = append(all, arrival{Reading{fmt.Sprintf("sensor-%d", s), 15 + 10*r.Float64(), ts}, ts + delay})
		}
	}
	slices.SortStableFunc(all, func(a, b arrival) int { return int(a.at - b.at) })
	out := make([]Reading, len(all))
	for i, a := range all {
		out[i] = a.Reading
	}
	return out
}

// Run runs the job on readings (in arrival order), writes window results
// and too-late readings to out, and returns both.
func Run(ctx context.Context, cfg Config, readings []Reading, out io.Writer) ([]Average, []Reading, error) {
	if cfg.OutOfOrder == 0 {
		cfg.OutOfOrder = 10 * time.Second
	}
	if cfg.AllowedLateness == 0 {
		cfg.AllowedLateness = 30 * time.Second
	}
	env := weir.NewEnvironment(weir.Options{Parallelism: cfg.Parallelism, AutoWatermarkInterval: -1})
	ts := make([]weir.TimestampedValue[Reading], len(readings))
	for i, r := range readings {
		ts[i] = weir.TimestampedValue[Reading]{Value: r, TS: r.TS}
	}
	src := weir.FromTimestamped(env, ts, weir.ForBoundedOutOfOrderness[Reading](cfg.OutOfOrder))
	late := weir.NewOutputTag[Reading]("too-late")
	windows := weir.Window(weir.KeyBy(src, func(r Reading) string { return r.Sensor }),
		window.TumblingEventTime[Reading](time.Minute)).
		AllowedLateness(cfg.AllowedLateness).
		SideOutputLateData(late)
	avgs := weir.WindowAggregateResult(windows, mean{},
		func(ctx *weir.WindowContext[string, Average, window.TimeWindow], sensor string, a acc) error {
			w := ctx.Window()
			ctx.Collect(Average{Sensor: sensor, Start: w.Start, End: w.End, Count: a.Count, Avg: a.Sum / float64(a.Count)})
			return nil
		})
	tooLate := weir.SideOutput(avgs, late)
	avgs.SinkTo(print.New[Average](out))
	tooLate.SinkTo(print.New[Reading](out).WithFormat(func(r Reading) string {
		return fmt.Sprintf("too late: %s at %v", r.Sensor, time.Duration(r.TS)*time.Millisecond)
	}))
	gotAvgs, gotLate := weir.Collect(avgs), weir.Collect(tooLate)
	if err := env.Execute(ctx); err != nil {
		return nil, nil, err
	}
	return gotAvgs.Values(), gotLate.Values(), nil
}

func main() {
	sensors := flag.Int("sensors", 5, "sensors to generate")
	minutes := flag.Int("minutes", 30, "minutes of readings")
	seed := flag.Uint64("seed", 1, "seed of the generated readings")
	parallelism := flag.Int("parallelism", 2, "subtasks per operator")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	readings := Generate(*seed, *sensors, *minutes)
	avgs, late, err := Run(ctx, Config{Parallelism: *parallelism}, readings, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "late-sensors:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%d readings: %d window firings, %d readings too late\n", len(readings), len(avgs), len(late))
}
