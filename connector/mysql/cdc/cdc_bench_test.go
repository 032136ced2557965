package cdc

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/weirstream/weir"
)

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBinlog writes n row changes (inserts, then updates of each row, in
// transactions of 100 rows) and returns the binlog range that holds them.
func benchBinlog(b *testing.B, n int) (table string, from, to gomysql.Position) {
	db := testDB(b)
	table = newTable(b, db, "id BIGINT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(40) NOT NULL, d DECIMAL(10,2), ts DATETIME(3)")
	f, p := masterPos(b, db)
	from = gomysql.Position{Name: f, Pos: p}
	for i := 0; i < n/2; i += 100 {
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + " VALUES ")
		for j := i; j < i+100; j++ {
			if j > i {
				q.WriteByte(',')
			}
			fmt.Fprintf(&q, "(%d, %d, 'row number %d', %d.25, '2024-01-02 03:04:05.678')", j, j, j, j)
		}
		mustExec(b, db, q.String())
	}
	for i := 0; i < n/2; i += 100 {
		mustExec(b, db, fmt.Sprintf("UPDATE %s SET v = v + 1 WHERE id >= %d AND id < %d", table, i, i+100))
	}
	f, p = masterPos(b, db)
	return table, from, gomysql.Position{Name: f, Pos: p}
}

// countSink counts changes and cancels the job after want.
type countSink struct {
	n           *atomic.Int64
	want        int64
	cancel      context.CancelFunc
	first, last *time.Time
}

func (s countSink) CreateWriter(weir.SinkContext) (weir.SinkWriter[Change], error) { return s, nil }
func (s countSink) Write(_ context.Context, c Change, _ int64) error {
	switch s.n.Add(1) {
	case 1:
		*s.first = time.Now()
	case s.want:
		*s.last = time.Now()
		s.cancel()
	}
	return nil
}
func (s countSink) Flush(context.Context, bool) error { return nil }
func (s countSink) Close() error                      { return nil }

// BenchmarkBinlog reads the same binlog range of 20000 row changes with a
// bare go-mysql BinlogSyncer loop (decoding rows, nothing else) and with
// the source in a job (decoding, typed values, positions, the engine's
// source operator, a counting sink). events/cpu-s is events per second of
// this process's CPU time: per core.
func BenchmarkBinlog(b *testing.B) {
	const n = 20000
	table, from, to := benchBinlog(b, n)
	db, name, _ := strings.Cut(table, ".")
	report := func(b *testing.B, start time.Time, cpu0 time.Duration) {
		wall, cpu := time.Since(start), cpuTime()-cpu0
		ev := float64(n) * float64(b.N)
		b.ReportMetric(ev/wall.Seconds(), "events/s")
		b.ReportMetric(ev/cpu.Seconds(), "events/cpu-s")
	}
	b.Run("bare-syncer", func(b *testing.B) {
		b.ReportAllocs()
		start, cpu0 := time.Now(), cpuTime()
		for i := 0; i < b.N; i++ {
			s := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{ServerID: uint32(2<<20 + i), Flavor: "mariadb",
				Host: "127.0.0.1", Port: 3306, User: "root", ParseTime: true, Logger: discard()})
			st, err := s.StartSync(from)
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for got < n {
				ev, err := st.GetEvent(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if re, ok := ev.Event.(*replication.RowsEvent); ok && string(re.Table.Schema) == db && string(re.Table.Table) == name {
					if re.Type() == replication.EnumRowsEventTypeUpdate {
						got += len(re.Rows) / 2
					} else {
						got += len(re.Rows)
					}
				}
			}
			s.Close()
		}
		report(b, start, cpu0)
	})
	b.Run("source", func(b *testing.B) {
		b.ReportAllocs()
		start, cpu0 := time.Now(), cpuTime()
		var startup, stream, stop time.Duration
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			var first, last time.Time
			env := weir.NewEnvironment(weir.Options{Parallelism: 1})
			var count atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			src := NewSource(Options{Addr: addr, Tables: []string{table}, Startup: SpecificOffset, StartFile: from.Name, StartPos: from.Pos})
			weir.FromSource[Change](env, src, weir.NoWatermarks[Change](), "mysql").SinkTo(countSink{n: &count, want: n, cancel: cancel, first: &first, last: &last})
			err := env.Execute(ctx)
			cancel()
			startup += first.Sub(t0)
			stream += last.Sub(first)
			stop += time.Since(last)
			if count.Load() < n {
				b.Fatalf("%d of %d changes: %v", count.Load(), n, err)
			}
		}
		report(b, start, cpu0)
		b.ReportMetric(startup.Seconds()*1e3/float64(b.N), "ms-to-first")
		b.ReportMetric(stream.Seconds()*1e3/float64(b.N), "ms-streaming")
		b.ReportMetric(stop.Seconds()*1e3/float64(b.N), "ms-to-stop")
	})
	_ = to
}

// BenchmarkSnapshot reads the snapshot of a 20000-row table (default chunk
// size, no writers) with each algorithm: the watermark algorithm's extra
// work is a map of the chunk's keys and a SHOW MASTER STATUS per chunk.
//
//	go test ./connector/mysql/cdc -run '^$' -bench Snapshot
func BenchmarkSnapshot(b *testing.B) {
	db := testDB(b)
	table := newTablePrefix(b, db, "mysqlwm", kvCols)
	const rows = 20000
	fill(b, db, table, rows)
	for _, alg := range []SnapshotAlgorithm{ConsistentSnapshot, WatermarkSnapshot} {
		b.Run(alg.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d := startDirect(b, Options{Addr: addr, Tables: []string{table}, SnapshotAlgorithm: alg}, nil)
				n := 0
				d.until(func(st state) bool { return st.Table == 1 }, func(Change) { n++ })
				d.stop()
				if n != rows {
					b.Fatalf("%d rows", n)
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
