package sql

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
)

// sourcePushDown returns what a table's source takes of a scan's
// condition (plan.SourcePushDown), or nil: each call asks a fresh source
// of the table, as sources keep what they accepted.
func (s *Session) sourcePushDown(t *plan.Table, src connector.Source) *plan.SourcePushDown {
	_, filters := src.(connector.FilterPushDown)
	_, parts := src.(connector.PartitionPushDown)
	if !filters && !parts {
		return nil
	}
	reg := s.reg
	fresh := func() (connector.Source, error) {
		tr := &translator{reg: reg}
		return reg.CreateSource(tr.connectorContext(t))
	}
	pd := &plan.SourcePushDown{Continuous: !src.Bounded()}
	if filters {
		pd.Filters = func(fs []expr.Expr) (accepted, remaining []bool) {
			src, err := fresh()
			if err != nil {
				return nil, nil
			}
			return src.(connector.FilterPushDown).ApplyFilters(fs)
		}
	}
	if parts && len(t.PartitionKeys) > 0 {
		pd.Partitions = func() ([][]row.Value, bool, error) {
			src, err := fresh()
			if err != nil {
				return nil, false, err
			}
			return src.(connector.PartitionPushDown).ListPartitions()
		}
	}
	return pd
}

// pushDownSources pushes the conditions over source scans into the
// sources (plan.PushDownSources); filters only with
// table.optimizer.source.predicate-pushdown-enabled.
func (j *Job) pushDownSources() {
	filters := j.cfg.Bool("table.optimizer.source.predicate-pushdown-enabled")
	for i, sk := range j.sinks {
		if o, ok := plan.PushDownSources(sk, filters).(*plan.Sink); ok {
			j.sinks[i] = o
		}
	}
	if j.query != nil {
		j.query = plan.PushDownSources(j.query, filters)
	}
}

// applyPushDown hands a new source the filters and the partition
// predicate the planner pushed into the scan; the source must take them
// again.
func applyPushDown(src connector.Source, s *plan.Scan) error {
	if len(s.Filters) > 0 {
		fp, ok := src.(connector.FilterPushDown)
		if !ok {
			return fmt.Errorf("sql: table %s: the source no longer takes filters", s.Table.Name)
		}
		accepted, _ := fp.ApplyFilters(s.Filters)
		for i, f := range s.Filters {
			if i >= len(accepted) || !accepted[i] {
				return fmt.Errorf("sql: table %s: the source no longer takes the filter %s", s.Table.Name, f)
			}
		}
	}
	if s.PartitionFilter != nil {
		pp, ok := src.(connector.PartitionPushDown)
		if !ok {
			return fmt.Errorf("sql: table %s: the source no longer prunes partitions", s.Table.Name)
		}
		pp.ApplyPartitions(plan.PartitionKeep(s.PartitionFilter))
	}
	return nil
}

// pushedCond returns the condition the source of s evaluates (its
// filters and partition predicate) over the full source row, or nil.
func pushedCond(s *plan.Scan) (expr.Expr, error) {
	conds := append([]expr.Expr(nil), s.Filters...)
	if s.PartitionFilter != nil {
		tab := s.Table
		refs := make([]expr.Expr, len(tab.PartitionKeys))
		for k, col := range tab.PartitionKeys {
			for p, c := range tab.SourceColumns() {
				if c == col {
					refs[k] = expr.Ref(p, tab.Columns[col].Type)
				}
			}
		}
		conds = append(conds, expr.Substitute(s.PartitionFilter, refs))
	}
	var out expr.Expr
	for _, c := range conds {
		if out == nil {
			out = c
			continue
		}
		a, err := expr.NewCall("AND", out, c)
		if err != nil {
			return nil, err
		}
		out = a
	}
	return out, nil
}

// filterPushed evaluates the pushed-down condition of s over full source
// rows that did not come from its source (Job.BuildOn inputs).
func (t *translator) filterPushed(in weir.Stream[row.Row], s *plan.Scan) (weir.Stream[row.Row], error) {
	cond, err := pushedCond(s)
	if err != nil || cond == nil {
		return in, err
	}
	full := &plan.Scan{Table: s.Table, Source: true}
	var projs []expr.Expr
	for i, c := range full.Columns() {
		projs = append(projs, expr.Ref(i, c.Type))
	}
	return t.calc(in, projs, cond, "Calc", "pushed-down filter")
}

// pushedDigest is what a scan's source operators' uids add for the
// filters and partition predicate pushed into it (empty without): as in
// Flink, whose source uid follows the scan's digest, a job whose source
// reads other rows does not take over the positions of a checkpoint of
// the source that read all of them (the jdbc scan's position is a count
// of rows, a filesystem split may be of a partition now pruned), and
// restoring such a checkpoint fails naming the unclaimed state.
func pushedDigest(s *plan.Scan) string {
	if len(s.Filters) == 0 && s.PartitionFilter == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("\x00pushed")
	for _, f := range s.Filters {
		b.WriteString("\x00" + f.String())
	}
	if s.PartitionFilter != nil {
		b.WriteString("\x00partitions " + s.PartitionFilter.String())
	}
	return b.String()
}
