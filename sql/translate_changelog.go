package sql

import (
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/plan"
)

// unshared returns the nodes that sub-plan reuse (translate_reuse.go)
// leaves to their own consumer, so that job graphs, and with them
// operator uids and savepoints, stay what they were before the
// changelog-mode inference (changelog.go): under a streaming sink that
// takes no UPDATE_BEFORE rows and has no primary key (a blackhole), the
// group aggregation, Top-N or deduplication that feeds it through
// projections only, with those projections. Each ran without -U rows and
// was built apart from equal sub-plans of other consumers.
func (j *Job) unshared() map[plan.Rel]bool {
	if j.Batch() {
		return nil
	}
	t := &translator{reg: j.sess.reg, cfg: j.cfg}
	var out map[plan.Rel]bool
	for _, s := range j.sinks {
		if s.In.Mode() != plan.Updating || len(s.Table.PrimaryKey) > 0 {
			continue
		}
		sk, err := t.reg.CreateSink(t.connectorContext(s.Table))
		if err != nil {
			continue
		}
		accepted, err := sk.ChangelogMode(connector.All)
		if err != nil || accepted.Contains(row.UpdateBefore) {
			continue
		}
		for n := range skipUpdateBefore(s.In) {
			if out == nil {
				out = map[plan.Rel]bool{}
			}
			out[n] = true
		}
	}
	return out
}

// skipUpdateBefore returns the group aggregation, Top-N or deduplication
// that feeds r through projections only, with those projections (nil if
// there is none).
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
			if n.Strategy != plan.TopN && n.Strategy != plan.Dedup {
				return nil
			}
		case *plan.Aggregate:
		default:
			return nil
		}
		marks := map[plan.Rel]bool{r: true}
		for _, p := range path {
			marks[p] = true
		}
		return marks
	}
}
