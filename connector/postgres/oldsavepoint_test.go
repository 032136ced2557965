package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/weirstream/weir"
)

// TestRestoreOldSavepoint: a job restored from a savepoint taken more than
// 1000 checkpoints ago (its transaction committed when the savepoint
// completed, its marker since pruned) starts: the commit of the
// savepoint's committable finds a later marker of the subtask, proof that
// the marker was pruned after a commit. Before, it failed with
// ErrTransactionLost on every restore, so the savepoint could never be
// used. A transaction rolled back behind the sink's back is still
// reported lost.
func TestRestoreOldSavepoint(t *testing.T) {
	c := db(t)
	table := createTestTable(t, c, "oldsp", "k text NOT NULL, v bigint NOT NULL")
	prefix := uniqueName(t, "oldsp")
	o := SinkOptions[kv]{ConnString: testConnString, Table: table, Columns: []string{"k", "v"}, Values: kvValues,
		Guarantee: ExactlyOnce, TransactionPrefix: prefix}
	t.Cleanup(func() { exec(t, c, "DELETE FROM "+DefaultCommitTable+" WHERE prefix = $1", prefix) })
	ctx := context.Background()
	w := newWriter(t, o, 0, 1).(weir.TwoPhaseCommitWriter[kv])
	var savepoint [][]byte
	for _, id := range []int64{5, 600, 1200} {
		write(t, w, kv{"a", id, ""})
		items, err := w.PreCommit(ctx, id)
		if err == nil {
			err = w.Commit(ctx, items)
		}
		if err != nil {
			t.Fatal(err)
		}
		if id == 5 {
			savepoint = items
		}
	}
	w.Close()
	if n := queryInt(t, c, "SELECT count(*) FROM "+DefaultCommitTable+" WHERE prefix = $1 AND checkpoint = 5", prefix); n != 0 {
		t.Fatalf("the marker of checkpoint 5 is still there (%d): the test needs it pruned", n)
	}
	// The restore of the savepoint: the engine commits its committables.
	o.JobID = t.Name() // the same job as newWriter's
	r := NewSink(o)
	rw, err := r.CreateWriter(weir.SinkContext{Subtask: 0, Parallelism: 1, Restored: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rw.Close() })
	if err := rw.(weir.TwoPhaseCommitWriter[kv]).Commit(ctx, savepoint); err != nil {
		t.Fatalf("restoring a savepoint of checkpoint 5 after checkpoint 1200: %v", err)
	}
	if n := queryInt(t, c, "SELECT count(*) FROM "+table); n != 3 {
		t.Fatalf("%d rows, want 3", n)
	}

	// A transaction prepared after the later markers and rolled back
	// behind the sink's back is lost.
	w2 := newWriter(t, o, 0, 1).(weir.TwoPhaseCommitWriter[kv])
	write(t, w2, kv{"b", 1, ""})
	items, err := w2.PreCommit(ctx, 1201)
	if err != nil {
		t.Fatal(err)
	}
	cm, _ := decodeCommittable(items[0])
	exec(t, c, "ROLLBACK PREPARED "+quoteLiteral(cm.gid))
	if err := w2.Commit(ctx, items); !errors.Is(err, ErrTransactionLost) {
		t.Fatalf("commit of a rolled back transaction: %v, want ErrTransactionLost", err)
	}
}
