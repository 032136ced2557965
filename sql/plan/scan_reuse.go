package plan

import (
	"slices"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// Reuse of a source read with different projections (Flink's ScanReuser,
// applied with table.optimizer.reuse-source-enabled): after projection
// push-down, two scans of one table that read different fields are
// different sub-plans, and the job ran the source twice. Nexmark's joins
// (q3, q4, q8, q9, q20) read the one event table through two views (e.g.
// auction and bid): the generator made every event twice, its largest
// cost. ReuseScans gives all the source scans of such a table one scan
// pushing down the union of their projections, and turns each consumer
// into a Calc over it that reads its own fields from the union's columns
// (Flink adds that Calc; here the Calc already above each scan is
// rewritten, so a filter and projection still run in one operator).

// ReuseScans returns roots (the plans of one job) with the source scans of
// each table that are read with two or more different pushed-down
// projections replaced by one scan of the union of the projections. The
// shared scan is marked Shared: its consumers must not write over its
// rows. Scans of a table read with one projection are left as they are
// (equal sub-plans are reused by their digest). roots are not modified.
func ReuseScans(roots []Rel) []Rel {
	// The source scans with a projection, per table, in plan order.
	byTable := map[*Table][]*Scan{}
	var tables []*Table
	seen := map[Rel]bool{}
	var visit func(r Rel)
	visit = func(r Rel) {
		if seen[r] {
			return
		}
		seen[r] = true
		if s, ok := r.(*Scan); ok && s.Source && s.Project != nil && s.Table.NestedPushDown && s.Filters == nil && s.PartitionFilter == nil {
			if byTable[s.Table] == nil {
				tables = append(tables, s.Table)
			}
			byTable[s.Table] = append(byTable[s.Table], s)
		}
		for _, in := range r.Inputs() {
			visit(in)
		}
	}
	for _, r := range roots {
		visit(r)
	}
	shared := map[*Scan]*Scan{}
	for _, tab := range tables {
		scans := byTable[tab]
		var paths []projectPath
		distinct := false
		for _, s := range scans {
			distinct = distinct || !equalProject(s.Project, scans[0].Project)
			for _, p := range s.Project {
				paths = append(paths, slices.Clone(p))
			}
		}
		if !distinct {
			continue
		}
		paths = reducePaths(paths)
		pp := make([][]int, len(paths))
		for i, p := range paths {
			pp[i] = p
		}
		u := &Scan{Table: tab, Source: true, Project: pp, Shared: true}
		for _, s := range scans {
			shared[s] = u
		}
	}
	if len(shared) == 0 {
		return roots
	}
	// Rewrite bottom-up: a Calc over a replaced scan reads the shared
	// scan's columns; a replaced scan under anything else becomes a Calc
	// over the shared scan that picks its columns.
	done := map[Rel]Rel{}
	var rewrite func(r Rel) (Rel, bool)
	rewrite = func(r Rel) (Rel, bool) {
		if n, ok := done[r]; ok {
			return n, true
		}
		var out Rel
		switch n := r.(type) {
		case *Calc:
			if s, ok := n.In.(*Scan); ok && shared[s] != nil {
				cols := scanColumnsOver(s, shared[s])
				c := *n
				c.In = shared[s]
				c.Projects = make([]expr.Expr, len(n.Projects))
				for i, p := range n.Projects {
					c.Projects[i] = expr.Substitute(p, cols)
				}
				if n.Cond != nil {
					c.Cond = expr.Substitute(n.Cond, cols)
				}
				out = &c
			}
		case *Scan:
			if u := shared[n]; u != nil {
				c := &Calc{In: u, Projects: scanColumnsOver(n, u), Cols: n.Columns()}
				out = c
			}
		}
		if out == nil {
			ins := r.Inputs()
			if len(ins) == 0 {
				out = r
			} else {
				opt := make([]Rel, len(ins))
				changed := false
				for i, in := range ins {
					o, ok := rewrite(in)
					if !ok {
						return r, false
					}
					opt[i] = o
					changed = changed || o != in
				}
				out = r
				if changed {
					var ok bool
					if out, ok = withInputs(r, ins, opt); !ok {
						return r, false
					}
				}
			}
		}
		done[r] = out
		return out, true
	}
	res := make([]Rel, len(roots))
	for i, r := range roots {
		o, ok := rewrite(r)
		if !ok {
			// A node this pass cannot rebuild: keep the plans as they
			// were (every scan its own source).
			return roots
		}
		res[i] = o
	}
	return res
}

// scanColumnsOver returns, per column of s, the expression reading it from
// the columns of u, a scan of the same table whose projection covers s's.
func scanColumnsOver(s, u *Scan) []expr.Expr {
	paths := make([]projectPath, len(u.Project))
	for i, p := range u.Project {
		paths[i] = p
	}
	ucols := u.Columns()
	types := make([]row.Type, len(ucols))
	for i, c := range ucols {
		types[i] = c.Type
	}
	scols := s.Columns()
	out := make([]expr.Expr, len(s.Project))
	for i, p := range s.Project {
		e := rewritePaths(s.FullExpr(p), paths, types)
		if r, ok := e.(*expr.InputRef); ok && !r.T.Equal(scols[i].Type) {
			// Keep the column's own type (time attributes included).
			e = expr.Ref(r.Index, scols[i].Type)
		}
		out[i] = e
	}
	return out
}

func equalProject(a, b [][]int) bool {
	return slices.EqualFunc(a, b, func(x, y []int) bool { return slices.Equal(x, y) })
}
