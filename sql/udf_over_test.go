package sql_test

import (
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/udf"
)

// registerOverTestFunctions registers the functions of
// testdata/udf_over.txt: sum_udf(BIGINT), a Go SUM with Retract (NULL
// over no non-NULL value, as SUM), and sum_append, the same without
// Retract.
func registerOverTestFunctions(t testing.TB, s *sql.Session) {
	t.Helper()
	withRetract, err := udf.NewAggregate[sumUDFAcc](sumUDF{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendOnly, err := udf.NewAggregate[sumUDFAcc](sumUDFAppend{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTemporarySystemFunction("sum_udf", withRetract); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTemporarySystemFunction("sum_append", appendOnly); err != nil {
		t.Fatal(err)
	}
}

// sumUDFAcc is the sum of the non-NULL values and their number.
type sumUDFAcc struct{ Sum, N int64 }

type sumUDFAppend struct{}

func (sumUDFAppend) ParamTypes() []row.Type                  { return []row.Type{row.BigInt()} }
func (sumUDFAppend) ResultType([]row.Type) (row.Type, error) { return row.BigInt(), nil }
func (sumUDFAppend) CreateAccumulator() sumUDFAcc            { return sumUDFAcc{} }

func (sumUDFAppend) Accumulate(acc *sumUDFAcc, args []row.Value) error {
	if !args[0].IsNull() {
		acc.Sum += args[0].Int()
		acc.N++
	}
	return nil
}

func (sumUDFAppend) GetValue(acc *sumUDFAcc) (row.Value, error) {
	if acc.N == 0 {
		return row.Null(), nil
	}
	return row.Int(acc.Sum), nil
}

type sumUDF struct{ sumUDFAppend }

func (sumUDF) Retract(acc *sumUDFAcc, args []row.Value) error {
	if !args[0].IsNull() {
		acc.Sum -= args[0].Int()
		acc.N--
	}
	return nil
}
