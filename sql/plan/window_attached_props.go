package plan

import (
	"sort"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// Window properties through unions and window joins (Flink's
// FlinkRelMdWindowProperties): besides a window aggregation's output
// behind Calcs (window_attached.go), a UNION ALL is window-attached when
// every input is, with the same window, and keeps the window_start,
// window_end and window_time columns all its inputs have at the same
// positions (it has none when the windows differ); a window join's
// output carries the window properties of both sides (the right side's
// columns after the left's), its window_start and window_end of each
// side even when a side is a window TVF (the join emits a window's rows
// when it fires, as a window aggregation does). A GROUP BY over such an
// input with one of its window_start and one of its window_end columns
// among the keys is a cascaded window aggregation on the windows the rows
// carry; a window TVF takes its window_time columns (rowtime attributes)
// as any other.

// winProps are the window properties of a window-attached relation: the
// columns holding window_start, window_end and window_time (a rowtime
// attribute), and the window.
type winProps struct {
	starts, ends, times map[int]bool
	w                   Window
}

func (p winProps) first(set map[int]bool) int {
	if len(set) == 0 {
		return -1
	}
	cols := make([]int, 0, len(set))
	for c := range set {
		cols = append(cols, c)
	}
	sort.Ints(cols)
	return cols[0]
}

// attachedProps returns the window properties of r when r is the output
// of an event-time window aggregation (through Calcs), a union of such
// inputs or a window join; ok false: r is not window-attached.
func attachedProps(r Rel) (p winProps, ok bool) { return propsOf(r, false) }

// propsOf is attachedProps; with tvf, a window TVF's output on a rowtime
// attribute (not SESSION) is window-attached too: a union's input, whose
// rows reach the cascade with their windows as a window aggregation's do
// (a row whose window has fired there is late and dropped, as in Flink).
// Alone, a window TVF's output behind Calcs is planned by
// window_tvf_calc.go.
func propsOf(r Rel, tvf bool) (p winProps, ok bool) {
	if r.Mode() != InsertOnly {
		return p, false
	}
	switch n := r.(type) {
	case *WindowTVF:
		if !tvf || n.Window.Kind == Session || n.In.Columns()[n.Window.TimeCol].Type.TimeAttr != row.Rowtime {
			return p, false
		}
		k := len(n.In.Columns())
		p = winProps{starts: map[int]bool{k: true}, ends: map[int]bool{k + 1: true}, times: map[int]bool{}, w: n.Window}
		if cols := n.Columns(); k+2 < len(cols) && cols[k+2].Type.TimeAttr == row.Rowtime {
			p.times[k+2] = true
		}
		return p, true
	case *WindowAggregate:
		if n.Legacy {
			return p, false
		}
		if n.Window.Kind == Session && len(n.Window.PartitionKeys) > 0 {
			// Flink's WindowUtil.validGroupKeyPartitionKey: a window
			// aggregation over SESSION windows with PARTITION BY must group
			// by those keys; the cascade's keys are not the TVF input's
			// columns, so Flink plans a GroupAggregate over it.
			return p, false
		}
		if in := n.In.Columns(); !n.Window.Attached && in[n.Window.TimeCol].Type.TimeAttr == row.Proctime {
			// Windows on processing time fire by the clock: not planned.
			return p, false
		}
		k := len(n.Keys) + len(n.Aggs)
		p = winProps{starts: map[int]bool{k: true}, ends: map[int]bool{k + 1: true}, times: map[int]bool{}, w: n.Window}
		if t := k + 2; t < len(n.Cols) && n.Cols[t].Type.TimeAttr == row.Rowtime && (!n.Window.Attached || n.Window.AttachedTime) {
			p.times[t] = true
		}
		return p, true
	case *Calc:
		in, ok := propsOf(n.In, tvf)
		if !ok {
			return p, false
		}
		p = winProps{starts: map[int]bool{}, ends: map[int]bool{}, times: map[int]bool{}, w: in.w}
		for i, e := range n.Projects {
			ref, isRef := e.(*expr.InputRef)
			if !isRef {
				continue // any operation on a window property loses it
			}
			if in.starts[ref.Index] {
				p.starts[i] = true
			}
			if in.ends[ref.Index] {
				p.ends[i] = true
			}
			if in.times[ref.Index] && n.Cols[i].Type.TimeAttr == row.Rowtime {
				p.times[i] = true
			}
		}
		return p, len(p.starts) > 0 && len(p.ends) > 0
	case *Union:
		for i, in := range n.Ins {
			q, ok := propsOf(in, true)
			if !ok {
				return p, false
			}
			if i == 0 {
				p = q
				continue
			}
			if !sameWindow(p.w, q.w) {
				return p, false // the windows differ: no window properties
			}
			p.starts, p.ends, p.times = intersect(p.starts, q.starts), intersect(p.ends, q.ends), intersect(p.times, q.times)
		}
		for t := range p.times {
			if n.Cols[t].Type.TimeAttr != row.Rowtime {
				delete(p.times, t)
			}
		}
		return p, len(p.starts) > 0 && len(p.ends) > 0
	case *WindowJoin:
		nl := len(n.Left.Columns())
		if !eventTimeSide(n.Left) || !eventTimeSide(n.Right) {
			return p, false
		}
		// Both sides' columns, whatever the join type, as Flink's
		// FlinkRelMdWindowProperties: an outer join's padded rows have
		// NULL window columns on the padded side, and an operator
		// windowed on those columns drops such rows as late
		// (exec.windowFireTime). A semi or anti join has the left side's
		// columns only.
		left := true
		right := len(n.Cols) > nl
		p = winProps{starts: map[int]bool{}, ends: map[int]bool{}, times: map[int]bool{}, w: n.Window}
		if left {
			p.starts[n.LeftStart], p.ends[n.LeftEnd] = true, true
			if l, ok := attachedProps(n.Left); ok {
				for t := range l.times {
					p.times[t] = true
				}
			}
		}
		if right {
			p.starts[nl+n.RightStart], p.ends[nl+n.RightEnd] = true, true
			if r, ok := attachedProps(n.Right); ok {
				for t := range r.times {
					p.times[nl+t] = true
				}
			}
		}
		for t := range p.times {
			if n.Cols[t].Type.TimeAttr != row.Rowtime {
				delete(p.times, t)
			}
		}
		return p, len(p.starts) > 0
	case *SemiJoin:
		// A window semi or anti join (Flink's WindowJoin with joinType
		// LeftSemiJoin/LeftAntiJoin): the left side's window properties,
		// its columns being the output's.
		if n.Window == nil || !eventTimeSide(n.Left) || !eventTimeSide(n.Right) {
			return p, false
		}
		p = winProps{starts: map[int]bool{n.Window.LeftStart: true}, ends: map[int]bool{n.Window.LeftEnd: true}, times: map[int]bool{}, w: n.Window.Window}
		if l, ok := attachedProps(n.Left); ok {
			for t := range l.times {
				if n.Cols[t].Type.TimeAttr == row.Rowtime {
					p.times[t] = true
				}
			}
		}
		return p, true
	}
	return p, false
}

// eventTimeSide reports whether a window join's input is windowed on
// event time: window-attached, or a window TVF on a rowtime attribute
// behind Calcs.
func eventTimeSide(r Rel) bool {
	if _, ok := attachedProps(r); ok {
		return true
	}
	for {
		c, ok := r.(*Calc)
		if !ok {
			break
		}
		r = c.In
	}
	tvf, ok := r.(*WindowTVF)
	return ok && tvf.In.Columns()[tvf.Window.TimeCol].Type.TimeAttr == row.Rowtime
}

func intersect(a, b map[int]bool) map[int]bool {
	out := map[int]bool{}
	for c := range a {
		if b[c] {
			out[c] = true
		}
	}
	return out
}
