package sql

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
)

// Sub-plan reuse (Flink's table.optimizer.reuse-sub-plan-enabled and
// reuse-source-enabled, both on by default): equal sub-plans of one job
// run once and their stream feeds every consumer. Nexmark q5 joins two
// HOP aggregations of the same bids: without reuse the job ran the
// generator, its Calcs and the window aggregation twice.
//
// Two sub-plans are equal when their digests are: a node's kind, its
// exact attributes (input column indexes, expressions with their types,
// aggregate calls, windows, output column types and changelog mode) and
// its inputs' digests. Only node kinds whose digest says everything
// about their output are reused: source scans (of the same catalog table
// object), Calcs, window table functions, window aggregations and group
// aggregations; any other node under a sub-plan makes it unique.

// stream returns the rows of r, the stream of an equal sub-plan already
// translated in this job if there is one.
func (t *translator) stream(r plan.Rel) (weir.Stream[row.Row], error) {
	if t.cfg != nil && !t.cfg.Bool("table.optimizer.reuse-sub-plan-enabled") {
		return t.streamNode(r)
	}
	key, ok := planDigest(r, t.cfg == nil || t.cfg.Bool("table.optimizer.reuse-source-enabled"))
	if !ok || t.unshared[r] {
		return t.streamNode(r)
	}
	if s, ok := t.reused[key]; ok {
		return s, nil
	}
	s, err := t.streamNode(r)
	if err != nil {
		return s, err
	}
	if t.reused == nil {
		t.reused = map[string]weir.Stream[row.Row]{}
	}
	t.reused[key] = s
	return s, nil
}

// planDigest returns r's digest, or false if r cannot be reused (with
// sources false, a sub-plan that reads a source cannot).
func planDigest(r plan.Rel, sources bool) (string, bool) {
	var b strings.Builder
	if !writeDigest(&b, r, sources) {
		return "", false
	}
	return b.String(), true
}

func writeDigest(b *strings.Builder, r plan.Rel, sources bool) bool {
	switch n := r.(type) {
	case *plan.Scan:
		if !sources {
			return false
		}
		// The same table object (a table's options, watermark and
		// computed columns are the table's), read the same way.
		fmt.Fprintf(b, "Scan(%p,%v)", n.Table, n.Source)
	case *plan.Calc:
		// A non-deterministic expression (RAND(), PROCTIME(), ...) keeps
		// its own values per occurrence, as without reuse.
		for _, p := range n.Projects {
			if !expr.IsDeterministic(p) {
				return false
			}
		}
		if n.Cond != nil && !expr.IsDeterministic(n.Cond) {
			return false
		}
		b.WriteString("Calc(")
		for _, p := range n.Projects {
			b.WriteString(p.String() + ":" + p.Type().String() + ";")
		}
		if n.Cond != nil {
			b.WriteString("where " + n.Cond.String())
		}
		b.WriteString(")")
	case *plan.WindowTVF:
		fmt.Fprintf(b, "WindowTVF(%+v)", n.Window)
	case *plan.WindowAggregate:
		fmt.Fprintf(b, "WindowAggregate(%v,%+v,", n.Keys, n.Window)
		if !writeAggs(b, n.Aggs) {
			return false
		}
		b.WriteString(")")
	case *plan.Aggregate:
		fmt.Fprintf(b, "Aggregate(%v,", n.Keys)
		if !writeAggs(b, n.Aggs) {
			return false
		}
		b.WriteString(")")
	default:
		return false
	}
	b.WriteString("[")
	for _, c := range r.Columns() {
		b.WriteString(c.Name + " " + c.Type.String() + fmt.Sprintf("/%d", c.Type.TimeAttr) + ",")
	}
	b.WriteString("]" + r.Mode().String() + "{")
	for _, in := range r.Inputs() {
		if !writeDigest(b, in, sources) {
			return false
		}
		b.WriteString(";")
	}
	b.WriteString("}")
	return true
}

func writeAggs(b *strings.Builder, aggs []plan.AggCall) bool {
	for _, a := range aggs {
		if a.UDF != nil {
			return false // a user function may keep state of its own
		}
		fmt.Fprintf(b, "%s%v%v%d:%s;", a.Func, a.Args, a.Distinct, a.Filter, a.Type.String())
	}
	return true
}
