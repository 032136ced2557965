package sql

import (
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/plan"
)

// changelogs infers the precise changelog modes of the job's plans
// (plan.InferChangelogs, Flink's FlinkChangelogModeInferenceProgram): a
// sink asks for what its connector takes, a query root for UPDATE_BEFORE
// rows when queryUB (the rows a query returns to its client), and
// sub-plans the translator reuses (translate_reuse.go) get one mode for
// all their consumers. The translator turns off UPDATE_BEFORE in the
// group aggregations, Top-Ns and deduplications whose consumers need
// none (Flink's generateUpdateBefore); EXPLAIN CHANGELOG_MODE prints the
// modes.
func (j *Job) changelogs(queryUB bool) *plan.Changelogs {
	t := &translator{reg: j.sess.reg, cfg: j.cfg}
	opts := plan.ChangelogOptions{
		QueryUpdateBefore: queryUB,
		ForceMaterialize:  j.cfg.Enum("table.exec.sink.upsert-materialize") == "FORCE",
		RetractTopN:       j.retractTopN,
		SinkModes: func(s *plan.Sink, q plan.Changelog) plan.Changelog {
			sk, err := t.reg.CreateSink(t.connectorContext(s.Table))
			if err != nil {
				return plan.AllChangelog // refused by checkSink first
			}
			accepted, err := sk.ChangelogMode(connector.ChangelogMode(q))
			if err != nil {
				return plan.AllChangelog
			}
			return plan.Changelog(accepted)
		},
	}
	if j.cfg.Bool("table.optimizer.reuse-sub-plan-enabled") {
		sources := j.cfg.Bool("table.optimizer.reuse-source-enabled")
		unshared := j.unshared() // translate_changelog.go
		opts.Shared = func(r plan.Rel) (string, bool) {
			if unshared[r] {
				return "", false
			}
			return planDigest(r, sources)
		}
	}
	return plan.InferChangelogs(j.roots(), opts)
}

// updateBefore reports whether the operator of r emits UPDATE_BEFORE
// rows: always in the batch mode (its final table retracts), else when
// some consumer of r needs them.
func (t *translator) updateBefore(r plan.Rel) bool {
	return t.modes == nil || t.modes.UpdateBefore(r)
}
