package main

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/weirstream/weir/internal/crashtest"
)

// jdbcCrashJob copies a jdbc table (scanned in one query, or in splits
// with the scan.partition.* options) into CSV files committed with
// checkpoints.
const jdbcCrashJob = `
CREATE TABLE src (id BIGINT, v BIGINT, PRIMARY KEY (id) NOT ENFORCED)
  WITH ('connector' = 'jdbc', 'url' = '%s', %s 'table-name' = '%s'%s);
CREATE TABLE dst (id BIGINT, v BIGINT)
  WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
INSERT INTO dst SELECT id, v FROM src WHERE id > 0;
`

// TestSQLJDBCScanCrash is the exactly-once test of the jdbc scan's
// restored positions: `weir sql -f` copies a PostgreSQL or MariaDB table
// (one query, or 7 splits over the source's subtasks) into an
// exactly-once filesystem sink, is SIGKILLed 4 times at varied instants
// after a checkpoint (the fourth while it starts and restores), and
// restarts from the latest checkpoint at another parallelism (2, 1, 3, 2:
// the splits move between subtasks); the committed files must hold every row of the table
// exactly once. The filter id > 0 is pushed into the scan query in both
// databases.
//
// It needs PostgreSQL (user postgres, db test) at 127.0.0.1:5432 and
// MariaDB (root, db test) at 127.0.0.1:3306 (scripts/test-services.sh).
func TestSQLJDBCScanCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the weir binary many times against PostgreSQL and MariaDB")
	}
	const rows = 150000
	ctx := context.Background()
	pg, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/test")
	if err != nil {
		t.Fatalf("PostgreSQL on 127.0.0.1:5432 is unreachable (run scripts/test-services.sh): %v", err)
	}
	defer pg.Close(ctx)
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.DBName = "tcp", "127.0.0.1:3306", "root", "test"
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	my := dbsql.OpenDB(conn)
	defer my.Close()
	if err := my.PingContext(ctx); err != nil {
		t.Fatalf("MariaDB on 127.0.0.1:3306 is unreachable (run scripts/test-services.sh): %v", err)
	}
	table := fmt.Sprintf("jdbcpart_crash_%08x", rand.Uint32())
	if _, err := pg.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)", table)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Exec(context.Background(), "DROP TABLE IF EXISTS "+table) })
	if _, err := pg.Exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT g, g * 3 FROM generate_series(1, %d) AS g", table, rows)); err != nil {
		t.Fatal(err)
	}
	if _, err := my.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)", table)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { my.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table) })
	if _, err := my.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s SELECT seq, seq * 3 FROM seq_1_to_%d", table, rows)); err != nil {
		t.Fatal(err)
	}
	bin := weirBinary(t)
	part := fmt.Sprintf(", 'scan.partition.column' = 'id', 'scan.partition.num' = '7', 'scan.partition.lower-bound' = '1', 'scan.partition.upper-bound' = '%d'", rows)
	for _, tc := range []struct {
		name, url, user, part string
	}{
		{"postgres", "jdbc:postgresql://127.0.0.1:5432/test", "'username' = 'postgres',", ""},
		{"postgres-partitioned", "jdbc:postgresql://127.0.0.1:5432/test", "'username' = 'postgres',", part},
		{"mariadb", "jdbc:mariadb://127.0.0.1:3306/test", "'username' = 'root',", ""},
		{"mariadb-partitioned", "jdbc:mariadb://127.0.0.1:3306/test", "'username' = 'root',", part},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out, chk := filepath.Join(dir, "out"), filepath.Join(dir, "chk")
			job := filepath.Join(dir, "job.sql")
			if err := os.WriteFile(job, []byte(fmt.Sprintf(jdbcCrashJob, tc.url, tc.user, table, tc.part, out)), 0o644); err != nil {
				t.Fatal(err)
			}
			logPath := filepath.Join(dir, "runs.log")
			defer func() {
				if t.Failed() {
					b, _ := os.ReadFile(logPath)
					t.Logf("log of the runs:\n%s", b)
				}
			}()
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 5))
			pars := []int{2, 1, 3}
			args := func(run int) []string {
				return []string{"sql", "-f", job, "--checkpoint-dir", chk, "--checkpoint-interval", "20ms", "--restore", "latest",
					"--parallelism", strconv.Itoa(pars[run%len(pars)]), "-v"}
			}
			kills, ended := 0, false
			for run := 0; kills < 4 && !ended; run++ {
				before := crashtest.LatestCheckpoint(t, chk)
				c := crashtest.Start(t, bin, logPath, args(run)...)
				if run%4 == 3 {
					c.Pause(time.Duration(rng.IntN(60)) * time.Millisecond) // while it starts and restores
				} else {
					c.WaitUntil(t, "new checkpoint", 60*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
					c.Pause(time.Duration(rng.IntN(40)) * time.Millisecond)
				}
				if c.KillRun(t, run) {
					ended = true
				} else {
					kills++
				}
			}
			if kills < 2 {
				t.Fatalf("only %d kills before the job ended: the table is too small for this machine", kills)
			}
			if !ended {
				c := crashtest.Start(t, bin, logPath, args(1)...)
				if exited, err := c.WaitFor(120 * time.Second); !exited || err != nil {
					t.Fatalf("final run: exited %v, %v", exited, err)
				}
			}
			t.Logf("%d kills", kills)
			got := committedCSV(t, out)
			seen := make([]int, rows+1)
			bad := 0
			for _, l := range got {
				var id, v int64
				if _, err := fmt.Sscanf(l, "%d,%d", &id, &v); err != nil || id < 1 || id > rows || v != 3*id {
					if bad++; bad < 10 {
						t.Errorf("unexpected row %q", l)
					}
					continue
				}
				seen[id]++
			}
			for id := 1; id <= rows; id++ {
				if seen[id] != 1 {
					if bad++; bad < 10 {
						t.Errorf("row %d committed %d times, want once", id, seen[id])
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d rows wrong of %d", bad, rows)
			}
		})
	}
}
