package replayid

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
)

// oldIDs are the ids the version before committables held positions gave
// subtask sub the n records after checkpoint id's barrier:
// prefix/subtask/epoch/index with epoch id+1.
func oldIDs(prefix string, sub int, id int64, n int) map[string]bool {
	out := map[string]bool{}
	for i := range n {
		out[prefix+"/"+strconv.Itoa(sub)+"/"+strconv.FormatInt(id+1, 10)+"/"+strconv.Itoa(i)] = true
	}
	return out
}

// TestOldCommittablesRescaled: a job of the older version, at parallelism
// 2, checkpoint 7; restored at parallelism 3, subtask s of 3 gets other
// records than old subtask s did, so it must not give them the ids the
// old subtask s gave its records (a deduplicating receiver would drop
// them). At the old parallelism it continues the old ids (the replay is
// deduplicated).
func TestOldCommittablesRescaled(t *testing.T) {
	old := binary.AppendVarint(nil, 7)
	// Every old subtask staged one committable at checkpoint 7, and every
	// new subtask receives all of them, one pending commit at a time.
	restore := func(s *Seq, oldParallelism int) {
		t.Helper()
		for range oldParallelism {
			if err := s.Restore([][]byte{old}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for sub := range 2 {
		s := New("job", sub, 3, "r2")
		restore(s, 2)
		used := oldIDs("job", sub, 7, 100)
		for _, id := range ids(s, 100) {
			if used[id] {
				t.Fatalf("subtask %d of 3 restored from parallelism 2 gives a new record id %q, which the old subtask %d gave another record", sub, id, sub)
			}
		}
	}
	s := New("job", 1, 2, "r2")
	restore(s, 2)
	if got := ids(s, 2); strings.Join(got, " ") != "job/1/8/0 job/1/8/1" {
		t.Fatalf("same parallelism: ids %q, want the old version's job/1/8/0 job/1/8/1", got)
	}
}
