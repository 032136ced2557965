package sql_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/udf"
)

// registerFlinkTestFunctions registers Flink's test functions the
// flink_itcase_*.txt scripts bind by CREATE FUNCTION to their Java class
// names (as the ITCases' createTemporarySystemFunction does).
func registerFlinkTestFunctions(t testing.TB, s *sql.Session) {
	t.Helper()
	if err := s.RegisterFunction("org.apache.flink.table.planner.runtime.utils.JavaUserDefinedTableFunctions$StringSplit", stringSplit{}); err != nil {
		t.Fatal(err)
	}
	cnt, err := udf.NewAggregate[countNullNonNullAcc](countNullNonNull{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// AggregateITCase's createTemporarySystemFunction("CntNullNonNull", ...).
	if err := s.CreateTemporarySystemFunction("CntNullNonNull", cnt); err != nil {
		t.Fatal(err)
	}
	varArgs, err := udf.NewAggregate[sumAcc](varArgsAgg{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	varSum, err := udf.NewAggregate[sumAcc](varSumAgg{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]any{"func": varArgs, "var_sum": varSum} {
		if err := s.CreateTemporarySystemFunction(name, f); err != nil {
			t.Fatal(err)
		}
	}
}

// countNullNonNull is Flink's test aggregate CountNullNonNull
// (UserDefinedFunctionTestUtils, used by AggregateITCase): "nonNull|null",
// the counts of non-NULL and NULL arguments, with retract and no merge.
type countNullNonNull struct{}

type countNullNonNullAcc struct{ NonNull, Null int64 }

func (countNullNonNull) ParamTypes() []row.Type { return []row.Type{row.String()} }

func (countNullNonNull) ResultType([]row.Type) (row.Type, error) { return row.String(), nil }

func (countNullNonNull) CreateAccumulator() countNullNonNullAcc { return countNullNonNullAcc{} }

func (countNullNonNull) Accumulate(acc *countNullNonNullAcc, args []row.Value) error {
	if args[0].IsNull() {
		acc.Null++
	} else {
		acc.NonNull++
	}
	return nil
}

func (countNullNonNull) Retract(acc *countNullNonNullAcc, args []row.Value) error {
	if args[0].IsNull() {
		acc.Null--
	} else {
		acc.NonNull--
	}
	return nil
}

func (countNullNonNull) GetValue(acc *countNullNonNullAcc) (row.Value, error) {
	return row.Str(fmt.Sprintf("%d|%d", acc.NonNull, acc.Null)), nil
}

// sumAcc is the accumulator of varArgsAgg and varSumAgg.
type sumAcc struct{ Sum int64 }

// varArgsAgg is Flink's test aggregate VarArgsAggFunction (batch/sql/agg,
// used by AggregateITCase): VarArgsAggFunction(value BIGINT, s STRING...)
// sums value and the strings parsed as longs, with retract and merge.
type varArgsAgg struct{}

func (varArgsAgg) ResultType(args []row.Type) (row.Type, error) {
	if len(args) == 0 || !args[0].IsInteger() {
		return row.Type{}, fmt.Errorf("VarArgsAggFunction(BIGINT, STRING...)")
	}
	for _, a := range args[1:] {
		if !a.IsString() {
			return row.Type{}, fmt.Errorf("VarArgsAggFunction(BIGINT, STRING...)")
		}
	}
	return row.BigInt(), nil
}

func (varArgsAgg) CreateAccumulator() sumAcc { return sumAcc{} }

func (varArgsAgg) sum(args []row.Value) (int64, error) {
	n := args[0].Int()
	for _, a := range args[1:] {
		v, err := strconv.ParseInt(a.Str(), 10, 64)
		if err != nil {
			return 0, err
		}
		n += v
	}
	return n, nil
}

func (f varArgsAgg) Accumulate(acc *sumAcc, args []row.Value) error {
	n, err := f.sum(args)
	acc.Sum += n
	return err
}

func (f varArgsAgg) Retract(acc *sumAcc, args []row.Value) error {
	n, err := f.sum(args)
	acc.Sum -= n
	return err
}

func (varArgsAgg) Merge(acc, other *sumAcc) error {
	acc.Sum += other.Sum
	return nil
}

func (varArgsAgg) GetValue(acc *sumAcc) (row.Value, error) { return row.Int(acc.Sum), nil }

// varSumAgg is Flink's test aggregate VarSumAggFunction
// (JavaUserDefinedAggFunctions): var_sum(INT...) sums its non-NULL
// arguments; no retract, no merge.
type varSumAgg struct{}

func (varSumAgg) ResultType(args []row.Type) (row.Type, error) {
	for _, a := range args {
		if !a.IsInteger() {
			return row.Type{}, fmt.Errorf("var_sum(INT...)")
		}
	}
	return row.BigInt(), nil
}

func (varSumAgg) CreateAccumulator() sumAcc { return sumAcc{} }

func (varSumAgg) Accumulate(acc *sumAcc, args []row.Value) error {
	for _, a := range args {
		if !a.IsNull() {
			acc.Sum += a.Int()
		}
	}
	return nil
}

func (varSumAgg) GetValue(acc *sumAcc) (row.Value, error) { return row.Int(acc.Sum), nil }

// stringSplit is Flink's test table function StringSplit
// (JavaUserDefinedTableFunctions.StringSplit, used by CorrelateITCase):
// STRING_SPLIT() emits a, b, c; STRING_SPLIT(s) splits on commas;
// STRING_SPLIT(s, chars) splits as Apache Commons' StringUtils.split does:
// on any of chars, adjacent separators as one, no empty tokens (so an
// empty string emits nothing); a NULL s emits nothing.
type stringSplit struct{}

func (stringSplit) ResultType([]row.Type) ([]row.Field, error) {
	return []row.Field{{Name: "f0", Type: row.String()}}, nil
}

func (stringSplit) Eval(args []row.Value, emit func(...row.Value)) error {
	if len(args) == 0 {
		for _, s := range []string{"a", "b", "c"} {
			emit(row.Str(s))
		}
		return nil
	}
	if args[0].IsNull() {
		return nil
	}
	seps := ","
	if len(args) > 1 && !args[1].IsNull() {
		seps = args[1].Str()
	}
	for _, s := range strings.FieldsFunc(args[0].Str(), func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		emit(row.Str(s))
	}
	return nil
}
