package plan

import "strconv"

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
