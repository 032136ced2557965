package sql

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/plan"
)

// reusedSource is a table's source as built once in a job: its stream
// (watermarks assigned) and the rowtime check of the Calcs above it.
type reusedSource struct {
	out   weir.Stream[row.Row]
	check *rowtimeCheck
}

// reusedSource returns the source already built for tab in this job, if
// table.optimizer.reuse-source-enabled (Flink's default: true) lets scans
// of one table share it. Flink reuses a source its scans read with the
// same digest; the planner pushes nothing into Weir's source scans (a
// Scan is the table's source columns), so every source scan of a table
// is the same. Each consumer reads every row of the shared stream, as
// with a DataStream used twice: the Nexmark joins (q3, q4, q7–q9, q20)
// generate each event once instead of once per scan.
func (t *translator) reusedSource(tab *plan.Table) (reusedSource, bool) {
	if t.sources == nil || !t.cfg.Bool("table.optimizer.reuse-source-enabled") {
		return reusedSource{}, false
	}
	r, ok := t.sources[tab]
	return r, ok
}

// keepSource records the source built for tab.
func (t *translator) keepSource(tab *plan.Table, out weir.Stream[row.Row], check *rowtimeCheck) {
	if t.sources == nil {
		t.sources = map[*plan.Table]reusedSource{}
	}
	t.sources[tab] = reusedSource{out: out, check: check}
}
