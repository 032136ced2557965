package plan

import (
	"fmt"
	"strconv"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// setSemiJoin plans INTERSECT (anti false) or EXCEPT (anti true) of two
// inputs with the same columns, as Flink's ReplaceIntersectWithSemiJoinRule
// and ReplaceMinusWithAntiJoinRule do: the distinct rows of a semi (anti)
// join of left and right on every column, compared with IS NOT DISTINCT
// FROM (a NULL matches a NULL, as set operations compare rows).
func setSemiJoin(left, right Rel, anti bool) Rel {
	cols := left.Columns()
	keys := make([]int, len(cols))
	nullSafe := make([]bool, len(cols))
	for i := range cols {
		keys[i] = i
		nullSafe[i] = true
	}
	j := &SemiJoin{Left: left, Right: right, Anti: anti, LeftKeys: keys, RightKeys: keys,
		NullSafe: nullSafe, Cols: cols}
	return distinct(j)
}

// rightName returns how a join condition names right column i: its name,
// or, when a left column has it, the name with the first number that
// makes it unique (a0, a1, ...), as Calcite uniquifies a join's fields.
func rightName(left, right []Column, i int) string {
	taken := map[string]bool{}
	for _, c := range left {
		taken[c.Name] = true
	}
	var name string
	for k := 0; k <= i; k++ {
		name = right[k].Name
		if taken[name] {
			for n := 0; ; n++ {
				if c := name + strconv.Itoa(n); !taken[c] {
					name = c
					break
				}
			}
		}
		taken[name] = true
	}
	return name
}

// setAll plans INTERSECT ALL (except false) or EXCEPT ALL (except true)
// of two inputs with the same columns, as Flink's RewriteIntersectAllRule
// and RewriteMinusAllRule do: the union of both inputs, each row marked
// with its side, counted per distinct row; a row is kept
// min(left count, right count) times (INTERSECT ALL) or left count minus
// right count times when that is positive (EXCEPT ALL), by a Correlate
// with the REPLICATE_ROWS table function. Over streams the counts update,
// and so do the replicated rows (retractions are replicated too).
func (b *Binder) setAll(left, right Rel, except bool) (Rel, error) {
	cols := left.Columns()
	n := len(cols)
	boolT := row.Type{Root: row.TypeBoolean, Nullable: true}
	bigint := row.Type{Root: row.TypeBigInt}
	mark := func(in Rel, markers []expr.Expr, names []string) Rel {
		projs := make([]expr.Expr, 0, n+len(markers))
		out := make([]Column, 0, n+len(markers))
		for i, c := range cols {
			projs = append(projs, expr.Ref(i, c.Type))
			out = append(out, c)
		}
		for i, m := range markers {
			projs = append(projs, m)
			out = append(out, Column{Name: names[i], Type: m.Type()})
		}
		return &Calc{In: in, Projects: projs, Cols: out}
	}
	var l, r Rel
	var aggs []AggCall
	if except {
		names := []string{"vcol_marker"}
		l = mark(left, []expr.Expr{expr.Lit(row.Int(1), bigint)}, names)
		r = mark(right, []expr.Expr{expr.Lit(row.Int(-1), bigint)}, names)
		t, err := b.AggType("SUM", false, []row.Type{bigint})
		if err != nil {
			return nil, err
		}
		aggs = []AggCall{{Func: "SUM", Args: []int{n}, Filter: -1, Type: t, Name: "sum_vcol_marker"}}
	} else {
		names := []string{"vcol_left_marker", "vcol_right_marker"}
		l = mark(left, []expr.Expr{expr.Lit(row.Bool(true), boolT), expr.Lit(row.Null(), boolT)}, names)
		r = mark(right, []expr.Expr{expr.Lit(row.Null(), boolT), expr.Lit(row.Bool(true), boolT)}, names)
		cnt := row.Type{Root: row.TypeBigInt}
		aggs = []AggCall{
			{Func: "COUNT", Args: []int{n}, Filter: -1, Type: cnt, Name: "vcol_left_cnt"},
			{Func: "COUNT", Args: []int{n + 1}, Filter: -1, Type: cnt, Name: "vcol_right_cnt"},
		}
	}
	union := &Union{Ins: []Rel{l, r}, Cols: l.Columns()}
	keys := make([]int, n)
	aggCols := make([]Column, 0, n+len(aggs))
	for i, c := range cols {
		keys[i] = i
		c.Type.TimeAttr = row.NoTimeAttr
		aggCols = append(aggCols, c)
	}
	for _, a := range aggs {
		aggCols = append(aggCols, Column{Name: a.Name, Type: a.Type})
	}
	agg := &Aggregate{In: union, Keys: keys, Aggs: aggs, Cols: aggCols}

	// The number of copies and the row: Calc(select=[count, c1..cn],
	// where=[...]).
	var count, cond expr.Expr
	var err error
	one := expr.Lit(row.Int(1), bigint)
	if except {
		s := expr.Ref(n, aggs[0].Type)
		count = s
		cond, err = expr.NewCall(">", s, expr.Lit(row.Int(0), bigint))
	} else {
		lc, rc := expr.Ref(n, aggs[0].Type), expr.Ref(n+1, aggs[1].Type)
		var gt, lge, rge expr.Expr
		if gt, err = expr.NewCall(">", lc, rc); err == nil {
			count, err = expr.NewCall("IF", gt, rc, lc)
		}
		if err == nil {
			lge, err = expr.NewCall(">=", lc, one)
		}
		if err == nil {
			rge, err = expr.NewCall(">=", rc, one)
		}
		if err == nil {
			cond, err = expr.NewCall("AND", lge, rge)
		}
	}
	if err != nil {
		return nil, err
	}
	projs := []expr.Expr{count}
	calcCols := []Column{{Name: "$f0", Type: count.Type()}}
	for i := range n {
		projs = append(projs, expr.Ref(i, aggCols[i].Type))
		calcCols = append(calcCols, aggCols[i])
	}
	calc := &Calc{In: agg, Projects: projs, Cond: cond, Cols: calcCols}

	genArgs := make([]expr.Expr, len(calcCols))
	for i, c := range calcCols {
		genArgs[i] = expr.Ref(i, c.Type)
	}
	genCols := make([]Column, n)
	for i := range n {
		genCols[i] = Column{Name: rightName(calcCols, aggCols[:n], i), Type: aggCols[i].Type}
	}
	corr := &Correlate{In: calc, Cols: append(append([]Column(nil), calcCols...), genCols...),
		Gen: &Generator{Name: "$REPLICATE_ROWS$1", Args: genArgs, Table: replicateRows{}, Cols: genCols}}
	out := make([]expr.Expr, n)
	outCols := make([]Column, n)
	for i := range n {
		out[i] = expr.Ref(len(calcCols)+i, genCols[i].Type)
		outCols[i] = aggCols[i]
	}
	return &Calc{In: corr, Projects: out, Cols: outCols}, nil
}

// replicateRows is Flink's internal REPLICATE_ROWS table function: given
// a count and values, it emits the values count times.
type replicateRows struct{}

func (replicateRows) ResultType(args []row.Type) ([]row.Field, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("REPLICATE_ROWS takes a count and at least one value")
	}
	out := make([]row.Field, len(args)-1)
	for i, t := range args[1:] {
		out[i] = row.Field{Name: "f" + strconv.Itoa(i), Type: t}
	}
	return out, nil
}

func (replicateRows) Eval(args []row.Value, emit func(fields ...row.Value)) error {
	if args[0].IsNull() {
		return nil
	}
	for range args[0].Int() {
		emit(args[1:]...)
	}
	return nil
}
