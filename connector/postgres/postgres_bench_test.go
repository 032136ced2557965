package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirstream/weir"
)

type benchRow struct {
	ID   int64
	Name string
	V    int64
}

func benchValues(dst []any, r benchRow) []any { return append(dst, r.ID, r.Name, r.V) }

const benchColumns = "id bigint PRIMARY KEY, name text NOT NULL, v bigint NOT NULL"

// report sets the rows/s metric.
func report(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkSink writes b.N rows through a sink writer in runs of 256
// (what the engine hands a BatchWriter), flushing (or pre-committing and
// committing) every 50 000 rows as a checkpoint would, for appends (COPY)
// and upserts (pipelined INSERT ... ON CONFLICT), under at-least-once and
// exactly-once. Compare with BenchmarkPlainCopy and
// BenchmarkUpsertCopyMerge.
func BenchmarkSink(b *testing.B) {
	c := db(b)
	for _, mode := range []string{"append", "upsert"} {
		for _, g := range []Guarantee{AtLeastOnce, ExactlyOnce} {
			b.Run(mode+"/"+g.String(), func(b *testing.B) {
				table := createTestTable(b, c, "bench", benchColumns)
				o := SinkOptions[benchRow]{ConnString: testConnString, Table: table, Columns: []string{"id", "name", "v"},
					Values: benchValues, Guarantee: g, TransactionPrefix: uniqueName(b, "bench"), BatchSize: 5000}
				if mode == "upsert" {
					o.Key = []string{"id"}
				}
				w, err := NewSink(o).CreateWriter(weir.SinkContext{Parallelism: 1})
				if err != nil {
					b.Fatal(err)
				}
				defer w.Close()
				ctx := context.Background()
				tw, _ := w.(weir.TwoPhaseCommitWriter[benchRow])
				bw := w.(weir.BatchWriter[benchRow])
				checkpoint := func(id int64) {
					if tw == nil {
						if err := w.Flush(ctx, false); err != nil {
							b.Fatal(err)
						}
						return
					}
					items, err := tw.PreCommit(ctx, id)
					if err == nil {
						err = tw.Commit(ctx, items)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				recs := make([]weir.Rec[benchRow], 256)
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				var ckpt int64
				for i := 0; i < b.N; {
					n := min(len(recs), b.N-i)
					for j := range n {
						recs[j] = weir.Rec[benchRow]{V: benchRow{ID: int64(i + j), Name: "name-of-the-row", V: int64(i)}}
					}
					if _, err := bw.WriteBatch(ctx, recs[:n]); err != nil {
						b.Fatal(err)
					}
					i += n
					if i/50000 != (i-n)/50000 {
						ckpt++
						checkpoint(ckpt)
					}
				}
				checkpoint(ckpt + 1)
				report(b, start)
			})
		}
	}
}

// BenchmarkPlainCopy is the baseline: pgx's CopyFrom of the same rows in
// chunks of 5000, no sink.
func BenchmarkPlainCopy(b *testing.B) {
	c := db(b)
	table := createTestTable(b, c, "copy", benchColumns)
	rows := make([][]any, 5000)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; {
		n := min(len(rows), b.N-i)
		for j := range n {
			rows[j] = []any{int64(i + j), "name-of-the-row", int64(i)}
		}
		if _, err := c.CopyFrom(context.Background(), pgx.Identifier{table}, []string{"id", "name", "v"}, pgx.CopyFromRows(rows[:n])); err != nil {
			b.Fatal(err)
		}
		i += n
	}
	report(b, start)
}

// BenchmarkUpsertCopyMerge is the other way to batch upserts: COPY into a
// temporary table, then INSERT ... SELECT ... ON CONFLICT DO UPDATE, per
// 5000 rows. (The sink does not use it: a transaction that touched a
// temporary table cannot be prepared, and it needs the batch reduced to
// one row per key.)
func BenchmarkUpsertCopyMerge(b *testing.B) {
	c := db(b)
	table := createTestTable(b, c, "merge", benchColumns)
	ctx := context.Background()
	exec(b, c, "CREATE TEMP TABLE IF NOT EXISTS weir_stage (LIKE "+table+") ON COMMIT DELETE ROWS")
	rows := make([][]any, 5000)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; {
		n := min(len(rows), b.N-i)
		for j := range n {
			rows[j] = []any{int64(i + j), "name-of-the-row", int64(i)}
		}
		tx, err := c.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"weir_stage"}, []string{"id", "name", "v"}, pgx.CopyFromRows(rows[:n])); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT * FROM weir_stage ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, v = EXCLUDED.v", table)); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			b.Fatal(err)
		}
		i += n
	}
	report(b, start)
}
