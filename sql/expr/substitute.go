package expr

// Substitute returns e with every input reference $i replaced by
// inputs[i] (the expressions that compute the input's columns from an
// input further down), as a planner does when it merges two projections.
// The result shares the unchanged subtrees and the inputs with e and
// inputs; expressions are immutable, so sharing is safe. A reference
// beyond inputs is kept.
func Substitute(e Expr, inputs []Expr) Expr {
	switch n := e.(type) {
	case *InputRef:
		if n.Index < len(inputs) {
			return inputs[n.Index]
		}
		return n
	case *Call:
		args := make([]Expr, len(n.Args))
		for i, a := range n.Args {
			args[i] = Substitute(a, inputs)
		}
		return &Call{Func: n.Func, Args: args, T: n.T}
	case *Cast:
		return &Cast{Arg: Substitute(n.Arg, inputs), T: n.T, Try: n.Try, Implicit: n.Implicit}
	case *Case:
		c := &Case{Whens: make([]Expr, len(n.Whens)), Thens: make([]Expr, len(n.Thens)), T: n.T}
		for i := range n.Whens {
			c.Whens[i] = Substitute(n.Whens[i], inputs)
			c.Thens[i] = Substitute(n.Thens[i], inputs)
		}
		c.Else = Substitute(n.Else, inputs)
		return c
	case *FieldAccess:
		return &FieldAccess{Arg: Substitute(n.Arg, inputs), Index: n.Index, T: n.T}
	}
	return e
}

// Refs calls f with the index of every input reference in e, once per
// occurrence.
func Refs(e Expr, f func(i int)) {
	walk(e, func(x Expr) {
		if r, ok := x.(*InputRef); ok {
			f(r.Index)
		}
	})
}
