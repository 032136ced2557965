package cdc_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/postgres/cdc"
)

func baseOpts(name string) cdc.Options {
	return cdc.Options{Logger: testLogger(), Conn: pgURL, Tables: []string{name}, Slot: name, Publication: name,
		SnapshotFetchSize: 100, StatusInterval: 200 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
}

func startJob(t *testing.T, dir string, build func(env *weir.Environment)) *weir.JobClient {
	t.Helper()
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 1,
		Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: filepath.Join(dir, "chk"), Retained: 2},
		Restore:     "latest",
	})
	build(env)
	c, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// jobFailed returns the error of a job that ended.
func jobFailed(c *weir.JobClient) error {
	select {
	case <-c.Done():
		if err := c.Wait(); err != nil {
			return err
		}
		return errors.New("job ended")
	default:
		return nil
	}
}

func stopJob(t *testing.T, c *weir.JobClient) {
	t.Helper()
	c.Cancel()
	if err := c.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("job: %v", err)
	}
}

// TestSnapshotThenStream captures a table while a workload changes it
// from before the snapshot until well after it: every change after the
// snapshot is emitted once, in order per key, and the last state of every
// key is the table's.
func TestSnapshotThenStream(t *testing.T) {
	c := connect(t)
	name := names(t, c)
	w := newWorkload(name, 3000, 1)
	w.createTable(t, c, true, 3000)
	ctx, cancel := context.WithCancel(context.Background())
	writer := w.run(ctx, t, 0)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	var rows atomic.Int64
	job := startJob(t, dir, func(env *weir.Environment) {
		pipeline(env, baseOpts(name), out, func(o Out) (Out, error) {
			if o.Op == "r" {
				rows.Add(1)
				time.Sleep(50 * time.Microsecond) // a slow consumer: the snapshot overlaps the workload
			}
			return o, nil
		})
	})
	waitFor(t, "streamed changes", 60*time.Second, func() error {
		if err := jobFailed(job); err != nil {
			t.Fatal(err)
		}
		if rows.Load() < 2000 {
			return errors.New("snapshot running")
		}
		if n := len(readParts(t, out)); n < 4000 {
			return errors.New("few changes")
		}
		return nil
	})
	cancel()
	if err := <-writer; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every change", 30*time.Second, func() error { return w.check(readParts(t, out)) })
	stopJob(t, job)
	t.Logf("%d workload transactions, %d changes out", w.n, len(readParts(t, out)))
}

func testLogger() *slog.Logger {
	if os.Getenv("CDC_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return nil
}
