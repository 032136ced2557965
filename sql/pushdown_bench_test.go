package sql_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// BenchmarkJDBCScanFilter scans a PostgreSQL table of 200,000 rows with a
// filter keeping 1,000 of them, with the filter pushed into the scan
// query (pushdown=on) and evaluated by Weir (pushdown=off); one job per
// iteration. It reports the CPU seconds of this process per job (cpu_s;
// PostgreSQL's are not counted), rows scanned per second of this
// process's CPU, and allocations per table row.
//
//	go test ./sql -run '^$' -bench JDBCScanFilter -benchtime 5x
func BenchmarkJDBCScanFilter(b *testing.B) {
	const rows, kept = 200000, 1000
	pg := pgConn(b)
	name := fmt.Sprintf("bench_pushdown_%06x", rand.IntN(1<<24))
	ctx := context.Background()
	if _, err := pg.Exec(ctx, "CREATE TABLE "+name+" (id INT PRIMARY KEY, n INT, v TEXT)"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = pg.Exec(ctx, "DROP TABLE IF EXISTS "+name) })
	if _, err := pg.Exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT i, (i * 7919) %% %d, 'value ' || i FROM generate_series(1, %d) AS i", name, rows, rows)); err != nil {
		b.Fatal(err)
	}
	for _, on := range []string{"on", "off"} {
		b.Run("pushdown="+on, func(b *testing.B) {
			enabled := map[string]string{"on": "true", "off": "false"}[on]
			var cpu time.Duration
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				sess := sql.NewSession(sql.SessionOptions{})
				script := fmt.Sprintf(`
SET 'table.optimizer.source.predicate-pushdown-enabled' = '%s';
CREATE TABLE T (id INT, n INT, v STRING) WITH ('connector' = 'jdbc', 'url' = '%s', 'table-name' = '%s');
SELECT id, v FROM T WHERE n < %d;`, enabled, testPGJDBC, name, kept)
				stmts, err := parser.Parse(script)
				if err != nil {
					b.Fatal(err)
				}
				var job *sql.Job
				for _, st := range stmts {
					_, j, err := sess.Execute(st)
					if err != nil {
						b.Fatal(err)
					}
					if j != nil {
						job = j
					}
				}
				env := weir.NewEnvironment(job.Options())
				n := 0
				if err := job.Build(env, func(row.Row) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
				before := processCPU(b)
				b.StartTimer()
				if err := env.Execute(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += processCPU(b) - before
				if n != kept {
					b.Fatalf("%d rows, want %d", n, kept)
				}
				b.StartTimer()
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu_s")
			b.ReportMetric(float64(rows)*float64(b.N)/cpu.Seconds(), "rows/cpu_s")
		})
	}
}

// processCPU is the CPU time (user and system) of this process so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
