package sql_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/udf"
)

// registerTestFunctions registers the user-defined functions the script
// tests call (testdata/udf*.txt). They follow the examples of Flink's
// user-defined functions page: SubstringFunction, SplitFunction,
// WeightedAvg.
func registerTestFunctions(t testing.TB, s *sql.Session) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// SubstringFunction(s, begin, end): Java's s.substring(begin, end);
	// bound to a SQL name by CREATE FUNCTION in the scripts.
	sub, err := udf.Func3(func(s string, begin, end int32) (string, error) {
		if begin < 0 || int(end) > len(s) || begin > end {
			return "", fmt.Errorf("begin %d, end %d, length %d", begin, end, len(s))
		}
		return s[begin:end], nil
	})
	must(err)
	must(s.RegisterFunction("com.example.SubstringFunction", sub))
	// add_one(BIGINT): strict, a NULL gives NULL without a call.
	addOne, err := udf.Func1(func(x int64) (int64, error) { return x + 1, nil })
	must(err)
	must(s.CreateTemporarySystemFunction("add_one", addOne))
	// null_to(STRING): receives NULLs (a pointer parameter).
	nullTo, err := udf.Func1(func(x *string) (string, error) {
		if x == nil {
			return "was null", nil
		}
		return "was " + *x, nil
	})
	must(err)
	must(s.CreateTemporarySystemFunction("null_to", nullTo))
	// checked(INT): fails on negative values; boom(INT) panics on 3.
	checked, err := udf.Func1(func(x int32) (int32, error) {
		if x < 0 {
			return 0, errors.New("negative input")
		}
		return x, nil
	})
	must(err)
	must(s.CreateTemporarySystemFunction("checked", checked))
	boom, err := udf.Func1(func(x int32) (int32, error) {
		if x == 3 {
			var m map[string]int
			m["x"] = 1 // a nil map write: a runtime panic
		}
		return x, nil
	})
	must(err)
	must(s.CreateTemporarySystemFunction("boom", boom))
	// describe_types(any...): an untyped function inferring its result
	// from its arguments.
	must(s.CreateTemporarySystemFunction("type_of", typeOfFunc{}))
	must(s.RegisterFunction("com.example.SplitFunction", splitFunction{}))
	must(s.CreateTemporarySystemFunction("SplitFunction", splitFunction{}))
	wavg, err := udf.NewAggregate[weightedAvgAcc](weightedAvg{}, nil)
	must(err)
	must(s.RegisterFunction("com.example.WeightedAvg", wavg))
	must(s.CreateTemporarySystemFunction("WeightedAvg", wavg))
	noRetract, err := udf.NewAggregate[weightedAvgAcc](weightedAvgNoRetract{}, nil)
	must(err)
	must(s.CreateTemporarySystemFunction("wavg_append", noRetract))
	must(s.CreateTemporarySystemFunction("fail_agg", failAgg{}))
	// Named parameters (Flink's @ArgumentHint): pad_to(s, width[, fill])
	// pads s on the right to width characters with fill (default ' ');
	// fill is optional, so a call by name may leave it out (NULL).
	pad, err := udf.Func3(func(s string, width int32, fill *string) (string, error) {
		f := " "
		if fill != nil && *fill != "" {
			f = *fill
		}
		for len(s) < int(width) {
			s += f
		}
		return s, nil
	})
	must(err)
	namedPad, err := udf.Named(pad, udf.Argument{Name: "s"}, udf.Argument{Name: "width"}, udf.Argument{Name: "fill", Optional: true})
	must(err)
	must(s.CreateTemporarySystemFunction("pad_to", namedPad))
	namedSplit, err := udf.Named(splitFunction{}, udf.Argument{Name: "str"})
	must(err)
	must(s.CreateTemporarySystemFunction("words_of", namedSplit))
	namedWavg, err := udf.Named(wavg, udf.Argument{Name: "v"}, udf.Argument{Name: "w"})
	must(err)
	must(s.RegisterFunction("com.example.NamedWeightedAvg", namedWavg))
	// Overloaded functions (Flink's overloaded eval methods):
	// which_num(BIGINT NOT NULL | DOUBLE NOT NULL | STRING) names the
	// implementation a call binds to; tokens(STRING[, STRING]) splits on
	// spaces or on the separator given.
	byInt, err := udf.Func1(func(x int64) (string, error) { return fmt.Sprintf("bigint %d", x), nil })
	must(err)
	byDouble, err := udf.Func1(func(x float64) (string, error) { return fmt.Sprintf("double %g", x), nil })
	must(err)
	byString, err := udf.Func1(func(x *string) (string, error) {
		if x == nil {
			return "string NULL", nil
		}
		return "string " + *x, nil
	})
	must(err)
	whichNum, err := udf.Overload(byInt, byDouble, byString)
	must(err)
	must(s.CreateTemporarySystemFunction("which_num", whichNum))
	must(s.RegisterFunction("com.example.WhichNum", whichNum))
	tokens, err := udf.Overload(splitFunction{}, splitOnFunction{})
	must(err)
	must(s.CreateTemporarySystemFunction("tokens", tokens))
}

// splitOnFunction is splitFunction with the separator as a second
// argument (an overload of tokens).
type splitOnFunction struct{}

func (splitOnFunction) ParamTypes() []row.Type { return []row.Type{row.String(), row.String()} }

func (splitOnFunction) ResultType([]row.Type) ([]row.Field, error) {
	return []row.Field{{Name: "word", Type: row.String()}, {Name: "length", Type: row.IntType()}}, nil
}

func (splitOnFunction) Eval(args []row.Value, emit func(...row.Value)) error {
	if args[0].IsNull() || args[1].IsNull() {
		return nil
	}
	for _, w := range strings.Split(args[0].Str(), args[1].Str()) {
		emit(row.Str(w), row.Int(int64(len(w))))
	}
	return nil
}

// typeOfFunc returns the SQL type of its only argument as a string.
type typeOfFunc struct{}

func (typeOfFunc) ResultType(args []row.Type) (row.Type, error) {
	if len(args) != 1 {
		return row.Type{}, fmt.Errorf("takes one argument, got %d", len(args))
	}
	return row.String().NotNull(), nil
}

func (typeOfFunc) Eval(args []row.Value) (row.Value, error) {
	return row.Str("?"), nil
}

// splitFunction is Flink's SplitFunction example: one row (word, length)
// per word of a space-separated string.
type splitFunction struct{}

func (splitFunction) ParamTypes() []row.Type { return []row.Type{row.String()} }

func (splitFunction) ResultType([]row.Type) ([]row.Field, error) {
	return []row.Field{{Name: "word", Type: row.String()}, {Name: "length", Type: row.IntType()}}, nil
}

func (splitFunction) Eval(args []row.Value, emit func(...row.Value)) error {
	if args[0].IsNull() {
		return nil
	}
	for _, w := range strings.Split(args[0].Str(), " ") {
		if w == "fail" {
			return errors.New("cannot split 'fail'")
		}
		emit(row.Str(w), row.Int(int64(len(w))))
	}
	return nil
}

// weightedAvg is Flink's WeightedAvg example: the average of values
// weighted by weights, with retract and merge.
type weightedAvg struct{ weightedAvgNoRetract }

type weightedAvgAcc struct{ Sum, Count int64 }

type weightedAvgNoRetract struct{}

func (weightedAvgNoRetract) ParamTypes() []row.Type {
	return []row.Type{row.BigInt(), row.IntType()}
}

func (weightedAvgNoRetract) ResultType([]row.Type) (row.Type, error) { return row.BigInt(), nil }

func (weightedAvgNoRetract) CreateAccumulator() weightedAvgAcc { return weightedAvgAcc{} }

func (weightedAvgNoRetract) Accumulate(acc *weightedAvgAcc, args []row.Value) error {
	if args[0].IsNull() || args[1].IsNull() {
		return nil
	}
	acc.Sum += args[0].Int() * args[1].Int()
	acc.Count += args[1].Int()
	return nil
}

func (weightedAvgNoRetract) GetValue(acc *weightedAvgAcc) (row.Value, error) {
	if acc.Count == 0 {
		return row.Null(), nil
	}
	return row.Int(acc.Sum / acc.Count), nil
}

func (weightedAvg) Retract(acc *weightedAvgAcc, args []row.Value) error {
	if args[0].IsNull() || args[1].IsNull() {
		return nil
	}
	acc.Sum -= args[0].Int() * args[1].Int()
	acc.Count -= args[1].Int()
	return nil
}

func (weightedAvg) Merge(acc, other *weightedAvgAcc) error {
	acc.Sum += other.Sum
	acc.Count += other.Count
	return nil
}

// failAgg is an aggregate whose accumulator (a raw udf.Accumulator with
// its own encoding) fails on the value 13.
type failAgg struct{}

func (failAgg) ResultType([]row.Type) (row.Type, error) { return row.BigInt().NotNull(), nil }
func (failAgg) NewAccumulator() udf.Accumulator         { return &countAcc{} }
func (failAgg) CanRetract() bool                        { return true }
func (failAgg) CanMerge() bool                          { return false }

type countAcc struct{ n int64 }

func (a *countAcc) Accumulate(args []row.Value) error {
	if !args[0].IsNull() && args[0].Int() == 13 {
		return errors.New("unlucky value")
	}
	a.n++
	return nil
}
func (a *countAcc) Retract([]row.Value) error   { a.n--; return nil }
func (a *countAcc) Merge(udf.Accumulator) error { return udf.ErrNoMerge }
func (a *countAcc) Value() (row.Value, error)   { return row.Int(a.n), nil }
func (a *countAcc) Reset()                      { a.n = 0 }
func (a *countAcc) AppendTo(dst []byte) []byte  { return append(dst, byte(a.n)) }
func (a *countAcc) Decode(src []byte) (int, error) {
	if len(src) < 1 {
		return 0, errors.New("short")
	}
	a.n = int64(src[0])
	return 1, nil
}

// changelogModeOnly turns a plain EXPLAIN into EXPLAIN CHANGELOG_MODE
// (the script tests' explain command).
func changelogModeOnly(st ast.Statement) ast.Statement {
	if e, ok := st.(*ast.Explain); ok && len(e.Details) == 0 {
		c := *e
		c.Details = []string{"CHANGELOG_MODE"}
		return &c
	}
	return st
}

// physicalSection cuts the "== Optimized Physical Plan ==" section out of
// an EXPLAIN's output.
func physicalSection(text string) string {
	const head = "== Optimized Physical Plan ==\n"
	i := strings.Index(text, head)
	if i < 0 {
		return text
	}
	rest := text[i:]
	if j := strings.Index(rest, "\n\n=="); j >= 0 {
		rest = rest[:j+1]
	}
	return rest
}

// TestRegisterFunctionErrors checks the Go registration API's refusals.
func TestRegisterFunctionErrors(t *testing.T) {
	s := sql.NewSession(sql.SessionOptions{})
	f, err := udf.Func1(func(x int64) (int64, error) { return x, nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{s.CreateTemporaryFunction("upper", f), ""}, // as Flink; a qualified call reaches it
		{s.CreateTemporarySystemFunction("f", 42), "int is not a udf.ScalarFunction"},
		{s.RegisterFunction("", f), "empty identifier"},
		{s.CreateTemporaryFunction("same", f), ""},
		{s.CreateTemporaryFunction("SAME", f), "does already exist"},
		{s.CreateTemporarySystemFunction("upper", f), ""}, // a system function may shadow a built-in
		{s.RegisterFunction("id", f), ""},
		{s.RegisterFunction("id", f), "already registered"},
	} {
		if tc.want == "" && tc.err != nil || tc.want != "" && (tc.err == nil || !strings.Contains(tc.err.Error(), tc.want)) {
			t.Errorf("got %v, want an error containing %q", tc.err, tc.want)
		}
	}
}
