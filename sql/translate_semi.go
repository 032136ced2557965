package sql

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/plan"
)

// semiJoin runs x [NOT] IN (subquery) and [NOT] EXISTS as Flink's
// streaming semi or anti join (exec.RegularJoin with SemiJoin or
// AntiJoin), with the residual condition of a decorrelated or null-aware
// subquery.
func (t *translator) semiJoin(n *plan.SemiJoin) (weir.Stream[row.Row], error) {
	l, r, err := t.joinInputs(n.Left, n.Right)
	if err != nil {
		return l, err
	}
	cond, err := t.joinCondition(n.Residual)
	if err != nil {
		return l, err
	}
	typ := exec.SemiJoin
	if n.Anti {
		typ = exec.AntiJoin
	}
	if w := n.Window; w != nil {
		return exec.WindowJoin(l, r, exec.WindowJoinSpec{
			Type:             typ,
			LeftTypes:        plan.Types(n.Left),
			RightTypes:       plan.Types(n.Right),
			LeftKeys:         n.LeftKeys,
			RightKeys:        n.RightKeys,
			LeftWindowStart:  w.LeftStart,
			LeftWindowEnd:    w.LeftEnd,
			RightWindowStart: w.RightStart,
			RightWindowEnd:   w.RightEnd,
			Condition:        cond,
			Zone:             t.windowZone(w.Window),
		})
	}
	return exec.RegularJoin(l, r, exec.JoinSpec{
		Type:       typ,
		LeftTypes:  plan.Types(n.Left),
		RightTypes: plan.Types(n.Right),
		LeftKeys:   n.LeftKeys,
		RightKeys:  n.RightKeys,
		NullSafe:   n.NullSafe,
		Condition:  cond,
		StateTTL:   t.cfg.Duration("table.exec.state.ttl"),
	})
}
