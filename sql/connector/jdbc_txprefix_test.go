package connector_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/postgres"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

const pgTestConn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// gatedSource emits (job, 0..n/2-1), waits until gate is closed, then
// emits (job, n/2..n-1) and ends.
type gatedSource struct {
	job  string
	n    int64
	gate chan struct{}
}

func (g *gatedSource) CreateReader(ctx weir.SourceContext) (weir.SourceReader[row.Row], error) {
	r := &gatedReader{g: g}
	for _, it := range ctx.Restored {
		if _, err := fmt.Sscan(string(it), &r.next); err != nil {
			return nil, err
		}
	}
	return r, nil
}

type gatedReader struct {
	g    *gatedSource
	next int64
}

func (r *gatedReader) Available() <-chan struct{} { return r.g.gate }

func (r *gatedReader) Poll(_ context.Context, out *weir.SourceOutput[row.Row]) (weir.PollStatus, error) {
	if r.next == r.g.n/2 {
		select {
		case <-r.g.gate:
		default:
			return weir.NothingAvailable, nil
		}
	}
	if r.next == r.g.n {
		return weir.EndOfInput, nil
	}
	out.Collect(row.Row{Kind: row.Insert, Fields: []row.Value{row.Str(r.g.job), row.Int(r.next)}})
	r.next++
	return weir.MoreAvailable, nil
}

func (r *gatedReader) Close() error { return nil }

// SnapshotState stores the position (the jobs never restore it).
func (r *gatedReader) SnapshotState(int64) ([][]byte, error) {
	return [][]byte{[]byte(fmt.Sprint(r.next))}, nil
}

// jdbcJob is a job writing a gatedSource into table through the jdbc
// sink with exactly-once delivery and checkpoints every 50ms; the sink's
// uid is built from uidPrefix. startJDBCJob's name is the job's name and
// the rows' job column, or "<rows' job>/<job name>".
type jdbcJob struct {
	src    *gatedSource
	done   chan error
	cancel context.CancelFunc
	exited chan struct{} // closed when Execute returned
}

func startJDBCJob(t *testing.T, name, tbl, uidPrefix, extra string, n int64, opts ...func(*weir.Options)) *jdbcJob {
	t.Helper()
	spec := "job STRING\nn BIGINT\n'connector' = 'jdbc'\n'url' = 'jdbc:postgresql://127.0.0.1:5432/test?sslmode=disable'\n" +
		"'username' = 'postgres'\n'table-name' = '" + tbl + "'\n'sink.delivery-guarantee' = 'exactly-once'\n'sink.buffer-flush.max-rows' = '10'\n" + extra
	k, err := connector.Default().CreateSink(table(t, "dst", spec))
	if err != nil {
		t.Fatal(err)
	}
	_, jobName, ok := strings.Cut(name, "/")
	if !ok {
		jobName = name
	}
	o := weir.Options{JobName: jobName, Parallelism: 1,
		Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: t.TempDir()}}
	for _, f := range opts {
		f(&o)
	}
	env := weir.NewEnvironment(o)
	rowsOf, _, _ := strings.Cut(name, "/")
	j := &jdbcJob{src: &gatedSource{job: rowsOf, n: n, gate: make(chan struct{})}, done: make(chan error, 1), exited: make(chan struct{})}
	st := weir.FromSource[row.Row](env, j.src, weir.WatermarkStrategy[row.Row]{}, "gated")
	if _, err := k.Consume(connector.BuildContext{Env: env, Prefix: uidPrefix}, st); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	j.cancel = cancel
	go func() {
		defer close(j.exited)
		defer cancel()
		j.done <- env.Execute(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-j.src.gate:
		default:
			close(j.src.gate)
		}
		<-j.exited // Execute returns once ctx is done
	})
	return j
}

func txpConn(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pgTestConn)
	if err != nil {
		t.Fatalf("PostgreSQL on 127.0.0.1:5432 is unreachable: %v; run scripts/test-services.sh", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func pgInt(t *testing.T, c *pgx.Conn, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// waitUntil polls cond until it holds, failing the test after d or when
// one of jobs ends first.
func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool, jobs ...*jdbcJob) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		for _, j := range jobs {
			select {
			case err := <-j.done:
				t.Fatalf("job %s ended (%v) before %s", j.src.job, err, what)
			default:
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jdbcTestTable creates an append table (job, n) with a unique name and
// drops it (and rolls back what the test left prepared under the
// prefixes starting with uidPrefix) at the end.
func jdbcTestTable(t *testing.T, c *pgx.Conn) (table, uidPrefix string) {
	t.Helper()
	id := fmt.Sprintf("%06x", rand.IntN(1<<24))
	table, uidPrefix = "txprefix_"+id, "txp"+id
	if _, err := c.Exec(context.Background(), "CREATE TABLE "+table+" (job text NOT NULL, n bigint NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		cc, err := pgx.Connect(ctx, pgTestConn)
		if err != nil {
			return
		}
		defer cc.Close(ctx)
		rows, err := cc.Query(ctx, "SELECT gid FROM pg_prepared_xacts WHERE strpos(gid, $1) > 0", id)
		if err == nil {
			gids, _ := pgx.CollectRows(rows, pgx.RowTo[string])
			for _, g := range gids {
				_, _ = cc.Exec(ctx, "ROLLBACK PREPARED '"+g+"'")
			}
		}
		_, _ = cc.Exec(ctx, "DROP TABLE IF EXISTS "+table)
		_, _ = cc.Exec(ctx, "DELETE FROM "+postgres.DefaultCommitTable+" WHERE strpos(prefix, $1) > 0", id)
	})
	return table, uidPrefix
}

// checkRows fails unless table holds (job, 0..n-1) exactly once.
func checkRows(t *testing.T, c *pgx.Conn, table, job string, n int64) {
	t.Helper()
	rows := pgInt(t, c, "SELECT count(*) FROM "+table+" WHERE job = $1", job)
	distinct := pgInt(t, c, "SELECT count(DISTINCT n) FROM "+table+" WHERE job = $1 AND n >= 0 AND n < $2", job, n)
	if rows != n || distinct != n {
		t.Errorf("job %s: %d rows, %d distinct of 0..%d, want each of the %d once", job, rows, distinct, n-1, n)
	}
}

// TestJDBCExactlyOnceTwoJobs runs two jobs of different names, one plan
// (the same sink uid), writing one table exactly-once with the default
// transaction prefix, at the same time: their prefixes differ, and both
// complete with every row once. (With a prefix derived from the plan
// alone, each job's start rolled back the other's prepared transactions
// and ended its sessions.)
func TestJDBCExactlyOnceTwoJobs(t *testing.T) {
	c := txpConn(t)
	tbl, uid := jdbcTestTable(t, c)
	const n = 400
	a := startJDBCJob(t, "job-a", tbl, uid, "", n)
	b := startJDBCJob(t, "job-b", tbl, uid, "", n)
	// Both sinks wrote and committed (their writers started) before
	// either source goes on.
	waitUntil(t, "rows of both jobs", 60*time.Second, func() bool {
		return pgInt(t, c, "SELECT count(DISTINCT job) FROM "+tbl) == 2
	}, a, b)
	close(a.src.gate)
	close(b.src.gate)
	for _, j := range []*jdbcJob{a, b} {
		if err := <-j.done; err != nil {
			t.Fatalf("job %s: %v", j.src.job, err)
		}
	}
	checkRows(t, c, tbl, "job-a", n)
	checkRows(t, c, tbl, "job-b", n)
	if p := pgInt(t, c, "SELECT count(DISTINCT prefix) FROM "+postgres.DefaultCommitTable+" WHERE starts_with(prefix, $1)", "weir-"+uid+"-"); p != 2 {
		t.Errorf("the jobs' commit markers have %d prefixes, want 2", p)
	}
	if p := pgInt(t, c, "SELECT count(*) FROM pg_prepared_xacts WHERE starts_with(gid, $1)", "weir-"+uid+"-"); p != 0 {
		t.Errorf("%d prepared transactions left", p)
	}
}

// TestJDBCExactlyOnceSharedPrefix: a second job given the transaction
// prefix of a running one fails with an error naming the prefix and the
// option, and rolls back none of the first job's transactions, which
// completes with every row once.
func TestJDBCExactlyOnceSharedPrefix(t *testing.T) {
	c := txpConn(t)
	tbl, uid := jdbcTestTable(t, c)
	prefix := "shared-" + uid
	opt := "'sink.transactional-id-prefix' = '" + prefix + "'\n"
	const n = 400
	a := startJDBCJob(t, "job-a", tbl, uid, opt, n)
	waitUntil(t, "rows of job A", 60*time.Second, func() bool {
		return pgInt(t, c, "SELECT count(*) FROM "+tbl) > 0
	}, a)
	b := startJDBCJob(t, "job-b", tbl, uid+"b", opt, n)
	close(b.src.gate)
	err := <-b.done
	if !errors.Is(err, postgres.ErrPrefixInUse) || !strings.Contains(err.Error(), fmt.Sprintf("%q", prefix)) ||
		!strings.Contains(err.Error(), "'sink.transactional-id-prefix'") {
		t.Fatalf("job B: %v, want ErrPrefixInUse naming the prefix and the option", err)
	}
	t.Logf("job B: %v", err)
	close(a.src.gate)
	if err := <-a.done; err != nil {
		t.Fatalf("job A: %v", err)
	}
	checkRows(t, c, tbl, "job-a", n)
	if m := pgInt(t, c, "SELECT count(*) FROM "+tbl+" WHERE job = 'job-b'"); m != 0 {
		t.Errorf("%d rows of job B", m)
	}
}

// TestJDBCExactlyOnceRestoreRenamed restores the checkpoint of a job into
// a job of another name, so of another default transaction prefix: the
// checkpoint's prefix marker makes the restored job roll back what the
// first one left prepared after the checkpoint (here a transaction
// prepared by hand under the first job's prefix), and every row is
// written once.
func TestJDBCExactlyOnceRestoreRenamed(t *testing.T) {
	c := txpConn(t)
	tbl, uid := jdbcTestTable(t, c)
	dir := t.TempDir()
	chk := func(o *weir.Options) { o.Checkpoints.Dir = dir; o.Checkpoints.Retained = 3 }
	const n = 400
	a := startJDBCJob(t, "job-1", tbl, uid, "", n, chk)
	waitUntil(t, "the first half committed", 60*time.Second, func() bool {
		return pgInt(t, c, "SELECT count(*) FROM "+tbl) == n/2
	}, a)
	a.cancel()
	<-a.done
	var prefix1 string
	if err := c.QueryRow(context.Background(), "SELECT DISTINCT prefix FROM "+postgres.DefaultCommitTable+" WHERE starts_with(prefix, $1)", "weir-"+uid+"-").Scan(&prefix1); err != nil {
		t.Fatalf("the first job's prefix: %v", err)
	}
	// A checkpoint after the restored one, prepared but never completed.
	ctx := context.Background()
	for _, q := range []string{"BEGIN", "INSERT INTO " + tbl + " VALUES ('job-1', -1)",
		"PREPARE TRANSACTION '" + postgres.TransactionID(prefix1, 0, 999999, "0badcafe") + "'"} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The rows go on from the first job's position.
	b := startJDBCJob(t, "job-1/job-2", tbl, uid, "", n, chk, func(o *weir.Options) { o.Restore = "latest" })
	close(b.src.gate)
	if err := <-b.done; err != nil {
		t.Fatalf("restored job: %v", err)
	}
	checkRows(t, c, tbl, "job-1", n)
	if p := pgInt(t, c, "SELECT count(*) FROM pg_prepared_xacts WHERE starts_with(gid, $1)", "weir-"+uid+"-"); p != 0 {
		t.Errorf("%d prepared transactions left", p)
	}
	if p := pgInt(t, c, "SELECT count(DISTINCT prefix) FROM "+postgres.DefaultCommitTable+" WHERE starts_with(prefix, $1)", "weir-"+uid+"-"); p != 2 {
		t.Errorf("%d prefixes committed, want 2 (the restored job writes under its own)", p)
	}
}
