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
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/state"
)

// Input is an input record.
type Input struct {
	Key   string `json:"key"`
	Seq   int64  `json:"seq"`
	Value int64  `json:"value"`
}

// Output is the running sum of a key after the record seq.
type Output struct {
	Key string `json:"key"`
	Seq int64  `json:"seq"`
	Sum int64  `json:"sum"`
}

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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.DiscardHandler)
	if c.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	return job(ctx, c, logger)
}

// job builds and runs the pipeline.
func job(ctx context.Context, c config, logger *slog.Logger) error {
	env := weir.NewEnvironment(weir.Options{
		Parallelism:  c.parallelism,
		Logger:       logger,
		Checkpoints:  weir.CheckpointOptions{Interval: c.interval, Dir: c.checkpointDir, Retained: 2},
		Restore:      c.restore,
		StateBackend: c.stateBackend,
		StateDir:     c.stateDir,
	})
	in := weir.FromSource[Input](env, file.JSONSource[Input](c.input, file.SourceOptions{LinesPerSecond: c.rate}),
		weir.NoWatermarks[Input](), "input").UID("input")
	sums := weir.ProcessKeyed[string, Input, Output](weir.KeyBy(in, func(r Input) string { return r.Key }), &runningSum{}).
		Name("running sum").UID("sums")
	sums.SinkTo(file.ExactlyOnceJSONSink[Output](c.output, file.ExactlyOnceOptions{})).Name("output").UID("output")
	return env.Execute(ctx)
}

// runningSum adds up the values of a key.
type runningSum struct {
	sum state.Value[int64]
}

func (r *runningSum) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	r.sum = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "sum"})
	return nil
}

func (r *runningSum) ProcessElement(ctx *weir.KeyedContext[string, Output], in Input) error {
	s, _ := r.sum.Value()
	s += in.Value
	r.sum.Update(s)
	ctx.Collect(Output{Key: in.Key, Seq: in.Seq, Sum: s})
	return nil
}

// generate writes files input files of n records each. The records of a
// key are all in one file, in the order of their sequence numbers, so the
// running sums of a key are defined whatever the parallelism.
func generate(dir string, files, keys, n int) error {
	if files < 1 || keys < 1 {
		return errors.New("generate: -files and -keys must be at least 1")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	for f := range files {
		name := filepath.Join(dir, fmt.Sprintf("input-%03d.jsonl", f))
		out, err := os.Create(name)
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		w := bufio.NewWriter(out)
		seq := make([]int64, keys)
		for i := range n {
			k := (i*7 + i/keys) % keys
			v := int64((f*7919+i*104729)%1000) - 300
			fmt.Fprintf(w, "{\"key\":\"f%03d-k%d\",\"seq\":%d,\"value\":%d}\n", f, k, seq[k], v)
			seq[k]++
		}
		if err := w.Flush(); err != nil {
			out.Close()
			return fmt.Errorf("generate: %w", err)
		}
		if err := out.Close(); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
	}
	return nil
}
