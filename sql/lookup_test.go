package sql_test

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// testPG is the tests' PostgreSQL (scripts/test-services.sh starts it);
// testPGJDBC is the same as a JDBC URL.
const (
	testPG     = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	testPGJDBC = "jdbc:postgresql://127.0.0.1:5432/test?sslmode=disable"
	testMyJDBC = "jdbc:mariadb://127.0.0.1:3306/test"
)

// myConn connects to the test MariaDB (database test, user root), failing
// the test naming it when it is unreachable.
func myConn(t testing.TB) *dbsql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", "127.0.0.1:3306", "test"
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := dbsql.OpenDB(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("MariaDB on 127.0.0.1:3306 (user root, db test) is unreachable: %v; run scripts/test-services.sh", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// pgConn connects to the test database, failing the test with a message
// naming the server when it is unreachable.
func pgConn(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, testPG)
	if err != nil {
		t.Fatalf("PostgreSQL on 127.0.0.1:5432 (user postgres, db test) is unreachable: %v; run scripts/test-services.sh", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// redisClient connects to the test Redis, failing the test naming it when
// it is unreachable.
func redisClient(t testing.TB) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis on 127.0.0.1:6379 is unreachable: %v; run scripts/test-services.sh", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestLookupScripts runs the scripts of testdata_lookup/ (lookup joins and
// the jdbc and redis connectors) against the PostgreSQL and Redis of the
// machine. Besides TestScripts' commands:
//
//	pg        runs the block's statements on PostgreSQL; a SELECT prints its
//	          rows sorted, one per line, fields joined by '|'
//	mysql     as pg, on MariaDB
//	redis     runs one Redis command per line (fields split on spaces);
//	          prints the replies
//
// In every block $SFX is a suffix unique to the run (name tables and keys
// with it), $PG and $MY the JDBC URLs of the PostgreSQL and MariaDB test
// databases, $DIR a temporary
// directory. Tables named *_$SFX are dropped and keys $SFX:* deleted at
// the end.
func TestLookupScripts(t *testing.T) {
	pg := pgConn(t)
	rc := redisClient(t)
	my := myConn(t)
	datadriven.Walk(t, "testdata_lookup", func(t *testing.T, path string) {
		sfx := fmt.Sprintf("lk%06x", rand.IntN(1<<24))
		dir := t.TempDir()
		sess := sql.NewSession(sql.SessionOptions{})
		ctx := context.Background()
		t.Cleanup(func() {
			rows, err := pg.Query(ctx, "SELECT tablename FROM pg_tables WHERE tablename LIKE '%\\_"+sfx+"'")
			if err == nil {
				var names []string
				for rows.Next() {
					var n string
					if rows.Scan(&n) == nil {
						names = append(names, n)
					}
				}
				rows.Close()
				for _, n := range names {
					_, _ = pg.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{n}.Sanitize())
				}
			}
			if rows, err := my.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'test' AND table_name LIKE ?", "%\\_"+sfx); err == nil {
				var names []string
				for rows.Next() {
					var n string
					if rows.Scan(&n) == nil {
						names = append(names, n)
					}
				}
				rows.Close()
				for _, n := range names {
					_, _ = my.ExecContext(ctx, "DROP TABLE IF EXISTS `"+n+"`")
				}
			}
			keys, _ := rc.Keys(ctx, sfx+":*").Result()
			if len(keys) > 0 {
				rc.Del(ctx, keys...)
			}
		})
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			input := strings.NewReplacer("$DIR", dir, "$SFX", sfx, "$PG", testPGJDBC, "$MY", testMyJDBC).Replace(d.Input)
			switch d.Cmd {
			case "file":
				var name string
				d.ScanArgs(t, "name", &name)
				if err := os.WriteFile(filepath.Join(dir, name), []byte(input+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return ""
			case "pg":
				return runPG(t, pg, input)
			case "mysql":
				return runMy(t, my, input)
			case "redis":
				var b strings.Builder
				for _, line := range strings.Split(input, "\n") {
					if strings.TrimSpace(line) == "" {
						continue
					}
					var args []any
					for _, f := range strings.Fields(line) {
						args = append(args, f)
					}
					v, err := rc.Do(ctx, args...).Result()
					if err == goredis.Nil {
						b.WriteString("(nil)\n")
						continue
					}
					if err != nil {
						fmt.Fprintf(&b, "error: %v\n", err)
						continue
					}
					b.WriteString(formatReply(v) + "\n")
				}
				return strings.ReplaceAll(b.String(), sfx, "$SFX")
			case "explain":
				stmts, err := parser.Parse(input)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				res, _, err := sess.Execute(changelogModeOnly(stmts[0]))
				if err != nil {
					return strings.ReplaceAll("error: "+err.Error()+"\n", sfx, "$SFX")
				}
				return strings.ReplaceAll(physicalSection(res.Text), sfx, "$SFX")
			case "exec":
				par := 1
				if d.HasArg("parallelism") {
					d.ScanArgs(t, "parallelism", &par)
				}
				out := execScript(t, sess, input, par, weir.StateHeap, d.HasArg("table"))
				return strings.NewReplacer(sfx, "$SFX", dir, "$DIR").Replace(out)
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	})
}

// formatReply prints a Redis reply; maps and arrays sorted.
func formatReply(v any) string {
	switch x := v.(type) {
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, formatReply(e))
		}
		sort.Strings(parts)
		return "[" + strings.Join(parts, " ") + "]"
	case map[any]any:
		var parts []string
		for k, e := range x {
			parts = append(parts, formatReply(k)+"="+formatReply(e))
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, " ") + "}"
	}
	return fmt.Sprint(v)
}

// runPG runs statements separated by ';' at line ends; a SELECT prints
// its sorted rows.
func runPG(t *testing.T, pg *pgx.Conn, input string) string {
	var b strings.Builder
	for _, st := range strings.Split(input, ";\n") {
		st = strings.TrimSuffix(strings.TrimSpace(st), ";")
		if st == "" {
			continue
		}
		if !strings.HasPrefix(strings.ToUpper(st), "SELECT") {
			if _, err := pg.Exec(context.Background(), st); err != nil {
				fmt.Fprintf(&b, "error: %v\n", err)
			}
			continue
		}
		rows, err := pg.Query(context.Background(), st)
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		var lines []string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			var f []string
			for _, v := range vals {
				if v == nil {
					f = append(f, "NULL")
				} else {
					f = append(f, fmt.Sprint(v))
				}
			}
			lines = append(lines, strings.Join(f, "|"))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
		}
		sort.Strings(lines)
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	if b.Len() == 0 {
		return "ok\n"
	}
	return b.String()
}

// runMy is runPG on MariaDB.
func runMy(t *testing.T, db *dbsql.DB, input string) string {
	var b strings.Builder
	for _, st := range strings.Split(input, ";\n") {
		st = strings.TrimSuffix(strings.TrimSpace(st), ";")
		if st == "" {
			continue
		}
		if !strings.HasPrefix(strings.ToUpper(st), "SELECT") {
			if _, err := db.Exec(st); err != nil {
				fmt.Fprintf(&b, "error: %v\n", err)
			}
			continue
		}
		rows, err := db.Query(st)
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]dbsql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var f []string
			for _, v := range vals {
				if !v.Valid {
					f = append(f, "NULL")
				} else {
					f = append(f, v.String)
				}
			}
			lines = append(lines, strings.Join(f, "|"))
		}
		rows.Close()
		sort.Strings(lines)
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	if b.Len() == 0 {
		return "ok\n"
	}
	return b.String()
}
