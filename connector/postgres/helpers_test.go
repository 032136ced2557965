package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testConnString is the tests' server: scripts/test-services.sh starts it.
const testConnString = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// connStringVia is testConnString through another address (a proxy).
func connStringVia(addr string) string {
	return "postgres://postgres@" + addr + "/test?sslmode=disable"
}

// db connects to the test database, failing the test with a message that
// names the server if it is unreachable.
func db(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, testConnString)
	if err != nil {
		t.Fatalf("PostgreSQL on 127.0.0.1:5432 (user postgres, db test) is unreachable: %v; run scripts/test-services.sh", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// uniqueName returns a table name unique to the test.
func uniqueName(t testing.TB, what string) string {
	return fmt.Sprintf("%s_%s_%06x", what, testID(t), rand.IntN(1<<24))
}

// testID is the test's name as it appears in uniqueName.
func testID(t testing.TB) string {
	s := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '_'
	}, t.Name())
	if len(s) > 30 {
		s = s[:30]
	}
	return s
}

// createTable creates a table (columns given as SQL) with a unique name
// and drops it at the end of the test.
func createTestTable(t testing.TB, c *pgx.Conn, what, columns string) string {
	t.Helper()
	name := uniqueName(t, what)
	exec(t, c, "CREATE TABLE "+name+" ("+columns+")")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cc, err := pgx.Connect(ctx, testConnString)
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer cc.Close(ctx)
		// Transactions a failed test left prepared would keep the table
		// locked: roll back those of this test (their prefixes, made by
		// uniqueName, hold its name).
		rows, err := cc.Query(ctx, "SELECT gid FROM pg_prepared_xacts WHERE strpos(gid, $1) > 0", "_"+testID(t)+"_")
		if err == nil {
			gids, _ := pgx.CollectRows(rows, pgx.RowTo[string])
			for _, g := range gids {
				_, _ = cc.Exec(ctx, "ROLLBACK PREPARED "+quoteLiteral(g))
			}
		}
		if _, err := cc.Exec(ctx, "DROP TABLE IF EXISTS "+name); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	return name
}

func exec(t testing.TB, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func queryInt(t testing.TB, c *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// keyVals reads (k, v) pairs of a table as a map.
func keyVals(t testing.TB, c *pgx.Conn, table string) map[string]int64 {
	t.Helper()
	rows, err := c.Query(context.Background(), "SELECT k, v FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		m[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// preparedOf counts the prepared transactions whose gid starts with
// prefix-.
func preparedOf(t testing.TB, c *pgx.Conn, prefix string) int64 {
	t.Helper()
	return queryInt(t, c, "SELECT count(*) FROM pg_prepared_xacts WHERE starts_with(gid, $1)", prefix+"-")
}

// signalHandler is a slog handler that sends on ch whenever a record's
// message contains substr (without blocking).
type signalHandler struct {
	substr string
	ch     chan struct{}
}

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.substr) {
		select {
		case h.ch <- struct{}{}:
		default:
		}
	}
	return nil
}
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }

// waitSignal waits for ch up to d.
func waitSignal(t testing.TB, ch chan struct{}, what string, d time.Duration) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("no %s within %v", what, d)
	}
}

// kv is the record of most tests: key k, value v, change kind.
type kv struct {
	K    string
	V    int64
	Kind string // "", "+I", "-U", "+U", "-D"
}
