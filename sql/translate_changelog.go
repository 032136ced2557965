package sql

import "github.com/weirstream/weir/sql/plan"

// skipUpdateBefore returns, under a sink that takes no UPDATE_BEFORE rows
// and has no primary key (Flink's blackhole), the group aggregation, Top-N
// or deduplication that feeds it through projections only, with those
// projections: the operator then emits +U rows without their -U, as Flink's
// changelog-mode inference (FlinkChangelogModeInferenceProgram) asks an
// aggregation for ONLY_UPDATE_AFTER when its consumer takes no -U. A Calc
// with a condition, or any other operator on the way, keeps the -U rows
// (conservative). The marked nodes are never shared with another consumer
// (translate_reuse.go), which may need the -U rows, and the marks hold
// only while the sink's input is translated (another sink may read the
// same nodes).
func skipUpdateBefore(r plan.Rel) map[plan.Rel]bool {
	var path []plan.Rel
	for {
		switch n := r.(type) {
		case *plan.Calc:
			if n.Cond != nil {
				return nil
			}
			path = append(path, n)
			r = n.In
			continue
		case *plan.Rank:
			// A Top-N or a deduplication on a changelog consumed
			// without -U: Flink's StreamExecRank and
			// StreamExecDeduplicate then take generateUpdateBefore
			// false as well. Window rankings emit only inserts.
			if n.Strategy != plan.TopN && n.Strategy != plan.Dedup {
				return nil
			}
			marks := map[plan.Rel]bool{n: true}
			for _, p := range path {
				marks[p] = true
			}
			return marks
		case *plan.Aggregate:
			marks := map[plan.Rel]bool{n: true}
			for _, p := range path {
				marks[p] = true
			}
			return marks
		}
		return nil
	}
}
