package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const pgURL = "postgres://postgres@127.0.0.1:5432/test"

// testTable returns a table name unique to the test and run, dropped when
// the test ends.
func testTable(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "orders_dashboard_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name())) + "_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if db, err := pgx.Connect(ctx, pgURL); err == nil {
			_, _ = db.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{name}.Sanitize())
			_, _ = db.Exec(ctx, "DROP FUNCTION IF EXISTS "+regressionsFunc(name))
			_, _ = db.Exec(ctx, "DELETE FROM weir_commits WHERE starts_with(prefix, $1)", "orders-dashboard-"+name)
			db.Close(ctx)
		}
	})
	return name
}

func connect(t *testing.T) *pgx.Conn {
	db, err := pgx.Connect(context.Background(), pgURL)
	if err != nil {
		t.Fatalf("PostgreSQL on 127.0.0.1:5432 (user postgres, db test) is needed: run scripts/test-services.sh: %v", err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

// TestDemo runs the README's command in-process: the demo itself fails
// unless the table reaches the totals computed from the produced orders,
// after a failure injected in the middle, without a row going backwards.
func TestDemo(t *testing.T) {
	db := connect(t)
	table := testTable(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, []string{"-demo", "-table", table, "-orders", "2000"}, &out); err != nil {
		t.Fatalf("%v\noutput:\n%s(PostgreSQL with max_prepared_transactions > 0 must run on 127.0.0.1:5432: scripts/test-services.sh starts it)", err, out.String())
	}
	for _, want := range []string{"injected failure at order 1500", "restarted from checkpoint", "OK: table " + table + " equals the totals of the 2000 produced orders"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// Independently of the demo's own check: the table's sums are the
	// orders'.
	var orders, revenue int64
	if err := db.QueryRow(ctx, "SELECT sum(orders)::bigint, sum(revenue_cents)::bigint FROM "+pgx.Identifier{table}.Sanitize()).Scan(&orders, &revenue); err != nil {
		t.Fatal(err)
	}
	var wantRevenue int64
	for i := 1; i <= 2000; i++ {
		wantRevenue += order(i).Cents
	}
	if orders != 2000 || revenue != wantRevenue {
		t.Errorf("table sums: %d orders, %d cents; want 2000, %d", orders, revenue, wantRevenue)
	}
	// The run left no prepared transaction behind.
	var prepared int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM pg_prepared_xacts WHERE starts_with(gid, $1)", "orders-dashboard-"+table+"-").Scan(&prepared); err != nil {
		t.Fatal(err)
	}
	if prepared != 0 {
		t.Errorf("%d prepared transactions left", prepared)
	}
}

// TestWatcherRejects checks the demo's checks: a row that goes backwards
// fails the read, and a table that differs from the orders' totals is
// reported with the difference.
func TestWatcherRejects(t *testing.T) {
	db := connect(t)
	table := testTable(t)
	ctx := context.Background()
	if err := setup(ctx, db, config{table: table, prefix: "orders-dashboard-" + table}); err != nil {
		t.Fatal(err)
	}
	ins := "INSERT INTO " + pgx.Identifier{table}.Sanitize() + " VALUES ('tea', $1, $2, now()) ON CONFLICT (product) DO UPDATE SET orders = $1, revenue_cents = $2"
	if _, err := db.Exec(ctx, ins, 3, 900); err != nil {
		t.Fatal(err)
	}
	w := &watcher{db: db, table: table, seen: map[string]Total{}, regressions: true}
	got, err := w.read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Total{"tea": {Product: "tea", Orders: 3, RevenueCents: 1000}}
	if d := diff(got, want); !strings.Contains(d, "tea: table") {
		t.Errorf("diff of a wrong table: %q", d)
	}
	if _, err := db.Exec(ctx, ins, 2, 600); err != nil {
		t.Fatal(err)
	}
	if _, err := w.read(ctx); err == nil || !strings.Contains(err.Error(), "went backwards") {
		t.Errorf("a row that went backwards was accepted: %v", err)
	}
	// The trigger counts a lowering that no read saw.
	if _, err := db.Exec(ctx, ins, 5, 1500); err != nil {
		t.Fatal(err)
	}
	w = &watcher{db: db, table: table, seen: map[string]Total{}, regressions: true}
	if _, err := w.read(ctx); err == nil || !strings.Contains(err.Error(), "went backwards in 1 committed updates") {
		t.Errorf("a row lowered between two reads was accepted: %v", err)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"extra"}, {"-nope"}, {"-demo", "-orders", "1"}} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("run %q succeeded", args)
		}
	}
}

// TestJob runs the command without -demo against a Kafka cluster of the
// test: it reads orders until stopped, then, restarted with -restore
// latest, goes on with new ones; the table ends with the totals of all.
func TestJob(t *testing.T) {
	db := connect(t)
	table := testTable(t)
	if _, err := db.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	args := []string{"-brokers", strings.Join(cluster.ListenAddrs(), ","), "-table", table,
		"-checkpoint-dir", t.TempDir(), "-restore", "latest"}
	w := &watcher{db: db, table: table, seen: map[string]Total{}}
	from := 1
	for _, upTo := range []int{400, 900} {
		if err := produce(context.Background(), cl, "orders", from, upTo); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- run(ctx, args, io.Discard) }()
		err := waitTable(w, expected(upTo), done)
		cancel()
		if rerr := <-done; rerr != nil {
			t.Fatalf("run: %v", rerr)
		}
		if err != nil {
			t.Fatal(err)
		}
		from = upTo + 1
	}
}

// waitTable reads the table until it holds want, for up to 30 s, or the
// command ends.
func waitTable(w *watcher, want map[string]Total, done <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := w.read(context.Background())
		if err != nil && !strings.Contains(err.Error(), "does not exist") {
			return err
		}
		if maps.Equal(got, want) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("table did not reach the totals in 30 s:\n%s", diff(got, want))
		}
		select {
		case err := <-done:
			return fmt.Errorf("run ended early: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
