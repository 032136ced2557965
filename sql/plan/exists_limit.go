package plan

import (
	"strconv"

	"github.com/weirstream/weir/sql/ast"
)

// existsBody returns the query whose rows a correlated [NOT] EXISTS
// tests: under EXISTS a top-level LIMIT n (n >= 1, FETCH FIRST n ROWS
// ONLY) without OFFSET cannot change whether a row exists, so the LIMIT
// and the ORDER BY it goes with are dropped, as Calcite's
// RelDecorrelator cannot decorrelate a Sort with a fetch (CALCITE-4206)
// and Flink's SubQueryDecorrelator keeps the fetch below the correlation
// condition, where it limits the subquery's rows over all outer rows
// rather than per outer row. Any other query is returned as it is.
func existsBody(q ast.QueryExpr) ast.QueryExpr {
	x, ok := q.(*ast.Query)
	if !ok || len(x.With) > 0 || x.Offset != nil || x.Limit == nil {
		return q
	}
	lit, ok := x.Limit.(*ast.Literal)
	if !ok || lit.Kind != ast.IntegerLit {
		return q
	}
	if n, err := strconv.ParseInt(lit.Value, 10, 64); err != nil || n < 1 {
		return q
	}
	return x.Body
}
