package plan

import (
	"strings"

	"github.com/weirstream/weir/row"
)

// Two-phase window aggregation (Flink's
// TwoStageOptimizedWindowAggregateRule): a WindowAggregate runs as
// LocalWindowAggregate -> Exchange(hash on the group keys) ->
// GlobalWindowAggregate when the strategy
// (table.optimizer.agg-phase-strategy) is not ONE_PHASE; unlike the group
// aggregation's, Flink's rule does not need mini-batch. As with
// TwoPhaseAggregate the plan keeps one WindowAggregate node (its
// sub-plan digest and operator uid are the one-phase plan's); EXPLAIN and
// the translation expand it.

// TwoPhaseWindowAggregate reports whether w runs in two phases under the
// agg phase strategy (AUTO, ONE_PHASE or TWO_PHASE). As Flink's rule: not
// ONE_PHASE, not on processing time (it is not materialised in one node),
// every call able to merge accumulators (not FIRST_VALUE, LAST_VALUE; a
// user-defined function only with Merge). Weir also keeps one phase for
// SESSION windows (not sliced), an updating input and DISTINCT calls
// (the window operator keeps their multisets per window in its own
// state: docs/sql.md).
func TwoPhaseWindowAggregate(w *WindowAggregate, strategy string) bool {
	if strings.EqualFold(strategy, "ONE_PHASE") || w.Window.Kind == Session || w.In.Mode() != InsertOnly {
		return false
	}
	if in := w.In.Columns(); in[w.Window.TimeCol].Type.TimeAttr == row.Proctime {
		return false
	}
	for _, c := range w.Aggs {
		if c.Distinct {
			return false
		}
		if c.UDF != nil {
			if !c.UDF.CanMerge() {
				return false
			}
			continue
		}
		switch c.Func {
		case "FIRST_VALUE", "LAST_VALUE", "LAG",
			"JSON_OBJECTAGG_NULL_ON_NULL", "JSON_OBJECTAGG_ABSENT_ON_NULL", "JSON_ARRAYAGG_NULL_ON_NULL", "JSON_ARRAYAGG_ABSENT_ON_NULL", "PERCENTILE":
			return false
		}
	}
	return true
}

// twoPhaseNodes returns the printed LocalWindowAggregate over in, the
// Exchange over it and the GlobalWindowAggregate over that, in Flink's
// format:
//
//	GlobalWindowAggregate(groupBy=[a], window=[TUMBLE(slice_end=[$slice_end], size=[5 s])], select=[a, COUNT(count1$0) AS EXPR$1, start('w$) AS window_start, end('w$) AS window_end, rowtime('w$) AS window_time])
//	+- Exchange(distribution=[hash[a]])
//	   +- LocalWindowAggregate(groupBy=[a], window=[TUMBLE(time_col=[ts], size=[5 s])], select=[a, COUNT(*) AS count1$0, slice_end('w$) AS $slice_end])
func (w *WindowAggregate) twoPhaseNodes(in *physNode, mode Changelog) *physNode {
	ls, gs := (&Aggregate{In: w.In, Keys: w.Keys, Aggs: w.Aggs}).twoPhaseSelects()
	if w.Window.Attached {
		// A cascaded window aggregation (window_attached.go), as Flink
		// prints its WindowAttachedWindowingStrategy.
		ls = append(ls, "slice_end('w$) AS $window_end")
		gs = append(gs, "start('w$) AS window_start", "end('w$) AS window_end")
		if w.Window.AttachedTime {
			gs = append(gs, "rowtime('w$) AS window_time")
		}
	} else {
		ls = append(ls, "slice_end('w$) AS $slice_end")
		gs = append(gs, "start('w$) AS window_start", "end('w$) AS window_end", "rowtime('w$) AS window_time")
	}
	cols := w.In.Columns()
	var keys []string
	for _, k := range w.Keys {
		keys = append(keys, cols[k].Name)
	}
	win := w.Window.describe(cols)
	attrs := func(win string, sel []string) []string {
		var at []string
		if len(keys) > 0 {
			at = append(at, "groupBy=["+strings.Join(keys, ", ")+"]")
		}
		return append(at, "window=["+win+"]", "select=["+strings.Join(sel, ", ")+"]")
	}
	local := &physNode{name: "LocalWindowAggregate", attrs: attrs(win, ls), mode: InsertOnlyChangelog, ins: []*physNode{in}}
	ex := &physNode{name: "Exchange", mode: InsertOnlyChangelog, ins: []*physNode{local}}
	if len(keys) == 0 {
		ex.attrs, ex.single = []string{"distribution=[single]"}, true
	} else {
		ex.attrs, ex.hash = []string{"distribution=[hash[" + strings.Join(keys, ", ") + "]]"}, true
	}
	gwin := strings.Replace(win, "time_col=["+cols[w.Window.TimeCol].Name+"]", "slice_end=[$slice_end]", 1)
	if w.Window.Attached {
		gwin = strings.Replace(win, "win_start=["+cols[w.Window.StartCol].Name+"], win_end=["+cols[w.Window.EndCol].Name+"]", "win_end=[$window_end]", 1)
	}
	return &physNode{name: "GlobalWindowAggregate", attrs: attrs(gwin, gs), mode: mode, ins: []*physNode{ex}, rel: w}
}
