package cdc_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/go-sql-driver/mysql"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/mysql/cdc"
)

// printSink prints changes and stops the job after the n-th.
type printSink struct {
	mu       *sync.Mutex
	n        *int
	snapshot chan struct{} // closed after the snapshot's two rows
	cancel   context.CancelFunc
}

func (s printSink) CreateWriter(weir.SinkContext) (weir.SinkWriter[cdc.Change], error) { return s, nil }
func (s printSink) Write(_ context.Context, c cdc.Change, _ int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Println(c.Op, c.Op.RowKinds(), c.Before, c.After)
	switch *s.n--; *s.n {
	case 2:
		close(s.snapshot)
	case 0:
		s.cancel()
	}
	return nil
}
func (s printSink) Flush(context.Context, bool) error { return nil }
func (s printSink) Close() error                      { return nil }

// Capture a table of the MariaDB at 127.0.0.1:3306 (scripts/test-services.sh
// starts it): the snapshot's rows, then an update and a delete made while
// the job runs.
func Example() {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "tcp", "127.0.0.1:3306"
	conn, _ := mysql.NewConnector(cfg)
	db := sql.OpenDB(conn)
	defer db.Close()
	table := fmt.Sprintf("test.cdc_example_%d", rand.IntN(1e9)) // unique: tests may run at once
	for _, q := range []string{
		"CREATE TABLE " + table + " (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(8,2))",
		"INSERT INTO " + table + " VALUES (1, 'apple', 0.50), (2, 'pear', 0.75)",
	} {
		if _, err := db.Exec(q); err != nil {
			fmt.Println(err)
			return
		}
	}
	defer db.Exec("DROP TABLE " + table)

	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	changes := weir.FromSource[cdc.Change](env, cdc.NewSource(cdc.Options{
		Addr:   "127.0.0.1:3306",
		Tables: []string{table},
	}), weir.NoWatermarks[cdc.Change](), "mysql")
	ctx, cancel := context.WithCancel(context.Background())
	n := 4
	snapshot := make(chan struct{})
	changes.SinkTo(printSink{mu: &sync.Mutex{}, n: &n, snapshot: snapshot, cancel: cancel})
	done := make(chan error, 1)
	go func() { done <- env.Execute(ctx) }()
	// Changes made after the snapshot come from the binlog.
	<-snapshot
	db.Exec("UPDATE " + table + " SET price = 0.60 WHERE id = 1")
	db.Exec("DELETE FROM " + table + " WHERE id = 2")
	<-done
	// Output:
	// r [+I] [] [1 apple 0.50]
	// r [+I] [] [2 pear 0.75]
	// u [-U +U] [1 apple 0.50] [1 apple 0.60]
	// d [-D] [2 pear 0.75] []
}
