package cep

import (
	"errors"
	"fmt"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// ExprCondition is a condition written as an expr-lang expression over the
// event's fields (https://expr-lang.org), compiled once by Expr. It is safe
// for use by several subtasks at once.
type ExprCondition[T any] struct {
	src  string
	prog *vm.Program
	vms  sync.Pool
}

// Expr compiles expression, which must evaluate to a bool, against the
// fields (and methods) of T: for an event type with fields Amount and
// Status, `Amount > 1000 && Status == "FAILED"`. A compile error names the
// expression and the line and column of the problem.
func Expr[T any](expression string) (*ExprCondition[T], error) {
	var zero T
	prog, err := expr.Compile(expression, expr.Env(zero), expr.AsBool())
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("cep: expression %q: line %d, column %d: %s", expression, fe.Line, fe.Column+1, fe.Message)
		}
		return nil, fmt.Errorf("cep: expression %q: %w", expression, err)
	}
	c := &ExprCondition[T]{src: expression, prog: prog}
	c.vms.New = func() any { return &vm.VM{} }
	return c, nil
}

// MustExpr is Expr for expressions known to be valid (constants in
// code); it panics on a compile error.
func MustExpr[T any](expression string) *ExprCondition[T] {
	c, err := Expr[T](expression)
	if err != nil {
		panic(err)
	}
	return c
}

// String returns the expression.
func (c *ExprCondition[T]) String() string { return c.src }

// Filter evaluates the expression on ev.
func (c *ExprCondition[T]) Filter(ev T, _ *Context[T]) (bool, error) {
	m := c.vms.Get().(*vm.VM)
	out, err := m.Run(c.prog, ev)
	c.vms.Put(m)
	if err != nil {
		return false, fmt.Errorf("expression %q: %w", c.src, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("expression %q: result %T is not a bool", c.src, out)
	}
	return b, nil
}
