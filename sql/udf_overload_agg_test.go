package sql_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/udf"
	"github.com/weirstream/weir/weirtest"
)

// registerOverloadedAggregates registers ov_agg, an overloaded aggregate
// function (Flink's AggregateFunction with several accumulate methods) of
// three implementations, each with its own accumulator and result type:
//
//   - ov_agg(BIGINT NOT NULL): the sum, BIGINT, with retract and merge;
//   - ov_agg(STRING): the values joined by ',' in arrival order, STRING,
//     with merge but no retract;
//   - ov_agg(BIGINT, INT): Flink's WeightedAvg (retract and merge).
//
// It is registered as a system function and under the identifier
// com.example.OvAgg for CREATE FUNCTION.
func registerOverloadedAggregates(t testing.TB, s *sql.Session) {
	t.Helper()
	sum, err := udf.NewAggregate[ovSumAcc](ovSum{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	join, err := udf.NewAggregate[ovJoinAcc](ovJoin{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wavg, err := udf.NewAggregate[weightedAvgAcc](weightedAvg{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ov, err := udf.Overload(sum, join, wavg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTemporarySystemFunction("ov_agg", ov); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterFunction("com.example.OvAgg", ov); err != nil {
		t.Fatal(err)
	}
	// sum_scaled(v BIGINT, factor INT optional): the sum of v * factor,
	// factor 1 when NULL (left out or DEFAULT); for udf_default.txt.
	scaled, err := udf.NewAggregate[ovSumAcc](sumScaled{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	named, err := udf.Named(scaled, udf.Argument{Name: "v"}, udf.Argument{Name: "factor", Optional: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTemporarySystemFunction("sum_scaled", named); err != nil {
		t.Fatal(err)
	}
	// split_sep(str, sep optional): a table function splitting on sep,
	// on ' ' when sep is NULL.
	split, err := udf.Named(splitSep{}, udf.Argument{Name: "str"}, udf.Argument{Name: "sep", Optional: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTemporarySystemFunction("split_sep", split); err != nil {
		t.Fatal(err)
	}
}

type splitSep struct{}

func (splitSep) ParamTypes() []row.Type { return []row.Type{row.String(), row.String()} }

func (splitSep) ResultType([]row.Type) ([]row.Field, error) {
	return []row.Field{{Name: "word", Type: row.String()}}, nil
}

func (splitSep) Eval(args []row.Value, emit func(...row.Value)) error {
	if args[0].IsNull() {
		return nil
	}
	sep := " "
	if !args[1].IsNull() {
		sep = args[1].Str()
	}
	for _, w := range strings.Split(args[0].Str(), sep) {
		emit(row.Str(w))
	}
	return nil
}

type sumScaled struct{}

func (sumScaled) ParamTypes() []row.Type                  { return []row.Type{row.BigInt(), row.IntType()} }
func (sumScaled) ResultType([]row.Type) (row.Type, error) { return row.BigInt(), nil }
func (sumScaled) CreateAccumulator() ovSumAcc             { return ovSumAcc{} }
func (sumScaled) Accumulate(acc *ovSumAcc, args []row.Value) error {
	if args[0].IsNull() {
		return nil
	}
	f := int64(1)
	if !args[1].IsNull() {
		f = args[1].Int()
	}
	acc.Sum += args[0].Int() * f
	acc.N++
	return nil
}
func (sumScaled) GetValue(acc *ovSumAcc) (row.Value, error) {
	if acc.N == 0 {
		return row.Null(), nil
	}
	return row.Int(acc.Sum), nil
}

type ovSumAcc struct{ Sum, N int64 }

type ovSum struct{}

func (ovSum) ParamTypes() []row.Type                  { return []row.Type{row.BigInt().NotNull()} }
func (ovSum) ResultType([]row.Type) (row.Type, error) { return row.BigInt(), nil }
func (ovSum) CreateAccumulator() ovSumAcc             { return ovSumAcc{} }
func (ovSum) Accumulate(acc *ovSumAcc, args []row.Value) error {
	if !args[0].IsNull() {
		acc.Sum += args[0].Int()
		acc.N++
	}
	return nil
}
func (ovSum) Retract(acc *ovSumAcc, args []row.Value) error {
	if !args[0].IsNull() {
		acc.Sum -= args[0].Int()
		acc.N--
	}
	return nil
}
func (ovSum) Merge(acc, other *ovSumAcc) error {
	acc.Sum += other.Sum
	acc.N += other.N
	return nil
}
func (ovSum) GetValue(acc *ovSumAcc) (row.Value, error) {
	if acc.N == 0 {
		return row.Null(), nil
	}
	return row.Int(acc.Sum), nil
}

type ovJoinAcc struct{ Parts []string }

type ovJoin struct{}

func (ovJoin) ParamTypes() []row.Type                  { return []row.Type{row.String()} }
func (ovJoin) ResultType([]row.Type) (row.Type, error) { return row.String(), nil }
func (ovJoin) CreateAccumulator() ovJoinAcc            { return ovJoinAcc{} }
func (ovJoin) Accumulate(acc *ovJoinAcc, args []row.Value) error {
	if !args[0].IsNull() {
		acc.Parts = append(acc.Parts, args[0].Str())
	}
	return nil
}
func (ovJoin) Merge(acc, other *ovJoinAcc) error {
	acc.Parts = append(acc.Parts, other.Parts...)
	return nil
}
func (ovJoin) GetValue(acc *ovJoinAcc) (row.Value, error) {
	if len(acc.Parts) == 0 {
		return row.Null(), nil
	}
	return row.Str(strings.Join(acc.Parts, ",")), nil
}

// ovAggJob plans a GROUP BY of the three ov_agg implementations on a
// harness whose input stands for T; the result table (by the first
// column) is kept in table.
func ovAggJob(t *testing.T, h *weirtest.Harness, table map[string]string) *weirtest.Input[row.Row] {
	t.Helper()
	sess := sql.NewSession(sql.SessionOptions{})
	registerOverloadedAggregates(t, sess)
	stmts, err := parser.Parse(`CREATE TABLE T (k STRING, v BIGINT, s STRING) WITH ('connector' = 'datagen');
SELECT k, ov_agg(v) AS a, ov_agg(s) AS b, ov_agg(v, CAST(v % 3 AS INT)) AS c FROM T GROUP BY k;`)
	if err != nil {
		t.Fatal(err)
	}
	var job *sql.Job
	for _, st := range stmts {
		if _, job, err = sess.Execute(st); err != nil {
			t.Fatal(err)
		}
	}
	in := weirtest.NewInput[row.Row](h)
	types := job.Schema().Types()
	err = job.BuildOn(h.Env(), map[string]weir.Stream[row.Row]{"T": in.Stream()}, func(r row.Row) error {
		key := row.FormatRow(row.Of(r.Fields[0]), types[:1])
		switch r.Kind {
		case row.Insert, row.UpdateAfter:
			table[key] = row.FormatRow(r.WithKind(row.Insert), types)
		default:
			delete(table, key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Start(t)
	return in
}

// TestOverloadedAggregateRestore takes a savepoint in the middle of a
// GROUP BY over the three implementations of ov_agg (three accumulator
// types, each with its own encoding), restores it into a job planned anew
// from the same query (which binds each call to the same implementation)
// and finishes the input: the final table is the uninterrupted run's.
func TestOverloadedAggregateRestore(t *testing.T) {
	var rows []row.Row
	for i := range 200 {
		rows = append(rows, row.Of(row.Str(fmt.Sprintf("k%d", i%7)), row.Int(int64(i*13%29)), row.Str(fmt.Sprintf("s%d", i%5))))
	}
	push := func(in *weirtest.Input[row.Row], rs []row.Row) {
		for _, r := range rs {
			if err := in.Push(r, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]string{}
	{
		h := weirtest.New(weir.Options{})
		in := ovAggJob(t, h, want)
		push(in, rows)
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
		if err := h.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if all := strings.Join(sortedVals(want), "\n"); len(want) != 7 || !strings.Contains(all, "+I[k3, 406, s3,s0,s2,") {
		t.Fatalf("unexpected uninterrupted result: %q", sortedVals(want))
	}
	for _, cut := range []int{len(rows) / 3, len(rows)/2 + 5} {
		t.Run(fmt.Sprintf("at-%d", cut), func(t *testing.T) {
			opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			table := map[string]string{}
			h := weirtest.New(opts)
			push(ovAggJob(t, h, table), rows[:cut])
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			h2 := weirtest.Restore(opts, snap)
			in2 := ovAggJob(t, h2, table)
			push(in2, rows[cut:])
			if err := in2.End(); err != nil {
				t.Fatal(err)
			}
			if err := h2.Err(); err != nil {
				t.Fatal(err)
			}
			if got, exp := sortedVals(table), sortedVals(want); !slices.Equal(got, exp) {
				t.Fatalf("final table\n%q\nwant\n%q", got, exp)
			}
		})
	}
}

func sortedVals(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
