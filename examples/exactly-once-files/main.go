// Command exactly-once-files is a job whose output survives crashes
// exactly once: it reads JSON-lines records {"key","seq","value"} from an
// input directory, keeps a running sum per key in keyed state, and writes
// {"key","seq","sum"} through the exactly-once file sink, whose part files
// become visible only when a checkpoint completes.
//
// Generate an input directory, run the job, kill it (kill -9) whenever you
// like and start it again with -restore latest: the committed part files
// in the output directory (names not starting with '.') hold every input
// record exactly once, with the running sums of an uninterrupted run.
//
//	exactly-once-files -generate 2000 -input in
//	exactly-once-files -input in -output out -checkpoint-dir chk -restore latest
//
// The pipeline is in package sums; `weir run sums` runs the same job with
// savepoints and S3 checkpoint storage.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/demo/sums"
	"github.com/weirstream/weir/statebackend/pebble"
)

// Input is an input record.
type Input = sums.Input

// Output is the running sum of a key after the record seq.
type Output = sums.Output

type config struct {
	input, output, checkpointDir, restore string
	stateBackend, stateDir                string
	interval                              time.Duration
	parallelism                           int
	rate                                  float64
	generate, files, keys                 int
	verbose                               bool
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "exactly-once-files:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("exactly-once-files", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.input, "input", "input", "directory of JSON-lines input files")
	fs.StringVar(&c.output, "output", "output", "directory of the output part files")
	fs.StringVar(&c.checkpointDir, "checkpoint-dir", "checkpoints", "directory of the checkpoints")
	fs.DurationVar(&c.interval, "checkpoint-interval", time.Second, "time between checkpoints")
	fs.IntVar(&c.parallelism, "parallelism", 2, "number of subtasks per operator")
	fs.StringVar(&c.restore, "restore", "", `checkpoint to start from: "latest", a checkpoint directory, or "" for a fresh start`)
	fs.StringVar(&c.stateBackend, "state-backend", weir.StateHeap, `where keyed state lives: "heap" (memory) or "pebble" (local disk)`)
	fs.StringVar(&c.stateDir, "state-dir", "", "local working directory of the pebble backend (default: under the system's temporary directory)")
	fs.Float64Var(&c.rate, "rate", 0, "input lines read per second (0: as fast as possible)")
	fs.IntVar(&c.generate, "generate", 0, "write an input directory with this many records per file to -input, and exit")
	fs.IntVar(&c.files, "files", 20, "with -generate: number of input files")
	fs.IntVar(&c.keys, "keys", 4, "with -generate: number of keys per file")
	fs.BoolVar(&c.verbose, "v", false, "log the job's progress (checkpoints, restores) to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.generate > 0 {
		return generate(c.input, c.files, c.keys, c.generate)
	}
	if err := (sums.Config{Input: c.input, Output: c.output}).Validate(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.DiscardHandler)
	if c.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	return job(ctx, c, logger)
}

// job builds the pipeline of package sums and runs it.
func job(ctx context.Context, c config, logger *slog.Logger) error {
	env := weir.NewEnvironment(weir.Options{
		Parallelism:  c.parallelism,
		Logger:       logger,
		Checkpoints:  weir.CheckpointOptions{Interval: c.interval, Dir: c.checkpointDir, Retained: 2},
		Restore:      c.restore,
		StateBackend: c.stateBackend,
		Pebble:       pebble.New(),
		StateDir:     c.stateDir,
	})
	sums.Build(env, sums.Config{Input: c.input, Output: c.output, Rate: c.rate})
	return env.Execute(ctx)
}

// generate writes the input files (sums.Generate).
func generate(dir string, files, keys, n int) error { return sums.Generate(dir, files, keys, n) }
