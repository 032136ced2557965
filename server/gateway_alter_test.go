package server

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSQLGatewayAlterReplayed: the job an INSERT submits is planned again
// from the session's recorded statements (Server.prepare), so those must
// include ALTER statements (ALTER TABLE|VIEW|FUNCTION|DATABASE|CATALOG,
// modules): here the job must write to the path ALTER TABLE set, not to
// the one CREATE TABLE gave. Before, ALTER TABLE was not recorded: the
// session planned the INSERT against the altered table, the job ran
// against the original one.
func TestSQLGatewayAlterReplayed(t *testing.T) {
	leakCheck(t)
	ts := newTestServer(t, Options{})
	dir := t.TempDir()
	before, after := filepath.Join(dir, "before"), filepath.Join(dir, "after")
	sh := ts.openSession(map[string]string{"execution.checkpointing.interval": "50ms"})
	ts.runStatic(sh, `CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '3', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '3')`)
	ts.runStatic(sh, `CREATE TABLE dst (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '`+before+`', 'format' = 'csv')`)
	ts.runStatic(sh, `ALTER TABLE dst SET ('path' = '`+after+`')`)
	f := ts.runStatic(sh, "INSERT INTO dst SELECT id FROM src")
	if f.JobID == "" {
		t.Fatalf("INSERT: no job id: %+v", f)
	}
	waitFor(t, "the job finished", func() bool { return ts.state(f.JobID) == "FINISHED" })
	if _, err := os.Stat(before); err == nil {
		t.Errorf("the job wrote to %s, the path before ALTER TABLE", before)
	}
	if ents, err := os.ReadDir(after); err != nil || len(ents) == 0 {
		t.Errorf("the job wrote nothing to %s, the path ALTER TABLE set (%v)", after, err)
	}
}
