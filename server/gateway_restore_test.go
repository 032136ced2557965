package server

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/internal/crashtest"
)

// TestSQLGatewayStateRecoveryPath: a job stopped with a savepoint, then an
// INSERT of the same query in a session with execution.state-recovery.path
// set to that savepoint (as a file URI): the second job continues where
// the first stopped, so the table holds 1..n, each once (started fresh it
// would write the first rows again).
func TestSQLGatewayStateRecoveryPath(t *testing.T) {
	leakCheck(t)
	ts := newTestServer(t, Options{})
	out := t.TempDir()
	sh := ts.openSession(map[string]string{"execution.checkpointing.interval": "50ms"})
	ts.runStatic(sh, `CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '100000000', 'rows-per-second' = '500')`)
	ts.runStatic(sh, `CREATE TABLE dst (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '`+out+`', 'format' = 'csv')`)
	id := ts.insertJob(sh)
	waitFor(t, "rows committed", func() bool { return len(crashtest.CommittedInts(t, out)) > 0 })
	f := ts.runStatic(sh, "STOP JOB '"+id+"' WITH SAVEPOINT")
	path := f.Results.Data[0].Fields[0].(string)
	first := crashtest.CommittedInts(t, out)
	crashtest.CheckSequence(t, first)

	ts.runStatic(sh, "SET 'execution.state-recovery.path' = 'file://"+path+"'")
	id2 := ts.insertJob(sh)
	waitFor(t, "rows of the second job committed", func() bool { return len(crashtest.CommittedInts(t, out)) > len(first) })
	ts.runStatic(sh, "STOP JOB '"+id2+"' WITH SAVEPOINT")
	all := crashtest.CommittedInts(t, out)
	if len(all) <= len(first) {
		t.Fatalf("the second job committed nothing (%d rows)", len(all))
	}
	crashtest.CheckSequence(t, all)

	// A recovery path outside the savepoint roots is refused.
	ts.runStatic(sh, "SET 'execution.state-recovery.path' = '"+t.TempDir()+"'")
	if msg := ts.failedStatement(sh, "INSERT INTO dst SELECT id FROM src"); !strings.Contains(msg, "execution.state-recovery.path") || !strings.Contains(msg, "outside the savepoint roots") {
		t.Errorf("INSERT with a recovery path outside the roots: %s", msg)
	}
}
