package plan

import (
	"slices"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// Nested projection push-down (Flink's PushProjectIntoTableSourceScanRule
// for a source with SupportsProjectionPushDown and nested projection): a
// Calc over the source scan of a table whose connector produces fields of
// nested ROW columns as flat columns (Table.NestedPushDown) reads only the
// columns and ROW fields its expressions, the rowtime and the watermark
// need, each as a flat column of the scan (Scan.Project). A ROW column
// read whole is produced whole, and a field of it is then read from it.

// projectPath is one pushed-down column: a physical column, then field
// indexes into the ROWs below it.
type projectPath []int

// pushPath returns the path of e if it is a column reference or a chain
// of field accesses over one.
func pushPath(e expr.Expr) (projectPath, bool) {
	switch n := e.(type) {
	case *expr.InputRef:
		return projectPath{n.Index}, true
	case *expr.FieldAccess:
		p, ok := pushPath(n.Arg)
		if !ok {
			return nil, false
		}
		return append(p, n.Index), true
	}
	return nil, false
}

// collectPaths adds the paths e reads to paths; it reports false if e has
// a node it cannot see through.
func collectPaths(e expr.Expr, paths *[]projectPath) bool {
	if e == nil {
		return true
	}
	if p, ok := pushPath(e); ok {
		*paths = append(*paths, p)
		return true
	}
	switch n := e.(type) {
	case *expr.Literal, *expr.Symbol:
		return true
	case *expr.Call:
		for _, a := range n.Args {
			if !collectPaths(a, paths) {
				return false
			}
		}
		return true
	case *expr.Cast:
		return collectPaths(n.Arg, paths)
	case *expr.FieldAccess:
		return collectPaths(n.Arg, paths)
	case *expr.Case:
		for i := range n.Whens {
			if !collectPaths(n.Whens[i], paths) || !collectPaths(n.Thens[i], paths) {
				return false
			}
		}
		return collectPaths(n.Else, paths)
	}
	return false
}

// hasPrefix reports whether pre is a prefix of p (or p itself).
func hasPrefix(p, pre projectPath) bool {
	return len(pre) <= len(p) && slices.Equal(p[:len(pre)], pre)
}

// reducePaths sorts paths, drops duplicates and the paths under another
// one (a ROW read whole covers its fields).
func reducePaths(paths []projectPath) []projectPath {
	slices.SortFunc(paths, func(a, b projectPath) int { return slices.Compare(a, b) })
	var out []projectPath
	for _, p := range paths {
		if len(out) > 0 && hasPrefix(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// rewritePaths rewrites e, an expression over the full source row, over
// the columns of paths (which cover every path e reads).
func rewritePaths(e expr.Expr, paths []projectPath, types []row.Type) expr.Expr {
	if e == nil {
		return nil
	}
	if p, ok := pushPath(e); ok {
		for i, q := range paths {
			if !hasPrefix(p, q) {
				continue
			}
			var out expr.Expr = expr.Ref(i, types[i])
			// Read the rest of the path from the pushed-down ROW.
			t := types[i]
			for _, f := range p[len(q):] {
				ft := t.Fields[f].Type
				if t.Nullable {
					ft.Nullable = true
				}
				out = &expr.FieldAccess{Arg: out, Index: f, T: ft}
				t = ft
			}
			if len(p) > len(q) {
				// Keep the original type (attributes included).
				out.(*expr.FieldAccess).T = e.Type()
			}
			return out
		}
		return e // not reached: paths cover e
	}
	switch n := e.(type) {
	case *expr.Call:
		args := make([]expr.Expr, len(n.Args))
		for i, a := range n.Args {
			args[i] = rewritePaths(a, paths, types)
		}
		return &expr.Call{Func: n.Func, Args: args, T: n.T}
	case *expr.Cast:
		return &expr.Cast{Arg: rewritePaths(n.Arg, paths, types), T: n.T, Try: n.Try, Implicit: n.Implicit}
	case *expr.FieldAccess:
		return &expr.FieldAccess{Arg: rewritePaths(n.Arg, paths, types), Index: n.Index, T: n.T}
	case *expr.Case:
		c := &expr.Case{Whens: make([]expr.Expr, len(n.Whens)), Thens: make([]expr.Expr, len(n.Thens)), T: n.T}
		for i := range n.Whens {
			c.Whens[i] = rewritePaths(n.Whens[i], paths, types)
			c.Thens[i] = rewritePaths(n.Thens[i], paths, types)
		}
		c.Else = rewritePaths(n.Else, paths, types)
		return c
	}
	return e
}

// SourceTimeExprs returns a table's rowtime and watermark expressions
// over its source row (computed columns inlined; a non-deterministic
// computed column, which the watermark cannot read, is a NULL literal),
// or nils if it has no WATERMARK.
func SourceTimeExprs(tab *Table) (rowtime, watermark expr.Expr) {
	if tab.Rowtime < 0 {
		return nil, nil
	}
	cols := make([]expr.Expr, len(tab.Columns))
	for p, c := range tab.SourceColumns() {
		cols[c] = expr.Ref(p, tab.Columns[c].Type)
	}
	for i, c := range tab.Computed {
		if c != nil && cols[i] == nil {
			cols[i] = c
		}
	}
	for i, c := range cols {
		if c == nil || !expr.IsDeterministic(c) {
			cols[i] = expr.Lit(row.Null(), tab.Columns[i].Type)
		}
	}
	return cols[tab.Rowtime], expr.Substitute(tab.Watermark, cols)
}

// projectedColumns returns the columns of a scan's pushed-down paths:
// names joined with "_" as Flink names them, types of the fields
// (nullable under a nullable ROW).
func projectedColumns(tab *Table, paths [][]int) []Column {
	src := tab.SourceColumns()
	cols := make([]Column, len(paths))
	seen := map[string]int{}
	for i, p := range paths {
		c := tab.Columns[src[p[0]]]
		names, t := []string{c.Name}, c.Type
		for _, f := range p[1:] {
			ft := t.Fields[f].Type
			if t.Nullable {
				ft.Nullable = true
			}
			names = append(names, t.Fields[f].Name)
			t = ft
		}
		name := strings.Join(names, "_")
		if n := seen[name]; n > 0 {
			seen[name] = n + 1
			name += strconv.Itoa(n - 1) // Calcite's uniquify
		} else {
			seen[name] = 1
		}
		c.Name, c.Type = name, t
		cols[i] = c
	}
	return cols
}

// pushProjection pushes the fields a Calc over a source scan reads into
// the scan, if the table's connector produces nested fields as columns.
func pushProjection(c *Calc) (*Calc, bool) {
	s, ok := c.In.(*Scan)
	if !ok || !s.Source || !s.Table.NestedPushDown {
		return c, false
	}
	if s.Project != nil {
		// Pushed down before (into a Calc this one merged with): push
		// again from the full source row.
		full := make([]expr.Expr, len(s.Project))
		for i, p := range s.Project {
			full[i] = s.FullExpr(p)
		}
		for _, e := range append(slices.Clone(c.Projects), c.Cond) {
			if e != nil && !collectPaths(e, new([]projectPath)) {
				return c, false
			}
		}
		u := *c
		u.In = &Scan{Table: s.Table, Source: true}
		u.Projects = make([]expr.Expr, len(c.Projects))
		for i, p := range c.Projects {
			u.Projects[i] = expr.Substitute(p, full)
		}
		if c.Cond != nil {
			u.Cond = expr.Substitute(c.Cond, full)
		}
		c, s = &u, u.In.(*Scan)
	}
	tab := s.Table
	for _, k := range tab.Kinds {
		if k == Metadata {
			return c, false
		}
	}
	var paths []projectPath
	exprs := slices.Clone(c.Projects)
	if c.Cond != nil {
		exprs = append(exprs, c.Cond)
	}
	if rt, wm := SourceTimeExprs(tab); rt != nil && !(tab.SourceRowtime && watermarkFromRowtime(tab)) {
		exprs = append(exprs, rt, wm)
	}
	for _, e := range exprs {
		if !collectPaths(e, &paths) {
			return c, false
		}
	}
	paths = reducePaths(paths)
	if len(paths) == 0 {
		// A row is still produced per record: read the first column.
		paths = []projectPath{{0}}
	}
	all := len(paths) == len(tab.SourceColumns())
	for i, p := range paths {
		all = all && len(p) == 1 && p[0] == i
	}
	if all {
		return c, false
	}
	pp := make([][]int, len(paths))
	for i, p := range paths {
		pp[i] = p
	}
	ns := &Scan{Table: tab, Source: true, Project: pp}
	types := make([]row.Type, len(paths))
	for i, col := range ns.Columns() {
		types[i] = col.Type
	}
	out := *c
	out.In = ns
	out.Projects = make([]expr.Expr, len(c.Projects))
	for i, p := range c.Projects {
		out.Projects[i] = rewritePaths(p, paths, types)
	}
	out.Cond = rewritePaths(c.Cond, paths, types)
	return &out, true
}

// SourceExpr rewrites e, an expression over the table's full source row,
// over the scan's pushed-down columns (the rowtime and watermark
// expressions, which the push-down covers); without a push-down e is
// returned as it is.
func (s *Scan) SourceExpr(e expr.Expr) expr.Expr {
	if s.Project == nil || e == nil {
		return e
	}
	paths := make([]projectPath, len(s.Project))
	for i, p := range s.Project {
		paths[i] = p
	}
	cols := s.Columns()
	types := make([]row.Type, len(cols))
	for i, c := range cols {
		types[i] = c.Type
	}
	return rewritePaths(e, paths, types)
}

// FullExpr returns the expression that reads a pushed-down path from the
// table's full source row: the column, then its field accesses.
func (s *Scan) FullExpr(p []int) expr.Expr {
	t := s.Table.Columns[s.Table.SourceColumns()[p[0]]].Type
	var e expr.Expr = expr.Ref(p[0], t)
	for _, f := range p[1:] {
		ft := t.Fields[f].Type
		if t.Nullable {
			ft.Nullable = true
		}
		e = &expr.FieldAccess{Arg: e, Index: f, T: ft}
		t = ft
	}
	return e
}

// watermarkFromRowtime reports whether a table's watermark is its rowtime
// or the rowtime minus an interval literal: computed from each row's
// timestamp, without reading a column.
func watermarkFromRowtime(tab *Table) bool {
	if r, ok := tab.Watermark.(*expr.InputRef); ok {
		return r.Index == tab.Rowtime
	}
	c, ok := tab.Watermark.(*expr.Call)
	if !ok || c.Func.Name != "-" || len(c.Args) != 2 {
		return false
	}
	r, ok := c.Args[0].(*expr.InputRef)
	l, ok2 := c.Args[1].(*expr.Literal)
	return ok && ok2 && r.Index == tab.Rowtime && l.T.Root == row.TypeIntervalDayTime && !l.Value.IsNull()
}
