package sql

import (
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
)

// Processing-time attributes are materialized only where their value is
// read, as in Flink: its planner keeps a PROCTIME() column as a time
// indicator whose field is a NULL placeholder (the code generator emits a
// null literal for PROCTIME()) and reads the clock only where a consumer
// needs the value (PROCTIME_MATERIALIZE: a projection to a sink, an
// expression over it). A lookup join FOR SYSTEM_TIME AS OF the attribute
// and a window on processing time take the operator's processing time,
// not the column, so in Nexmark q12 and q13 nobody reads it. Here a Calc
// computes PROCTIME() only into a column some consumer reads; an unread
// one gets NULL. Plans (and EXPLAIN) are unchanged: only the Calc's
// evaluation is.

// readColumns returns, for each node of root's plan, which of its output
// columns some consumer reads (conservatively: every operator but those
// handled below reads all its input columns; root's columns are all
// read).
func readColumns(root plan.Rel) map[plan.Rel][]bool {
	read := map[plan.Rel][]bool{}
	markRead(read, root, allColumns(root))
	return read
}

func allColumns(r plan.Rel) []bool {
	cols := make([]bool, len(r.Columns()))
	for i := range cols {
		cols[i] = true
	}
	return cols
}

// markRead adds cols to r's read columns and, if they grew (or r is new),
// marks the input columns r then reads. A node reached along several
// paths reads the union.
func markRead(read map[plan.Rel][]bool, r plan.Rel, cols []bool) {
	cur, seen := read[r]
	if !seen {
		cur = make([]bool, len(r.Columns()))
		read[r] = cur
	}
	grew := !seen
	for i, c := range cols {
		if c && i < len(cur) && !cur[i] {
			cur[i], grew = true, true
		}
	}
	if !grew {
		return
	}
	switch n := r.(type) {
	case *plan.Calc:
		in := make([]bool, len(n.In.Columns()))
		mark := func(i int) {
			if i >= 0 && i < len(in) {
				in[i] = true
			}
		}
		for i, p := range n.Projects {
			if _, ok := p.(*expr.InputRef); ok && !cur[i] {
				continue // an unread copy reads nothing
			}
			// Any other expression is evaluated, read or not.
			expr.Refs(p, mark)
		}
		if n.Cond != nil {
			expr.Refs(n.Cond, mark)
		}
		markRead(read, n.In, in)
		return
	case *plan.LookupJoin:
		// FOR SYSTEM_TIME AS OF names the processing-time attribute
		// only: the join reads its key, its residual condition and
		// the columns it passes on.
		w := len(n.Input.Columns())
		in := make([]bool, w)
		copy(in, cur)
		mark := func(i int) {
			if i >= 0 && i < w {
				in[i] = true
			}
		}
		for _, k := range n.KeyExprs {
			expr.Refs(k, mark)
		}
		if n.Residual != nil {
			expr.Refs(n.Residual, mark)
		}
		markRead(read, n.Input, in)
		return
	case *plan.WindowAggregate:
		// A window on processing time assigns each row by the
		// operator's clock, not by the column.
		tc := n.Window.TimeCol
		if ins := n.In.Columns(); tc >= 0 && tc < len(ins) && ins[tc].Type.TimeAttr == row.Proctime {
			in := allColumns(n.In)
			in[tc] = false
			for _, k := range n.Keys {
				in[k] = true
			}
			for _, a := range n.Aggs {
				for _, x := range a.Args {
					in[x] = true
				}
				if a.Filter >= 0 {
					in[a.Filter] = true
				}
			}
			markRead(read, n.In, in)
			return
		}
	}
	for _, in := range r.Inputs() {
		markRead(read, in, allColumns(in))
	}
}

// isProctimeCall recognises PROCTIME().
func isProctimeCall(e expr.Expr) bool {
	c, ok := e.(*expr.Call)
	return ok && c.Func.Name == "PROCTIME" && len(c.Args) == 0
}

// unreadProctime returns n's projections with every PROCTIME() whose
// column no consumer reads replaced by a NULL of its type (Flink's
// placeholder), or n.Projects itself if there is none.
func (t *translator) unreadProctime(n *plan.Calc) []expr.Expr {
	projs := n.Projects
	read, ok := t.read[n]
	if !ok {
		return projs
	}
	cloned := false
	for i, p := range projs {
		if read[i] || !isProctimeCall(p) {
			continue
		}
		if !cloned {
			projs, cloned = append([]expr.Expr(nil), projs...), true
		}
		projs[i] = expr.Lit(row.Null(), p.Type())
	}
	return projs
}

// mergeOverUnreadProctime merges n into the Calc below it when that one's
// PROCTIME() is unread and NULL: the planner keeps them apart only
// because PROCTIME() is not deterministic (Flink's FlinkCalcMergeRule
// does too), and a NULL is. One Calc then runs instead of two.
func (t *translator) mergeOverUnreadProctime(n *plan.Calc) (*plan.Calc, bool) {
	lower, ok := n.In.(*plan.Calc)
	if !ok || t.read == nil {
		return nil, false
	}
	projs := t.unreadProctime(lower)
	if len(projs) == 0 || &projs[0] == &lower.Projects[0] {
		return nil, false // nothing replaced: the planner's decision holds
	}
	l := *lower
	l.Projects = projs
	return plan.MergeCalcs(n, &l)
}
