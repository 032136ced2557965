package sql_test

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/udf"
)

// firstOf is a user-defined aggregate whose GetValue panics over no rows
// (it indexes its first value) and whose CreateAccumulator is counted.
type firstOf struct{ created *int }

func (firstOf) ResultType(args []row.Type) (row.Type, error) { return row.BigInt(), nil }
func (f firstOf) NewAccumulator() udf.Accumulator            { *f.created++; return &firstAcc{} }
func (firstOf) CanRetract() bool                             { return false }
func (firstOf) CanMerge() bool                               { return false }

type firstAcc struct{ vs []int64 }

func (a *firstAcc) Accumulate(args []row.Value) error { a.vs = append(a.vs, args[0].Int()); return nil }
func (a *firstAcc) Retract([]row.Value) error         { return udf.ErrNoRetract }
func (a *firstAcc) Merge(udf.Accumulator) error       { return udf.ErrNoMerge }
func (a *firstAcc) Value() (row.Value, error)         { return row.Int(a.vs[0]), nil }
func (a *firstAcc) Reset()                            { a.vs = a.vs[:0] }
func (a *firstAcc) AppendTo(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(a.vs)))
	for _, v := range a.vs {
		dst = binary.AppendVarint(dst, v)
	}
	return dst
}
func (a *firstAcc) Decode(src []byte) (int, error) {
	n, off := binary.Uvarint(src)
	if off <= 0 {
		return 0, errors.New("short")
	}
	a.vs = a.vs[:0]
	for range n {
		v, k := binary.Varint(src[off:])
		if k <= 0 {
			return 0, errors.New("short")
		}
		a.vs = append(a.vs, v)
		off += k
	}
	return off, nil
}

// TestBatchEmptyUDAFPanics checks that planning a batch aggregation
// without GROUP BY over a user-defined aggregate whose GetValue of a fresh
// accumulator panics (batch_agg.go emptyAggValue takes it when planning)
// neither crashes the session nor fails the query: the aggregate keeps
// its plan without the row over no input, as for a GetValue that returns
// an error, and over rows it is the aggregate's value. Also for the ()
// set of grouping sets.
func TestBatchEmptyUDAFPanics(t *testing.T) {
	created := 0
	run := func(t *testing.T, query string) []string {
		t.Helper()
		sess := sql.NewSession(sql.SessionOptions{})
		if err := sess.CreateTemporarySystemFunction("first_of", firstOf{&created}); err != nil {
			t.Fatal(err)
		}
		stmts, err := parser.Parse(`CREATE TABLE e (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '0');
CREATE TABLE f (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '3', 'fields.id.kind' = 'sequence', 'fields.id.start' = '4', 'fields.id.end' = '6');
SET 'execution.runtime-mode' = 'batch';
` + query)
		if err != nil {
			t.Fatal(err)
		}
		var job *sql.Job
		for _, st := range stmts {
			if _, job, err = sess.Execute(st); err != nil {
				t.Fatal(err)
			}
		}
		env := weir.NewEnvironment(weir.Options{Parallelism: 1})
		var mu sync.Mutex
		var rows []string
		types := job.Schema().Types()
		if err := job.Build(env, func(r row.Row) error {
			mu.Lock()
			defer mu.Unlock()
			rows = append(rows, row.FormatRow(r, types))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		slices.Sort(rows)
		return rows
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"SELECT first_of(id) AS x, COUNT(*) AS c FROM e;", nil},
		{"SELECT first_of(id) AS x, COUNT(*) AS c FROM f;", []string{"+I[4, 3]"}},
		{"SELECT id, first_of(id) AS x FROM e GROUP BY ROLLUP (id);", nil},
		{"SELECT id, first_of(id) AS x FROM f GROUP BY ROLLUP (id);", []string{"+I[4, 4]", "+I[5, 5]", "+I[6, 6]", "+I[NULL, 4]"}},
	} {
		t.Run(c.query, func(t *testing.T) {
			if got := run(t, c.query); !slices.Equal(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
	if created == 0 {
		t.Fatal("first_of's accumulator never created")
	}
}
