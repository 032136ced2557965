package expr

import (
	"fmt"

	"github.com/weirstream/weir/row"
)

// Predicate is a compiled WHERE/ON/HAVING condition: it reports whether a
// row passes, i.e. whether the condition is TRUE (FALSE and UNKNOWN both
// filter the row out, as in SQL).
type Predicate func(ctx *EvalContext, in []row.Value) (bool, error)

// CompilePredicate compiles a BOOLEAN expression into a Predicate.
func CompilePredicate(e Expr) (Predicate, error) {
	if t := e.Type(); t.Root != row.TypeBoolean {
		return nil, fmt.Errorf("expr: a condition must be BOOLEAN, not %s", t)
	}
	ev, err := Compile(e)
	if err != nil {
		return nil, err
	}
	return func(ctx *EvalContext, in []row.Value) (bool, error) {
		v, err := ev(ctx, in)
		return err == nil && !v.IsNull() && v.Bool(), err
	}, nil
}

// Projection is a compiled SELECT list: one Evaluator per output column.
type Projection struct {
	evals []Evaluator
	types []row.Type
}

// CompileProjection compiles the expressions of a SELECT list.
func CompileProjection(es []Expr) (*Projection, error) {
	p := &Projection{evals: make([]Evaluator, len(es)), types: make([]row.Type, len(es))}
	for i, e := range es {
		ev, err := Compile(e)
		if err != nil {
			return nil, fmt.Errorf("expr: column %d: %w", i, err)
		}
		p.evals[i], p.types[i] = ev, e.Type()
	}
	return p, nil
}

// Types returns the output column types.
func (p *Projection) Types() []row.Type { return p.types }

// Eval computes every output column of in into out, which must have
// len(Types()) elements (the caller owns and may reuse it).
func (p *Projection) Eval(ctx *EvalContext, in, out []row.Value) error {
	if len(out) != len(p.evals) {
		return fmt.Errorf("expr: projection of %d columns into %d", len(p.evals), len(out))
	}
	for i, ev := range p.evals {
		v, err := ev(ctx, in)
		if err != nil {
			return err
		}
		out[i] = v
	}
	return nil
}
