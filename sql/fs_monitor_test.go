package sql_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/parser"
)

// putCSV makes a file appear whole under dir (written hidden, then
// renamed), as a continuous filesystem source's input should.
func putCSV(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(p), "_"+filepath.Base(p))
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

// TestFilesystemMonitorInterval: a filesystem table with
// source.monitor-interval is an unbounded source: a streaming query reads
// the files present, then each file that appears (in new partition
// directories too) once; the partition predicate still applies to new
// partitions; a batch query over it is refused.
func TestFilesystemMonitorInterval(t *testing.T) {
	dir := t.TempDir()
	putCSV(t, dir, "dt=a/1.csv", "1,x\n2,y\n")
	sess := sql.NewSession(sql.SessionOptions{Connectors: connector.Default()})
	ddl := fmt.Sprintf(`CREATE TABLE t (id BIGINT, v STRING, dt STRING) PARTITIONED BY (dt)
  WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv', 'source.monitor-interval' = '20 ms');`, dir)
	rows, wait, ended := startJob(t, sess, ddl+`
SELECT id, v, dt FROM t WHERE dt <> 'skip';`, 1)
	var got []string
	next := func(want string) {
		t.Helper()
		select {
		case r := <-rows:
			s := fmt.Sprintf("%d,%s,%s", r.Fields[0].Int(), r.Fields[1].Str(), r.Fields[2].Str())
			got = append(got, s)
			if s != want {
				t.Fatalf("rows %v, want %s last", got, want)
			}
		case <-ended:
			t.Fatalf("the job ended (a continuous source never does): %v; rows %v", wait(), got)
		case <-time.After(time.Minute):
			t.Fatalf("no row %s; rows %v", want, got)
		}
	}
	next("1,x,a")
	next("2,y,a")
	// A new partition, a pruned one, and a file outside any partition
	// directory (not the table's).
	putCSV(t, dir, "dt=b/2.csv", "3,z\n")
	putCSV(t, dir, "dt=skip/3.csv", "4,no\n")
	putCSV(t, dir, "stray.csv", "5,no\n")
	next("3,z,b")
	// At parallelism 1 files are read in the order they are found: once
	// the marker's row arrives, the skipped files were listed and not read.
	putCSV(t, dir, "dt=c/4.csv", "6,m\n")
	next("6,m,c")
	select {
	case r := <-rows:
		t.Fatalf("unexpected row %v", r)
	default:
	}

	// The batch mode refuses the unbounded table, as Flink does.
	sess2 := sql.NewSession(sql.SessionOptions{Connectors: connector.Default()})
	err := execAll(sess2, "SET 'execution.runtime-mode' = 'batch';\n"+ddl+"\nSELECT * FROM t;")
	if err == nil || !strings.Contains(err.Error(), "Querying an unbounded table 'default_catalog.default_database.t' in batch mode is not allowed") {
		t.Fatalf("batch query over a monitored table: %v", err)
	}
}

// TestFilesystemMonitorIntervalErrors: invalid values of
// source.monitor-interval are errors naming the option.
func TestFilesystemMonitorIntervalErrors(t *testing.T) {
	dir := t.TempDir()
	putCSV(t, dir, "1.csv", "1\n")
	for _, c := range []struct{ format, value, want string }{
		{"csv", "0 s", "the interval must be greater than 0"},
		{"csv", "0", "the interval must be greater than 0"},
		{"csv", "soon", "expected a duration"},
		{"csv", "-5 s", "expected a duration"},
		{"parquet", "1 s", "not supported yet with 'format' = 'parquet'"},
	} {
		sess := sql.NewSession(sql.SessionOptions{Connectors: connector.Default()})
		err := execAll(sess, fmt.Sprintf(`CREATE TABLE t (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = '%s', 'source.monitor-interval' = '%s');
SELECT * FROM t;`, dir, c.format, c.value))
		if err == nil || !strings.Contains(err.Error(), "'source.monitor-interval'") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: %v, want an error naming the option: %s", c.format, c.value, err, c.want)
		}
	}
}

// execAll plans every statement of script, builds the job of the last
// query (where the connector's options are checked) and returns the first
// error.
func execAll(sess *sql.Session, script string) error {
	stmts, err := parser.Parse(script)
	if err != nil {
		return err
	}
	var job *sql.Job
	for _, st := range stmts {
		_, j, err := sess.Execute(st)
		if err != nil {
			return err
		}
		if j != nil {
			job = j
		}
	}
	if job == nil {
		return nil
	}
	return job.Build(weir.NewEnvironment(job.Options()), func(row.Row) error { return nil })
}

// TestFilesystemMonitorPrunesLaterPartitions: a partition predicate that
// no partition matches when the job is planned keeps the continuous scan
// (a bounded table's becomes an empty Values) and is pushed into the
// source, which reads the matching partition once it appears and never
// opens the others: a file of a pruned partition that does not parse
// would fail the job if it were read.
func TestFilesystemMonitorPrunesLaterPartitions(t *testing.T) {
	dir := t.TempDir()
	putCSV(t, dir, "dt=a/1.csv", "1,x\n")
	sess := sql.NewSession(sql.SessionOptions{Connectors: connector.Default()})
	ddl := fmt.Sprintf(`CREATE TABLE t (id BIGINT, v STRING, dt STRING) PARTITIONED BY (dt)
  WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv', 'source.monitor-interval' = '20 ms');`, dir)
	rows, wait, ended := startJob(t, sess, ddl+`
SELECT id, v FROM t WHERE dt = 'later';`, 1)
	putCSV(t, dir, "dt=bad/2.csv", "not a number,x\n")
	putCSV(t, dir, "dt=later/3.csv", "3,y\n")
	select {
	case r := <-rows:
		if got := fmt.Sprintf("%d,%s", r.Fields[0].Int(), r.Fields[1].Str()); got != "3,y" {
			t.Fatalf("row %s, want 3,y", got)
		}
	case <-ended:
		t.Fatalf("the job ended: %v", wait())
	case <-time.After(time.Minute):
		t.Fatal("no row of the later partition")
	}
}
