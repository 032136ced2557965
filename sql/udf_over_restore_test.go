package sql

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/udf"
	"github.com/weirstream/weir/weirtest"
)

// overSumAcc is the accumulator of overSum, a Go SUM(BIGINT) with
// Retract: the sum of the non-NULL values and their number.
type overSumAcc struct{ Sum, N int64 }

type overSum struct{}

func (overSum) ParamTypes() []row.Type                  { return []row.Type{row.BigInt()} }
func (overSum) ResultType([]row.Type) (row.Type, error) { return row.BigInt(), nil }
func (overSum) CreateAccumulator() overSumAcc           { return overSumAcc{} }

func (overSum) Accumulate(a *overSumAcc, args []row.Value) error {
	if !args[0].IsNull() {
		a.Sum, a.N = a.Sum+args[0].Int(), a.N+1
	}
	return nil
}

func (overSum) Retract(a *overSumAcc, args []row.Value) error {
	if !args[0].IsNull() {
		a.Sum, a.N = a.Sum-args[0].Int(), a.N-1
	}
	return nil
}

func (overSum) GetValue(a *overSumAcc) (row.Value, error) {
	if a.N == 0 {
		return row.Null(), nil
	}
	return row.Int(a.Sum), nil
}

// overUDAFQuery runs the Go SUM beside the built-in SUM in a bounded
// processing-time OVER window (results depend only on each partition's
// arrival order).
const overUDAFQuery = `CREATE TABLE T (id BIGINT, k STRING, v BIGINT, pt AS PROCTIME()) WITH ('connector' = 'datagen');
SELECT id, s_udf, s FROM (SELECT id,
  go_sum(v) OVER w AS s_udf, SUM(v) OVER w AS s
  FROM T WINDOW w AS (PARTITION BY k ORDER BY pt ROWS BETWEEN 3 PRECEDING AND CURRENT ROW));`

// overUDAFJob plans overUDAFQuery on h, its rows kept in table by id.
func overUDAFJob(t *testing.T, h *weirtest.Harness, table map[string]string) *weirtest.Input[row.Row] {
	t.Helper()
	sess := NewSession(SessionOptions{})
	f, err := udf.NewAggregate[overSumAcc](overSum{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.CreateTemporarySystemFunction("go_sum", f); err != nil {
		t.Fatal(err)
	}
	stmts, err := parser.Parse(overUDAFQuery)
	if err != nil {
		t.Fatal(err)
	}
	var job *Job
	for _, st := range stmts {
		if _, job, err = sess.Execute(st); err != nil {
			t.Fatal(err)
		}
	}
	in := weirtest.NewInput[row.Row](h)
	types := job.Schema().Types()
	err = job.BuildOn(h.Env(), map[string]weir.Stream[row.Row]{"T": in.Stream()}, func(r row.Row) error {
		if r.Kind != row.Insert {
			return fmt.Errorf("OVER emitted %s", row.FormatRow(r, types))
		}
		if row.Format(r.Fields[1], types[1]) != row.Format(r.Fields[2], types[2]) {
			return fmt.Errorf("go_sum differs from SUM: %s", row.FormatRow(r, types))
		}
		table[row.FormatRow(row.Of(r.Fields[0]), types[:1])] = row.FormatRow(r, types)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Start(t)
	return in
}

// TestOverUDAFSavepointRestore takes a savepoint in the middle of a
// bounded OVER window whose accumulators include a user-defined
// aggregate's (encoded by its codec) and whose frames hold rows to
// retract later, restores it at another parallelism and finishes the
// input: every row's result is the uninterrupted run's.
func TestOverUDAFSavepointRestore(t *testing.T) {
	var rows []row.Row
	for i := range 200 {
		v := row.Int(int64(i * 7 % 23))
		if i%11 == 0 {
			v = row.Null()
		}
		rows = append(rows, row.Of(row.Int(int64(i)), row.Str(fmt.Sprintf("k%d", i*i%7)), v))
	}
	run := func(t *testing.T, h *weirtest.Harness, in *weirtest.Input[row.Row], rs []row.Row) {
		t.Helper()
		for _, r := range rs {
			if err := in.Push(r, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]string{}
	{
		h := weirtest.New(weir.Options{})
		in := overUDAFJob(t, h, want)
		run(t, h, in, rows)
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
		if err := h.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if len(want) != len(rows) {
		t.Fatalf("%d result rows, want %d", len(want), len(rows))
	}
	for _, cut := range []int{len(rows) / 3, len(rows)/2 + 5} {
		t.Run(fmt.Sprintf("at-%d", cut), func(t *testing.T) {
			opts := weir.Options{Parallelism: 1, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			table := map[string]string{}
			h := weirtest.New(opts)
			in := overUDAFJob(t, h, table)
			run(t, h, in, rows[:cut])
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			opts.Parallelism = 3
			h2 := weirtest.Restore(opts, snap)
			in2 := overUDAFJob(t, h2, table)
			run(t, h2, in2, rows[cut:])
			if err := in2.End(); err != nil {
				t.Fatal(err)
			}
			if err := h2.Err(); err != nil {
				t.Fatal(err)
			}
			if got, exp := sortedValues(table), sortedValues(want); !slices.Equal(got, exp) {
				t.Fatalf("final table\n%q\nwant\n%q", got, exp)
			}
		})
	}
}
