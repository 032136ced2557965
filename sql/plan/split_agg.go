package plan

import (
	"fmt"
	"slices"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// Split distinct aggregation (Flink's SplitAggregateRule, on with
// table.optimizer.distinct-agg.split.enabled): a group aggregation with
// DISTINCT calls becomes two. The PARTIAL aggregate groups by the keys and
// a bucket of each distinct argument, MOD(HASH_CODE(x), buckets), so one
// hot key's distinct values spread over up to buckets groups (and
// subtasks); the FINAL aggregate groups by the keys and merges the
// partial results: $SUM0 of the partial COUNTs, SUM of SUMs, MIN of MINs,
// MAX of MAXs, and AVG as $SUM0 of partial $SUM0s over $SUM0 of partial
// COUNTs. Non-distinct MIN and MAX get buckets of their argument too (as
// Flink: else they would keep a hot key's values in one group); other
// non-distinct calls are computed per key. When the calls need more than
// one bucketing (two distinct arguments, or a MIN of another column), an
// Expand copies each row once per bucketing, with the other bucket
// columns NULL and $e telling the copies apart, and the calls read only
// their own copy through a FILTER column $g_<$e> (AND their own FILTER).
//
// The PARTIAL aggregate emits updates even over an insert-only input, so
// the FINAL one consumes a retracting changelog; its results are the
// unsplit aggregate's. Restrictions, as Flink's rule (matches and
// AggregateUtil.doAllAggSupportSplit) or Weir's own, stricter:
//
//   - only aggregates with a DISTINCT call, and only group aggregations
//     (Weir's window aggregations, WindowAggregate, are never split;
//     Flink splits event-time window TVF aggregations but for session
//     windows);
//   - every call COUNT, SUM, $SUM0, MIN, MAX, or AVG over an integer,
//     FLOAT or DOUBLE argument. Flink also splits FIRST_VALUE, LAST_VALUE,
//     LISTAGG and SINGLE_VALUE, whose split results can differ from the
//     unsplit ones (they depend on the order the buckets' results
//     arrive in; LISTAGG's final call loses the delimiter); Weir does not
//     split them, nor AVG over DECIMAL, nor user-defined aggregate
//     functions (Flink does not split those either);
//   - streaming mode only (the caller checks).

// PartialFinal values of Aggregate.
const (
	Partial = "PARTIAL"
	Final   = "FINAL"
)

// SplitDistinctAggregates returns r with every splittable Aggregate
// split into a PARTIAL and a FINAL aggregate (see above) with buckets
// buckets; aggType derives the result types of the new calls. The output
// columns of r do not change. SplitDistinctAggregates does not modify r;
// unchanged subtrees are shared.
func SplitDistinctAggregates(r Rel, buckets int, aggType AggTypeFunc) Rel {
	ins := r.Inputs()
	if len(ins) > 0 {
		opt := make([]Rel, len(ins))
		changed := false
		for i, in := range ins {
			opt[i] = SplitDistinctAggregates(in, buckets, aggType)
			changed = changed || opt[i] != in
		}
		if changed {
			n, ok := withInputs(r, ins, opt)
			if !ok {
				return r
			}
			r = n
		}
	}
	if a, ok := r.(*Aggregate); ok {
		if s, ok := splitAggregate(a, buckets, aggType); ok {
			return s
		}
	}
	return r
}

// splittable reports whether a is an aggregate SplitDistinctAggregates
// splits.
func splittable(a *Aggregate) bool {
	if a.PartialFinal != "" || !slices.ContainsFunc(a.Aggs, func(c AggCall) bool { return c.Distinct }) {
		return false
	}
	in := a.In.Columns()
	for _, c := range a.Aggs {
		if c.UDF != nil {
			return false
		}
		switch c.Func {
		case "COUNT", "SUM", "$SUM0", "SUM0", "MIN", "MAX":
		case "AVG":
			if len(c.Args) != 1 {
				return false
			}
			t := in[c.Args[0]].Type
			if !t.IsInteger() && t.Root != row.TypeFloat && t.Root != row.TypeDouble {
				return false
			}
		default:
			return false
		}
		if c.Func != "COUNT" && len(c.Args) != 1 {
			return false
		}
	}
	return true
}

// needsBuckets reports whether c is computed per bucket of its arguments
// (Flink's SplitAggregateRule.needAddHashFields).
func needsBuckets(c AggCall) bool {
	return c.Distinct || c.Func == "MIN" || c.Func == "MAX"
}

// splitFuncs returns the partial and final functions of a call (Flink's
// PARTIAL_FINAL_MAP).
func splitFuncs(fn string) (partial, final []string) {
	switch fn {
	case "COUNT":
		return []string{"COUNT"}, []string{"$SUM0"}
	case "AVG":
		return []string{"$SUM0", "COUNT"}, []string{"$SUM0", "$SUM0"}
	case "SUM0":
		return []string{"$SUM0"}, []string{"$SUM0"}
	}
	return []string{fn}, []string{fn}
}

// bitsetLess orders sorted index sets as Calcite's ImmutableBitSet.ORDERING:
// a set before the sets it contains, else lexicographically.
func bitsetLess(a, b []int) int {
	switch {
	case slices.Equal(a, b):
		return 0
	case containsAll(a, b):
		return -1
	case containsAll(b, a):
		return 1
	}
	return slices.Compare(a, b)
}

func containsAll(a, b []int) bool {
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

func sortedSet(xs []int) []int {
	s := slices.Clone(xs)
	slices.Sort(s)
	return slices.Compact(s)
}

// uniqueName returns name, or name_0, name_1, ... if taken, and marks it
// taken (Calcite's uniquification of field names).
func uniqueName(name string, taken map[string]bool) string {
	n := name
	for i := 0; taken[n]; i++ {
		n = fmt.Sprintf("%s_%d", name, i)
	}
	taken[n] = true
	return n
}

func refsOf(cols []Column) []expr.Expr {
	ps := make([]expr.Expr, len(cols))
	for i, c := range cols {
		ps[i] = expr.Ref(i, c.Type)
	}
	return ps
}

// splitAggregate splits a (see SplitDistinctAggregates); false when it
// does not apply.
func splitAggregate(a *Aggregate, buckets int, aggType AggTypeFunc) (Rel, bool) {
	if !splittable(a) || buckets <= 0 {
		return a, false
	}
	inCols := a.In.Columns()
	isKey := func(i int) bool { return slices.Contains(a.Keys, i) }

	// Step 1: a bucket column MOD(HASH_CODE(x), buckets) for each
	// argument x of a bucketed call that is not a key.
	var hashed []int
	for _, c := range a.Aggs {
		if needsBuckets(c) {
			for _, x := range c.Args {
				if !isKey(x) {
					hashed = append(hashed, x)
				}
			}
		}
	}
	hashed = sortedSet(hashed)
	var cur Rel = a.In
	curCols := inCols
	bucketOf := map[int]int{}
	if len(hashed) > 0 {
		taken := map[string]bool{}
		for _, c := range inCols {
			taken[c.Name] = true
		}
		cols := slices.Clone(inCols)
		projs := refsOf(inCols)
		for _, x := range hashed {
			h, err := expr.NewCall("HASH_CODE", expr.Ref(x, inCols[x].Type))
			if err != nil {
				return a, false
			}
			m, err := expr.NewCall("MOD", h, expr.Lit(row.Int(int64(buckets)), row.IntType().NotNull()))
			if err != nil {
				return a, false
			}
			bucketOf[x] = len(cols)
			projs = append(projs, m)
			cols = append(cols, Column{Name: uniqueName(fmt.Sprintf("$f%d", len(cols)), taken), Type: m.Type()})
		}
		cur = &Calc{In: a.In, Projects: projs, Cols: cols}
		curCols = cols
	}

	// Step 2: the grouping of each call; the partial aggregate groups by
	// their union.
	keySet := sortedSet(a.Keys)
	var sets [][]int
	callSet := make([][]int, len(a.Aggs))
	bucketings := 0
	for i, c := range a.Aggs {
		set := keySet
		if needsBuckets(c) {
			s := slices.Clone(a.Keys)
			for _, x := range c.Args {
				if b, ok := bucketOf[x]; ok {
					s = append(s, b)
				} else {
					s = append(s, x)
				}
			}
			set = sortedSet(s)
			if !slices.ContainsFunc(sets, func(o []int) bool { return slices.Equal(o, set) }) {
				bucketings++
			}
		}
		if !slices.ContainsFunc(sets, func(o []int) bool { return slices.Equal(o, set) }) {
			sets = append(sets, set)
		}
		callSet[i] = set
	}
	slices.SortFunc(sets, bitsetLess)
	var full []int
	for _, s := range sets {
		full = append(full, s...)
	}
	full = sortedSet(full)

	// The partial calls, before the Expand.
	type partialCall struct {
		AggCall
		set []int
	}
	var partials []partialCall
	for i, c := range a.Aggs {
		pfs, _ := splitFuncs(c.Func)
		argTypes := make([]row.Type, len(c.Args))
		for j, x := range c.Args {
			argTypes[j] = curCols[x].Type
		}
		for _, fn := range pfs {
			t, err := aggType(fn, c.Distinct, argTypes)
			if err != nil {
				return a, false
			}
			partials = append(partials, partialCall{AggCall{Func: fn, Args: c.Args, Distinct: c.Distinct, Filter: c.Filter, Type: t}, callSet[i]})
		}
	}

	// Step 2.1 and 2.2: with more than one bucketing, an Expand with a copy
	// of each row per grouping, and a Calc of the FILTER columns $g_<id>.
	if bucketings > 1 {
		nc := len(curCols)
		exCols := make([]Column, 0, nc+1)
		for i, c := range curCols {
			c.Type.TimeAttr = row.NoTimeAttr
			// A bucket column some copies set NULL is nullable.
			if slices.Contains(full, i) && slices.ContainsFunc(sets, func(s []int) bool { return !slices.Contains(s, i) }) {
				c.Type = c.Type.WithNullable(true)
			}
			exCols = append(exCols, c)
		}
		eType := row.BigInt().NotNull()
		eTaken := map[string]bool{}
		for _, c := range exCols {
			eTaken[c.Name] = true
		}
		exCols = append(exCols, Column{Name: uniqueName("$e", eTaken), Type: eType})
		ex := &Expand{In: cur, Cols: exCols}
		for _, s := range sets {
			ps := make([]expr.Expr, 0, nc+1)
			for i := range nc {
				if slices.Contains(full, i) && !slices.Contains(s, i) {
					ps = append(ps, expr.Lit(row.Null(), exCols[i].Type))
				} else {
					ps = append(ps, expr.Ref(i, exCols[i].Type))
				}
			}
			ps = append(ps, expr.Lit(row.Int(expandID(full, s)), eType))
			ex.Projects = append(ex.Projects, ps)
		}
		cols := slices.Clone(exCols[:nc])
		projs := refsOf(cols)
		eRef := expr.Ref(nc, eType)
		type setFilter struct {
			set    string
			filter int
		}
		filters := map[setFilter]int{}
		gTaken := map[string]bool{}
		for _, c := range cols {
			gTaken[c.Name] = true
		}
		for i, p := range partials {
			k := setFilter{fmt.Sprint(p.set), p.Filter}
			col, ok := filters[k]
			if !ok {
				id := expandID(full, p.set)
				g, err := expr.NewCall("=", eRef, expr.Lit(row.Int(id), eType))
				if err != nil {
					return a, false
				}
				if p.Filter >= 0 {
					if g, err = expr.NewCall("AND", g, expr.Ref(p.Filter, exCols[p.Filter].Type)); err != nil {
						return a, false
					}
				}
				col = len(cols)
				filters[k] = col
				projs = append(projs, g)
				cols = append(cols, Column{Name: uniqueName(fmt.Sprintf("$g_%d", id), gTaken), Type: g.Type()})
			}
			partials[i].Filter = col
		}
		cur = &Calc{In: ex, Projects: projs, Cols: cols}
		curCols = cols
	}

	// Step 2.3: the partial aggregate, by the full grouping.
	taken := map[string]bool{}
	pCols := make([]Column, 0, len(full)+len(partials))
	for _, k := range full {
		c := curCols[k]
		c.Type.TimeAttr = row.NoTimeAttr
		taken[c.Name] = true
		pCols = append(pCols, c)
	}
	pCalls := make([]AggCall, len(partials))
	for i, p := range partials {
		p.AggCall.Name = uniqueName(fmt.Sprintf("$f%d", len(pCols)), taken)
		pCalls[i] = p.AggCall
		pCols = append(pCols, Column{Name: p.AggCall.Name, Type: p.Type})
	}
	partial := &Aggregate{In: cur, Keys: full, Aggs: pCalls, Cols: pCols, PartialFinal: Partial}

	// Step 3: the final aggregate, by the original keys.
	nk := len(a.Keys)
	fKeys := make([]int, nk)
	for i, k := range a.Keys {
		fKeys[i] = slices.Index(full, k)
	}
	fCols := slices.Clone(a.Cols[:nk])
	ftaken := map[string]bool{}
	for _, c := range a.Cols {
		ftaken[c.Name] = true
	}
	var fCalls []AggCall
	x := len(full)
	avg := false
	for _, c := range a.Aggs {
		_, ffs := splitFuncs(c.Func)
		for _, fn := range ffs {
			t, err := aggType(fn, false, []row.Type{pCols[x].Type})
			if err != nil {
				return a, false
			}
			name := c.Name
			if len(ffs) > 1 {
				avg = true
				name = uniqueName(fmt.Sprintf("$f%d", nk+len(fCalls)), ftaken)
			} else if !t.WithNullable(true).Equal(c.Type.WithNullable(true)) {
				// The merged result's type must be the call's.
				return a, false
			} else {
				t = c.Type
			}
			fCalls = append(fCalls, AggCall{Func: fn, Args: []int{x}, Filter: -1, Type: t, Name: name})
			fCols = append(fCols, Column{Name: name, Type: t})
			x++
		}
	}
	final := &Aggregate{In: partial, Keys: fKeys, Aggs: fCalls, Cols: fCols, PartialFinal: Final}
	if !avg {
		return final, true
	}

	// Step 4: AVG as IF(count = 0, NULL, sum / count).
	projs := make([]expr.Expr, 0, len(a.Cols))
	for i := range nk {
		projs = append(projs, expr.Ref(i, fCols[i].Type))
	}
	j := nk
	for _, c := range a.Aggs {
		if c.Func != "AVG" {
			projs = append(projs, expr.Ref(j, fCols[j].Type))
			j++
			continue
		}
		sum, cnt := expr.Ref(j, fCols[j].Type), expr.Ref(j+1, fCols[j+1].Type)
		j += 2
		zero, err := expr.NewCall("=", cnt, expr.Lit(row.Int(0), row.BigInt().NotNull()))
		if err != nil {
			return a, false
		}
		div, err := expr.NewCall("/", sum, cnt)
		if err != nil {
			return a, false
		}
		cast, err := expr.NewCast(div, c.Type.WithNullable(true))
		if err != nil {
			return a, false
		}
		projs = append(projs, &expr.Case{Whens: []expr.Expr{zero}, Thens: []expr.Expr{expr.Lit(row.Null(), c.Type.WithNullable(true))}, Else: cast, T: c.Type.WithNullable(true)})
	}
	return &Calc{In: final, Projects: projs, Cols: a.Cols}, true
}

// expandID is the $e of the copy for grouping set of the full grouping:
// bit len(full)-1-i is set when full[i] is not in set (Flink's
// ExpandUtil.genExpandId).
func expandID(full, set []int) int64 {
	var id int64
	for i, k := range full {
		if !slices.Contains(set, k) {
			id |= 1 << (len(full) - 1 - i)
		}
	}
	return id
}
