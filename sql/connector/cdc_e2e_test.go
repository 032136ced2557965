package connector_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	weirsql "github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/result"
)

// uniqueName returns a lower-case name unique to this run.
func uniqueName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// liveResult materialises a query's changelog (retract semantics) and
// reports when it equals want, which the test sets once the database is
// final.
type liveResult struct {
	mu     sync.Mutex
	tab    *result.Table
	want   []string
	done   chan struct{}
	closed bool
	log    []string
	// rows, if above 0, ends the wait once the changelog has that many
	// rows instead (without materialising it).
	rows   int
	notify chan struct{}
}

func (l *liveResult) apply(r row.Row, types []row.Type) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log = append(l.log, row.FormatRow(r, types))
	select {
	case l.notify <- struct{}{}:
	default:
	}
	if l.rows > 0 {
		if len(l.log) >= l.rows && !l.closed {
			close(l.done)
			l.closed = true
		}
		return nil
	}
	if err := l.tab.Apply(r); err != nil {
		return err
	}
	l.checkLocked()
	return nil
}

// waitRows blocks until the changelog has n rows.
func (l *liveResult) waitRows(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		l.mu.Lock()
		have := len(l.log)
		l.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-l.notify:
		case <-timeout:
			t.Fatalf("the job emitted %d rows in 60 s, want %d", have, n)
		}
	}
}

func (l *liveResult) checkLocked() {
	if l.want != nil && !l.closed && slices.Equal(l.tab.Sorted(), l.want) {
		close(l.done)
		l.closed = true
	}
}

func (l *liveResult) expect(want []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sort.Strings(want)
	l.want = want
	l.checkLocked()
}

// runLive plans script's last statement (a query), runs it and, while it
// runs, calls work; then it waits until the materialised result equals
// final() (asked once work returned), and stops the job. It returns the
// changelog the job emitted.
func runLive(t *testing.T, script string, work func(), final func() []string) []string {
	t.Helper()
	return runLiveN(t, script, 0, func(*liveResult) { work() }, final)
}

// runLiveN is runLive; with rows > 0 it waits for that many changelog
// rows instead of a materialised result. work may wait for rows.
func runLiveN(t *testing.T, script string, rows int, work func(*liveResult), final func() []string) []string {
	t.Helper()
	sess := weirsql.NewSession(weirsql.SessionOptions{})
	_, jobs, err := sess.ExecuteScript(script)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Fatalf("want one job, got %d", len(jobs))
	}
	job := jobs[0]
	types := job.Schema().Types()
	live := &liveResult{tab: result.NewTable(types, nil), done: make(chan struct{}), rows: rows, notify: make(chan struct{}, 1)}
	opts := job.Options()
	opts.Checkpoints.Interval = 50 * time.Millisecond
	opts.Checkpoints.Dir = t.TempDir()
	env := weir.NewEnvironment(opts)
	if err := job.Build(env, func(r row.Row) error { return live.apply(r, types) }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- env.Execute(ctx) }()
	work(live)
	live.expect(final())
	select {
	case <-live.done:
	case err := <-errc:
		t.Fatalf("the job ended before its result matched the database: %v", err)
	case <-time.After(90 * time.Second):
		live.mu.Lock()
		got, log := live.tab.Sorted(), live.log
		live.mu.Unlock()
		cancel()
		<-errc
		t.Fatalf("the materialised result did not reach the database's:\ngot  %v\nwant %v\nchangelog:\n%s", got, live.want, strings.Join(log, "\n"))
	}
	cancel()
	if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("job: %v", err)
	}
	live.mu.Lock()
	defer live.mu.Unlock()
	return live.log
}

// checkChangelog checks that an aggregation's changelog is well formed:
// every -U is followed by its +U, and no group is retracted before it was
// inserted (result.Table.Apply already fails on the latter).
func checkChangelog(t *testing.T, log []string) {
	t.Helper()
	for i, l := range log {
		if strings.HasPrefix(l, "-U") && (i+1 == len(log) || !strings.HasPrefix(log[i+1], "+U")) {
			t.Fatalf("changelog line %d: %s not followed by +U", i, l)
		}
	}
}

const pgTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func pgConn(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pgTestURL)
	if err != nil {
		t.Fatalf("PostgreSQL at 127.0.0.1:5432 (user postgres, db test) unreachable: %v; run scripts/test-services.sh", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func pgExec(t *testing.T, c *pgx.Conn, q string, args ...any) {
	t.Helper()
	if _, err := c.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// pgDropSlot drops a replication slot, ending the session that still
// holds it.
func pgDropSlot(slot string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pgTestURL)
	if err != nil {
		return
	}
	defer c.Close(ctx)
	for ctx.Err() == nil {
		_, _ = c.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, slot)
		_, err := c.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, slot)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond): // the terminated session lets go of the slot
		}
	}
}

// workload runs n random inserts, updates (of k and v) and deletes on
// ids 1..50 through exec, which runs one statement.
func workload(seed uint64, n int, exec func(q string, args ...any)) {
	rng := mrand.New(mrand.NewPCG(seed, 7))
	keys := []string{"a", "b", "c", "d", "e"}
	for range n {
		id := rng.IntN(50) + 1
		switch rng.IntN(4) {
		case 0, 1:
			exec("INSERT INTO %s (id, k, v) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET k = EXCLUDED.k, v = EXCLUDED.v", id, keys[rng.IntN(len(keys))], rng.IntN(100))
		case 2:
			exec("UPDATE %s SET v = v + $2, k = $3 WHERE id = $1", id, rng.IntN(10), keys[rng.IntN(len(keys))])
		case 3:
			exec("DELETE FROM %s WHERE id = $1", id)
		}
	}
}

// TestPostgresCDCAggregate reads a PostgreSQL table with postgres-cdc
// while inserts, updates and deletes race the snapshot and the stream, and
// aggregates it with GROUP BY: the materialised result must reach the
// same aggregation run on the database at the end.
func TestPostgresCDCAggregate(t *testing.T) { testPostgresCDCAggregate(t, true, "all") }

// TestPostgresCDCUpsertAggregate is TestPostgresCDCAggregate on a table
// with the default replica identity (updates and deletes carry no old
// row) read with changelog-mode 'upsert', normalized in the source.
func TestPostgresCDCUpsertAggregate(t *testing.T) { testPostgresCDCAggregate(t, false, "upsert") }

func testPostgresCDCAggregate(t *testing.T, full bool, mode string) {
	c := pgConn(t)
	name := uniqueName("sqlcdc")
	pgExec(t, c, fmt.Sprintf("CREATE TABLE %s (id INT PRIMARY KEY, k TEXT NOT NULL, v INT NOT NULL)", name))
	if full {
		pgExec(t, c, fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL", name))
	}
	t.Cleanup(func() {
		pgDropSlot(name)
		c.Exec(context.Background(), "DROP PUBLICATION IF EXISTS "+name+"_pub")
		c.Exec(context.Background(), "DROP TABLE IF EXISTS "+name)
	})
	exec := func(q string, args ...any) {
		pgExec(t, c, fmt.Sprintf(q, name), args...)
	}
	workload(1, 100, exec) // rows for the snapshot
	script := fmt.Sprintf(`
CREATE TABLE src (
  id INT, k STRING, v INT,
  PRIMARY KEY (id) NOT ENFORCED
) WITH (
  'connector' = 'postgres-cdc', 'hostname' = '127.0.0.1', 'port' = '5432',
  'username' = 'postgres', 'database-name' = 'test', 'schema-name' = 'public',
  'table-name' = '%s', 'slot.name' = '%s', 'decoding.plugin.name' = 'pgoutput',
  'changelog-mode' = '%s'
);
SELECT k, COUNT(*) AS n, SUM(v) AS s FROM src GROUP BY k;`, name, name, mode)
	log := runLive(t, script, func() { workload(2, 300, exec) }, func() []string {
		rows, err := c.Query(context.Background(), fmt.Sprintf("SELECT k, COUNT(*), SUM(v) FROM %s GROUP BY k", name))
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for rows.Next() {
			var k string
			var n, s int64
			if err := rows.Scan(&k, &n, &s); err != nil {
				t.Fatal(err)
			}
			want = append(want, fmt.Sprintf("+I[%s, %d, %d]", k, n, s))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return want
	})
	checkChangelog(t, log)
	if !slices.ContainsFunc(log, func(l string) bool { return strings.HasPrefix(l, "-U") }) {
		t.Fatalf("no -U in the changelog: updates were not read as updates\n%s", strings.Join(log, "\n"))
	}
}

func mariaDB(t *testing.T) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", "127.0.0.1:3306", "test"
	cfg.InterpolateParams = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("MariaDB at 127.0.0.1:3306 unreachable (%v): run scripts/test-services.sh", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMySQLCDCAggregate is TestPostgresCDCAggregate on MariaDB with
// mysql-cdc.
func TestMySQLCDCAggregate(t *testing.T) {
	db := mariaDB(t)
	name := uniqueName("sqlcdc")
	if _, err := db.Exec(fmt.Sprintf("CREATE TABLE test.%s (id INT PRIMARY KEY, k VARCHAR(10) NOT NULL, v INT NOT NULL) ENGINE=InnoDB", name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP TABLE IF EXISTS test." + name) })
	exec := func(q string, args ...any) {
		q = strings.NewReplacer("$1", "?", "$2", "?", "$3", "?",
			"ON CONFLICT (id) DO UPDATE SET k = EXCLUDED.k, v = EXCLUDED.v", "ON DUPLICATE KEY UPDATE k = VALUES(k), v = VALUES(v)").Replace(q)
		if strings.HasPrefix(q, "UPDATE") {
			// UPDATE ... SET v = v + ?, k = ? WHERE id = ?: the id last.
			args = []any{args[1], args[2], args[0]}
		}
		if _, err := db.Exec(fmt.Sprintf(q, "test."+name), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	workload(3, 100, exec)
	script := fmt.Sprintf(`
CREATE TABLE src (
  id INT, k STRING, v INT,
  PRIMARY KEY (id) NOT ENFORCED
) WITH (
  'connector' = 'mysql-cdc', 'hostname' = '127.0.0.1', 'port' = '3306',
  'username' = 'root', 'database-name' = 'test', 'table-name' = '%s',
  'scan.incremental.snapshot.chunk.size' = '16'
);
SELECT k, COUNT(*) AS n, SUM(v) AS s FROM src GROUP BY k;`, name)
	log := runLive(t, script, func() { workload(4, 300, exec) }, func() []string {
		rows, err := db.Query(fmt.Sprintf("SELECT k, COUNT(*), SUM(v) FROM test.%s GROUP BY k", name))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var want []string
		for rows.Next() {
			var k string
			var n, s int64
			if err := rows.Scan(&k, &n, &s); err != nil {
				t.Fatal(err)
			}
			want = append(want, fmt.Sprintf("+I[%s, %d, %d]", k, n, s))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return want
	})
	checkChangelog(t, log)
	if !slices.ContainsFunc(log, func(l string) bool { return strings.HasPrefix(l, "-U") }) {
		t.Fatalf("no -U in the changelog\n%s", strings.Join(log, "\n"))
	}
}

// TestPostgresCDCTypesAndMetadata reads columns of many types and the
// metadata columns, then checks that a declared type the values do not
// fit fails the job naming the table and column.
func TestPostgresCDCTypesAndMetadata(t *testing.T) {
	c := pgConn(t)
	name := uniqueName("sqlcdct")
	pgExec(t, c, fmt.Sprintf(`CREATE TABLE %s (id INT PRIMARY KEY, b BOOLEAN, s SMALLINT, big BIGINT, f DOUBLE PRECISION,
		d NUMERIC(10,3), txt TEXT, bin BYTEA, dt DATE, tm TIME, ts TIMESTAMP, tz TIMESTAMPTZ, j JSONB)`, name))
	pgExec(t, c, fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL", name))
	t.Cleanup(func() {
		pgDropSlot(name)
		pgDropSlot(name + "_b")
		c.Exec(context.Background(), "DROP PUBLICATION IF EXISTS "+name+"_pub")
		c.Exec(context.Background(), "DROP PUBLICATION IF EXISTS "+name+"_b_pub")
		c.Exec(context.Background(), "DROP TABLE IF EXISTS "+name)
	})
	pgExec(t, c, fmt.Sprintf(`INSERT INTO %s VALUES (1, true, 7, 9000000000, 1.5, 12.345, 'héllo', '\xdead', '2024-02-29',
		'13:14:15.25', '2024-02-29 10:11:12.123456', '2024-02-29 10:11:12.5+02', '{"a": 1}')`, name))
	script := fmt.Sprintf(`
CREATE TABLE src (
  id INT, b BOOLEAN, s SMALLINT, big BIGINT, f DOUBLE, d DECIMAL(10, 3), txt STRING, bin BYTES,
  dt DATE, tm TIME(3), ts TIMESTAMP(6), tz TIMESTAMP_LTZ(3), j STRING,
  tn STRING METADATA FROM 'table_name' VIRTUAL, sn STRING METADATA FROM 'schema_name' VIRTUAL,
  dn STRING METADATA FROM 'database_name' VIRTUAL, op TIMESTAMP_LTZ(3) METADATA FROM 'op_ts' VIRTUAL,
  PRIMARY KEY (id) NOT ENFORCED
) WITH (
  'connector' = 'postgres-cdc', 'hostname' = '127.0.0.1', 'username' = 'postgres', 'database-name' = 'test',
  'schema-name' = 'public', 'table-name' = '%s', 'slot.name' = '%s'
);
SELECT id, b, s, big, f, d, txt, bin, dt, tm, ts, tz, j, tn, sn, dn, op > TO_TIMESTAMP_LTZ(946684800000, 3) FROM src;`, name, name)
	// The -U row carries the update's op_ts, not the snapshot row's
	// (as Flink CDC): the changelog is compared, not materialised.
	log := runLiveN(t, script, 3, func(l *liveResult) {
		l.waitRows(t, 1) // the snapshot's row
		pgExec(t, c, fmt.Sprintf("UPDATE %s SET txt = 'x', bin = NULL WHERE id = 1", name))
	}, func() []string {
		return []string{"+I[1, TRUE, 7, 9000000000, 1.5, 12.345, x, NULL, 2024-02-29, 13:14:15.250, 2024-02-29 10:11:12.123456, 2024-02-29 08:11:12.500, {\"a\": 1}, " + name + ", public, test, TRUE]"}
	})
	want := []string{
		// Snapshot rows have op_ts 0 (Flink CDC).
		"+I[1, TRUE, 7, 9000000000, 1.5, 12.345, héllo, x'dead', 2024-02-29, 13:14:15.250, 2024-02-29 10:11:12.123456, 2024-02-29 08:11:12.500, {\"a\": 1}, " + name + ", public, test, FALSE]",
		"-U[1, TRUE, 7, 9000000000, 1.5, 12.345, héllo, x'dead', 2024-02-29, 13:14:15.250, 2024-02-29 10:11:12.123456, 2024-02-29 08:11:12.500, {\"a\": 1}, " + name + ", public, test, TRUE]",
		"+U[1, TRUE, 7, 9000000000, 1.5, 12.345, x, NULL, 2024-02-29, 13:14:15.250, 2024-02-29 10:11:12.123456, 2024-02-29 08:11:12.500, {\"a\": 1}, " + name + ", public, test, TRUE]",
	}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Fatalf("changelog:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}

	// big declared INT: 9000000000 does not fit; the job fails naming
	// the table and the column.
	sess := weirsql.NewSession(weirsql.SessionOptions{})
	_, jobs, err := sess.ExecuteScript(fmt.Sprintf(`
CREATE TABLE src (id INT, big INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
  'connector' = 'postgres-cdc', 'hostname' = '127.0.0.1', 'username' = 'postgres', 'database-name' = 'test',
  'schema-name' = 'public', 'table-name' = '%s', 'slot.name' = '%s_b');
SELECT * FROM src;`, name, name))
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(jobs[0].Options())
	if err := jobs[0].Build(env, func(row.Row) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = env.Execute(ctx)
	if err == nil || !strings.Contains(err.Error(), "postgres-cdc table src (public."+name+")") ||
		!strings.Contains(err.Error(), `field "big"`) || !strings.Contains(err.Error(), "9000000000 overflows INT") {
		t.Fatalf("error %v, want one naming the table, column big and the overflow", err)
	}
}

// TestMySQLCDCTypesAndMetadata reads MariaDB columns of many types into
// declared Flink types, with server-time-zone applied to a TIMESTAMP
// column declared TIMESTAMP, and the metadata columns.
func TestMySQLCDCTypesAndMetadata(t *testing.T) {
	db := mariaDB(t)
	name := uniqueName("sqlcdct")
	if _, err := db.Exec(fmt.Sprintf(`CREATE TABLE test.%s (id INT PRIMARY KEY, b TINYINT(1), u INT UNSIGNED, d DECIMAL(10,3),
		s VARCHAR(20), bl BLOB, dt DATE, tm TIME(3), dtt DATETIME(3), ts1 TIMESTAMP(3) NULL, ts2 TIMESTAMP(3) NULL, e ENUM('x','y')) ENGINE=InnoDB`, name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP TABLE IF EXISTS test." + name) })
	ins := fmt.Sprintf(`INSERT INTO test.%s VALUES (1, 1, 4000000000, 12.345, 'héllo', x'dead', '2024-02-29', '13:14:15.250',
		'2024-02-29 10:11:12.123', FROM_UNIXTIME(1709201472.5), FROM_UNIXTIME(1709201472.5), 'y')`, name)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "SET time_zone = '+00:00'"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), ins); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`
CREATE TABLE src (
  id INT, b BOOLEAN, u BIGINT, d DECIMAL(10, 3), s STRING, bl BYTES, dt DATE, tm TIME(3), dtt TIMESTAMP(3),
  ts1 TIMESTAMP_LTZ(3), ts2 TIMESTAMP(3), e STRING,
  tn STRING METADATA FROM 'table_name' VIRTUAL, dn STRING METADATA FROM 'database_name' VIRTUAL,
  rk STRING METADATA FROM 'row_kind' VIRTUAL,
  PRIMARY KEY (id) NOT ENFORCED
) WITH (
  'connector' = 'mysql-cdc', 'hostname' = '127.0.0.1', 'username' = 'root', 'database-name' = 'test',
  'table-name' = '%s', 'server-time-zone' = 'Europe/Berlin'
);
SELECT * FROM src;`, name)
	// 1709201472.5 is 2024-02-29 10:11:12.5 UTC, 11:11:12.5 in Berlin.
	row1 := "1, TRUE, 4000000000, 12.345, %s, x'dead', 2024-02-29, 13:14:15.250, 2024-02-29 10:11:12.123, 2024-02-29 10:11:12.500, 2024-02-29 11:11:12.500, y, " + name + ", test, %s"
	log := runLiveN(t, script, 3, func(l *liveResult) {
		l.waitRows(t, 1)
		if _, err := conn.ExecContext(context.Background(), fmt.Sprintf("UPDATE test.%s SET s = 'x' WHERE id = 1", name)); err != nil {
			t.Error(err)
		}
	}, func() []string { return nil })
	want := []string{
		"+I[" + fmt.Sprintf(row1, "héllo", "+I") + "]",
		"-U[" + fmt.Sprintf(row1, "héllo", "-U") + "]",
		"+U[" + fmt.Sprintf(row1, "x", "+U") + "]",
	}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Fatalf("changelog:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
}

// TestPostgresCDCNeedsFullIdentity checks that changelog-mode 'all' on a
// table whose updates carry no old row fails the job saying what to do.
func TestPostgresCDCNeedsFullIdentity(t *testing.T) {
	c := pgConn(t)
	name := uniqueName("sqlcdcid")
	pgExec(t, c, fmt.Sprintf("CREATE TABLE %s (id INT PRIMARY KEY, v INT)", name))
	t.Cleanup(func() {
		pgDropSlot(name)
		c.Exec(context.Background(), "DROP PUBLICATION IF EXISTS "+name+"_pub")
		c.Exec(context.Background(), "DROP TABLE IF EXISTS "+name)
	})
	pgExec(t, c, fmt.Sprintf("INSERT INTO %s VALUES (1, 1)", name))
	sess := weirsql.NewSession(weirsql.SessionOptions{})
	_, jobs, err := sess.ExecuteScript(fmt.Sprintf(`
CREATE TABLE src (id INT, v INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
  'connector' = 'postgres-cdc', 'hostname' = '127.0.0.1', 'username' = 'postgres', 'database-name' = 'test',
  'schema-name' = 'public', 'table-name' = '%s', 'slot.name' = '%s');
SELECT * FROM src;`, name, name))
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(jobs[0].Options())
	first := make(chan struct{})
	var once sync.Once
	if err := jobs[0].Build(env, func(row.Row) error { once.Do(func() { close(first) }); return nil }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- env.Execute(ctx) }()
	select {
	case <-first:
	case err := <-errc:
		t.Fatalf("job ended before the snapshot row: %v", err)
	}
	pgExec(t, c, fmt.Sprintf("UPDATE %s SET v = 2 WHERE id = 1", name))
	err = <-errc
	if err == nil || !strings.Contains(err.Error(), "REPLICA IDENTITY FULL") || !strings.Contains(err.Error(), "changelog-mode") {
		t.Fatalf("error %v, want one asking for REPLICA IDENTITY FULL", err)
	}
}

// TestPostgresCDCRestore runs a postgres-cdc GROUP BY job, stops it after
// checkpoints completed while writers run, and restores it from the latest
// checkpoint while more writes come: the source resumes from its
// checkpointed slot position and the aggregation from its state. The two
// runs' changelogs, applied as upserts by group key (a change repeated
// after the restore overwrites its key with the same value), end equal to
// the aggregation on the database.
func TestPostgresCDCRestore(t *testing.T) {
	c := pgConn(t)
	name := uniqueName("sqlcdcr")
	pgExec(t, c, fmt.Sprintf("CREATE TABLE %s (id INT PRIMARY KEY, k TEXT NOT NULL, v INT NOT NULL)", name))
	pgExec(t, c, fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL", name))
	t.Cleanup(func() {
		pgDropSlot(name)
		c.Exec(context.Background(), "DROP PUBLICATION IF EXISTS "+name+"_pub")
		c.Exec(context.Background(), "DROP TABLE IF EXISTS "+name)
	})
	exec := func(q string, args ...any) { pgExec(t, c, fmt.Sprintf(q, name), args...) }
	workload(5, 100, exec)
	script := fmt.Sprintf(`
CREATE TABLE src (id INT, k STRING, v INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
  'connector' = 'postgres-cdc', 'hostname' = '127.0.0.1', 'username' = 'postgres', 'database-name' = 'test',
  'schema-name' = 'public', 'table-name' = '%s', 'slot.name' = '%s');
SELECT k, COUNT(*) AS n, SUM(v) AS s FROM src GROUP BY k;`, name, name)
	dir := t.TempDir()
	var mu sync.Mutex
	view := map[string]string{}
	var types []row.Type
	// inserts counts the +I rows per group key of the current run.
	inserts := map[string]int{}
	apply := func(r row.Row) error {
		mu.Lock()
		defer mu.Unlock()
		k := r.Fields[0].Str()
		if r.Kind == row.Insert {
			inserts[k]++
		}
		switch r.Kind {
		case row.Insert, row.UpdateAfter:
			view[k] = row.FormatRow(r.WithKind(row.Insert), types)
		case row.Delete:
			delete(view, k)
		}
		return nil
	}
	run := func(restore string, work func(), done func() bool) {
		t.Helper()
		sess := weirsql.NewSession(weirsql.SessionOptions{})
		_, jobs, err := sess.ExecuteScript(script)
		if err != nil {
			t.Fatal(err)
		}
		types = jobs[0].Schema().Types()
		opts := jobs[0].Options()
		opts.Checkpoints.Interval = 50 * time.Millisecond
		opts.Checkpoints.Dir = dir
		opts.Restore = restore
		env := weir.NewEnvironment(opts)
		if err := jobs[0].Build(env, apply); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- env.Execute(ctx) }()
		work()
		deadline := time.Now().Add(60 * time.Second)
		for !done() {
			select {
			case err := <-errc:
				t.Fatalf("the job ended: %v", err)
			case <-time.After(20 * time.Millisecond): // poll the condition
			}
			if time.Now().After(deadline) {
				mu.Lock()
				t.Fatalf("condition not reached in 60 s; view %v", view)
			}
		}
		cancel()
		if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("job: %v", err)
		}
	}
	// checkpoints returns the id of the newest completed checkpoint (the
	// directory keeps only the last one).
	checkpoints := func() int {
		m, _ := filepath.Glob(filepath.Join(dir, "chk-*", "_metadata"))
		newest := 0
		for _, p := range m {
			var id int
			fmt.Sscanf(filepath.Base(filepath.Dir(p)), "chk-%d", &id)
			newest = max(newest, id)
		}
		return newest
	}
	// Run 1 stops once two checkpoints completed after its output held
	// every group.
	seenAt := -1
	run("", func() { workload(6, 150, exec) }, func() bool {
		mu.Lock()
		groups := len(view)
		mu.Unlock()
		if seenAt < 0 && groups == 5 {
			seenAt = checkpoints()
		}
		return seenAt >= 0 && checkpoints() >= seenAt+2
	})
	want := func() []string {
		rows, err := c.Query(context.Background(), fmt.Sprintf("SELECT k, COUNT(*), SUM(v) FROM %s GROUP BY k", name))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for rows.Next() {
			var k string
			var n, s int64
			if err := rows.Scan(&k, &n, &s); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("+I[%s, %d, %d]", k, n, s))
		}
		sort.Strings(out)
		return out
	}
	mu.Lock()
	before := maps.Clone(view)
	clear(inserts)
	mu.Unlock()
	var final []string
	run("latest", func() {
		workload(7, 150, exec)
		final = want()
	}, func() bool {
		mu.Lock()
		defer mu.Unlock()
		var got []string
		for _, v := range view {
			got = append(got, v)
		}
		sort.Strings(got)
		return slices.Equal(got, final)
	})
	// A restored aggregation updates the groups it holds (-U/+U); a
	// fresh start (no restore) would snapshot the table again and insert
	// every group anew.
	for k := range before {
		if inserts[k] > 0 {
			t.Fatalf("after the restore group %q was inserted anew (+I), as by a fresh start", k)
		}
	}
}
