package udf

import (
	"errors"
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
)

// Overloaded is a user-defined function with several implementations
// under one name, each for its own parameter types: Flink's overloaded
// eval (or accumulate) methods, or several @FunctionHint signatures. Build it with
// Overload and register it as the function itself.
//
// A call binds to one implementation when the query is planned, by the
// types of its arguments, as Flink's OrInputTypeStrategy picks a
// signature: the first implementation (in the order given to Overload)
// whose parameter types equal the arguments' types, nullability
// included; else the first to whose parameters the arguments cast
// implicitly (a wider numeric type, a typed NULL; an untyped NULL casts
// to no NOT NULL parameter, as in Flink); else the call is an error
// listing the signatures.
type Overloaded struct {
	fns []any
}

// Functions returns the implementations, in their order.
func (o Overloaded) Functions() []any { return append([]any(nil), o.fns...) }

// Overload builds an Overloaded function from fns: all ScalarFunction,
// all TableFunction or all AggregateFunction (Flink's aggregate function
// with several accumulate methods; each implementation has its own
// accumulator and result type, e.g. each from NewAggregate), each
// implementing Signature (the declared parameter types tell the
// implementations apart; the typed helpers Func1.. do), no two with the
// same parameter types (nullability aside). Named arguments are not taken by an overloaded
// function (Flink's named parameters need a single signature): fns may
// not be NamedFunction values.
func Overload(fns ...any) (Overloaded, error) {
	if len(fns) == 0 {
		return Overloaded{}, errors.New("udf: Overload needs at least one function")
	}
	kind := ""
	seen := map[string]int{}
	for i, fn := range fns {
		if _, ok := fn.(NamedFunction); ok {
			return Overloaded{}, fmt.Errorf("udf: Overload: function %d has named arguments; an overloaded function takes arguments by position only", i+1)
		}
		if _, ok := fn.(Overloaded); ok {
			return Overloaded{}, fmt.Errorf("udf: Overload: function %d is itself overloaded", i+1)
		}
		k := kindOf(fn)
		if k == "" {
			return Overloaded{}, fmt.Errorf("udf: Overload: function %d (%T) is not a ScalarFunction, TableFunction or AggregateFunction", i+1, fn)
		}
		if kind != "" && k != kind {
			return Overloaded{}, fmt.Errorf("udf: Overload: function %d is a %s function, function 1 a %s function: the implementations must be of one kind", i+1, k, kind)
		}
		kind = k
		sig, ok := fn.(Signature)
		if !ok {
			return Overloaded{}, fmt.Errorf("udf: Overload: function %d (%T) does not declare its parameter types (udf.Signature), so calls could not choose it", i+1, fn)
		}
		// Nullability does not tell implementations apart: a call
		// chooses by the argument types, which a NULL may widen.
		ps := sig.ParamTypes()
		nn := make([]row.Type, len(ps))
		for j, p := range ps {
			nn[j] = p.WithNullable(true)
		}
		key := SignatureString("", nn)
		if j, dup := seen[key]; dup {
			return Overloaded{}, fmt.Errorf("udf: Overload: functions %d and %d both take %s", j+1, i+1, key)
		}
		seen[key] = i
	}
	return Overloaded{fns: append([]any(nil), fns...)}, nil
}

// kindOf names the kind of fn, "" if it is none.
func kindOf(fn any) string {
	switch fn.(type) {
	case ScalarFunction:
		return "scalar"
	case TableFunction:
		return "table"
	case AggregateFunction:
		return "aggregate"
	}
	return ""
}

// SignatureString formats a call signature as Flink lists expected
// signatures: name(TYPE1, TYPE2).
func SignatureString(name string, params []row.Type) string {
	ts := make([]string, len(params))
	for i, p := range params {
		ts[i] = p.String()
	}
	return name + "(" + strings.Join(ts, ", ") + ")"
}
