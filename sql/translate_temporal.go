package sql

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/plan"
)

// temporalJoin runs an event-time temporal join (exec.TemporalJoin); its
// uid derives from the plan node, so a savepoint restores into the same
// query at another parallelism.
func (t *translator) temporalJoin(n *plan.TemporalJoin) (weir.Stream[row.Row], error) {
	l, r, err := t.joinInputs(n.Left, n.Right)
	if err != nil {
		return l, err
	}
	cond, err := t.joinCondition(n.Residual)
	if err != nil {
		return l, err
	}
	return exec.TemporalJoin(l, r, exec.TemporalJoinSpec{
		Type:       joinType(n.Type),
		LeftTypes:  plan.Types(n.Left),
		RightTypes: plan.Types(n.Right),
		LeftKeys:   n.LeftKeys,
		RightKeys:  n.RightKeys,
		LeftTime:   n.LeftTime,
		RightTime:  n.RightTime,
		Condition:  cond,
		StateTTL:   t.cfg.Duration("table.exec.state.ttl"),
		UID:        t.uid("TemporalJoin", describeNode(n)),
		Name:       "TemporalJoin",
	})
}
