package plan

import (
	"strconv"
	"strings"

	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// checkPercentile refuses a PERCENTILE whose percentage is a numeric
// literal outside [0.0, 1.0] (Flink's PercentageArgumentTypeStrategy
// checks literals at validation; other percentages, ARRAY[..] included,
// are checked when the first row is accumulated).
func checkPercentile(c *ast.Call, fn string) error {
	if fn != "PERCENTILE" || len(c.Args) < 2 {
		return nil
	}
	a, neg := c.Args[1], false
	for {
		u, ok := a.(*ast.UnaryExpr)
		if !ok || (u.Op != ast.OpNeg && u.Op != ast.OpPos) {
			break
		}
		neg = neg != (u.Op == ast.OpNeg)
		a = u.Operand
	}
	l, ok := a.(*ast.Literal)
	if !ok || (l.Kind != ast.IntegerLit && l.Kind != ast.DecimalLit && l.Kind != ast.ApproxLit) {
		return nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(l.Value), 64)
	if err != nil {
		return nil
	}
	if neg {
		f = -f
	}
	if f < 0 || f > 1 {
		return errAt(c, "%s", expr.PercentileSignatures)
	}
	return nil
}
