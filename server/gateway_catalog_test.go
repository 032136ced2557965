package server

import (
	"strings"
	"testing"
)

// TestSQLGatewayDatabaseInScript checks that CREATE DATABASE and USE
// belong to a session's script: an INSERT into a table of another
// database is recorded with them, so that its job resumes alone, and is
// named after the table's full identifier.
func TestSQLGatewayDatabaseInScript(t *testing.T) {
	leakCheck(t)
	ts := newTestServer(t, Options{})
	sh := ts.openSession(nil)
	ts.runStatic(sh, `CREATE DATABASE db1 COMMENT 'first'`)
	ts.runStatic(sh, `USE db1`)
	if f := ts.runStatic(sh, `SHOW CURRENT DATABASE`); len(f.Results.Data) != 1 || f.Results.Data[0].Fields[0] != "db1" {
		t.Fatalf("SHOW CURRENT DATABASE: %+v, want db1", f.Results.Data)
	}
	ts.runStatic(sh, `CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '10')`)
	ts.runStatic(sh, `CREATE TABLE dst (id BIGINT) WITH ('connector' = 'blackhole')`)
	oh := ts.exec(sh, "INSERT INTO dst SELECT id FROM src")
	code, f, b := ts.fetch(sh, oh, 0)
	if code != 200 || f.JobID == "" {
		t.Fatalf("insert result: %d %s", code, b)
	}
	id := f.JobID
	_, ov := ts.do("GET", "/jobs/"+id, nil)
	if ov["name"] != "insert-into_default_catalog.db1.dst" {
		t.Errorf("job name %v, want insert-into_default_catalog.db1.dst", ov["name"])
	}
	rec := ts.s.job(id).record()
	for _, want := range []string{"CREATE DATABASE db1", "USE db1", "CREATE TABLE src", "INSERT INTO dst"} {
		if !strings.Contains(rec.SQL, want) {
			t.Errorf("script lacks %q:\n%s", want, rec.SQL)
		}
	}
	if _, err := ts.s.prepare(&rec); err != nil {
		t.Errorf("the recorded script does not plan: %v", err)
	}
	waitFor(t, "the job finished", func() bool { return ts.state(id) == "FINISHED" })
}
