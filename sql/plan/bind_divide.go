package plan

import (
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// checkConstDivide fails a constant division whose divisor is zero, of
// any numeric type, as Flink's planner does when it reduces constant
// expressions (ExpressionReducer: "Division by zero", FLINK-15987): SELECT
// 1 / 0.0e0 is an error, not Infinity. A division over columns is
// evaluated per row as before (a DOUBLE divisor of zero gives Infinity or
// NaN as in Java, an exact one an error).
func (eb *exprBinder) checkConstDivide(n ast.Node, l, r expr.Expr) error {
	if !expr.IsDeterministic(l) || !expr.IsDeterministic(r) {
		return nil
	}
	fl, err := expr.Fold(l)
	if err != nil {
		return nil
	}
	fr, err := expr.Fold(r)
	if err != nil {
		return nil
	}
	if _, ok := fl.(*expr.Literal); !ok {
		return nil
	}
	d, ok := fr.(*expr.Literal)
	if !ok || d.Value.IsNull() || !isZero(d.Value, d.T) {
		return nil
	}
	return eb.errorf(n, "Division by zero")
}

func isZero(v row.Value, t row.Type) bool {
	switch {
	case t.IsInteger():
		return v.Int() == 0
	case t.Root == row.TypeFloat || t.Root == row.TypeDouble:
		return v.Float() == 0
	case t.Root == row.TypeDecimal:
		if b := v.BigInt(); b != nil {
			return b.Sign() == 0
		}
		return v.Int() == 0
	}
	return false
}
