package plan

import "github.com/weirstream/weir/sql/expr"

// pruneJoin pushes the projection of c, a Calc over the regular join j,
// below j (Flink's ProjectJoinTransposeRule): each input of the join is
// projected on the columns that c, the equi-keys and the residual
// condition read, and c is rewritten over the narrower join. It reports
// false when c reads every column of the join.
func pruneJoin(c *Calc, j *Join) (*Calc, bool) {
	lcols, rcols := j.Left.Columns(), j.Right.Columns()
	lw := len(lcols)
	used := make([]bool, lw+len(rcols))
	mark := func(i int) {
		if i >= 0 && i < len(used) {
			used[i] = true
		}
	}
	for _, p := range c.Projects {
		expr.Refs(p, mark)
	}
	if c.Cond != nil {
		expr.Refs(c.Cond, mark)
	}
	if j.Residual != nil {
		expr.Refs(j.Residual, mark)
	}
	for _, k := range j.LeftKeys {
		mark(k)
	}
	for _, k := range j.RightKeys {
		mark(lw + k)
	}
	// A side of which nothing is read keeps its first column (a join
	// input has at least one).
	if lw > 0 && !anyOf(used[:lw]) {
		used[0] = true
	}
	if len(rcols) > 0 && !anyOf(used[lw:]) {
		used[lw] = true
	}
	if !anyFalse(used) {
		return nil, false
	}
	// subst maps an old join column to its reference in the new join;
	// lpos and rpos map an old input column to its new position.
	subst := make([]expr.Expr, len(used))
	lpos := make([]int, lw)
	rpos := make([]int, len(rcols))
	left := &Calc{In: j.Left}
	right := &Calc{In: j.Right}
	var cols []Column
	for i, u := range used {
		if !u {
			continue
		}
		subst[i] = expr.Ref(len(cols), j.Cols[i].Type)
		cols = append(cols, j.Cols[i])
		if i < lw {
			lpos[i] = len(left.Projects)
			left.Projects = append(left.Projects, expr.Ref(i, lcols[i].Type))
			left.Cols = append(left.Cols, lcols[i])
		} else {
			k := i - lw
			rpos[k] = len(right.Projects)
			right.Projects = append(right.Projects, expr.Ref(k, rcols[k].Type))
			right.Cols = append(right.Cols, rcols[k])
		}
	}
	nj := *j
	nj.Left = optimizeCalc(left)
	nj.Right = optimizeCalc(right)
	nj.Cols = cols
	nj.LeftKeys = make([]int, len(j.LeftKeys))
	for i, k := range j.LeftKeys {
		nj.LeftKeys[i] = lpos[k]
	}
	nj.RightKeys = make([]int, len(j.RightKeys))
	for i, k := range j.RightKeys {
		nj.RightKeys[i] = rpos[k]
	}
	if j.Residual != nil {
		nj.Residual = expr.Substitute(j.Residual, subst)
	}
	out := &Calc{In: &nj, Cols: c.Cols, Projects: make([]expr.Expr, len(c.Projects))}
	for i, p := range c.Projects {
		out.Projects[i] = expr.Substitute(p, subst)
	}
	if c.Cond != nil {
		out.Cond = expr.Substitute(c.Cond, subst)
	}
	return out, true
}

func anyOf(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}

func anyFalse(bs []bool) bool {
	for _, b := range bs {
		if !b {
			return true
		}
	}
	return false
}
