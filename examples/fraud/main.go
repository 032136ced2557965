// Command fraud runs Weir's fraud detection demo, the job of `weir demo`,
// on a fixed number of generated payments: alerts go to stdout, a status
// line to stderr every second and a summary at the end.
//
//	go run ./examples/fraud -events 200000 -parallelism 2
//
// The generator and the pipeline (keyed state with a time to live,
// event-time timers, CEP patterns and a tumbling window) are in
// demo/fraud: pipeline.go builds the dataflow, detect.go and
// cep.go hold the rules.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/demo/fraud"
)

func main() {
	events := flag.Int64("events", 100_000, "payments to generate")
	parallelism := flag.Int("parallelism", 2, "subtasks per operator")
	seed := flag.Int64("seed", 1, "seed of the generated payments")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := fraud.Config{Generator: fraud.GeneratorConfig{Seed: *seed, Events: *events}}
	_, err := fraud.Run(ctx, cfg, fraud.RunOptions{
		Env:    weir.Options{Parallelism: *parallelism},
		Alerts: os.Stdout,
		Status: os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fraud:", err)
		os.Exit(1)
	}
}
