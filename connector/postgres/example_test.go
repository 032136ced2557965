package postgres_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/postgres"
	"github.com/weirstream/weir/row"
)

// The examples need the PostgreSQL server of scripts/test-services.sh.
const connString = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Balance is a change of an account's balance.
type Balance struct {
	Kind    row.Kind
	Account string
	Amount  int64
}

// An exactly-once upsert sink applying a changelog to a table keyed by
// account.
func ExampleSink() {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		fmt.Println("PostgreSQL on 127.0.0.1:5432 is unreachable (run scripts/test-services.sh):", err)
		return
	}
	defer conn.Close(ctx)
	table := fmt.Sprintf("example_balances_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE TABLE "+table+" (account text PRIMARY KEY, amount bigint NOT NULL)"); err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Exec(ctx, "DROP TABLE "+table)

	dir, _ := os.MkdirTemp("", "example-checkpoints")
	defer os.RemoveAll(dir)
	env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: 100 * time.Millisecond, Dir: dir}})
	changes := weir.FromSlice(env, []Balance{
		{row.Insert, "alice", 10}, {row.Insert, "bob", 5},
		{row.UpdateBefore, "alice", 10}, {row.UpdateAfter, "alice", 25},
		{row.Delete, "bob", 5}, {row.Insert, "carol", 7},
	})
	changes.SinkTo(postgres.NewSink(postgres.SinkOptions[Balance]{
		ConnString: connString,
		Table:      table,
		Columns:    []string{"account", "amount"},
		Key:        []string{"account"},
		Values:     func(dst []any, b Balance) []any { return append(dst, b.Account, b.Amount) },
		Kind:       func(b Balance) row.Kind { return b.Kind },
		Guarantee:  postgres.ExactlyOnce,
		// Unique to the job: names its prepared transactions.
		TransactionPrefix: table,
	})).Name("balances")
	if err := env.Execute(ctx); err != nil {
		fmt.Println(err)
		return
	}
	rows, _ := conn.Query(ctx, "SELECT account, amount FROM "+table+" ORDER BY account")
	for rows.Next() {
		var account string
		var amount int64
		_ = rows.Scan(&account, &amount)
		fmt.Println(account, amount)
	}
	// Output:
	// alice 25
	// carol 7
}

// A lookup with a cache: the second Get of a key is answered from it.
func ExampleLookup() {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		fmt.Println("PostgreSQL on 127.0.0.1:5432 is unreachable (run scripts/test-services.sh):", err)
		return
	}
	defer conn.Close(ctx)
	table := fmt.Sprintf("example_products_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE TABLE "+table+" (id bigint PRIMARY KEY, name text NOT NULL); INSERT INTO "+table+" VALUES (1, 'tea'), (2, 'coffee')"); err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Exec(ctx, "DROP TABLE "+table)

	names, err := postgres.NewLookup(postgres.LookupOptions[int64, string]{
		ConnString:   connString,
		Query:        "SELECT name FROM " + table + " WHERE id = $1",
		Scan:         func(r pgx.Row) (string, error) { var s string; err := r.Scan(&s); return s, err },
		CacheMaxRows: 10000,
		CacheTTL:     time.Minute,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer names.Close()
	for _, id := range []int64{1, 2, 1, 3} {
		got, err := names.Get(ctx, id) // or names.AsyncInvoke, from weir.OrderedWait
		fmt.Println(id, got, err)
	}
	hits, misses, _ := names.CacheStats()
	fmt.Println("hits", hits, "misses", misses)
	// Output:
	// 1 [tea] <nil>
	// 2 [coffee] <nil>
	// 1 [tea] <nil>
	// 3 [] <nil>
	// hits 1 misses 3
}
