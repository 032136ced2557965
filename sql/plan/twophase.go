package plan

import (
	"fmt"
	"slices"
	"strings"
)

// Two-phase group aggregation (Flink's TwoStageOptimizedAggregateRule):
// an Aggregate runs as LocalGroupAggregate -> Exchange(hash on the group
// keys) -> GlobalGroupAggregate when mini-batch is on, the strategy
// (table.optimizer.agg-phase-strategy) is not ONE_PHASE and every call can
// merge accumulators. The plan keeps one Aggregate node (so its changelog
// mode, sub-plan digest and operator uid are those of the one-phase plan:
// the global aggregate emits the same changelog); EXPLAIN and the
// translation expand it.

// TwoPhaseAggregate reports whether a runs in two phases under the agg
// phase strategy (AUTO, ONE_PHASE or TWO_PHASE) with mini-batch on or
// off. As Flink's rule: not without mini-batch, whatever the strategy;
// AUTO (without DISTINCT calls, unlike Flink's) and TWO_PHASE when every
// call can merge (Flink's
// AggregateUtil.doAllSupportPartialMerge, with Weir's accumulators: not
// FIRST_VALUE, LAST_VALUE; not LISTAGG over an updating input or with
// DISTINCT; a user-defined function only with Merge).
func TwoPhaseAggregate(a *Aggregate, strategy string, miniBatch bool) bool {
	if !miniBatch || strings.EqualFold(strategy, "ONE_PHASE") {
		return false
	}
	insertOnly := a.In.Mode() == InsertOnly
	for _, c := range a.Aggs {
		if c.Distinct && !strings.EqualFold(strategy, "TWO_PHASE") {
			// Weir's AUTO differs from Flink's here, by measurement:
			// with DISTINCT calls two phases cost Nexmark q16 2.2-2.6 times
			// the CPU of one (q15 1.2-1.5 times; docs/benchmarks.md),
			// as the local aggregate keeps every distinct value of its
			// batch. Flink's docs, too, find local-global aggregation
			// unsatisfactory for distinct aggregates. TWO_PHASE still
			// plans them in two phases.
			return false
		}
		if c.UDF != nil {
			if !c.UDF.CanMerge() {
				return false
			}
			continue
		}
		switch c.Func {
		case "FIRST_VALUE", "LAST_VALUE", "LAG", "ARRAY_AGG":
			return false
		case "JSON_OBJECTAGG_NULL_ON_NULL", "JSON_OBJECTAGG_ABSENT_ON_NULL", "JSON_ARRAYAGG_NULL_ON_NULL", "JSON_ARRAYAGG_ABSENT_ON_NULL", "PERCENTILE":
			// One phase only (their accumulators are not named for EXPLAIN).
			return false
		case "LISTAGG":
			if !insertOnly || c.Distinct {
				return false
			}
		case "COLLECT":
			// Over an updating input a local accumulator would hold the
			// count -1 of a value retracted before it was added, and
			// Flink's merge keeps the sum 0 that it leaves: one phase.
			if !insertOnly {
				return false
			}
		}
	}
	return true
}

// accNames returns the names of the accumulator fields of a call, as
// Flink's planner names them (numbered from i), and how many it has.
func accNames(c AggCall, i int, retracting bool) []string {
	var base []string
	switch {
	case c.UDF != nil:
		base = []string{"acc"}
	case c.Func == "COUNT" && len(c.Args) == 0:
		base = []string{"count1"}
	case c.Func == "COUNT":
		base = []string{"count"}
	case c.Func == "SUM" && retracting, c.Func == "AVG":
		base = []string{"sum", "count"}
	case c.Func == "SUM", c.Func == "$SUM0":
		base = []string{"sum"}
	case c.Func == "MIN":
		base = []string{"min"}
	case c.Func == "MAX":
		base = []string{"max"}
	case c.Func == "LISTAGG":
		base = []string{"accDelimiter", "concatAcc"}
	case c.Func == "SINGLE_VALUE":
		base = []string{"value", "count"}
	default:
		base = []string{strings.ToLower(c.Func)}
	}
	out := make([]string, len(base))
	for j, b := range base {
		out[j] = fmt.Sprintf("%s$%d", b, i+j)
	}
	return out
}

func accList(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return "(" + strings.Join(names, ", ") + ")"
}

// twoPhaseSelects returns the select lists of a's LocalGroupAggregate and
// GlobalGroupAggregate in Flink's format:
//
//	LocalGroupAggregate(groupBy=[a], select=[a, COUNT(distinct$0 b) AS count$0, SUM(c) AS sum$1, DISTINCT(b) AS distinct$0])
//	GlobalGroupAggregate(groupBy=[a], select=[a, COUNT(distinct$0 count$0) AS EXPR$1, SUM(sum$1) AS EXPR$2])
//
// Over an updating input the local aggregate counts rows (COUNT(*) AS
// count1$n) unless an unfiltered COUNT(*) does it already. Function names
// are Weir's (as its GroupAggregate prints them: no _RETRACT suffix).
func (a *Aggregate) twoPhaseSelects() (local, global []string) {
	in := a.In.Columns()
	for _, k := range a.Keys {
		local = append(local, in[k].Name)
		global = append(global, in[k].Name)
	}
	retracting := a.In.Mode() != InsertOnly
	var distinctArgs [][]int
	var distinctCols []string
	n, counted := 0, false
	for _, c := range a.Aggs {
		names := accNames(c, n, retracting)
		n += len(names)
		if c.Func == "COUNT" && len(c.Args) == 0 && !c.Distinct && c.Filter < 0 && c.UDF == nil {
			counted = true
		}
		args := make([]string, len(c.Args))
		for i, x := range c.Args {
			args[i] = in[x].Name
		}
		argList := strings.Join(args, ", ")
		if len(c.Args) == 0 && c.Func == "COUNT" {
			argList = "*"
		}
		dist := ""
		if c.Distinct {
			d := slices.IndexFunc(distinctArgs, func(x []int) bool { return slices.Equal(x, c.Args) })
			if d < 0 {
				d = len(distinctArgs)
				distinctArgs = append(distinctArgs, c.Args)
				distinctCols = append(distinctCols, fmt.Sprintf("DISTINCT(%s) AS distinct$%d", argList, d))
			}
			dist = fmt.Sprintf("distinct$%d ", d)
		}
		l := c.Func + "(" + dist + argList + ")"
		if c.Filter >= 0 {
			l += " FILTER " + in[c.Filter].Name
		}
		local = append(local, l+" AS "+accList(names))
		global = append(global, c.Func+"("+dist+accList(names)+") AS "+c.Name)
	}
	if retracting && !counted {
		local = append(local, fmt.Sprintf("COUNT(*) AS count1$%d", n))
	}
	return append(local, distinctCols...), global
}

// twoPhaseNodes returns the printed LocalGroupAggregate over in, the
// Exchange over it and the GlobalGroupAggregate over that, for the
// two-phase aggregate a (mode: the global's changelog mode). The local
// aggregate emits accumulator rows, insert-only whatever its input (as
// Flink's StreamPhysicalLocalGroupAggregate), and so does the Exchange.
func (a *Aggregate) twoPhaseNodes(in *physNode, mode Changelog) *physNode {
	ls, gs := a.twoPhaseSelects()
	var keys []string
	cols := a.In.Columns()
	for _, k := range a.Keys {
		keys = append(keys, cols[k].Name)
	}
	attrs := func(sel []string) []string {
		var at []string
		if len(keys) > 0 {
			at = append(at, "groupBy=["+strings.Join(keys, ", ")+"]")
		}
		if a.PartialFinal != "" {
			at = append(at, "partialFinalType=["+a.PartialFinal+"]")
		}
		return append(at, "select=["+strings.Join(sel, ", ")+"]")
	}
	local := &physNode{name: "LocalGroupAggregate", attrs: attrs(ls), mode: InsertOnlyChangelog, ins: []*physNode{in}}
	ex := &physNode{name: "Exchange", mode: InsertOnlyChangelog, ins: []*physNode{local}}
	if len(keys) == 0 {
		ex.attrs, ex.single = []string{"distribution=[single]"}, true
	} else {
		ex.attrs, ex.hash = []string{"distribution=[hash[" + strings.Join(keys, ", ") + "]]"}, true
	}
	return &physNode{name: "GlobalGroupAggregate", attrs: attrs(gs), mode: mode, ins: []*physNode{ex}, rel: a}
}
