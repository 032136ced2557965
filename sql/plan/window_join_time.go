package plan

import "github.com/weirstream/weir/row"

// windowTimeAttr is the kind of time attribute (row.Rowtime or
// row.Proctime) the windows of a window-attached input (windowProps) are
// on: a window join needs the same on both sides, as Flink's
// WindowJoinUtil requires equal time attribute types (it plans a regular
// join otherwise). Event-time windows fire when the watermark passes
// their end, processing-time ones by the clock: one operator cannot
// fire both. NoTimeAttr when it cannot tell.
func windowTimeAttr(r Rel) row.TimeAttr {
	switch n := r.(type) {
	case *WindowTVF:
		return n.In.Columns()[n.Window.TimeCol].Type.TimeAttr
	case *WindowAggregate:
		if n.Window.Attached {
			// Over window-attached rows (on event time only).
			return row.Rowtime
		}
		return n.In.Columns()[n.Window.TimeCol].Type.TimeAttr
	case *WindowJoin:
		return windowTimeAttr(n.Left)
	case *SemiJoin:
		if n.Window != nil {
			return windowTimeAttr(n.Left)
		}
	case *Union:
		if len(n.Ins) > 0 {
			return windowTimeAttr(n.Ins[0])
		}
	case *Calc:
		return windowTimeAttr(n.In)
	}
	return row.NoTimeAttr
}
