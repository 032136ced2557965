// Command cdc-cache keeps a cache in Redis exactly as a PostgreSQL table
// changes: the total of each customer's orders, from the table's changes
// (PostgreSQL CDC: a snapshot of the table, then its inserts, updates and
// deletes from a replication slot) through a running sum per customer in
// Weir's keyed state, to Redis keys weir-cdc-cache:customer:<name> (SET,
// idempotent).
//
// With -demo it shows the whole loop on its own: it creates the table
// weir_cdc_orders in the database of -pg (REPLICA IDENTITY FULL, so that
// updates and deletes carry the old row), inserts orders, starts the job,
// changes the table (an insert, an amount changed, an order moved to
// another customer, a delete), waits until Redis holds the totals that
// SELECT customer, sum(cents) computes from the table, prints both, and
// stops, dropping its replication slot. Without -demo it runs until
// interrupted; -restore latest resumes from the newest checkpoint.
//
//	go run ./examples/cdc-cache -demo
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/postgres/cdc"
	"github.com/weirstream/weir/connector/redis"
)

// delta is a change to a customer's total.
type delta struct {
	Customer string
	Cents    int64
}

const (
	table       = "weir_cdc_orders"
	slot        = "weir_cdc_cache"
	publication = "weir_cdc_cache"
	keyPrefix   = "weir-cdc-cache:customer:"
)

func main() {
	pgURL := flag.String("pg", "postgres://postgres@127.0.0.1:5432/test", "PostgreSQL connection string")
	redisAddr := flag.String("redis", "127.0.0.1:6379", "Redis address")
	ckDir := flag.String("checkpoint-dir", "cdc-cache-checkpoints", "checkpoint directory")
	restore := flag.String("restore", "", `"latest" resumes from the newest checkpoint`)
	demo := flag.Bool("demo", false, "create the table, change it while the job runs, check Redis, stop")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *pgURL, *redisAddr, *ckDir, *restore, *demo); err != nil {
		log.Fatal(err)
	}
}

// build adds the job to env: changes → deltas per customer → running sum
// per customer → Redis.
func build(env *weir.Environment, pgURL, redisAddr string) error {
	changes := weir.FromSource(env, cdc.NewSource(cdc.Options{
		Conn:        pgURL,
		Tables:      []string{table},
		Slot:        slot,
		Publication: publication,
	}), weir.NoWatermarks[cdc.Change](), "orders-cdc").UID("orders-cdc")

	// An insert adds the new row's amount to its customer; a delete takes
	// the old row's away; an update does both, so an order moved to
	// another customer leaves one total and joins the other.
	deltas := weir.FlatMap(changes, func(c cdc.Change, out weir.Collector[delta]) error {
		if c.Before != nil {
			d, err := rowDelta(c.Table.Name, c.Before, c, -1)
			if err != nil {
				return err
			}
			out.Collect(d)
		}
		if c.After != nil {
			d, err := rowDelta(c.Table.Name, c.After, c, +1)
			if err != nil {
				return err
			}
			out.Collect(d)
		}
		return nil
	}).Name("deltas")

	totals := weir.Reduce(weir.KeyBy(deltas, func(d delta) string { return d.Customer }),
		func(a, b delta) (delta, error) { return delta{a.Customer, a.Cents + b.Cents}, nil }).
		Name("totals").UID("totals")

	sink, err := redis.NewSink(redis.SinkOptions[delta]{
		Redis: goredis.Options{Addr: redisAddr},
		Map: func(d delta) (redis.Command, error) {
			return redis.Command{Op: redis.OpSet, Key: keyPrefix + d.Customer, Value: strconv.AppendInt(nil, d.Cents, 10)}, nil
		},
	})
	if err != nil {
		return err
	}
	totals.SinkTo(sink).Name("redis").UID("redis")
	return nil
}

// rowDelta reads customer and cents of a row image.
func rowDelta(tbl string, row []any, c cdc.Change, sign int64) (delta, error) {
	idx := func(name string) int {
		return slices.IndexFunc(c.Table.Columns, func(col cdc.Column) bool { return col.Name == name })
	}
	ci, ai := idx("customer"), idx("cents")
	if ci < 0 || ai < 0 {
		return delta{}, fmt.Errorf("cdc-cache: table %s has no customer or cents column", tbl)
	}
	customer, ok1 := row[ci].(string)
	cents, ok2 := row[ai].(int64)
	if !ok1 || !ok2 {
		return delta{}, fmt.Errorf("cdc-cache: %s change at LSN %s: customer %v, cents %v (the table needs REPLICA IDENTITY FULL)", tbl, c.LSN, row[ci], row[ai])
	}
	return delta{customer, sign * cents}, nil
}

func run(ctx context.Context, pgURL, redisAddr, ckDir, restore string, demo bool) error {
	var db *pgx.Conn
	if demo {
		var err error
		if db, err = pgx.Connect(ctx, pgURL); err != nil {
			return fmt.Errorf("connecting to PostgreSQL (%s): %w", pgURL, err)
		}
		defer db.Close(context.Background())
		if err := setup(ctx, db); err != nil {
			return err
		}
		// The demo's keys start empty, whatever an earlier run left.
		rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr})
		keys, err := rdb.Keys(ctx, keyPrefix+"*").Result()
		if err == nil && len(keys) > 0 {
			err = rdb.Del(ctx, keys...).Err()
		}
		rdb.Close()
		if err != nil {
			return fmt.Errorf("clearing the demo's Redis keys (%s): %w", redisAddr, err)
		}
		if err := os.RemoveAll(ckDir); err != nil {
			return err
		}
		restore = ""
	}
	env := weir.NewEnvironment(weir.Options{
		Checkpoints: weir.CheckpointOptions{Interval: time.Second, Dir: ckDir},
		Restore:     restore,
	})
	if err := build(env, pgURL, redisAddr); err != nil {
		return err
	}
	job, err := env.Start(ctx)
	if err != nil {
		return err
	}
	if !demo {
		err := job.Wait()
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer func() {
		job.Cancel()
		_ = job.Wait()
		// A replication slot keeps WAL until it is dropped: the demo leaves none.
		_, _ = db.Exec(context.Background(), "SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1", slot)
		_, _ = db.Exec(context.Background(), "DROP PUBLICATION IF EXISTS "+publication)
	}()
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr})
	defer rdb.Close()

	fmt.Println("snapshot: 4 orders of ann, bob and cy")
	if err := converge(ctx, db, rdb, job); err != nil {
		return err
	}
	for _, step := range []struct{ what, sql string }{
		{"insert: a new order of dee", "INSERT INTO " + table + " (id, customer, cents) VALUES (5, 'dee', 700)"},
		{"update: order 1's amount 1000 → 1500", "UPDATE " + table + " SET cents = 1500 WHERE id = 1"},
		{"update: order 2 moves from ann to bob", "UPDATE " + table + " SET customer = 'bob' WHERE id = 2"},
		{"delete: cy's order", "DELETE FROM " + table + " WHERE id = 4"},
	} {
		fmt.Println(step.what)
		if _, err := db.Exec(ctx, step.sql); err != nil {
			return err
		}
		if err := converge(ctx, db, rdb, job); err != nil {
			return err
		}
	}
	return nil
}

// setup creates the demo table with four orders.
func setup(ctx context.Context, db *pgx.Conn) error {
	for _, q := range []string{
		"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot + "' AND NOT active",
		"DROP PUBLICATION IF EXISTS " + publication,
		"DROP TABLE IF EXISTS " + table,
		"CREATE TABLE " + table + " (id bigint PRIMARY KEY, customer text NOT NULL, cents bigint NOT NULL)",
		"ALTER TABLE " + table + " REPLICA IDENTITY FULL",
		"INSERT INTO " + table + " VALUES (1, 'ann', 1000), (2, 'ann', 250), (3, 'bob', 400), (4, 'cy', 900)",
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			return fmt.Errorf("setting up the demo table: %s: %w", q, err)
		}
	}
	return nil
}

// converge waits until Redis holds the table's totals (a customer with no
// orders left has a total of 0) and prints them.
func converge(ctx context.Context, db *pgx.Conn, rdb *goredis.Client, job *weir.JobClient) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		want, err := tableTotals(ctx, db)
		if err != nil {
			return err
		}
		got := map[string]int64{}
		match := true
		for _, c := range []string{"ann", "bob", "cy", "dee"} {
			v, err := rdb.Get(ctx, keyPrefix+c).Int64()
			if err != nil && !errors.Is(err, goredis.Nil) {
				return fmt.Errorf("reading Redis: %w", err)
			}
			got[c] = v
			if v != want[c] {
				match = false
			}
		}
		if match {
			fmt.Printf("  table totals %v\n  redis        %v\n", fmtTotals(want), fmtTotals(got))
			return nil
		}
		select {
		case <-job.Done():
			return fmt.Errorf("the job ended: %w", job.Wait())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis %v did not reach the table's totals %v in 30 s", got, want)
		}
	}
}

func tableTotals(ctx context.Context, db *pgx.Conn) (map[string]int64, error) {
	rows, err := db.Query(ctx, "SELECT customer, sum(cents)::bigint FROM "+table+" GROUP BY customer")
	if err != nil {
		return nil, err
	}
	want := map[string]int64{}
	for rows.Next() {
		var c string
		var n int64
		if err := rows.Scan(&c, &n); err != nil {
			return nil, err
		}
		want[c] = n
	}
	return want, rows.Err()
}

func fmtTotals(m map[string]int64) string {
	return fmt.Sprintf("ann=%d bob=%d cy=%d dee=%d", m["ann"], m["bob"], m["cy"], m["dee"])
}
