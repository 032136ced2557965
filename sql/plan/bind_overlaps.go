package plan

import (
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// bindOverlaps resolves (s1, e1) OVERLAPS (s2, e2), parsed as the call
// OVERLAPS(s1, e1, s2, e2), as Calcite converts it for Flink: an end
// that is an interval is start + interval; each period is ordered, and
// the periods overlap when each one's later bound is at or after the
// other's earlier bound (closed periods):
//
//	GREATEST(s1, e1) >= LEAST(s2, e2) AND GREATEST(s2, e2) >= LEAST(s1, e1)
func (eb *exprBinder) bindOverlaps(c *ast.Call) (expr.Expr, error) {
	if len(c.Args) != 4 {
		return nil, eb.errorf(c, "OVERLAPS needs two periods, (start, end) OVERLAPS (start, end)")
	}
	args, err := eb.bindAll(c.Args...)
	if err != nil {
		return nil, err
	}
	for i := 0; i < 4; i += 2 {
		if t := args[i+1].Type(); t.Root == row.TypeIntervalDayTime || t.Root == row.TypeIntervalYearMonth {
			if args[i+1], err = eb.call(c, "+", args[i], args[i+1]); err != nil {
				return nil, err
			}
		}
	}
	var hi, lo [2]expr.Expr
	for k := 0; k < 2; k++ {
		if hi[k], err = eb.call(c, "GREATEST", args[2*k], args[2*k+1]); err != nil {
			return nil, err
		}
		if lo[k], err = eb.call(c, "LEAST", args[2*k], args[2*k+1]); err != nil {
			return nil, err
		}
	}
	a, err := eb.call(c, ">=", hi[0], lo[1])
	if err != nil {
		return nil, err
	}
	b, err := eb.call(c, ">=", hi[1], lo[0])
	if err != nil {
		return nil, err
	}
	return eb.call(c, "AND", a, b)
}
