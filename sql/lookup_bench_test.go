package sql_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// BenchmarkLookupJoin enriches datagen rows (keys 1..1000) from a
// PostgreSQL table with a lookup join, with and without the partial
// cache; it reports rows per second of the whole job at parallelism 1.
//
//	go test ./sql -run '^$' -bench LookupJoin -benchtime 20000x
func BenchmarkLookupJoin(b *testing.B) {
	pg := pgConn(b)
	name := fmt.Sprintf("bench_dim_%06x_lk", rand.IntN(1<<24))
	ctx := context.Background()
	if _, err := pg.Exec(ctx, "CREATE TABLE "+name+" (id INT PRIMARY KEY, v TEXT)"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = pg.Exec(ctx, "DROP TABLE IF EXISTS "+name) })
	if _, err := pg.Exec(ctx, "INSERT INTO "+name+" SELECT i, 'v' || i FROM generate_series(1, 1000) AS i"); err != nil {
		b.Fatal(err)
	}
	for _, cache := range []string{"none", "partial"} {
		b.Run("cache="+cache, func(b *testing.B) {
			opts := ""
			if cache == "partial" {
				opts = ", 'lookup.cache' = 'PARTIAL', 'lookup.partial-cache.max-rows' = '10000'"
			}
			sess := sql.NewSession(sql.SessionOptions{})
			script := fmt.Sprintf(`
CREATE TABLE S (k INT, pt AS PROCTIME()) WITH ('connector' = 'datagen', 'number-of-rows' = '%d', 'rows-per-second' = '100000000',
  'fields.k.min' = '1', 'fields.k.max' = '1000');
CREATE TABLE D (id INT, v STRING, PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'jdbc', 'url' = '%s', 'table-name' = '%s'%s);
SELECT s.k, d.v FROM S AS s JOIN D FOR SYSTEM_TIME AS OF s.pt AS d ON s.k = d.id;`, b.N, testPGJDBC, name, opts)
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
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			if err := env.Execute(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")
			if n != b.N {
				b.Fatalf("%d rows out of %d", n, b.N)
			}
		})
	}
}
