package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// Expand emits every input row once per grouping set (Flink's Expand, the
// first step of GROUPING SETS, ROLLUP and CUBE): the copy for a set has
// the group keys outside the set NULL and the set's id in its last
// column, $e; an Aggregate grouping by the keys and $e then computes each
// set's groups. Row kinds pass through.
type Expand struct {
	In       Rel
	Projects [][]expr.Expr // one projection per grouping set
	Cols     []Column
	// OneOperator runs the Expand as one operator emitting a row's
	// copies in a row (a window aggregation's, whose late rows must be
	// late in every set alike); without it, as before, one Calc per set
	// over the same input, unioned.
	OneOperator bool
}

// Columns implements Rel.
func (e *Expand) Columns() []Column { return e.Cols }

// Inputs implements Rel.
func (e *Expand) Inputs() []Rel { return []Rel{e.In} }

// Mode implements Rel: the input's.
func (e *Expand) Mode() Mode { return e.In.Mode() }

func (e *Expand) describe() (string, []string) {
	in := e.In.Columns()
	sets := make([]string, len(e.Projects))
	for i, ps := range e.Projects {
		items := make([]string, len(ps))
		for j, p := range ps {
			s := withNames(p, in)
			if ref, ok := p.(*expr.InputRef); !ok || in[ref.Index].Name != e.Cols[j].Name {
				s += " AS " + e.Cols[j].Name
			}
			items[j] = s
		}
		sets[i] = "{" + strings.Join(items, ", ") + "}"
	}
	return "Expand", []string{"projects=[" + strings.Join(sets, ", ") + "]"}
}

// groupingSets returns the grouping sets of a GROUPING SETS, ROLLUP or
// CUBE element of GROUP BY, each a sorted list of indexes of group keys;
// key binds a grouping expression and returns its index.
func groupingSets(g *ast.GroupingSets, key func(ast.Expr) (int, error)) ([][]int, error) {
	// unit returns the keys of an item that is one column or a composite
	// (a, b) of ROLLUP and CUBE.
	unit := func(it ast.Expr) ([]int, error) {
		if r, ok := it.(*ast.RowExpr); ok && !r.Explicit {
			var ks []int
			for _, f := range r.Fields {
				k, err := key(f)
				if err != nil {
					return nil, err
				}
				ks = append(ks, k)
			}
			return ks, nil
		}
		if _, ok := it.(*ast.GroupingSets); ok {
			return nil, errAt(it, "%s may not be nested in %s", it.(*ast.GroupingSets).Kind, g.Kind)
		}
		k, err := key(it)
		if err != nil {
			return nil, err
		}
		return []int{k}, nil
	}
	var sets [][]int
	switch g.Kind {
	case ast.GroupingSetsKind:
		for _, it := range g.Items {
			if n, ok := it.(*ast.GroupingSets); ok {
				inner, err := groupingSets(n, key)
				if err != nil {
					return nil, err
				}
				sets = append(sets, inner...)
				continue
			}
			u, err := unit(it)
			if err != nil {
				return nil, err
			}
			sets = append(sets, u)
		}
	case ast.RollupKind, ast.CubeKind:
		units := make([][]int, len(g.Items))
		for i, it := range g.Items {
			u, err := unit(it)
			if err != nil {
				return nil, err
			}
			units[i] = u
		}
		if g.Kind == ast.RollupKind {
			// (a, b, c), (a, b), (a), ()
			for n := len(units); n >= 0; n-- {
				sets = append(sets, slices.Concat(units[:n]...))
			}
			break
		}
		if len(units) > 12 {
			return nil, errAt(g, "CUBE of %d items makes %d grouping sets; at most 12 items are allowed", len(units), 1<<len(units))
		}
		// Every subset, the full set first, as Calcite orders them.
		for mask := 1<<len(units) - 1; mask >= 0; mask-- {
			var s []int
			for i, u := range units {
				if mask&(1<<(len(units)-1-i)) != 0 {
					s = append(s, u...)
				}
			}
			sets = append(sets, s)
		}
	default:
		return nil, errAt(g, "unknown grouping kind %s", g.Kind)
	}
	for i, s := range sets {
		slices.Sort(s)
		sets[i] = slices.Compact(s)
	}
	return sets, nil
}

// crossSets combines the grouping sets of GROUP BY's elements: every
// combination of one set of each element, joined (GROUP BY a, ROLLUP(b)
// is GROUPING SETS ((a, b), (a))).
func crossSets(elems [][][]int) [][]int {
	out := [][]int{{}}
	for _, sets := range elems {
		var next [][]int
		for _, o := range out {
			for _, s := range sets {
				u := slices.Concat(o, s)
				slices.Sort(u)
				next = append(next, slices.Compact(u))
			}
		}
		out = next
	}
	return out
}

// expandGroupingSets plans GROUP BY with grouping sets: a Calc of the
// group keys (columns 0..len(keys)-1) and the aggregates' arguments, an
// Expand with a copy per set, and an Aggregate by the keys and $e. It
// returns the Aggregate; its column len(keys) is $e. When timeCol >= 0
// that column of from is carried through the Expand with its time
// attribute (a window aggregation's time column, window_grouping_sets.go)
// and its column in the Expand is returned, else -1.
func (b *Binder) expandGroupingSets(from Rel, where expr.Expr, keys []expr.Expr, specs []*aggSpec, sets [][]int, pos ast.Node, timeCol int) (*Aggregate, int, error) {
	nk := len(keys)
	seen := map[string]bool{}
	for _, s := range sets {
		k := fmt.Sprint(s)
		if seen[k] {
			return nil, -1, errAt(pos, "the grouping set (%s) appears twice; Weir does not support duplicate grouping sets", setString(s, keys, from.Columns()))
		}
		seen[k] = true
	}
	pre := &preCalc{in: from}
	for _, k := range keys {
		pre.add(k)
	}
	// Aggregate arguments get columns of their own: a key column is NULL
	// in the sets without it, its argument copy is not.
	pre.idx = map[string]int{}
	tc := -1
	if timeCol >= 0 {
		tc = pre.add(expr.Ref(timeCol, from.Columns()[timeCol].Type))
	}
	calls, err := b.aggCalls(specs, pre)
	if err != nil {
		return nil, -1, err
	}
	preRel := pre.rel(where)
	inCols := preRel.Columns()
	// A key is nullable if a set leaves it out.
	inAll := make([]bool, nk)
	for i := range inAll {
		inAll[i] = true
		for _, s := range sets {
			inAll[i] = inAll[i] && slices.Contains(s, i)
		}
	}
	cols := make([]Column, 0, len(inCols)+1)
	for i, c := range inCols {
		if i != tc {
			c.Type.TimeAttr = row.NoTimeAttr
		}
		if i < nk && !inAll[i] {
			c.Type = c.Type.WithNullable(true)
		}
		cols = append(cols, c)
	}
	eType := row.BigInt().NotNull()
	cols = append(cols, Column{Name: "$e", Type: eType})
	ex := &Expand{In: preRel, Cols: cols}
	for _, s := range sets {
		ps := make([]expr.Expr, 0, len(cols))
		for i := range inCols {
			if i < nk && !slices.Contains(s, i) {
				ps = append(ps, expr.Lit(row.Null(), cols[i].Type))
				continue
			}
			// A key left out by some set is nullable in every copy.
			ps = append(ps, expr.Ref(i, cols[i].Type))
		}
		ps = append(ps, expr.Lit(row.Int(groupingID(s, nk)), eType))
		ex.Projects = append(ex.Projects, ps)
	}
	aggKeys := make([]int, nk+1)
	aggCols := make([]Column, 0, nk+1+len(calls))
	for i := range nk {
		aggKeys[i] = i
		aggCols = append(aggCols, cols[i])
	}
	aggKeys[nk] = len(inCols)
	aggCols = append(aggCols, cols[len(inCols)])
	for _, c := range calls {
		aggCols = append(aggCols, Column{Name: c.Name, Type: c.Type})
	}
	return &Aggregate{In: ex, Keys: aggKeys, Aggs: calls, Cols: aggCols}, tc, nil
}

// groupingID is a set's $e: bit nk-1-i is set when key i is not in the
// set (Calcite's and Flink's grouping id: GROUPING_ID of all the keys).
func groupingID(set []int, nk int) int64 {
	var id int64
	for i := range nk {
		if !slices.Contains(set, i) {
			id |= 1 << (nk - 1 - i)
		}
	}
	return id
}

func setString(s []int, keys []expr.Expr, in []Column) string {
	parts := make([]string, len(s))
	for i, k := range s {
		parts[i] = withNames(keys[k], in)
	}
	return strings.Join(parts, ", ")
}

// groupingCall binds GROUPING(e, ...) and GROUPING_ID(e, ...) after an
// aggregation: for one argument, 1 when the row's grouping set leaves e
// out (its NULL is the set's, not the data's), else 0; for several, those
// bits, the first argument's the highest. Without grouping sets every
// key is in the one set: 0.
func (rw *aggRewrite) groupingCall(eb *exprBinder, c *ast.Call) (expr.Expr, error) {
	name := strings.ToUpper(c.Name.Parts[0].Name)
	if len(c.Args) == 0 {
		return nil, eb.errorf(c, "%s needs at least one argument", name)
	}
	if len(c.Args) > 63 {
		return nil, eb.errorf(c, "%s takes at most 63 arguments", name)
	}
	var out expr.Expr
	for j, a := range c.Args {
		bound, err := rw.in.bind(a)
		if err != nil {
			return nil, err
		}
		k, ok := rw.keyCol[bound.String()]
		if !ok {
			return nil, eb.errorf(a, "Argument to %s operator must be a grouped expression", name)
		}
		if rw.keyBit != nil {
			k = rw.keyBit[bound.String()]
		}
		var bit expr.Expr = expr.Lit(row.Int(0), row.BigInt().NotNull())
		if rw.groupingCol >= 0 && k >= 0 {
			// ($e / 2^(nk-1-k)) % 2
			e := expr.Ref(rw.groupingCol, rw.outType[rw.groupingCol])
			div, err := expr.NewCall("/", e, expr.Lit(row.Int(1<<(rw.nkeys-1-k)), row.BigInt().NotNull()))
			if err != nil {
				return nil, err
			}
			if bit, err = expr.NewCall("MOD", div, expr.Lit(row.Int(2), row.BigInt().NotNull())); err != nil {
				return nil, err
			}
		}
		if shift := len(c.Args) - 1 - j; shift > 0 {
			if bit, err = expr.NewCall("*", bit, expr.Lit(row.Int(1<<shift), row.BigInt().NotNull())); err != nil {
				return nil, err
			}
		}
		if out == nil {
			out = bit
		} else if out, err = expr.NewCall("+", out, bit); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// isGroupingCall reports whether e is a call of GROUPING or GROUPING_ID.
func isGroupingCall(e ast.Expr) (*ast.Call, bool) {
	c, ok := e.(*ast.Call)
	if !ok || c.Over != nil || len(c.Name.Parts) != 1 || c.Distinct {
		return nil, false
	}
	switch strings.ToUpper(c.Name.Parts[0].Name) {
	case "GROUPING", "GROUPING_ID":
		return c, true
	}
	return nil, false
}
