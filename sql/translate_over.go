package sql

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/plan"
)

// overAggregate runs an OVER aggregation (exec.OverAggregate), its uid
// derived from its EXPLAIN line.
func (t *translator) overAggregate(n *plan.OverAggregate) (weir.Stream[row.Row], error) {
	in, err := t.stream(n.In)
	if err != nil {
		return in, err
	}
	calls, err := aggCalls(n.Aggs)
	if err != nil {
		return in, err
	}
	types := plan.Types(n.In)
	tc := n.OrderCol
	if types[tc].TimeAttr == row.Proctime {
		tc = exec.ProcTime
	}
	return exec.OverAggregate(in, exec.OverAggSpec{
		InputTypes:    types,
		PartitionKeys: n.PartitionKeys,
		TimeCol:       tc,
		Rows:          n.Rows,
		Unbounded:     n.Unbounded,
		Preceding:     n.Preceding,
		Aggs:          calls,
		StateTTL:      t.cfg.Duration("table.exec.state.ttl"),
		UID:           t.uid("OverAggregate", describeNode(n)),
		Name:          "OverAggregate",
	})
}

// rowNumbers runs an unbounded ROW_NUMBER() ordered by a time attribute
// as Flink does: an OVER aggregation counting each partition's rows
// (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW).
func (t *translator) rowNumbers(n *plan.Rank) (weir.Stream[row.Row], error) {
	in, err := t.stream(n.In)
	if err != nil {
		return in, err
	}
	types := plan.Types(n.In)
	tc := n.OrderBy[0].Col
	if types[tc].TimeAttr == row.Proctime {
		tc = exec.ProcTime
	}
	return exec.OverAggregate(in, exec.OverAggSpec{
		InputTypes:    types,
		PartitionKeys: n.PartitionKeys,
		TimeCol:       tc,
		Rows:          true,
		Unbounded:     true,
		Aggs:          []exec.AggCall{exec.Call(exec.CountStar)},
		StateTTL:      t.cfg.Duration("table.exec.state.ttl"),
		UID:           t.uid("OverAggregate", describeNode(n)),
		Name:          "OverAggregate",
	})
}
