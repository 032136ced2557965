package exec

import (
	"fmt"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/udf"
)

// UserDefined is a user-defined aggregate function: the AggCall's UDF
// (and UDFName) say which.
const UserDefined Func = 64

// UserCall returns a call of the user-defined aggregate function f, named
// name in SQL, over the given argument columns.
func UserCall(name string, f udf.AggregateFunction, args ...int) AggCall {
	return AggCall{Func: UserDefined, UDF: f, UDFName: name, Args: args, Filter: NoFilter}
}

// udfAcc adapts a user-defined accumulator to the accumulator interface.
// An error or panic of the function is kept in err (the interface has no
// error results) and taken by aggSet.failed after each row.
type udfAcc struct {
	name     string
	argTypes []row.Type
	acc      udf.Accumulator
	err      error
}

func (a *udfAcc) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

func (a *udfAcc) accumulate(args []row.Value) {
	a.fail(udf.Guard(a.name, args, a.argTypes, func() error { return a.acc.Accumulate(args) }))
}

func (a *udfAcc) retract(args []row.Value) {
	a.fail(udf.Guard(a.name+" (Retract)", args, a.argTypes, func() error { return a.acc.Retract(args) }))
}

func (a *udfAcc) merge(o accumulator) {
	a.fail(udf.Guard(a.name+" (Merge)", nil, nil, func() error { return a.acc.Merge(o.(*udfAcc).acc) }))
}

func (a *udfAcc) value() row.Value {
	var v row.Value
	a.fail(udf.Guard(a.name+" (GetValue)", nil, nil, func() error {
		var err error
		v, err = a.acc.Value()
		return err
	}))
	return v
}

func (a *udfAcc) reset() {
	a.fail(udf.Guard(a.name+" (CreateAccumulator)", nil, nil, func() error { a.acc.Reset(); return nil }))
}

func (a *udfAcc) appendTo(dst []byte) []byte { return a.acc.AppendTo(dst) }

func (a *udfAcc) decode(src []byte) (int, error) {
	n, err := a.acc.Decode(src)
	if err != nil {
		return 0, fmt.Errorf("sql/exec: accumulator of %s: %w", a.name, err)
	}
	return n, nil
}

// newUserAcc builds the accumulator of a user-defined aggregate call;
// retracting input needs a function that can retract.
func newUserAcc(c AggCall, argTypes []row.Type, retracting bool) (accumulator, row.Type, error) {
	if c.UDF == nil {
		return nil, row.Type{}, fmt.Errorf("sql/exec: user-defined aggregate call without a function")
	}
	if retracting && !c.UDF.CanRetract() {
		return nil, row.Type{}, fmt.Errorf("sql/exec: aggregate function %s does not implement Retract, which its updating input needs (implement udf.Retractor)", c.UDFName)
	}
	res, err := c.UDF.ResultType(argTypes)
	if err != nil {
		return nil, row.Type{}, fmt.Errorf("sql/exec: function %s: %w", c.UDFName, err)
	}
	return &udfAcc{name: c.UDFName, argTypes: argTypes, acc: c.UDF.NewAccumulator()}, res, nil
}

// failed returns (and clears) the first error of an accumulator that
// can refuse a row (a user-defined function, SINGLE_VALUE; see failer)
// since the last call.
func (s *aggSet) failed() error {
	for _, k := range s.calls {
		acc := k.acc
		if d, ok := acc.(*distinctAcc); ok {
			acc = d.inner
		}
		if f, ok := acc.(failer); ok {
			if err := f.takeErr(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *udfAcc) takeErr() error {
	err := a.err
	a.err = nil
	return err
}
