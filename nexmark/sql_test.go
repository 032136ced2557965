package nexmark_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/result"
	"github.com/weirstream/weir/statebackend/pebble"
)

// sqlFinal runs a query's SQL job (its INSERT's SELECT) and returns the
// final table as sorted JSON objects named after the sink's columns, the
// form of the reference results.
func sqlFinal(t *testing.T, name string, events int64, par int, backend string) [][]byte {
	t.Helper()
	script, err := nexmark.SQLScript(name, events, 7, 10000)
	if err != nil {
		t.Fatal(err)
	}
	reg := connector.Default()
	reg.Register(nexmark.TableFactory{})
	sess := sql.NewSession(sql.SessionOptions{Connectors: reg})
	stmts, err := parser.Parse(script)
	if err != nil {
		t.Fatal(err)
	}
	var ins *ast.Insert
	for _, st := range stmts {
		if i, ok := st.(*ast.Insert); ok {
			ins = i
			continue
		}
		if _, _, err := sess.Execute(st); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	_, job, err := sess.Execute(&ast.QueryStmt{Query: ins.Query})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sink, _ := sess.Catalog().Table(ins.Table.Last().Name)
	opts := job.Options()
	opts.Parallelism = par
	if backend == weir.StatePebble {
		opts.StateBackend, opts.Pebble, opts.StateDir = weir.StatePebble, pebble.New(), t.TempDir()
	}
	env := weir.NewEnvironment(opts)
	types := job.Schema().Types()
	tab := result.NewTable(types, nil)
	var mu sync.Mutex
	var applyErr error
	if err := job.Build(env, func(r row.Row) error {
		mu.Lock()
		defer mu.Unlock()
		if err := tab.Apply(r); err != nil && applyErr == nil {
			applyErr = err
		}
		return nil
	}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := env.Execute(ctx); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if applyErr != nil {
		t.Fatalf("%s: %v", name, applyErr)
	}
	var out [][]byte
	for _, r := range tab.Rows() {
		var b bytes.Buffer
		b.WriteByte('{')
		for i, c := range sink.Columns {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(c.Name)
			b.Write(k)
			b.WriteByte(':')
			b.WriteString(jsonValue(r.Fields[i], types[i]))
		}
		b.WriteByte('}')
		out = append(out, canonical(t, b.Bytes()))
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i], out[j]) < 0 })
	return out
}

// jsonValue encodes a value as the reference results do: numbers as JSON
// numbers, timestamps as RFC 3339 with milliseconds.
func jsonValue(v row.Value, t row.Type) string {
	if v.IsNull() {
		return "null"
	}
	switch {
	case t.IsInteger(), t.Root == row.TypeDecimal, t.Root == row.TypeDouble, t.Root == row.TypeBoolean:
		s := row.Format(v, t)
		if t.Root == row.TypeBoolean {
			s = strings.ToLower(s)
		}
		return s
	case t.IsTimestamp():
		return `"` + time.UnixMilli(v.Millis()).UTC().Format("2006-01-02T15:04:05.000Z07:00") + `"`
	}
	b, _ := json.Marshal(row.Format(v, t))
	return string(b)
}

// canonical re-encodes a JSON object with sorted keys and exact numbers.
func canonical(t *testing.T, b []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSQLSameAnswer runs every query written in SQL and its DataStream
// version on the same events and compares the final tables: SQL at
// parallelism 1 on the heap backend and at parallelism 4 on Pebble.
func TestSQLSameAnswer(t *testing.T) {
	const events = 8000
	evs, err := nexmark.Generate(nexmark.DefaultConfig(events, 7))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range nexmark.SQLQueries() {
		t.Run(name, func(t *testing.T) {
			q, ok := nexmark.Lookup(name)
			if !ok {
				t.Fatalf("no DataStream query %s", name)
			}
			ref, err := nexmark.Run(context.Background(), q, evs, weir.Options{Parallelism: 1})
			if err != nil {
				t.Fatal(err)
			}
			for i := range ref {
				ref[i] = canonical(t, ref[i])
			}
			sort.Slice(ref, func(i, j int) bool { return bytes.Compare(ref[i], ref[j]) < 0 })
			for _, run := range []struct {
				par     int
				backend string
			}{{1, weir.StateHeap}, {4, weir.StatePebble}} {
				got := sqlFinal(t, name, events, run.par, run.backend)
				if len(got) != len(ref) {
					t.Errorf("parallelism %d, %s: %d rows, DataStream %d", run.par, run.backend, len(got), len(ref))
				}
				for i := 0; i < len(got) && i < len(ref); i++ {
					if !bytes.Equal(got[i], ref[i]) {
						t.Fatalf("parallelism %d, %s: row %d differs:\nSQL:        %s\nDataStream: %s", run.par, run.backend, i, got[i], ref[i])
					}
				}
			}
			if len(ref) == 0 {
				t.Errorf("the reference result is empty: the comparison proves nothing")
			}
		})
	}
}
