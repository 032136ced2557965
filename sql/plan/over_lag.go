package plan

import (
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// LAG in streaming OVER windows, as Flink runs it (LagAggFunction): over
// the default frame only (RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT
// ROW: rows of equal time see the same, last of them), with a constant
// non-negative offset (default 1) and a default cast to the value's type.
// LEAD is refused as Flink refuses it in stream mode: a streaming OVER
// window never waits for later rows.

// checkLag validates the shape of LAG(...) OVER (...).
func checkLag(c *ast.Call, named []*ast.NamedWindow) error {
	if c.Distinct || c.Filter != nil {
		return errAt(c, "LAG takes no DISTINCT or FILTER")
	}
	if len(c.Args) < 1 || len(c.Args) > 3 {
		return errAt(c, "Invalid number of arguments to function 'LAG'. Was expecting 1 to 3 arguments")
	}
	w, err := windowSpec(c, named)
	if err != nil {
		return err
	}
	if w.Frame != nil {
		return errAt(w.Frame, "ROW/RANGE not allowed with RANK, DENSE_RANK or ROW_NUMBER functions (nor with LAG or LEAD)")
	}
	return nil
}

// lagArgs checks LAG's bound arguments: the offset a constant integer of
// at least 0, the default cast to the value's type (nullable).
func lagArgs(c *ast.Call, args []expr.Expr) ([]expr.Expr, error) {
	return leadLagArgs(c, args, "LAG")
}

// leadLagArgs checks the bound arguments of LAG or LEAD (fn), as lagArgs.
func leadLagArgs(c *ast.Call, args []expr.Expr, fn string) ([]expr.Expr, error) {
	if len(args) < 2 {
		return args, nil
	}
	off, err := expr.Fold(args[1])
	if err != nil {
		return nil, errAt(c.Args[1], "%v", err)
	}
	l, ok := off.(*expr.Literal)
	if !ok || !l.T.IsInteger() || l.Value.IsNull() || l.Value.Int() < 0 {
		return nil, errAt(c.Args[1], "%s's offset must be a constant integer of at least 0, not %s", fn, c.Args[1])
	}
	args[1] = expr.Lit(row.Int(l.Value.Int()), row.IntType().NotNull())
	if len(args) < 3 {
		return args, nil
	}
	vt := args[0].Type()
	vt.TimeAttr = row.NoTimeAttr
	vt = vt.WithNullable(true)
	dt := args[2].Type()
	dt.TimeAttr = row.NoTimeAttr
	if _, ok := expr.LeastRestrictive(vt, dt); !ok {
		return nil, errAt(c, "Cannot apply '%s' to arguments of type '%s(<%s>, <%s>, <%s>)': the default must have the value's type", fn, fn, vt, args[1].Type(), dt)
	}
	if !dt.WithNullable(true).Equal(vt) {
		d, err := expr.NewCast(args[2], vt)
		if err != nil {
			return nil, errAt(c.Args[2], "%s's default %s cannot be cast to the type of %s (%s): %v", fn, c.Args[2], c.Args[0], vt, err)
		}
		args[2] = d
	}
	return args, nil
}
