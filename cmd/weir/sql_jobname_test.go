package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestSQLJobNamePrefix: a job of 'weir sql' is named by 'pipeline.name'
// (Flink's job name), and the exactly-once jdbc sink's default transaction
// prefix, derived from the job's name, therefore differs between two jobs
// given distinct names (docs/sql-connectors.md, "one transaction prefix
// per job"). Before, every job of 'weir sql' was named "sql": all of them
// shared one prefix whatever their pipeline.name.
func TestSQLJobNamePrefix(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/test")
	if err != nil {
		t.Skipf("no PostgreSQL: %v", err)
	}
	defer pg.Close(context.Background())
	table := fmt.Sprintf("revsql_jobname_%08x", rand.Uint32())
	if _, err := pg.Exec(ctx, "CREATE TABLE "+table+" (id BIGINT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = pg.Exec(context.Background(), "DROP TABLE "+table) })
	for _, name := range []string{table + "-a", table + "-b"} {
		dir := t.TempDir()
		script := `SET 'pipeline.name' = '` + name + `';
SET 'execution.checkpointing.interval' = '20 ms';
SET 'execution.checkpointing.dir' = '` + filepath.Join(dir, "chk") + `';
CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence',
  'fields.id.start' = '1', 'fields.id.end' = '50');
CREATE TABLE dst (id BIGINT) WITH ('connector' = 'jdbc',
  'url' = 'jdbc:postgresql://127.0.0.1:5432/test?sslmode=disable', 'username' = 'postgres',
  'table-name' = '` + table + `', 'sink.delivery-guarantee' = 'exactly-once');
INSERT INTO dst SELECT id FROM src;
`
		file := filepath.Join(dir, "job.sql")
		if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, stderr, err := runSQL(t, "", "-f", file, "--parallelism", "1"); err != nil {
			t.Fatalf("job %s: %v\n%s", name, err, stderr)
		}
		sum := sha256.Sum256([]byte(name))
		want := "%-" + hex.EncodeToString(sum[:4])
		var n int
		if err := pg.QueryRow(ctx, "SELECT count(*) FROM weir_commits WHERE prefix LIKE $1", want).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			var got []string
			rows, _ := pg.Query(ctx, "SELECT DISTINCT prefix FROM weir_commits WHERE prepared_at > now() - interval '1 minute'")
			got, _ = pgx.CollectRows(rows, pgx.RowTo[string])
			t.Errorf("job %s committed no transaction under a prefix ending in the hash of its name %s; recent prefixes: %q", name, want[2:], got)
		}
	}
	var rows int
	if err := pg.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 100 {
		t.Errorf("%d rows, want 100 (50 per job)", rows)
	}
}
