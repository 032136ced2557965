// Package udf defines user-defined functions for Weir's Flink SQL: scalar
// functions, table functions and aggregate functions written in Go and
// registered on a SQL session (sql.Session.RegisterFunction,
// sql.Session.CreateTemporarySystemFunction).
//
// The three kinds mirror Flink's ScalarFunction, TableFunction and
// AggregateFunction:
//
//   - a ScalarFunction maps the argument values of one row to one value;
//   - a TableFunction emits zero or more rows per call and is used in FROM
//     with LATERAL TABLE(f(x)) AS T(a, b), joined to the row it was called
//     on (CROSS JOIN, or LEFT JOIN ... ON TRUE);
//   - an AggregateFunction folds the rows of a group or window into an
//     accumulator (CreateAccumulator, Accumulate, Retract, Merge,
//     GetValue) which Weir keeps in checkpointed state.
//
// Type inference: every function derives its result type from the SQL
// types of its arguments (ResultType), which lets it reject a call with an
// error naming the argument. A function that also implements Signature
// declares its parameter types: Weir then checks the argument count and
// inserts Flink's implicit widening casts (INT to BIGINT, ...) before
// calling it. The typed helpers (Func1, Func2, Func3) derive both from
// the Go types of a plain Go function; a MULTISET<T> is a Multiset[T]
// (map[T]int, Flink's Map<T, Integer>), nil for NULL.
//
// NULL handling follows Flink: a function receives NULL arguments (a NULL
// row.Value) and decides itself, unless it declares otherwise by
// implementing NullStrict, in which case a call with a NULL argument is
// NULL without calling the function (the typed helpers are strict for
// non-pointer parameters and pass nil for pointer parameters).
//
// Errors: an error returned by a function, or a panic inside it, fails the
// row's processing with an error naming the function and the row's
// arguments; it never crashes the process. Functions are called by one
// subtask goroutine at a time but the same value may be called from
// several subtasks concurrently: a function must not keep mutable state
// outside the accumulators Weir gives it.
package udf

import (
	"errors"
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
)

// ScalarFunction is a user-defined scalar function (Flink's
// ScalarFunction).
type ScalarFunction interface {
	// ResultType derives the result type from the argument types, or
	// rejects the call with an error naming the argument at fault.
	ResultType(args []row.Type) (row.Type, error)
	// Eval computes the result of one call. args is only valid during
	// the call (Weir reuses it); copy what must outlive it.
	Eval(args []row.Value) (row.Value, error)
}

// TableFunction is a user-defined table function (Flink's TableFunction):
// each call emits zero or more rows.
type TableFunction interface {
	// ResultType derives the emitted rows' columns from the argument
	// types. Column names are defaults that AS T(a, b) may rename.
	ResultType(args []row.Type) ([]row.Field, error)
	// Eval emits the rows of one call. emit copies fields; it may be
	// called any number of times, only during Eval.
	Eval(args []row.Value, emit func(fields ...row.Value)) error
}

// AggregateFunction is a user-defined aggregate function in the form the
// runtime uses: accumulators behind an interface that encodes itself.
// Most users write an Aggregate[A] and wrap it with NewAggregate, which
// builds this from a Go accumulator type and its codec.
type AggregateFunction interface {
	// ResultType derives the result type from the argument types.
	ResultType(args []row.Type) (row.Type, error)
	// NewAccumulator returns an empty accumulator (CreateAccumulator).
	NewAccumulator() Accumulator
	// CanRetract reports whether accumulators implement Retract: needed
	// when the aggregated input is updating (an aggregation over an
	// aggregation, over an outer join, ...).
	CanRetract() bool
	// CanMerge reports whether accumulators implement Merge: needed by
	// SESSION windows.
	CanMerge() bool
}

// Accumulator is the state of one aggregate call over one group (or one
// window of a group). Weir keeps it encoded in checkpointed state between
// rows (AppendTo, Decode) and reuses the value (Reset).
type Accumulator interface {
	Accumulate(args []row.Value) error
	// Retract undoes Accumulate of the same arguments (ErrNoRetract when
	// the function has none).
	Retract(args []row.Value) error
	// Merge adds other (an accumulator of the same function holding later
	// rows) into the receiver (ErrNoMerge when the function has none).
	Merge(other Accumulator) error
	// Value is the aggregate's current result (GetValue).
	Value() (row.Value, error)
	// Reset empties the accumulator (as CreateAccumulator).
	Reset()
	// AppendTo appends the accumulator's encoding to dst.
	AppendTo(dst []byte) []byte
	// Decode loads the accumulator from the start of src and returns the
	// number of bytes read.
	Decode(src []byte) (int, error)
}

// Signature is implemented by functions that declare their parameter
// types: Weir checks the argument count, casts arguments implicitly as
// Flink does (a wider numeric type, a typed NULL) and refuses other
// types with an error naming the argument.
type Signature interface {
	ParamTypes() []row.Type
}

// NullStrict is implemented by functions that return NULL when any
// argument is NULL without being called (SQL's RETURNS NULL ON NULL
// INPUT).
type NullStrict interface {
	ReturnsNullOnNullInput() bool
}

// Deterministic is implemented by functions whose result is not a
// function of their arguments (random, current time): IsDeterministic
// returns false and Weir never folds a call of them into a constant
// (Flink's FunctionDefinition.isDeterministic).
type Deterministic interface {
	IsDeterministic() bool
}

// ErrNoRetract is returned by an accumulator whose function cannot
// retract.
var ErrNoRetract = errors.New("udf: the function does not implement Retract")

// ErrNoMerge is returned by an accumulator whose function cannot merge.
var ErrNoMerge = errors.New("udf: the function does not implement Merge")

// Error is the error of a user-defined function that failed (returned an
// error or panicked) on one call. Weir's operators return it, wrapped,
// so that the job fails naming the function and the row.
type Error struct {
	// Function is the SQL name of the function.
	Function string
	// Args are the call's arguments, formatted as SQL literals.
	Args string
	// Panic is set when the function panicked.
	Panic bool
	// Err is the function's error (or the panic value as an error).
	Err error
}

// Error names the function, the arguments and the cause.
func (e *Error) Error() string {
	verb := "failed"
	if e.Panic {
		verb = "panicked"
	}
	return fmt.Sprintf("udf: function %s %s on arguments (%s): %v", e.Function, verb, e.Args, e.Err)
}

// Unwrap returns the function's error.
func (e *Error) Unwrap() error { return e.Err }

// Guard calls f, turning an error it returns or a panic inside it into an
// *Error naming the function name and the arguments args of types types
// (formatted only when f fails).
func Guard(name string, args []row.Value, types []row.Type, f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Recovered(name, args, types, p)
		}
	}()
	if ferr := f(); ferr != nil {
		return Failed(name, args, types, ferr)
	}
	return nil
}

// Failed is the *Error of a function name that returned err on args.
func Failed(name string, args []row.Value, types []row.Type, err error) *Error {
	return &Error{Function: name, Args: FormatArgs(args, types), Err: err}
}

// Recovered is the *Error of a function name that panicked with p on
// args.
func Recovered(name string, args []row.Value, types []row.Type, p any) *Error {
	perr, ok := p.(error)
	if !ok {
		perr = fmt.Errorf("%v", p)
	}
	return &Error{Function: name, Args: FormatArgs(args, types), Panic: true, Err: perr}
}

// FormatArgs formats argument values as SQL literals: 1, 'abc', NULL.
func FormatArgs(args []row.Value, types []row.Type) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case a.IsNull():
			b.WriteString("NULL")
		case i < len(types) && (types[i].IsString()):
			b.WriteString("'" + strings.ReplaceAll(a.Str(), "'", "''") + "'")
		case i < len(types):
			b.WriteString(row.Format(a, types[i]))
		default:
			b.WriteString("?")
		}
	}
	return b.String()
}
