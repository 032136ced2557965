package cdc_test

import (
	"context"
	"errors"
	"fmt"
	osexec "os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/postgres/cdc"
)

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStream measures the source streaming b.N inserts (one
// transaction) against, on the same WAL in the same run, a bare pglogrepl
// loop (receive, parse pgoutput, no values decoded) and pg_recvlogical
// writing to /dev/null. It reports events/s (wall clock) of each and
// events per CPU-second of this process (per core) for the source and the
// bare loop; the server's decoding is the same for all three.
func BenchmarkStream(b *testing.B) {
	c := connect(b)
	name := names(b, c)
	exec(b, c, `CREATE TABLE `+name+` (k int8 PRIMARY KEY, v int8 NOT NULL, pad text)`)
	bare, recv := name+"_bare", name+"_recv"
	b.Cleanup(func() {
		for _, s := range []string{bare, recv} {
			c.Exec(context.Background(), `SELECT pg_drop_replication_slot($1)`, s)
		}
	})
	var n atomic.Int64
	opts := baseOpts(name)
	opts.SkipSnapshot = true
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	src := weir.FromSource[cdc.Change](env, cdc.NewSource(opts), weir.NoWatermarks[cdc.Change](), "cdc").SetParallelism(1)
	src.SinkTo(weir.SinkFunc[cdc.Change](func(context.Context, cdc.Change, int64) error { n.Add(1); return nil }))
	job, err := env.Start(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { job.Cancel(); job.Wait() }()
	waitFor(b, "the slot", 20*time.Second, func() error {
		if slotConfirmedLSN(b, name) == 0 {
			return errors.New("no slot")
		}
		return nil
	})
	exec(b, c, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, bare)
	exec(b, c, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, recv)
	b.ReportAllocs()
	b.ResetTimer()
	t0, cpu0 := time.Now(), cpuTime()
	exec(b, c, `INSERT INTO `+name+` SELECT g, g, 'padding padding' FROM generate_series(1, $1) g`, b.N)
	for n.Load() < int64(b.N) {
		if err := jobFailed(job); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Millisecond) // polling the count
	}
	srcWall, srcCPU := time.Since(t0), cpuTime()-cpu0
	b.StopTimer()
	var endText string
	if err := c.QueryRow(context.Background(), `SELECT pg_current_wal_lsn()::text`).Scan(&endText); err != nil {
		b.Fatal(err)
	}

	t1, cpu1 := time.Now(), cpuTime()
	got, err := bareLoop(bare, name, b.N)
	if err != nil {
		b.Fatal(err)
	}
	bareWall, bareCPU := time.Since(t1), cpuTime()-cpu1

	t2 := time.Now()
	cmd := osexec.Command("pg_recvlogical", "-d", pgURL, "--slot", recv, "--start",
		"-o", "proto_version=1", "-o", "publication_names="+name, "--endpos", endText, "-f", "/dev/null", "--no-loop")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Logf("pg_recvlogical: %v %s", err, out)
	}
	recvWall := time.Since(t2)

	ev := float64(b.N)
	b.ReportMetric(ev/srcWall.Seconds(), "src-events/s")
	b.ReportMetric(ev/srcCPU.Seconds(), "src-events/cpu-s")
	b.ReportMetric(float64(got)/bareWall.Seconds(), "bare-events/s")
	b.ReportMetric(float64(got)/bareCPU.Seconds(), "bare-events/cpu-s")
	b.ReportMetric(ev/recvWall.Seconds(), "pg_recvlogical-events/s")
}

// bareLoop streams slot until it saw n inserts: the least a client can do.
func bareLoop(slot, pub string, n int) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rc, err := pgconn.Connect(ctx, pgURL+"&replication=database")
	if err != nil {
		return 0, err
	}
	defer rc.Close(context.Background())
	if err := pglogrepl.StartReplication(ctx, rc, slot, 0, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names '" + pub + "'"}}); err != nil {
		return 0, err
	}
	got := 0
	for got < n {
		msg, err := rc.ReceiveMessage(ctx)
		if err != nil {
			return got, err
		}
		cd, ok := msg.(*pgproto3.CopyData)
		if !ok || len(cd.Data) == 0 || cd.Data[0] != pglogrepl.XLogDataByteID {
			continue
		}
		x, err := pglogrepl.ParseXLogData(cd.Data[1:])
		if err != nil {
			return got, err
		}
		m, err := pglogrepl.Parse(x.WALData)
		if err != nil {
			return got, err
		}
		if _, ok := m.(*pglogrepl.InsertMessage); ok {
			got++
		}
	}
	if got != n {
		return got, fmt.Errorf("%d inserts, want %d", got, n)
	}
	return got, nil
}
