package sql

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/plan"
)

// attachedWindowAggregate runs a cascaded window aggregation (a
// WindowAggregate on a window-attached input, plan/window_attached.go)
// as exec.AttachedWindowAggregate, or in two phases as the other window
// aggregations (table.optimizer.agg-phase-strategy).
func (t *translator) attachedWindowAggregate(n *plan.WindowAggregate) (weir.Stream[row.Row], error) {
	in, err := t.stream(n.In)
	if err != nil {
		return in, err
	}
	calls, err := aggCalls(n.Aggs)
	if err != nil {
		return in, err
	}
	spec := exec.AttachedWindowAggSpec{
		InputTypes:  plan.Types(n.In),
		WindowStart: n.Window.StartCol,
		WindowEnd:   n.Window.EndCol,
		GroupKeys:   n.Keys,
		Aggs:        calls,
		Zone:        t.windowZone(n.Window),
		UID:         t.uid("WindowAggregate", describeNode(n)),
		Name:        "WindowAggregate",
	}
	if n.Window.AttachedTime {
		// window_time, grouped by, is a window property of the output.
		wt := n.Cols[len(n.Cols)-1].Type
		spec.WindowTime = &wt
	}
	if windowTwoPhase(t.cfg)(n) {
		// As the other window aggregations: the global phase keeps the
		// one-phase operator's uid and state; the local one has none.
		local := spec
		local.UID, local.Name = "", "LocalWindowAggregate"
		if in, err = exec.AttachedLocalWindowAggregate(in, local); err != nil {
			return in, err
		}
		t.locals++
		spec.Name = "GlobalWindowAggregate"
		return exec.AttachedGlobalWindowAggregate(in, spec)
	}
	return exec.AttachedWindowAggregate(in, spec)
}
