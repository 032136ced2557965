package sql

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
)

// reuseScans gives the scans of a source table that the job reads with
// different pushed-down projections one source (plan.ReuseScans, Flink's
// ScanReuser), when sub-plan and source reuse are on and
// table.optimizer.reuse-projected-source-enabled is not turned off.
//
// It changes the job's operators: a job that read a table through two
// views had two sources (uids Source-<hash> and Source-<hash>-1) and has
// one (Source-<hash>). A checkpoint of such a job taken before this reuse
// holds the second source's position, which no operator claims: restoring
// it fails (unless non-restored state is allowed), as a changed Flink plan
// does. Setting table.optimizer.reuse-projected-source-enabled to false
// plans the job as before, so that it restores such a checkpoint.
func (j *Job) reuseScans() {
	if j.cfg != nil && (!j.cfg.Bool("table.optimizer.reuse-sub-plan-enabled") ||
		!j.cfg.Bool("table.optimizer.reuse-source-enabled") ||
		!j.cfg.Bool("table.optimizer.reuse-projected-source-enabled")) {
		return
	}
	var roots []plan.Rel
	for _, sk := range j.sinks {
		roots = append(roots, sk)
	}
	if j.query != nil {
		roots = append(roots, j.query)
	}
	out := plan.ReuseScans(roots)
	for i, sk := range j.sinks {
		if o, ok := out[i].(*plan.Sink); ok && o != sk {
			j.sinks[i] = o
		}
	}
	if j.query != nil {
		j.query = out[len(j.sinks)]
	}
}

// sharedScan returns the rows of a scan shared by several consumers
// (plan.Scan.Shared), translated once. They are not the consumers' own
// (each Calc over it builds new rows), and a rowtime check, if the table
// needs one, runs once on them, before they are handed out.
func (t *translator) sharedScan(s *plan.Scan) (weir.Stream[row.Row], error) {
	if st, ok := t.shared[s]; ok {
		return st, nil
	}
	st, check, err := t.sourceScanOf(s)
	if err != nil {
		return st, err
	}
	if check != nil {
		var projs []expr.Expr
		for i, c := range s.Columns() {
			projs = append(projs, expr.Ref(i, c.Type))
		}
		if st, err = t.calcChecked(st, projs, nil, check, "Calc"); err != nil {
			return st, err
		}
	}
	if t.shared == nil {
		t.shared = map[*plan.Scan]weir.Stream[row.Row]{}
	}
	t.shared[s] = st
	return st, nil
}
