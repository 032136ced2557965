package plan

import (
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// STDDEV_POP, STDDEV_SAMP, VAR_POP and VAR_SAMP are reduced as Flink
// reduces them (Calcite's AggregateReduceFunctionsRule.reduceStddev): the
// aggregation computes SUM(x' * x'), SUM(x) and COUNT(x), where x' is x
// cast to the call's type (AVG's: the argument's type, DECIMAL(38,
// max(s, 6)) for a DECIMAL), with the call's DISTINCT and FILTER, and the
// Calc above it
//
//	CAST(div AS t), or CAST(POWER(div, 0.5) AS t) for STDDEV_*
//	div = (sumSq - CAST(sum AS t) * CAST(sum AS t) / count) / d
//	d   = count (_POP), CASE WHEN count = 1 THEN NULL ELSE count - 1 END (_SAMP)
//
// so an integer argument gives an integer result computed in integer
// arithmetic, as Flink's (VAR_POP of INT is an INT).

// reducedAggs are the aggregate functions reduced to SUM and COUNT, with
// whether they take the square root and whether they are the population
// (biased) form.
var reducedAggs = map[string]struct{ sqrt, biased bool }{
	"STDDEV_POP": {true, true}, "STDDEV_SAMP": {true, false},
	"VAR_POP": {false, true}, "VAR_SAMP": {false, false},
}

// Keys of the helper aggregate calls of a reduced call c: c.String()
// followed by one of these (not SQL, so no call of the query has them).
const (
	reducedSumSq = "#sumsq"
	reducedSum   = "#sum"
	reducedCount = "#count"
)

// isReducedAgg reports whether c is a call of a reduced aggregate.
func isReducedAgg(c *ast.Call) bool {
	_, ok := reducedAggs[strings.ToUpper(c.Name.Parts[0].Name)]
	return ok
}

// reducedType is the type of a reduced call over x (AVG's type), or an
// error worded as Flink's validator words it.
func reducedType(aggType AggTypeFunc, c *ast.Call, x expr.Expr) (row.Type, error) {
	t := x.Type()
	t.TimeAttr = row.NoTimeAttr
	fn := strings.ToUpper(c.Name.Parts[0].Name)
	if !t.IsNumeric() {
		return row.Type{}, errAt(c, "Cannot apply '%s' to arguments of type '%s(<%s>)'. Supported form(s): '%s(<NUMERIC>)'",
			fn, fn, t.WithNullable(true), fn)
	}
	rt, err := aggType("AVG", c.Distinct, []row.Type{t})
	if err != nil {
		return row.Type{}, errAt(c, "%v", err)
	}
	return rt.WithNullable(true), nil
}

// reducedSpecs returns the helper calls SUM(x' * x'), SUM(x), COUNT(x) of a
// reduced call, sp being the call bound (its one argument and filter).
func (b *Binder) reducedSpecs(sp *aggSpec) ([]*aggSpec, error) {
	c := sp.call
	if len(sp.args) != 1 {
		return nil, errAt(c, "Invalid number of arguments to function '%s'. Was expecting 1 arguments", sp.fn)
	}
	x := sp.args[0]
	t, err := reducedType(b.AggType, c, x)
	if err != nil {
		return nil, err
	}
	xc, err := ensureType(x, t)
	if err != nil {
		return nil, errAt(c, "%v", err)
	}
	sq, err := expr.NewCall("*", xc, xc)
	if err != nil {
		return nil, errAt(c, "%v", err)
	}
	k := c.String()
	mk := func(suffix, fn string, arg expr.Expr) *aggSpec {
		return &aggSpec{call: c, key: k + suffix, fn: fn, args: []expr.Expr{arg}, filter: sp.filter, distinct: sp.distinct}
	}
	return []*aggSpec{mk(reducedSumSq, "SUM", sq), mk(reducedSum, "SUM", x), mk(reducedCount, "COUNT", x)}, nil
}

// ensureType casts e to t unless it has that type (nullability aside), as
// Calcite's RexBuilder.ensureType with matchNullability false.
func ensureType(e expr.Expr, t row.Type) (expr.Expr, error) {
	et := e.Type()
	et.TimeAttr = row.NoTimeAttr
	if et.WithNullable(t.Nullable).Equal(t) {
		return e, nil
	}
	return expr.NewCast(e, t.WithNullable(et.Nullable))
}

// bindReduced binds a reduced call over an aggregation's output: the
// expression over its helper calls' columns.
func (eb *exprBinder) bindReduced(c *ast.Call) (expr.Expr, error) {
	k := c.String()
	col := func(suffix string) (expr.Expr, error) {
		i, ok := eb.agg.aggCol[k+suffix]
		if !ok {
			return nil, eb.errorf(c, "aggregate %s was not planned", c)
		}
		return expr.Ref(i, eb.agg.outType[i]), nil
	}
	sumSq, err := col(reducedSumSq)
	if err != nil {
		return nil, err
	}
	sum, err := col(reducedSum)
	if err != nil {
		return nil, err
	}
	count, err := col(reducedCount)
	if err != nil {
		return nil, err
	}
	if len(c.Args) != 1 || eb.agg.in == nil || eb.aggType == nil {
		return nil, eb.errorf(c, "aggregate %s was not planned", c)
	}
	x, err := eb.agg.in.bind(c.Args[0])
	if err != nil {
		return nil, err
	}
	t, err := reducedType(eb.aggType, c, x)
	if err != nil {
		return nil, err
	}
	red := reducedAggs[strings.ToUpper(c.Name.Parts[0].Name)]
	sumT, err := ensureType(sum, t)
	if err != nil {
		return nil, eb.errorf(c, "%v", err)
	}
	sumSquared, err := eb.call(c, "*", sumT, sumT)
	if err != nil {
		return nil, err
	}
	avgSumSquared, err := eb.call(c, "/", sumSquared, count)
	if err != nil {
		return nil, err
	}
	diff, err := eb.call(c, "-", sumSq, avgSumSquared)
	if err != nil {
		return nil, err
	}
	denom := count
	if !red.biased {
		one := expr.Lit(row.Int(1), row.IntType().NotNull())
		eq, err := eb.call(c, "=", count, one)
		if err != nil {
			return nil, err
		}
		minus, err := eb.call(c, "-", count, one)
		if err != nil {
			return nil, err
		}
		if denom, err = expr.NewCase([]expr.Expr{eq}, []expr.Expr{expr.Lit(row.Null(), count.Type().WithNullable(true))}, minus); err != nil {
			return nil, eb.errorf(c, "%v", err)
		}
	}
	res, err := eb.call(c, "/", diff, denom)
	if err != nil {
		return nil, err
	}
	if red.sqrt {
		half := expr.Lit(row.Float(0.5), row.Double().NotNull())
		if res, err = eb.call(c, "POWER", res, half); err != nil {
			return nil, err
		}
	}
	out, err := expr.NewCast(res, t)
	if err != nil {
		return nil, eb.errorf(c, "%v", err)
	}
	return out, nil
}
