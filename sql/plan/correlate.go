package plan

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/udf"
)

// Generator is what a Correlate calls for each input row: a user-defined
// table function or UNNEST, over expressions of the input row.
type Generator struct {
	// Name is the table function's name, or UNNEST.
	Name string
	// Args are the call's arguments over the input columns.
	Args []expr.Expr
	// Table is the user-defined table function; nil for UNNEST.
	Table udf.TableFunction
	// Ordinality adds the 1-based position of each element (UNNEST ...
	// WITH ORDINALITY).
	Ordinality bool
	// Cols are the generated columns.
	Cols []Column
}

// IsUnnest reports whether the generator is UNNEST.
func (g *Generator) IsUnnest() bool { return g.Table == nil }

func (g *Generator) invocation(in []Column) string {
	// Flink names the correlated row $cor0: $cor0.tags.
	cor := make([]Column, len(in))
	for i, c := range in {
		cor[i] = Column{Name: "$cor0." + c.Name, Type: c.Type}
	}
	args := make([]string, len(g.Args))
	for i, a := range g.Args {
		args[i] = withNames(a, cor)
	}
	name := g.Name
	if g.IsUnnest() {
		name = "$UNNEST_ROWS$1"
	}
	return name + "(" + strings.Join(args, ", ") + ")"
}

// Correlate joins each input row with the rows its Generator produces for
// it (Flink's Correlate, the plan of LATERAL TABLE(f(x)) and UNNEST):
// output columns are the input's then the generated ones. With Left, an
// input row producing no rows is kept once, with NULLs (LEFT JOIN ... ON
// TRUE). Row kinds pass through: a retraction retracts what its insert
// produced (the generator must be deterministic).
type Correlate struct {
	In   Rel
	Gen  *Generator
	Left bool
	Cols []Column
}

// Columns implements Rel.
func (c *Correlate) Columns() []Column { return c.Cols }

// Inputs implements Rel.
func (c *Correlate) Inputs() []Rel { return []Rel{c.In} }

// Mode implements Rel: the input's.
func (c *Correlate) Mode() Mode { return c.In.Mode() }

func (c *Correlate) describe() (string, []string) {
	inv := c.Gen.invocation(c.In.Columns())
	jt := "INNER"
	if c.Left {
		jt = "LEFT"
	}
	sel := make([]string, len(c.Cols))
	for i, col := range c.Cols {
		sel[i] = col.Name
	}
	return "Correlate", []string{"invocation=[" + inv + "]", "correlate=[table(" + inv + ")]",
		"select=[" + strings.Join(sel, ",") + "]", "rowType=[" + rowType(c.Cols) + "]", "joinType=[" + jt + "]"}
}

// isWindowTVF reports whether a table function call is a window table
// function.
func isWindowTVF(tf *ast.TableFunc) bool {
	switch strings.ToUpper(tf.Call.Name.Last().Name) {
	case "TUMBLE", "HOP", "CUMULATE", "SESSION":
		return true
	}
	return false
}

// generatorRef reports whether a FROM item is correlated to the items on
// its left: UNNEST(..) or a (LATERAL) TABLE(f(..)) of a function other than
// a window table function.
func generatorRef(ref ast.TableRef) bool {
	switch n := ref.(type) {
	case *ast.Unnest:
		return true
	case *ast.TableFunc:
		return !isWindowTVF(n)
	}
	return false
}

// bindGenerator binds UNNEST or a table function call over the scope of
// the FROM items on its left (sc, an empty scope for none), and returns
// the generator and the scope of its columns.
func (b *Binder) bindGenerator(ref ast.TableRef, sc *scope) (*Generator, *scope, error) {
	eb := &exprBinder{sc: sc, fns: b.Funcs}
	var g *Generator
	var alias *ast.Alias
	switch n := ref.(type) {
	case *ast.Unnest:
		alias = n.Alias
		g = &Generator{Name: "UNNEST", Ordinality: n.WithOrdinality}
		for _, x := range n.Exprs {
			e, err := eb.bind(x)
			if err != nil {
				return nil, nil, err
			}
			t := e.Type()
			switch t.Root {
			case row.TypeArray, row.TypeMultiset:
				if et := *t.Elem; et.Root == row.TypeRow {
					// An array of rows unnests into the rows' fields.
					for _, f := range et.Fields {
						g.Cols = append(g.Cols, Column{Name: f.Name, Type: f.Type.WithNullable(true)})
					}
				} else {
					g.Cols = append(g.Cols, Column{Name: fmt.Sprintf("EXPR$%d", len(g.Cols)), Type: et})
				}
			case row.TypeMap:
				g.Cols = append(g.Cols, Column{Name: "KEY", Type: *t.Elem}, Column{Name: "VALUE", Type: *t.Value})
			default:
				return nil, nil, errAt(x, "UNNEST takes an ARRAY, a MAP or a MULTISET, not %s (%s)", t.WithNullable(true), x)
			}
			g.Args = append(g.Args, e)
		}
		if len(n.Exprs) > 1 {
			// Zipped arrays are padded with NULLs to the longest.
			for i := range g.Cols {
				g.Cols[i].Type = g.Cols[i].Type.WithNullable(true)
			}
		}
		if g.Ordinality {
			g.Cols = append(g.Cols, Column{Name: "ORDINALITY", Type: row.IntType().NotNull()})
		}
	case *ast.TableFunc:
		alias = n.Alias
		name := n.Call.Name.Last().Name
		f, err := b.Funcs.resolveName(n.Call.Name)
		if err != nil {
			return nil, nil, err
		}
		if f == nil {
			return nil, nil, errAt(n, "No match found for function signature %s(): table function %s is not registered (Session.CreateTemporarySystemFunction, or CREATE FUNCTION .. AS 'identifier')", name, name)
		}
		if f.Kind != TableFunction {
			return nil, nil, errAt(n, "%s is a %s function, not a table function", f.Name, strings.ToLower(f.Kind.String()))
		}
		for _, a := range n.Call.Args {
			if containsAgg(a, b.Funcs) {
				return nil, nil, errAt(a, "aggregate functions are not allowed in the arguments of a table function")
			}
		}
		args, err := eb.bindCallArgs(n.Call, f)
		if err != nil {
			return nil, nil, err
		}
		if f, err = f.overload(args); err != nil {
			return nil, nil, errAt(n, "%v", err)
		}
		if sig, ok := f.Table.(udf.Signature); ok {
			if args, err = expr.CoerceArgs(f.Name, sig.ParamTypes(), args); err != nil {
				return nil, nil, errAt(n, "%v", err)
			}
		}
		ts := make([]row.Type, len(args))
		for i, a := range args {
			ts[i] = a.Type()
		}
		fields, err := f.Table.ResultType(ts)
		if err != nil {
			return nil, nil, errAt(n, "function %s: %v", f.Name, err)
		}
		if len(fields) == 0 {
			return nil, nil, errAt(n, "function %s: a table function must produce at least one column", f.Name)
		}
		g = &Generator{Name: f.Name, Args: args, Table: f.Table}
		for _, fd := range fields {
			g.Cols = append(g.Cols, Column{Name: fd.Name, Type: fd.Type})
		}
	default:
		return nil, nil, errAt(ref, "%s is not a table function", ref)
	}
	qual := ""
	if alias != nil {
		qual = alias.Name.Name
		if len(alias.Columns) > 0 {
			if len(alias.Columns) != len(g.Cols) {
				return nil, nil, errAt(alias, "alias %s names %d columns, %s produces %d", qual, len(alias.Columns), g.Name, len(g.Cols))
			}
			for i, c := range alias.Columns {
				g.Cols[i].Name = c.Name
			}
		}
	}
	gsc := &scope{}
	for i, c := range g.Cols {
		gsc.cols = append(gsc.cols, scopeCol{Qual: qual, Name: c.Name, Index: i, Type: c.Type})
	}
	return g, gsc, nil
}

// correlate builds the Correlate of in (columns inCols) with g.
func correlate(in Rel, g *Generator, left bool) *Correlate {
	cols := append(append([]Column(nil), in.Columns()...), g.Cols...)
	if left {
		for i := len(in.Columns()); i < len(cols); i++ {
			cols[i].Type = cols[i].Type.WithNullable(true)
		}
	}
	return &Correlate{In: in, Gen: g, Left: left, Cols: cols}
}

// fromRight binds the right side of a join: a generator correlated to the
// left side l, or an independent FROM tree.
func (b *Binder) fromRight(ref ast.TableRef, l *fromNode) (*fromNode, error) {
	if !generatorRef(ref) {
		return b.fromTree(ref)
	}
	g, sc, err := b.bindGenerator(ref, l.sc)
	if err != nil {
		return nil, err
	}
	return &fromNode{gen: g, sc: sc, width: len(g.Cols)}, nil
}

// bindGeneratorAlone binds UNNEST or a table function in FROM without
// items on its left: over a single empty row.
func (b *Binder) bindGeneratorAlone(ref ast.TableRef) (Rel, *scope, error) {
	g, sc, err := b.bindGenerator(ref, &scope{})
	if err != nil {
		return nil, nil, err
	}
	return correlate(&Values{Rows: [][]expr.Expr{{}}}, g, false), sc, nil
}

// planCorrelate plans a join whose right side is a generator: a
// Correlate of the left side. Conditions on the left side alone go below
// it; the others (and, for LEFT JOIN, every WHERE condition) above. A
// LEFT JOIN must be ON TRUE, as in Flink.
func (b *Binder) planCorrelate(n *fromNode, conds []expr.Expr) (Rel, error) {
	j := n.join
	left := false
	switch j.Kind {
	case ast.LeftJoin:
		left = true
	case ast.RightJoin, ast.FullJoin:
		return nil, errAt(j, "%s with a table function or UNNEST on its right is not supported (only CROSS JOIN, JOIN, LEFT JOIN ... ON TRUE and comma joins)", j.Kind)
	}
	if len(j.Using) > 0 {
		return nil, errAt(j, "USING is not allowed with a table function or UNNEST")
	}
	var on []expr.Expr
	if j.On != nil {
		eb := &exprBinder{sc: n.sc, fns: b.Funcs}
		e, err := eb.bind(j.On)
		if err != nil {
			return nil, err
		}
		if err := checkBoolean(j.On, e, "ON"); err != nil {
			return nil, err
		}
		if l, ok := e.(*expr.Literal); left && (!ok || l.Value.IsNull() || !l.Value.Bool()) {
			return nil, errAt(j.On, "a LEFT JOIN with a table function or UNNEST takes ON TRUE only (Flink: only literal TRUE is supported as predicate for a left outer join against a lateral table)")
		}
		if l, ok := e.(*expr.Literal); !ok || l.Value.IsNull() || !l.Value.Bool() {
			on = conjuncts(e)
		}
	}
	lw := n.l.width
	var lconds, above []expr.Expr
	for _, c := range append(on, conds...) {
		_, hi, has := refSpan(c)
		if !left && has && hi < lw && expr.IsDeterministic(c) {
			lconds = append(lconds, c)
		} else {
			above = append(above, c)
		}
	}
	l, err := b.planFrom(n.l, lconds)
	if err != nil {
		return nil, err
	}
	return filtered(correlate(l, n.r.gen, left), above)
}
