package udf

import (
	"fmt"
	"strings"
)

// Argument is a named parameter of a user-defined function, Flink's
// @ArgumentHint(name = .., isOptional = ..).
type Argument struct {
	// Name is the parameter's name in calls (f(name => value));
	// matched case-insensitively.
	Name string
	// Optional lets a call by name leave the argument out: the function
	// then receives NULL (of the parameter's declared type, when the
	// function implements Signature).
	Optional bool
}

// NamedArguments is implemented by a function whose parameters have names
// (Flink's named parameters, FLIP-387): a call may then pass every
// argument by name, in any order, and leave optional ones out —
// f(b => 2, a => 1). Arguments lists the parameters in their positional
// order; a call by position is unchanged. Wrap a function that does not
// implement it with Named.
type NamedArguments interface {
	Arguments() []Argument
}

// NamedFunction is a user-defined function with parameter names, as Named
// builds it; register it as the function itself.
type NamedFunction struct {
	// Func is the ScalarFunction, TableFunction or AggregateFunction.
	Func any
	Args []Argument
}

// Arguments returns the parameter names.
func (n NamedFunction) Arguments() []Argument { return n.Args }

// Named gives fn (a ScalarFunction, TableFunction or AggregateFunction,
// e.g. from Func2 or NewAggregate) names for its parameters, in their
// positional order, for calls with named arguments. Names must be
// distinct and non-empty; when fn implements Signature there must be one
// per declared parameter.
func Named(fn any, args ...Argument) (NamedFunction, error) {
	if err := CheckArguments(fn, args); err != nil {
		return NamedFunction{}, err
	}
	return NamedFunction{Func: fn, Args: args}, nil
}

// CheckArguments validates the parameter names of fn (see Named).
func CheckArguments(fn any, args []Argument) error {
	if _, ok := fn.(Overloaded); ok {
		return fmt.Errorf("udf: an overloaded function takes arguments by position only: its implementations have no common parameter names")
	}
	seen := map[string]bool{}
	for i, a := range args {
		if a.Name == "" {
			return fmt.Errorf("udf: argument %d has no name", i+1)
		}
		k := strings.ToUpper(a.Name)
		if seen[k] {
			return fmt.Errorf("udf: argument name '%s' appears twice", a.Name)
		}
		seen[k] = true
	}
	if sig, ok := fn.(Signature); ok {
		if n := len(sig.ParamTypes()); n != len(args) {
			return fmt.Errorf("udf: %d argument names for a function of %d parameters", len(args), n)
		}
	}
	return nil
}
