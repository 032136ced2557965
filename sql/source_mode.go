package sql

import (
	"fmt"

	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
)

// setSourceMode records the changelog mode of a new table's source
// (plan.Table.SourceMode), so that the planner treats a changelog source
// (postgres-cdc, mysql-cdc, kafka with debezium-json or canal-json) as
// updating: aggregations over it retract, and insert-only sinks refuse
// queries over it, naming the scan. A table whose options its source
// factory refuses stays insert-only here: it can only be a sink, or the
// job using it as a source fails with the factory's error. Upsert
// sources (upsert-kafka, postgres-cdc with changelog-mode 'upsert')
// normalize their rows into a retracting changelog themselves (Flink's
// ChangelogNormalize, in sql/connector) and report All.
func (s *Session) setSourceMode(t *plan.Table) {
	f, ok := s.reg.Lookup(t.Options["connector"])
	if !ok {
		return
	}
	if _, ok := f.(connector.SourceFactory); !ok {
		return
	}
	tr := &translator{reg: s.reg, cfg: s.cfg}
	src, err := s.reg.CreateSource(tr.connectorContext(t))
	if err != nil {
		return
	}
	_, t.NestedPushDown = src.(connector.NestedProjectionPushDown)
	t.SourceRowtime = sourceRowtime(src, t)
	t.PushDown = s.sourcePushDown(t, src) // source_pushdown.go
	if src.ChangelogMode() == connector.All {
		t.SourceMode = plan.Updating
	}
}

// checkUpdatingInputs refuses, at planning time, operators that take only
// insert-only input when a changelog reaches them, as Flink's planner
// does ("... doesn't support consuming update and delete changes which is
// produced by node ..."): window table functions and window aggregates.
// (Rankings take updates: exec.Rank retracts; joins and group
// aggregates too.)
func checkUpdatingInputs(r plan.Rel) error {
	for _, in := range r.Inputs() {
		if err := checkUpdatingInputs(in); err != nil {
			return err
		}
	}
	var name string
	switch r.(type) {
	case *plan.WindowTVF:
		name = "WindowTableFunction"
	case *plan.WindowAggregate:
		name = "WindowAggregate"
	default:
		return nil
	}
	for _, in := range r.Inputs() {
		if in.Mode() != plan.Updating {
			continue
		}
		if err := plan.ConsumeError(name, in); err != nil {
			return fmt.Errorf("sql: %w", err)
		}
	}
	return nil
}

// checkUpdatingInputs runs the check of that name checkUpdatingInputs over a job's plans.
func (j *Job) checkUpdatingInputs() error {
	for _, sk := range j.sinks {
		if err := checkUpdatingInputs(sk); err != nil {
			return err
		}
	}
	if j.query != nil {
		return checkUpdatingInputs(j.query)
	}
	return nil
}

// sourceRowtime reports whether a table's source attaches its rowtime
// itself (connector.RowtimePushDown).
func sourceRowtime(src connector.Source, t *plan.Table) bool {
	rp, ok := src.(connector.RowtimePushDown)
	if !ok || t.Rowtime < 0 {
		return false
	}
	for _, k := range t.Kinds {
		if k == plan.Metadata {
			return false // the expression is over the physical columns only
		}
	}
	rt, _ := plan.SourceTimeExprs(t)
	return expr.IsDeterministic(rt) && rp.ApplyRowtime(rt)
}
