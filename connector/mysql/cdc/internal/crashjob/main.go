// Command crashjob is the child process of the MySQL CDC crash test: it
// captures one table with package cdc and writes every change, as a JSON
// line, through the exactly-once file sink, checkpointing often, so that
// the test can SIGKILL it at any instant and restart it with -restore
// latest.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/connector/mysql/cdc"
)

// Out is one change as the test reads it back.
type Out struct {
	Op     string  `json:"op"`
	Before []int64 `json:"before,omitempty"`
	After  []int64 `json:"after,omitempty"`
	Pos    string  `json:"pos"`
}

func ints(vals []any) []int64 {
	if vals == nil {
		return nil
	}
	out := make([]int64, len(vals))
	for i, v := range vals {
		out[i] = v.(int64)
	}
	return out
}

func main() {
	addr := flag.String("addr", "127.0.0.1:3306", "server")
	table := flag.String("table", "", "database.table to capture")
	output := flag.String("output", "out", "output directory")
	chk := flag.String("checkpoint-dir", "chk", "checkpoint directory")
	restore := flag.String("restore", "", "checkpoint to restore")
	chunk := flag.Int("chunk", 20, "snapshot chunk size")
	algorithm := flag.String("algorithm", "auto", "snapshot algorithm: auto, consistent-snapshot or watermark")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	alg, err := cdc.ParseSnapshotAlgorithm(*algorithm)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashjob:", err)
		os.Exit(2)
	}
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 1,
		Logger:      logger,
		Checkpoints: weir.CheckpointOptions{Interval: 40 * time.Millisecond, Dir: *chk, Retained: 2},
		Restore:     *restore,
	})
	src := weir.FromSource[cdc.Change](env, cdc.NewSource(cdc.Options{
		Addr: *addr, Tables: []string{*table}, ChunkSize: *chunk, SnapshotAlgorithm: alg, Logger: logger,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	}), weir.NoWatermarks[cdc.Change](), "mysql").UID("mysql")
	out := weir.Map(src, func(c cdc.Change) Out {
		return Out{Op: c.Op.String(), Before: ints(c.Before), After: ints(c.After), Pos: c.Position.String()}
	})
	out.SinkTo(file.ExactlyOnceJSONSink[Out](*output, file.ExactlyOnceOptions{})).UID("out")
	if err := env.Execute(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "crashjob:", err)
		os.Exit(1)
	}
}
