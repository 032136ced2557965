package cdc_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/postgres/cdc"
)

// Example captures a table: the snapshot reads its row, then an insert and
// an update arrive from the replication slot. It needs the test server
// (scripts/test-services.sh).
func Example() {
	ctx := context.Background()
	db, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close(ctx)
	// A slot, publication or table left by an earlier run goes first; and
	// all three go at the end, the slot even while its walsender still
	// holds it (helpers_test.go).
	dropSlotAndTables("cdc_example")
	db.Exec(ctx, `CREATE TABLE cdc_example (id int PRIMARY KEY, name text)`)
	db.Exec(ctx, `INSERT INTO cdc_example VALUES (1, 'snapshot')`)
	defer dropSlotAndTables("cdc_example")

	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	changes := weir.FromSource[cdc.Change](env, cdc.NewSource(cdc.Options{
		Conn:        pgURL,
		Tables:      []string{"public.cdc_example"},
		Slot:        "cdc_example",
		Publication: "cdc_example",
	}), weir.NoWatermarks[cdc.Change](), "cdc").SetParallelism(1)
	lines := make(chan string, 10)
	weir.Map(changes, func(c cdc.Change) string {
		id, _ := c.Value("id")
		name, _ := c.Value("name")
		return fmt.Sprintf("%s %v %v %v", c.Op, c.Kinds(), id, name)
	}).SinkTo(weir.SinkFunc[string](func(_ context.Context, s string, _ int64) error {
		lines <- s
		return nil
	}))
	job, err := env.Start(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range 3 {
		if i == 1 { // the snapshot is read before the stream starts
			db.Exec(ctx, `INSERT INTO cdc_example VALUES (2, 'inserted')`)
			db.Exec(ctx, `UPDATE cdc_example SET name = 'updated' WHERE id = 1`)
		}
		select {
		case l := <-lines:
			fmt.Println(l)
		case <-time.After(20 * time.Second):
			fmt.Println("timeout")
		}
	}
	job.Cancel()
	job.Wait()
	// Output:
	// r [+I] 1 snapshot
	// c [+I] 2 inserted
	// u [+U] 1 updated
}
