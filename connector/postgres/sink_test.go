package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/testnet"
	"github.com/weirstream/weir/row"
)

func kvValues(dst []any, r kv) []any { return append(dst, r.K, r.V) }

func kvKind(r kv) row.Kind {
	if r.Kind == "" {
		return row.Insert
	}
	k, err := row.ParseKind(r.Kind)
	if err != nil {
		panic(err)
	}
	return k
}

func newWriter(t *testing.T, o SinkOptions[kv], subtask, parallelism int) weir.SinkWriter[kv] {
	t.Helper()
	if o.JobID == "" {
		o.JobID = t.Name() // the writers of a test are one job's
	}
	w, err := NewSink(o).CreateWriter(weir.SinkContext{Subtask: subtask, Parallelism: parallelism})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func write(t *testing.T, w weir.SinkWriter[kv], recs ...kv) {
	t.Helper()
	for _, r := range recs {
		if err := w.Write(context.Background(), r, 0); err != nil {
			t.Fatalf("write %+v: %v", r, err)
		}
	}
}

func flush(t *testing.T, w weir.SinkWriter[kv]) {
	t.Helper()
	if err := w.Flush(context.Background(), false); err != nil {
		t.Fatal(err)
	}
}

// TestJob runs a bounded job into an append table and an upsert table
// under each guarantee and checks both tables.
func TestJob(t *testing.T) {
	c := db(t)
	for _, g := range []Guarantee{AtLeastOnce, ExactlyOnce, None} {
		t.Run(g.String(), func(t *testing.T) {
			appendT := createTestTable(t, c, "append", "k text NOT NULL, v bigint NOT NULL")
			upsertT := createTestTable(t, c, "upsert", "k text PRIMARY KEY, v bigint NOT NULL")
			var in []kv
			for i := range 2000 {
				in = append(in, kv{K: fmt.Sprint("k", i%7), V: int64(i)})
			}
			// A retriable failure restores the last checkpoint, as in
			// production.
			env := weir.NewEnvironment(weir.Options{Parallelism: 2,
				Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: t.TempDir()},
				Restore:     "latest", Restart: &weir.FixedDelayRestart{Attempts: 5, Delay: 10 * time.Millisecond}})
			s := weir.FromSlice(env, in)
			prefix := uniqueName(t, "job")
			s.SinkTo(NewSink(SinkOptions[kv]{ConnString: testConnString, Table: appendT, Columns: []string{"k", "v"},
				Values: kvValues, Guarantee: g, TransactionPrefix: prefix + "a", BatchSize: 100}))
			// One subtask, so that the records arrive in order.
			s.SinkTo(NewSink(SinkOptions[kv]{ConnString: testConnString, Table: upsertT,
				Columns: []string{"k", "v"}, Key: []string{"k"}, Values: kvValues, Guarantee: g, TransactionPrefix: prefix + "u", BatchSize: 100})).SetParallelism(1)
			if err := env.Execute(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n, sum := queryInt(t, c, "SELECT count(*) FROM "+appendT), queryInt(t, c, "SELECT sum(v) FROM "+appendT); n != 2000 || sum != 1999*2000/2 {
				t.Fatalf("append table: %d rows, sum %d; want 2000, %d", n, sum, 1999*2000/2)
			}
			got := keyVals(t, c, upsertT)
			for k := range 7 {
				if want := int64(1999 - (1999-k)%7); got[fmt.Sprint("k", k)] != want {
					t.Fatalf("upsert table: k%d = %d, want %d (%v)", k, got[fmt.Sprint("k", k)], want, got)
				}
			}
			if len(got) != 7 {
				t.Fatalf("upsert table has %d rows, want 7", len(got))
			}
			if n := preparedOf(t, c, prefix+"a") + preparedOf(t, c, prefix+"u"); n != 0 {
				t.Fatalf("%d prepared transactions left", n)
			}
		})
	}
}

// TestUpsertDelete applies a changelog (+I, -U, +U, -D) by key, across
// batches, under each guarantee.
func TestUpsertDelete(t *testing.T) {
	c := db(t)
	for _, g := range []Guarantee{AtLeastOnce, ExactlyOnce} {
		t.Run(g.String(), func(t *testing.T) {
			table := createTestTable(t, c, "cl", "k text PRIMARY KEY, v bigint NOT NULL")
			w := newWriter(t, SinkOptions[kv]{ConnString: testConnString, Table: table, Columns: []string{"k", "v"}, Key: []string{"k"},
				Values: kvValues, Kind: kvKind, Guarantee: g, TransactionPrefix: uniqueName(t, "cl"), BatchSize: 3}, 0, 1)
			write(t, w, kv{"a", 1, "+I"}, kv{"b", 2, "+I"}, kv{"c", 3, "+I"}, kv{"a", 1, "-U"}, kv{"a", 10, "+U"},
				kv{"b", 2, "-D"}, kv{"d", 4, ""}, kv{"c", 3, "-D"}, kv{"c", 30, "+I"}, kv{"e", 5, "+I"}, kv{"e", 5, "-D"})
			if tw, ok := w.(weir.TwoPhaseCommitWriter[kv]); ok {
				items, err := tw.PreCommit(context.Background(), 1)
				if err != nil {
					t.Fatal(err)
				}
				if got := keyVals(t, c, table); len(got) != 0 {
					t.Fatalf("rows visible before the commit: %v", got)
				}
				if err := tw.Commit(context.Background(), items); err != nil {
					t.Fatal(err)
				}
			} else {
				flush(t, w)
			}
			got := keyVals(t, c, table)
			want := map[string]int64{"a": 10, "c": 30, "d": 4}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("table %v, want %v", got, want)
			}
		})
	}
}

// TestExactlyOnceRestore drives the two-phase commit by hand through a
// failure: checkpoint 1 committed, checkpoint 2 prepared but never
// completed, then a restore of checkpoint 1 (its commit repeated) at a
// lower parallelism. The restored writers roll back checkpoint 2's
// prepared transactions, and the replayed records land once.
func TestExactlyOnceRestore(t *testing.T) {
	c := db(t)
	table := createTestTable(t, c, "eo", "k text NOT NULL, v bigint NOT NULL")
	prefix := uniqueName(t, "eo")
	o := SinkOptions[kv]{ConnString: testConnString, Table: table, Columns: []string{"k", "v"}, Values: kvValues,
		Guarantee: ExactlyOnce, TransactionPrefix: prefix, BatchSize: 10}
	ctx := context.Background()
	// First run, parallelism 2.
	var ckpt1 [][]byte
	ws := []weir.TwoPhaseCommitWriter[kv]{}
	for s := range 2 {
		w := newWriter(t, o, s, 2).(weir.TwoPhaseCommitWriter[kv])
		ws = append(ws, w)
		write(t, w, kv{fmt.Sprint("s", s), 1, ""}, kv{fmt.Sprint("s", s), 2, ""})
		items, err := w.PreCommit(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		ckpt1 = append(ckpt1, items...)
	}
	for _, w := range ws {
		if err := w.Commit(ctx, ckpt1); err != nil {
			t.Fatal(err)
		}
	}
	// Checkpoint 2 is prepared by both subtasks but never completes.
	for s, w := range ws {
		write(t, w, kv{fmt.Sprint("s", s), 3, ""})
		if _, err := w.PreCommit(ctx, 2); err != nil {
			t.Fatal(err)
		}
		// Records after the barrier, in an open transaction.
		write(t, w, kv{fmt.Sprint("s", s), 4, ""})
		flush(t, w)
		w.Close()
	}
	if n := preparedOf(t, c, prefix); n != 2 {
		t.Fatalf("%d prepared transactions, want 2", n)
	}
	if n := queryInt(t, c, "SELECT count(*) FROM "+table); n != 4 {
		t.Fatalf("%d rows visible, want the 4 of checkpoint 1", n)
	}
	// Restore checkpoint 1 at parallelism 1: the engine commits its
	// committables again, then the writer rolls back checkpoint 2's.
	w := newWriter(t, o, 0, 1).(weir.TwoPhaseCommitWriter[kv])
	if err := w.Commit(ctx, ckpt1); err != nil {
		t.Fatalf("repeated commit: %v", err)
	}
	write(t, w, kv{"s0", 3, ""}, kv{"s1", 3, ""}, kv{"s0", 4, ""}, kv{"s1", 4, ""})
	if n := preparedOf(t, c, prefix); n != 0 {
		t.Fatalf("%d prepared transactions left after the restore", n)
	}
	items, err := w.PreCommit(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, items); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, items); err != nil {
		t.Fatalf("commit twice: %v", err)
	}
	if n, sum := queryInt(t, c, "SELECT count(*) FROM "+table), queryInt(t, c, "SELECT sum(v) FROM "+table); n != 8 || sum != 20 {
		t.Fatalf("%d rows with sum %d, want 8 rows with sum 20", n, sum)
	}
	// A prepared transaction rolled back behind the sink's back is
	// reported lost when its checkpoint commits.
	write(t, w, kv{"x", 100, ""})
	items, err = w.PreCommit(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := decodeCommittable(items[0])
	exec(t, c, "ROLLBACK PREPARED "+quoteLiteral(gid.gid))
	if err := w.Commit(ctx, items); !errors.Is(err, ErrTransactionLost) || !weir.IsDataLoss(err) {
		t.Fatalf("commit of a rolled back transaction: %v, want ErrTransactionLost", err)
	}
}

// TestOutage cuts the connection (through a proxy) under each guarantee.
// At-least-once: the batch in flight is retried on a new connection and
// lands. Exactly-once: the open transaction is lost, the writer fails with
// a retriable error (the job restores its checkpoint), nothing of it is
// visible; a commit during an outage retries until the server is back.
func TestOutage(t *testing.T) {
	c := db(t)
	t.Run("at-least-once", func(t *testing.T) {
		table := createTestTable(t, c, "out", "k text PRIMARY KEY, v bigint NOT NULL")
		proxy := testnet.NewProxy(t, "127.0.0.1:5432")
		retrying := make(chan struct{}, 1)
		w := newWriter(t, SinkOptions[kv]{ConnString: connStringVia(proxy.Addr()), Table: table, Columns: []string{"k", "v"}, Key: []string{"k"},
			Values: kvValues, BatchSize: 2, Logger: slog.New(signalHandler{"retrying", retrying})}, 0, 1)
		write(t, w, kv{"a", 1, ""}, kv{"b", 2, ""})
		proxy.Cut()
		done := make(chan error, 1)
		go func() {
			// c is buffered; d fills the batch, which is written across the outage.
			err := w.Write(context.Background(), kv{"c", 3, ""}, 0)
			if err == nil {
				err = w.Write(context.Background(), kv{"d", 4, ""}, 0)
			}
			done <- err
		}()
		waitSignal(t, retrying, "retry after the cut", 10*time.Second)
		proxy.Restore()
		if err := <-done; err != nil {
			t.Fatalf("write across the outage: %v", err)
		}
		flush(t, w)
		if got := keyVals(t, c, table); len(got) != 4 || got["d"] != 4 {
			t.Fatalf("table %v, want a..d", got)
		}
	})
	t.Run("exactly-once", func(t *testing.T) {
		table := createTestTable(t, c, "out", "k text NOT NULL, v bigint NOT NULL")
		proxy := testnet.NewProxy(t, "127.0.0.1:5432")
		retrying := make(chan struct{}, 1)
		prefix := uniqueName(t, "out")
		o := SinkOptions[kv]{ConnString: connStringVia(proxy.Addr()), Table: table, Columns: []string{"k", "v"}, Values: kvValues,
			Guarantee: ExactlyOnce, TransactionPrefix: prefix, BatchSize: 2, Logger: slog.New(signalHandler{"retrying", retrying})}
		w := newWriter(t, o, 0, 1).(weir.TwoPhaseCommitWriter[kv])
		ctx := context.Background()
		write(t, w, kv{"a", 1, ""}, kv{"b", 2, ""})
		items, err := w.PreCommit(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		// A commit during the outage waits for the server.
		proxy.Cut()
		done := make(chan error, 1)
		go func() { done <- w.Commit(ctx, items) }()
		waitSignal(t, retrying, "commit retry after the cut", 10*time.Second)
		proxy.Restore()
		if err := <-done; err != nil {
			t.Fatalf("commit across the outage: %v", err)
		}
		// Records of an open transaction: the cut loses it.
		write(t, w, kv{"c", 3, ""}, kv{"d", 4, ""})
		proxy.Cut()
		err = w.Write(ctx, kv{"e", 5, ""}, 0)
		if err == nil {
			err = w.Write(ctx, kv{"f", 6, ""}, 0)
		}
		if err == nil || !weir.IsRetriable(err) || !strings.Contains(err.Error(), "restore its last checkpoint") {
			t.Fatalf("write after the cut: %v, want a retriable error about the lost transaction", err)
		}
		if _, err := w.PreCommit(ctx, 2); err == nil {
			t.Fatal("PreCommit after the lost transaction succeeded")
		}
		w.Close()
		proxy.Restore()
		if got := keyVals(t, c, table); len(got) != 2 {
			t.Fatalf("table %v, want only checkpoint 1's a and b", got)
		}
		// The restored writer replays c, d.
		w2 := newWriter(t, o, 0, 1).(weir.TwoPhaseCommitWriter[kv])
		if err := w2.Commit(ctx, items); err != nil {
			t.Fatal(err)
		}
		write(t, w2, kv{"c", 3, ""}, kv{"d", 4, ""})
		items, err = w2.PreCommit(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if err := w2.Commit(ctx, items); err != nil {
			t.Fatal(err)
		}
		if got := keyVals(t, c, table); len(got) != 4 || queryInt(t, c, "SELECT count(*) FROM "+table) != 4 {
			t.Fatalf("table %v, want a..d once", got)
		}
	})
}

// TestBadRecords writes records the server rejects (NOT NULL, CHECK, a
// value that does not fit the column type) under both policies.
func TestBadRecords(t *testing.T) {
	c := db(t)
	type rec struct {
		ID   int64
		Name *string
		Qty  any
	}
	name := func(s string) *string { return &s }
	in := []rec{{1, name("ok"), 1}, {2, nil, 1}, {3, name("neg"), -5}, {4, name("big"), "not a number"}, {5, name("ok2"), 2}}
	values := func(dst []any, r rec) []any { return append(dst, r.ID, r.Name, r.Qty) }
	for _, g := range []Guarantee{AtLeastOnce, ExactlyOnce} {
		t.Run(g.String()+"/dead-letter-table", func(t *testing.T) {
			table := createTestTable(t, c, "bad", "id bigint PRIMARY KEY, name text NOT NULL, qty int CHECK (qty >= 0)")
			dlt := uniqueName(t, "dlt")
			t.Cleanup(func() { exec(t, db(t), "DROP TABLE IF EXISTS "+dlt) })
			w, err := NewSink(SinkOptions[rec]{ConnString: testConnString, Table: table, Columns: []string{"id", "name", "qty"}, Key: []string{"id"},
				Values: values, Guarantee: g, TransactionPrefix: uniqueName(t, "bad"), DeadLetterTable: dlt}).
				CreateWriter(weir.SinkContext{Parallelism: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			ctx := context.Background()
			for _, r := range in {
				if err := w.Write(ctx, r, 0); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(ctx, false); err != nil {
				t.Fatal(err)
			}
			if tw, ok := w.(weir.TwoPhaseCommitWriter[rec]); ok {
				items, err := tw.PreCommit(ctx, 1)
				if err != nil {
					t.Fatal(err)
				}
				if err := tw.Commit(ctx, items); err != nil {
					t.Fatal(err)
				}
			}
			if n := queryInt(t, c, "SELECT count(*) FROM "+table); n != 2 {
				t.Fatalf("%d good rows, want 2", n)
			}
			rows, err := c.Query(ctx, "SELECT source, field, reason, raw FROM "+dlt+" ORDER BY source")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rows.Next() {
				var src, field, reason string
				var raw []byte
				if err := rows.Scan(&src, &field, &reason, &raw); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s | %s | %s | %s", src, field, reason, raw))
			}
			if len(got) != 3 {
				t.Fatalf("dead letters:\n%s\nwant 3", strings.Join(got, "\n"))
			}
			for i, want := range []string{"ID:2", "ID:3", "ID:4"} {
				if !strings.Contains(got[i], want) || !strings.Contains(got[i], table) {
					t.Errorf("dead letter %d = %q, want it to name the table and record %s", i, got[i], want)
				}
			}
			if !strings.Contains(got[0], "| name |") || !strings.Contains(got[0], "23502") {
				t.Errorf("NOT NULL dead letter %q lacks the column or SQLSTATE", got[0])
			}
			if !strings.Contains(got[1], "_qty_check") {
				t.Errorf("CHECK dead letter %q lacks the constraint", got[1])
			}
		})
		t.Run(g.String()+"/fail", func(t *testing.T) {
			table := createTestTable(t, c, "bad", "id bigint PRIMARY KEY, name text NOT NULL, qty int CHECK (qty >= 0)")
			w, err := NewSink(SinkOptions[rec]{ConnString: testConnString, Table: table, Columns: []string{"id", "name", "qty"}, Key: []string{"id"},
				Values: values, Guarantee: g, TransactionPrefix: uniqueName(t, "bad")}).CreateWriter(weir.SinkContext{Parallelism: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			ctx := context.Background()
			for _, r := range in[2:4] {
				if err := w.Write(ctx, r, 0); err != nil {
					t.Fatal(err)
				}
			}
			err = w.Flush(ctx, false)
			var bre *weir.BadRecordError
			if !errors.As(err, &bre) || !strings.Contains(err.Error(), "ID:3") || !strings.Contains(err.Error(), "23514") {
				t.Fatalf("flush: %v, want a BadRecordError naming record ID:3 and the check violation", err)
			}
		})
	}
}

// TestOptions checks that invalid options fail when the job starts.
func TestOptions(t *testing.T) {
	ok := SinkOptions[kv]{ConnString: testConnString, Table: "t", Columns: []string{"k", "v"}, Values: kvValues}
	for name, mod := range map[string]func(*SinkOptions[kv]){
		"ConnString":        func(o *SinkOptions[kv]) { o.ConnString = "" },
		"Table":             func(o *SinkOptions[kv]) { o.Table = "" },
		"Columns":           func(o *SinkOptions[kv]) { o.Columns = nil },
		"Values":            func(o *SinkOptions[kv]) { o.Values = nil },
		"Key":               func(o *SinkOptions[kv]) { o.Key = []string{"x"} },
		"Kind":              func(o *SinkOptions[kv]) { o.Kind = kvKind },
		"TransactionPrefix": func(o *SinkOptions[kv]) { o.Guarantee = ExactlyOnce },
	} {
		o := ok
		mod(&o)
		_, err := NewSink(o).CreateWriter(weir.SinkContext{Parallelism: 1})
		if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), "option "+name) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := NewSink(ok).CreateWriter(weir.SinkContext{Parallelism: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestTransactionID(t *testing.T) {
	gid := TransactionID("job-x", 3, 17, "0a1b2c3d")
	if gid != "job-x-3-17-0a1b2c3d" {
		t.Fatal(gid)
	}
	for _, tc := range []struct {
		prefix, gid string
		sub         int
		ok          bool
	}{
		{"job-x", gid, 3, true},
		{"job", gid, 0, false},
		{"job-x-3", gid, 0, false},
		{"job-x", "job-x-03-17-0a1b2c3d", 0, false},
		{"job-x", "job-x-3-17-zz1b2c3d", 0, false},
		{"job-x", "other", 0, false},
	} {
		s, ok := parseTransactionID(tc.prefix, tc.gid)
		if s != tc.sub || ok != tc.ok {
			t.Errorf("parse(%q, %q) = %d, %v", tc.prefix, tc.gid, s, ok)
		}
	}
	c := committable{gid: gid, subtask: 3, parallelism: 4, checkpoint: 17}
	got, err := decodeCommittable(c.encode())
	if err != nil || fmt.Sprint(got) != fmt.Sprint(c) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	d := committable{gid: gid, subtask: 3, parallelism: 4, checkpoint: 17, deferred: true, records: [][]byte{[]byte("ab"), {}, []byte("c")}}
	got, err = decodeCommittable(d.encode())
	if err != nil || fmt.Sprint(got) != fmt.Sprint(d) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, b := range [][]byte{nil, {3}, c.encode()[:5], append(c.encode(), 0), d.encode()[:len(d.encode())-1], append(d.encode(), 0)} {
		if _, err := decodeCommittable(b); !weir.IsCorruption(err) {
			t.Errorf("decode(%v): %v", b, err)
		}
	}
}

// TestExactlyOnceStaged: an upsert writer whose earlier transaction still
// awaits its commit when the next barrier comes stages that checkpoint's
// records in the checkpoint; Commit writes them after the earlier one,
// once, also when repeated after a restore.
func TestExactlyOnceStaged(t *testing.T) {
	c := db(t)
	table := createTestTable(t, c, "st", "k text PRIMARY KEY, v bigint NOT NULL")
	o := SinkOptions[kv]{ConnString: testConnString, Table: table, Columns: []string{"k", "v"}, Key: []string{"k"}, Values: kvValues,
		Kind: kvKind, Guarantee: ExactlyOnce, TransactionPrefix: uniqueName(t, "st"), BatchSize: 1}
	ctx := context.Background()
	w := newWriter(t, o, 0, 1).(weir.TwoPhaseCommitWriter[kv])
	write(t, w, kv{"a", 1, ""}, kv{"b", 1, ""})
	items1, err := w.PreCommit(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The same keys again before checkpoint 1's commit: buffered, then
	// staged in checkpoint 2.
	write(t, w, kv{"a", 2, ""}, kv{"b", 1, "-D"})
	items2, err := w.PreCommit(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := decodeCommittable(items2[0]); err != nil || !d.deferred || len(d.records) != 2 {
		t.Fatalf("checkpoint 2's committable: %+v, %v; want 2 staged records", d, err)
	}
	if got := keyVals(t, c, table); len(got) != 0 {
		t.Fatalf("rows visible before the commits: %v", got)
	}
	if err := w.Commit(ctx, items1); err != nil {
		t.Fatal(err)
	}
	if got := keyVals(t, c, table); fmt.Sprint(got) != "map[a:1 b:1]" {
		t.Fatalf("after checkpoint 1: %v", got)
	}
	if err := w.Commit(ctx, items2); err != nil {
		t.Fatal(err)
	}
	if got := keyVals(t, c, table); fmt.Sprint(got) != "map[a:2]" {
		t.Fatalf("after checkpoint 2: %v", got)
	}
	// Records after checkpoint 2, then a failure; the restore repeats the
	// commits of checkpoints 1 and 2, which change nothing.
	write(t, w, kv{"a", 3, ""}, kv{"c", 3, ""})
	w.Close()
	exec(t, c, "UPDATE "+table+" SET v = 20 WHERE k = 'a'") // someone else's change after the commits
	w2 := newWriter(t, o, 0, 1).(weir.TwoPhaseCommitWriter[kv])
	if err := w2.Commit(ctx, append(items1, items2...)); err != nil {
		t.Fatal(err)
	}
	if got := keyVals(t, c, table); fmt.Sprint(got) != "map[a:20]" {
		t.Fatalf("after the repeated commits: %v (staged records written twice?)", got)
	}
	if n := preparedOf(t, c, o.TransactionPrefix); n != 0 {
		t.Fatalf("%d prepared transactions left", n)
	}
}

// TestExactlyOnceEndsStaleSessions: a session an earlier run of the
// subtask left behind (its network failed silently), holding a
// transaction with row locks, is ended when the writer starts, so the
// writer does not wait on it.
func TestExactlyOnceEndsStaleSessions(t *testing.T) {
	c := db(t)
	table := createTestTable(t, c, "stale", "k text PRIMARY KEY, v bigint NOT NULL")
	prefix := uniqueName(t, "stale")
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(testConnString)
	if err != nil {
		t.Fatal(err)
	}
	// An earlier run of this job (the same JobID).
	cfg.RuntimeParams["application_name"] = sessionName(prefix, 0, jobTag("stale-job"))
	zombie, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer zombie.Close(ctx)
	exec(t, zombie, "BEGIN")
	exec(t, zombie, "INSERT INTO "+table+" VALUES ('a', 0)")
	w := newWriter(t, SinkOptions[kv]{ConnString: testConnString, Table: table, Columns: []string{"k", "v"}, Key: []string{"k"},
		Values: kvValues, Guarantee: ExactlyOnce, TransactionPrefix: prefix, BatchSize: 1, JobID: "stale-job"}, 0, 1).(weir.TwoPhaseCommitWriter[kv])
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := w.Write(wctx, kv{"a", 1, ""}, 0); err != nil {
		t.Fatal(err)
	}
	items, err := w.PreCommit(wctx, 1)
	if err == nil {
		err = w.Commit(wctx, items)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := keyVals(t, c, table); fmt.Sprint(got) != "map[a:1]" {
		t.Fatalf("table %v", got)
	}
	if _, err := zombie.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatal("the stale session is still alive")
	}
}

// TestCommitMarkersPruned: a commit deletes the markers of its subtask
// 1000 checkpoints older.
func TestCommitMarkersPruned(t *testing.T) {
	c := db(t)
	table := createTestTable(t, c, "prune", "k text NOT NULL, v bigint NOT NULL")
	prefix := uniqueName(t, "prune")
	w := newWriter(t, SinkOptions[kv]{ConnString: testConnString, Table: table, Columns: []string{"k", "v"}, Values: kvValues,
		Guarantee: ExactlyOnce, TransactionPrefix: prefix}, 0, 1).(weir.TwoPhaseCommitWriter[kv])
	ctx := context.Background()
	for _, id := range []int64{1, 500, 1200} {
		write(t, w, kv{"a", id, ""})
		items, err := w.PreCommit(ctx, id)
		if err == nil {
			err = w.Commit(ctx, items)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := queryInt(t, c, "SELECT count(*) FROM "+DefaultCommitTable+" WHERE prefix = $1 AND checkpoint >= 500", prefix); got != 2 {
		t.Fatalf("%d markers of checkpoints 500 and 1200, want 2", got)
	}
	if got := queryInt(t, c, "SELECT count(*) FROM "+DefaultCommitTable+" WHERE prefix = $1 AND checkpoint < 500", prefix); got != 0 {
		t.Fatalf("%d markers of checkpoint 1 left, want 0", got)
	}
	exec(t, c, "DELETE FROM "+DefaultCommitTable+" WHERE prefix = $1", prefix)
}
