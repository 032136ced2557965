package sql

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/plan"
)

// attachedWindowAggregate runs a cascaded window aggregation (a
// WindowAggregate on a window-attached input, plan/window_attached.go)
// as exec.AttachedWindowAggregate.
func (t *translator) attachedWindowAggregate(n *plan.WindowAggregate) (weir.Stream[row.Row], error) {
	in, err := t.stream(n.In)
	if err != nil {
		return in, err
	}
	calls, err := aggCalls(n.Aggs)
	if err != nil {
		return in, err
	}
	return exec.AttachedWindowAggregate(in, exec.AttachedWindowAggSpec{
		InputTypes:  plan.Types(n.In),
		WindowStart: n.Window.StartCol,
		WindowEnd:   n.Window.EndCol,
		GroupKeys:   n.Keys,
		Aggs:        calls,
		Zone:        t.windowZone(n.Window),
		UID:         t.uid("WindowAggregate", describeNode(n)),
		Name:        "WindowAggregate",
	})
}
