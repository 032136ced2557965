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
	if stacked(nj.Left) || stacked(nj.Right) {
		return nil, false
	}
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

// pruneRank pushes the projection of c, a Calc over the Top-N or
// deduplicating Rank r, below r (Flink's CalcRankTransposeRule): r reads
// the columns c reads and its partition and order keys, and c is rewritten
// over the narrower Rank. It reports false when c reads every input column
// of r, or r is a window ranking or numbers every row.
func pruneRank(c *Calc, r *Rank) (*Calc, bool) {
	if (r.Strategy != TopN && r.Strategy != Dedup) || r.NumbersRows() {
		return nil, false
	}
	incols := r.In.Columns()
	w := len(incols)
	used := make([]bool, w)
	rnUsed := false
	mark := func(i int) {
		if i >= 0 && i < w {
			used[i] = true
		}
		if i == w {
			rnUsed = true
		}
	}
	for _, p := range c.Projects {
		expr.Refs(p, mark)
	}
	if c.Cond != nil {
		expr.Refs(c.Cond, mark)
	}
	for _, k := range r.PartitionKeys {
		mark(k)
	}
	for _, k := range r.OrderBy {
		mark(k.Col)
	}
	if !anyOf(used) {
		used[0] = true
	}
	// A row number nothing above reads goes (Calcite prunes it before
	// Flink's rules run): a ROW_NUMBER() ... = 1 by a time attribute is
	// then a deduplication, as in Flink.
	dropRN := r.RowNumber && !rnUsed && r.Strategy == TopN
	if !anyFalse(used) && !dropRN {
		return nil, false
	}
	pos := make([]int, w)
	subst := make([]expr.Expr, len(r.Cols))
	below := &Calc{In: r.In}
	nr := *r
	nr.Cols = nil
	for i, u := range used {
		if !u {
			continue
		}
		pos[i] = len(below.Projects)
		below.Projects = append(below.Projects, expr.Ref(i, incols[i].Type))
		below.Cols = append(below.Cols, incols[i])
		subst[i] = expr.Ref(pos[i], r.Cols[i].Type)
		nr.Cols = append(nr.Cols, r.Cols[i])
	}
	if r.RowNumber && !dropRN {
		// The row number follows the input columns.
		subst[w] = expr.Ref(len(nr.Cols), r.Cols[w].Type)
		nr.Cols = append(nr.Cols, r.Cols[w])
	}
	nr.RowNumber = r.RowNumber && !dropRN
	nr.In = optimizeCalc(below)
	if stacked(nr.In) {
		return nil, false
	}
	nr.PartitionKeys = make([]int, len(r.PartitionKeys))
	for i, k := range r.PartitionKeys {
		nr.PartitionKeys[i] = pos[k]
	}
	nr.OrderBy = make([]SortKey, len(r.OrderBy))
	for i, k := range r.OrderBy {
		k.Col = pos[k.Col]
		nr.OrderBy[i] = k
	}
	if dropRN {
		if err := classifyRank(&nr); err != nil {
			return nil, false
		}
	}
	out := &Calc{In: &nr, Cols: c.Cols, Projects: make([]expr.Expr, len(c.Projects))}
	for i, p := range c.Projects {
		out.Projects[i] = expr.Substitute(p, subst)
	}
	if c.Cond != nil {
		out.Cond = expr.Substitute(c.Cond, subst)
	}
	return out, true
}

// stacked reports whether r is a Calc over a Calc: a pushed-down
// projection that could not merge into the Calc below it (one reading a
// non-deterministic expression such as PROCTIME() of it). The rules then
// leave the plan as it was rather than add an operator.
func stacked(r Rel) bool {
	c, ok := r.(*Calc)
	if !ok {
		return false
	}
	_, ok = c.In.(*Calc)
	return ok
}
