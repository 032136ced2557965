package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// restoredWriter is a writer of a job restored from a checkpoint
// (weir.SinkContext.Restored), as the sink operator creates it.
func restoredWriter(t *testing.T, o SinkOptions[kv]) weir.TwoPhaseCommitWriter[kv] {
	t.Helper()
	if o.JobID == "" {
		o.JobID = t.Name()
	}
	w, err := NewSink(o).CreateWriter(weir.SinkContext{Parallelism: 1, Restored: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w.(weir.TwoPhaseCommitWriter[kv])
}

// withoutMarkers drops the prefix markers from PreCommit's committables:
// what Weir versions before the markers stored in a checkpoint (the
// encoding of the other committables did not change).
func withoutMarkers(t *testing.T, items [][]byte) [][]byte {
	t.Helper()
	var out [][]byte
	for _, it := range items {
		c, err := decodeCommittable(it)
		if err != nil {
			t.Fatal(err)
		}
		if !c.marker {
			out = append(out, it)
		}
	}
	return out
}

// prepareRun writes recs in checkpoint 1 (prepared, its committables
// returned) and recs2 in checkpoint 2 (prepared, never completed) with a
// writer of prefix, which it closes: the state a run leaves when it dies
// after checkpoint 1 completed but before its commit, with checkpoint 2
// under way.
func prepareRun(t *testing.T, o SinkOptions[kv], recs, recs2 []kv) [][]byte {
	t.Helper()
	ctx := context.Background()
	w := newWriter(t, o, 0, 1).(weir.TwoPhaseCommitWriter[kv])
	write(t, w, recs...)
	items, err := w.PreCommit(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	write(t, w, recs2...)
	if _, err := w.PreCommit(ctx, 2); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return items
}

// TestRestoreOldCheckpoint restores checkpoints of the Weir versions
// before the prefix markers, taken under the old default prefix (now
// LegacyTransactionPrefix) by a sink whose prefix is now another: the
// checkpoint's transaction is committed and the later one rolled back,
// whether the checkpoint names a transaction (its gid gives the prefix)
// or none (LegacyTransactionPrefix does).
func TestRestoreOldCheckpoint(t *testing.T) {
	c := db(t)
	ctx := context.Background()
	for _, named := range []bool{true, false} {
		t.Run(fmt.Sprintf("named=%v", named), func(t *testing.T) {
			table := createTestTable(t, c, "old", "k text NOT NULL, v bigint NOT NULL")
			legacy, prefix := uniqueName(t, "legacy"), uniqueName(t, "new")
			o := SinkOptions[kv]{ConnString: testConnString, Table: table, Columns: []string{"k", "v"}, Values: kvValues,
				Guarantee: ExactlyOnce, TransactionPrefix: legacy}
			var first []kv
			if named {
				first = []kv{{"a", 1, ""}, {"b", 2, ""}}
			}
			items := withoutMarkers(t, prepareRun(t, o, first, []kv{{"later", 9, ""}}))
			if len(items) != len(first)/2 {
				t.Fatalf("%d committables, want %d", len(items), len(first)/2)
			}
			if n := preparedOf(t, c, legacy); n != int64(1+len(items)) {
				t.Fatalf("%d prepared transactions of the legacy prefix, want %d", n, 1+len(items))
			}
			o.TransactionPrefix, o.LegacyTransactionPrefix = prefix, legacy
			w := restoredWriter(t, o)
			if len(items) > 0 {
				if err := w.Commit(ctx, items); err != nil {
					t.Fatalf("commit of the restored checkpoint: %v", err)
				}
			}
			write(t, w, kv{"c", 3, ""})
			items, err := w.PreCommit(ctx, 2)
			if err == nil {
				err = w.Commit(ctx, items)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := "map[a:1 b:2 c:3]"
			if !named {
				want = "map[c:3]"
			}
			if got := fmt.Sprint(keyVals(t, c, table)); got != want {
				t.Fatalf("table %s, want %s", got, want)
			}
			if n := preparedOf(t, c, legacy) + preparedOf(t, c, prefix); n != 0 {
				t.Fatalf("%d prepared transactions left", n)
			}
			for _, it := range items {
				if m, _ := decodeCommittable(it); m.marker && m.gid != prefix {
					t.Fatalf("marker names prefix %q, want %q", m.gid, prefix)
				}
			}
		})
	}
}

// TestRestoreRenamedPrefix: a checkpoint's markers name its prefix, so a
// job restored under another prefix rolls back the leftovers of the old
// one even when the checkpoint names no transaction.
func TestRestoreRenamedPrefix(t *testing.T) {
	c := db(t)
	ctx := context.Background()
	table := createTestTable(t, c, "ren", "k text NOT NULL, v bigint NOT NULL")
	old, prefix := uniqueName(t, "old"), uniqueName(t, "new")
	o := SinkOptions[kv]{ConnString: testConnString, Table: table, Columns: []string{"k", "v"}, Values: kvValues,
		Guarantee: ExactlyOnce, TransactionPrefix: old}
	items := prepareRun(t, o, nil, []kv{{"later", 9, ""}})
	if len(items) != 1 {
		t.Fatalf("%d committables of a checkpoint without records, want its marker", len(items))
	}
	o.TransactionPrefix = prefix
	w := restoredWriter(t, o)
	if err := w.Commit(ctx, items); err != nil {
		t.Fatal(err)
	}
	write(t, w, kv{"c", 3, ""})
	items, err := w.PreCommit(ctx, 2)
	if err == nil {
		err = w.Commit(ctx, items)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(keyVals(t, c, table)); got != "map[c:3]" {
		t.Fatalf("table %s", got)
	}
	if n := preparedOf(t, c, old); n != 0 {
		t.Fatalf("%d prepared transactions of the old prefix left", n)
	}
}

// TestPrefixInUse: a writer whose prefix a live session of another job
// uses fails with ErrPrefixInUse, naming the prefix, and rolls back none
// of that job's prepared transactions; the other job then commits them.
func TestPrefixInUse(t *testing.T) {
	c := db(t)
	ctx := context.Background()
	table := createTestTable(t, c, "inuse", "k text NOT NULL, v bigint NOT NULL")
	prefix := uniqueName(t, "shared")
	o := SinkOptions[kv]{ConnString: testConnString, Table: table, Columns: []string{"k", "v"}, Values: kvValues,
		Guarantee: ExactlyOnce, TransactionPrefix: prefix}
	oa, ob := o, o
	oa.JobID, ob.JobID = "job-a", "job-b"
	a := newWriter(t, oa, 0, 1).(weir.TwoPhaseCommitWriter[kv])
	write(t, a, kv{"a", 1, ""})
	itemsA, err := a.PreCommit(ctx, 1) // prepared, its checkpoint not yet complete
	if err != nil {
		t.Fatal(err)
	}
	write(t, a, kv{"a", 2, ""}) // in A's open transaction
	flush(t, a)
	b := newWriter(t, ob, 0, 1)
	start := time.Now()
	err = b.Write(ctx, kv{"b", 1, ""}, 0)
	if !errors.Is(err, ErrPrefixInUse) || !weir.IsRetriable(err) || !strings.Contains(err.Error(), fmt.Sprintf("%q", prefix)) {
		t.Fatalf("writer of another job on the same prefix: %v, want ErrPrefixInUse naming %q", err, prefix)
	}
	if d := time.Since(start); d < prefixGrace {
		t.Fatalf("failed after %v, before the grace of %v", d, prefixGrace)
	}
	if n := preparedOf(t, c, prefix); n != 1 {
		t.Fatalf("%d prepared transactions of A, want 1", n)
	}
	if err := a.Commit(ctx, itemsA); err != nil {
		t.Fatalf("A's commit: %v", err)
	}
	itemsA, err = a.PreCommit(ctx, 2)
	if err == nil {
		err = a.Commit(ctx, itemsA)
	}
	if err != nil {
		t.Fatalf("A's second checkpoint: %v", err)
	}
	if n, sum := queryInt(t, c, "SELECT count(*) FROM "+table), queryInt(t, c, "SELECT sum(v) FROM "+table); n != 2 || sum != 3 {
		t.Fatalf("%d rows of sum %d, want A's 2 of sum 3", n, sum)
	}
}

// TestSessionName: the session name holds the prefix's hash, the subtask
// and the job's tag; names of older versions had no tag.
func TestSessionName(t *testing.T) {
	base := sessionBase("p")
	for _, tc := range []struct {
		name string
		sub  int
		job  string
		ok   bool
	}{
		{sessionName("p", 3, jobTag("j")), 3, jobTag("j"), true},
		{base + "12", 12, "", true},
		{base + "x", 0, "", false},
		{sessionName("q", 0, "j"), 0, "", false},
	} {
		sub, job, ok := parseSessionName(base, tc.name)
		if ok != tc.ok || ok && (sub != tc.sub || job != tc.job) {
			t.Errorf("parseSessionName(%q) = %d, %q, %v", tc.name, sub, job, ok)
		}
	}
	if n := len(sessionName(strings.Repeat("x", 120), 32767, jobTag("j"))); n > 63 {
		t.Errorf("session name of %d bytes, over application_name's 63", n)
	}
	for _, gid := range []string{TransactionID("a-b", 2, 7, "0123abcd"), TransactionID("x", 0, 1, "ffffffff")} {
		if p, ok := gidPrefix(gid); !ok || !strings.HasPrefix(gid, p+"-") {
			t.Errorf("gidPrefix(%q) = %q, %v", gid, p, ok)
		}
	}
	if p, _ := gidPrefix(TransactionID("a-b", 2, 7, "0123abcd")); p != "a-b" {
		t.Errorf("gidPrefix = %q, want a-b", p)
	}
	if _, ok := gidPrefix("nope"); ok {
		t.Error("gidPrefix of a foreign gid")
	}
}
