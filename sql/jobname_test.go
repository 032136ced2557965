package sql_test

import (
	"testing"

	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// TestJobName checks the job names of Flink: pipeline.name, else
// insert-into_ and the sinks' identifiers qualified by the current
// catalog and database (after USE too), else the caller's name.
func TestJobName(t *testing.T) {
	s := sql.NewSession(sql.SessionOptions{})
	run := func(text string) {
		t.Helper()
		st, err := parser.ParseOne(text)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Execute(st); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
	}
	name := func(text string) string {
		t.Helper()
		st, err := parser.ParseOne(text)
		if err != nil {
			t.Fatal(err)
		}
		return s.JobName(st, "none")
	}
	run("CREATE TABLE t (a INT) WITH ('connector' = 'blackhole')")
	run("CREATE DATABASE db1")
	run("CREATE TABLE db1.u (a INT) WITH ('connector' = 'blackhole')")
	for _, c := range []struct{ stmt, want string }{
		{"INSERT INTO t SELECT 1", "insert-into_default_catalog.default_database.t"},
		{"EXECUTE STATEMENT SET BEGIN INSERT INTO t SELECT 1; INSERT INTO db1.u SELECT 2; END",
			"insert-into_default_catalog.default_database.t,default_catalog.db1.u"},
		{"SELECT 1", "none"},
	} {
		if got := name(c.stmt); got != c.want {
			t.Errorf("%s: job name %q, want %q", c.stmt, got, c.want)
		}
	}
	run("USE db1")
	if got, want := name("INSERT INTO u SELECT 1"), "insert-into_default_catalog.db1.u"; got != want {
		t.Errorf("after USE db1: job name %q, want %q", got, want)
	}
	run("SET 'pipeline.name' = 'my job'")
	if got := name("INSERT INTO u SELECT 1"); got != "my job" {
		t.Errorf("with pipeline.name: job name %q, want %q", got, "my job")
	}
}
