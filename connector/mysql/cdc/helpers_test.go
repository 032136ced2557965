package cdc

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// addr is the MariaDB of scripts/test-services.sh.
const addr = "127.0.0.1:3306"

// testDB connects to the test server (database test) or fails the test
// saying how to start it.
func testDB(t testing.TB) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", addr, "test"
	cfg.InterpolateParams = true
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("MariaDB at %s unreachable (%v): run scripts/test-services.sh", addr, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var nonIdent = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// newTable creates test.<name> with the given column definitions, a name
// unique to the test, and drops it when the test ends.
func newTable(t testing.TB, db *sql.DB, cols string) string {
	t.Helper()
	return newTablePrefix(t, db, "cdc", cols)
}

// newTablePrefix is newTable with the name's prefix.
func newTablePrefix(t testing.TB, db *sql.DB, prefix, cols string) string {
	t.Helper()
	name := strings.ToLower(nonIdent.ReplaceAllString(t.Name(), "_"))
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("%s_%s_%06d", prefix, name, rand.IntN(1e6))
	mustExec(t, db, fmt.Sprintf("CREATE TABLE test.%s (%s) ENGINE=InnoDB", name, cols))
	t.Cleanup(func() { db.Exec("DROP TABLE IF EXISTS test." + name) })
	return "test." + name
}

func mustExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// direct runs the reading goroutine without a job, from st (fresh if
// zero), and returns its items.
type direct struct {
	t      testing.TB
	g      *streamer
	items  chan item
	cancel context.CancelFunc
	done   chan struct{}
}

func startDirect(t testing.TB, opts Options, st *state) *direct {
	t.Helper()
	return startDirectHook(t, opts, st, nil)
}

// startDirectHook is startDirect with the streamer's chunkHook set.
func startDirectHook(t testing.TB, opts Options, st *state, hook func(afterSelect bool)) *direct {
	t.Helper()
	return startDirectWith(t, opts, st, func(g *streamer) { g.chunkHook = hook })
}

// startDirectWith is startDirect with setup applied to the streamer
// before its goroutine starts (hooks set later would race with it).
func startDirectWith(t testing.TB, opts Options, st *state, setup func(g *streamer)) *direct {
	t.Helper()
	o, err := opts.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := newMetrics(nil)
	d := &direct{t: t, items: make(chan item, o.Buffer), done: make(chan struct{})}
	cur := state{Fresh: true, Tables: o.Tables}
	if st != nil {
		cur = *st
	}
	d.g = &streamer{opts: o, cur: cur, m: m, log: o.Logger, items: d.items, avail: make(chan struct{}, 1)}
	setup(d.g)
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() {
		defer close(d.done)
		d.g.run(ctx)
	}()
	t.Cleanup(d.stop)
	return d
}

func (d *direct) stop() {
	d.cancel()
	<-d.done
}

// next returns the next item, failing the test after a deadline.
func (d *direct) next() item {
	d.t.Helper()
	select {
	case it := <-d.items:
		if it.err != nil {
			d.t.Fatalf("source failed: %v", it.err)
		}
		return it
	case <-time.After(30 * time.Second):
		d.t.Fatalf("no item within 30s")
	}
	return item{}
}

// until reads items until cond holds for the last one's state, handing
// every change to f.
func (d *direct) until(cond func(state) bool, f func(Change)) state {
	d.t.Helper()
	for {
		it := d.next()
		for _, e := range it.entries {
			if e.dead != nil {
				d.t.Fatalf("dead letter: %v", e.dead)
			}
			f(e.c)
		}
		if cond(it.st) {
			return it.st
		}
	}
}

// masterPos reads the server's binlog position.
func masterPos(t testing.TB, db *sql.DB) (string, uint32) {
	t.Helper()
	rows, err := db.Query("SHOW MASTER STATUS")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		t.Fatal("no binlog")
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	var pos uint32
	fmt.Sscan(string(vals[1]), &pos)
	return string(vals[0]), pos
}

// reached reports whether st is at or past file:pos, outside a
// transaction, with the snapshot done.
func reached(file string, pos uint32) func(state) bool {
	return func(st state) bool {
		if st.Fresh || st.Table < len(st.Tables) || st.Skip != 0 {
			return false
		}
		return fileSeq(st.File) > fileSeq(file) || (st.File == file && st.Pos >= pos) || (fileSeq(st.File) == fileSeq(file) && st.Pos >= pos)
	}
}

type syncGroup struct{ sync.WaitGroup }
