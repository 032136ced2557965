package server

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// committedIDs returns the ids in the visible part files under dir,
// sorted.
func committedIDs(t *testing.T, dir string) []int {
	t.Helper()
	var got []int
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range strings.Fields(string(b)) {
			v, err := strconv.Atoi(l)
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Ints(got)
	return got
}

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
	waitFor(t, "rows committed", func() bool { return len(committedIDs(t, out)) > 0 })
	f := ts.runStatic(sh, "STOP JOB '"+id+"' WITH SAVEPOINT")
	path := f.Results.Data[0].Fields[0].(string)
	first := committedIDs(t, out)
	checkSequence(t, first)

	ts.runStatic(sh, "SET 'execution.state-recovery.path' = 'file://"+path+"'")
	id2 := ts.insertJob(sh)
	waitFor(t, "rows of the second job committed", func() bool { return len(committedIDs(t, out)) > len(first) })
	ts.runStatic(sh, "STOP JOB '"+id2+"' WITH SAVEPOINT")
	all := committedIDs(t, out)
	if len(all) <= len(first) {
		t.Fatalf("the second job committed nothing (%d rows)", len(all))
	}
	checkSequence(t, all)

	// A recovery path outside the savepoint roots is refused.
	ts.runStatic(sh, "SET 'execution.state-recovery.path' = '"+t.TempDir()+"'")
	if msg := ts.failedStatement(sh, "INSERT INTO dst SELECT id FROM src"); !strings.Contains(msg, "execution.state-recovery.path") || !strings.Contains(msg, "outside the savepoint roots") {
		t.Errorf("INSERT with a recovery path outside the roots: %s", msg)
	}
}

// checkSequence checks that ids are 1..len(ids).
func checkSequence(t *testing.T, ids []int) {
	t.Helper()
	for i, v := range ids {
		if v != i+1 {
			t.Fatalf("row %d is %d, want %d: the table does not hold 1..%d once each", i, v, i+1, len(ids))
		}
	}
}
