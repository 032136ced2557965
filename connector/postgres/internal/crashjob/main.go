// Command crashjob is the child process of the postgres sink's crash test:
// a generated sequence of records, a running sum per key in keyed state,
// and two exactly-once PostgreSQL sinks — every output record appended to
// an events table, and the latest sum of each key upserted into a totals
// table. The test SIGKILLs it at random instants and starts it again with
// -restore latest; the tables must end up as after an uninterrupted run.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
	"github.com/weirstream/weir/connector/postgres"
	"github.com/weirstream/weir/state"
)

// Input is a generated record: its value is Seq+1.
type Input struct {
	Seq int64
	Key int64
}

// Output is the running sum of a key after the record Seq.
type Output struct {
	Seq, Key, Sum int64
}

type runningSum struct{ sum state.Value[int64] }

func (r *runningSum) Open(ctx *weir.KeyedRuntimeContext[int64]) error {
	r.sum = state.GetValue[int64, int64](ctx.State(), state.Descriptor{Name: "sum"})
	return nil
}

func (r *runningSum) ProcessElement(ctx *weir.KeyedContext[int64, Output], v Input) error {
	s, _ := r.sum.Value()
	s += v.Seq + 1
	r.sum.Update(s)
	ctx.Collect(Output{Seq: v.Seq, Key: v.Key, Sum: s})
	return nil
}

func main() {
	conn := flag.String("conn", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "connection string")
	events := flag.String("events", "", "append table (seq, key, sum)")
	totals := flag.String("totals", "", "upsert table (key primary key, sum)")
	prefix := flag.String("prefix", "", "transaction prefix")
	dir := flag.String("checkpoint-dir", "", "checkpoint directory")
	count := flag.Int64("count", 20000, "records")
	keys := flag.Int64("keys", 4, "keys")
	rate := flag.Float64("rate", 4000, "records per second")
	par := flag.Int("parallelism", 2, "parallelism")
	verbose := flag.Bool("v", false, "log")
	flag.Parse()
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	env := weir.NewEnvironment(weir.Options{
		Parallelism: *par, Logger: logger,
		Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: *dir, Retained: 2},
		Restore:     "latest",
		Restart:     &weir.ExponentialDelayRestart{Initial: 20 * time.Millisecond, Max: time.Second, Jitter: 0.1},
	})
	k := *keys
	in := weir.FromSource[Input](env, datagen.New(func(seq int64) Input { return Input{Seq: seq, Key: seq % k} },
		datagen.Options{Count: *count, RecordsPerSecond: *rate, BatchSize: 64}), weir.NoWatermarks[Input](), "gen").UID("gen")
	sums := weir.ProcessKeyed[int64, Input, Output](weir.KeyBy(in, func(v Input) int64 { return v.Key }), &runningSum{}).UID("sums")
	sums.SinkTo(postgres.NewSink(postgres.SinkOptions[Output]{
		ConnString: *conn, Table: *events, Columns: []string{"seq", "key", "sum"},
		Values:    func(dst []any, o Output) []any { return append(dst, o.Seq, o.Key, o.Sum) },
		Guarantee: postgres.ExactlyOnce, TransactionPrefix: *prefix + "-e", BatchSize: 200, Logger: logger,
	})).UID("events")
	sums.SinkTo(postgres.NewSink(postgres.SinkOptions[Output]{
		ConnString: *conn, Table: *totals, Columns: []string{"key", "sum"}, Key: []string{"key"},
		Values:    func(dst []any, o Output) []any { return append(dst, o.Key, o.Sum) },
		Guarantee: postgres.ExactlyOnce, TransactionPrefix: *prefix + "-t", BatchSize: 200, Logger: logger,
	})).UID("totals")
	if err := env.Execute(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "crashjob:", err)
		os.Exit(1)
	}
}
