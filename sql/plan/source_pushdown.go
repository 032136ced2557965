package plan

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// Filter and partition push-down into sources (Flink's
// PushFilterIntoTableSourceScanRule and
// PushPartitionIntoTableSourceScanRule): the condition of a Calc over a
// source scan is split into its conjuncts (after constant folding, which
// Optimize did). Those that read partition columns only are evaluated
// against the values of the partitions the source lists; the scan reads
// the partitions they keep (Scan.Partitions, partitions=[...] in
// EXPLAIN) and they leave the Calc; when none is kept the scan and the
// Calc become an empty Values, as in Flink. Of the others, the
// deterministic ones over physical columns are offered to the source;
// those it takes are the scan's Filters (filter=[...] in EXPLAIN), and
// those it also guarantees leave the Calc. Partition push-down is always
// on (Flink's rule has no option); filter push-down follows
// table.optimizer.source.predicate-pushdown-enabled.

// SourcePushDown is what a table's source takes of a scan's condition:
// the session builds it from the connector (connector.FilterPushDown,
// connector.PartitionPushDown). Its functions use a fresh source per
// call.
type SourcePushDown struct {
	// Filters, if set, offers filters over the physical columns (source
	// row positions) and reports which the source takes (accepted) and
	// which must still be evaluated above it (remaining).
	Filters func(filters []expr.Expr) (accepted, remaining []bool)
	// Partitions, if set, lists the table's partitions (values of
	// Table.PartitionKeys in order); ok false: not known at planning
	// time.
	Partitions func() (parts [][]row.Value, ok bool, err error)
	// Continuous is set for a source that finds partitions while it runs
	// (an unbounded filesystem source, source.monitor-interval): a
	// predicate no partition matches yet keeps the scan (its source
	// prunes the partitions it finds later), rather than making it an
	// empty Values.
	Continuous bool
}

// PushDownSources pushes the conditions of the Calcs over source scans
// into the scans (see above); filters enables the filter push-down. r is
// not modified.
func PushDownSources(r Rel, filters bool) Rel {
	done := map[Rel]Rel{}
	var visit func(r Rel) Rel
	visit = func(r Rel) Rel {
		if n, ok := done[r]; ok {
			return n
		}
		out := r
		if ins := r.Inputs(); len(ins) > 0 {
			opt := make([]Rel, len(ins))
			changed := false
			for i, in := range ins {
				opt[i] = visit(in)
				changed = changed || opt[i] != in
			}
			if changed {
				if n, ok := withInputs(r, ins, opt); ok {
					out = n
				}
			}
		}
		if c, ok := out.(*Calc); ok {
			out = pushCondition(c, filters)
		}
		done[r] = out
		return out
	}
	return visit(r)
}

// pushable reports whether a conjunct may leave the Calc: deterministic,
// and independent of the session time zone (TIMESTAMP_LTZ values,
// UNIX_TIMESTAMP, FROM_UNIXTIME, ...: expr.DependsOnZone), which the
// planner does not know: a partition predicate is evaluated without it.
func pushable(e expr.Expr) bool {
	return expr.IsDeterministic(e) && !expr.DependsOnZone(e)
}

// pushCondition pushes the conjuncts of c's condition into the source
// scan below it.
func pushCondition(c *Calc, filters bool) Rel {
	s, ok := c.In.(*Scan)
	if !ok || c.Cond == nil || s.Table.PushDown == nil || s.Filters != nil || s.PartitionFilter != nil {
		return c
	}
	if !s.Source {
		// A scan Optimize left unexpanded: its columns must be the
		// source row's.
		for i, col := range s.Table.SourceColumns() {
			if col != i || len(s.Table.SourceColumns()) != len(s.Table.Columns) {
				return c
			}
		}
	}
	tab, pd := s.Table, s.Table.PushDown
	for _, k := range tab.Kinds {
		if k == Metadata {
			// The source row holds metadata columns: keep it simple.
			return c
		}
	}
	// Each conjunct over the scan's columns, and over the full source row.
	var full []expr.Expr
	if s.Project != nil {
		full = make([]expr.Expr, len(s.Project))
		for i, p := range s.Project {
			full[i] = s.FullExpr(p)
		}
	}
	conds := conjuncts(c.Cond)
	fulls := make([]expr.Expr, len(conds))
	for i, e := range conds {
		fulls[i] = e
		if full != nil {
			fulls[i] = expr.Substitute(e, full)
		}
	}
	keep := make([]bool, len(conds))
	for i := range keep {
		keep[i] = true
	}
	ns := *s
	changed := false

	// Partitions.
	if pd.Partitions != nil && len(tab.PartitionKeys) > 0 {
		// Source row position -> partition key index.
		src := tab.SourceColumns()
		keyOf := map[int]int{}
		for k, col := range tab.PartitionKeys {
			for p, sc := range src {
				if sc == col {
					keyOf[p] = k
				}
			}
		}
		var picked []int
		var preds []expr.Expr
		for i, e := range fulls {
			if !pushable(e) {
				continue
			}
			only, any := true, false
			expr.Refs(e, func(p int) {
				any = true
				if _, ok := keyOf[p]; !ok {
					only = false
				}
			})
			if !only || !any || !plainRefs(e) {
				continue
			}
			vals := make([]expr.Expr, len(src))
			for p, k := range keyOf {
				vals[p] = expr.Ref(k, tab.Columns[tab.PartitionKeys[k]].Type)
			}
			picked = append(picked, i)
			preds = append(preds, expr.Substitute(e, vals))
		}
		if pred, err := andAll(preds); err == nil && pred != nil {
			if remaining, ok := prunePartitions(pd, pred); ok {
				if len(remaining) == 0 && !pd.Continuous {
					return &Values{Cols: c.Cols}
				}
				ns.PartitionFilter, ns.Partitions = pred, remaining
				for _, i := range picked {
					keep[i] = false
				}
				changed = true
			}
		}
	}

	// Filters.
	if filters && pd.Filters != nil {
		nPhys := len(tab.PhysicalSchema().Columns)
		var offered []int
		var offer []expr.Expr
		for i, e := range fulls {
			if !keep[i] || !pushable(e) {
				continue
			}
			phys := true
			expr.Refs(e, func(p int) { phys = phys && p < nPhys })
			if phys {
				offered = append(offered, i)
				offer = append(offer, e)
			}
		}
		if len(offer) > 0 {
			accepted, remaining := pd.Filters(offer)
			for j, i := range offered {
				if j < len(accepted) && accepted[j] {
					ns.Filters = append(ns.Filters, offer[j])
					changed = true
					if j < len(remaining) && !remaining[j] {
						keep[i] = false
					}
				}
			}
		}
	}
	if !changed {
		return c
	}
	var kept []expr.Expr
	for i, e := range conds {
		if keep[i] {
			kept = append(kept, e)
		}
	}
	cond, err := andAll(kept)
	if err != nil {
		return c
	}
	out := *c
	out.In = &ns
	out.Cond = cond
	if out.IsIdentity() && sameNames(out.Cols, ns.Columns()) {
		return &ns
	}
	return &out
}

// plainRefs reports whether e reads its columns whole (no field of a
// ROW).
func plainRefs(e expr.Expr) bool {
	ok := true
	var walk func(x expr.Expr)
	walk = func(x expr.Expr) {
		switch n := x.(type) {
		case *expr.FieldAccess:
			ok = false
		case *expr.Call:
			for _, a := range n.Args {
				walk(a)
			}
		case *expr.Cast:
			walk(n.Arg)
		case *expr.Case:
			for i := range n.Whens {
				walk(n.Whens[i])
				walk(n.Thens[i])
			}
			walk(n.Else)
		}
	}
	walk(e)
	return ok
}

// prunePartitions lists the source's partitions and returns those for
// which pred is TRUE; ok is false when the partitions are not known or
// pred fails on one (the conjuncts then stay in the Calc).
func prunePartitions(pd *SourcePushDown, pred expr.Expr) ([][]row.Value, bool) {
	parts, ok, err := pd.Partitions()
	if !ok || err != nil {
		return nil, false
	}
	keep := PartitionKeep(pred)
	var out [][]row.Value
	for _, p := range parts {
		k, err := keep(p)
		if err != nil {
			return nil, false
		}
		if k {
			out = append(out, p)
		}
	}
	return out, true
}

// PartitionKeep returns the function that evaluates a partition
// predicate (Scan.PartitionFilter) over a partition's values: TRUE keeps
// it. It compiles pred once and is safe for concurrent use.
func PartitionKeep(pred expr.Expr) func(vals []row.Value) (bool, error) {
	ev, err := expr.Compile(pred)
	return func(vals []row.Value) (bool, error) {
		if err != nil {
			return false, err
		}
		v, err := ev(&expr.EvalContext{}, vals)
		if err != nil {
			return false, err
		}
		return !v.IsNull() && v.Bool(), nil
	}
}

// pushedDown prints the partitions and filters pushed into a source scan
// as Flink's digest does: partitions=[{k1=v1, k2=v2}, ...],
// filter=[and(f1, f2)] (names of the source row's columns).
func (s *Scan) pushedDown() string {
	var b strings.Builder
	tab := s.Table
	if s.PartitionFilter != nil {
		parts := make([]string, len(s.Partitions))
		for i, p := range s.Partitions {
			kv := make([]string, len(p))
			for k, v := range p {
				c := tab.Columns[tab.PartitionKeys[k]]
				val := "null"
				if !v.IsNull() {
					val = row.Format(v, c.Type)
				}
				kv[k] = c.Name + "=" + val
			}
			parts[i] = "{" + strings.Join(kv, ", ") + "}"
		}
		fmt.Fprintf(&b, ", partitions=[%s]", strings.Join(parts, ", "))
	}
	if len(s.Filters) > 0 {
		src := tab.SourceColumns()
		cols := make([]Column, len(src))
		for i, c := range src {
			cols[i] = tab.Columns[c]
		}
		f := withNames(s.Filters[0], cols)
		for _, e := range s.Filters[1:] {
			f = "and(" + f + ", " + withNames(e, cols) + ")"
		}
		fmt.Fprintf(&b, ", filter=[%s]", f)
	}
	return b.String()
}
