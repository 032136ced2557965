package weir

import (
	"sync"
	"time"

	"github.com/weirstream/weir/internal/runtime"
)

// Watermark alignment (Flink's WatermarkStrategy.withWatermarkAlignment):
// the subtasks of the sources whose strategies name the same alignment
// group stop reading while their watermark is more than the group's
// maximum drift ahead of the group's lowest watermark, and go on once the
// lowest one caught up. A subtask that runs ahead would otherwise make every
// keyed operator downstream (whose watermark is the minimum over its
// inputs) keep its records' windows and timers until the slowest subtask
// reaches them: state, memory and cache misses grow with the drift. That
// happens even with equal sources, when one subtask gets less CPU than the
// other (more goroutines than cores, a busy machine).
//
// Only the ordering of reads changes, never a record or a watermark: the
// subtask holding the lowest watermark never pauses, so the group always
// progresses. Idle and finished subtasks do not hold the group back. A
// paused subtask still takes checkpoints and emits its periodic watermark
// and idleness, and its buffered output is flushed (the task waits).

// WithWatermarkAlignment returns the strategy with watermark alignment:
// every subtask of every source of group pauses while its watermark is more
// than maxDrift ahead of the lowest watermark in the group. A maxDrift of 0
// or less turns alignment off.
func (w WatermarkStrategy[T]) WithWatermarkAlignment(group string, maxDrift time.Duration) WatermarkStrategy[T] {
	w.AlignGroup, w.MaxDrift = group, maxDrift
	return w
}

// alignGroup holds the watermarks of the source subtasks of one alignment
// group of one environment. Its methods are called from the source tasks'
// goroutines.
type alignGroup struct {
	mu struct {
		sync.Mutex
		// members[src][subtask], nil until a subtask of source src opened
		// (the parallelism is known then).
		members [][]alignMember
		min     int64
		// wake is closed when min rises.
		wake chan struct{}
	}
}

type alignMember struct {
	wm int64
	// out: idle or finished, not holding the group back.
	out bool
}

// alignGroups are an environment's alignment groups by name.
type alignGroups map[string]*alignGroup

// add registers a source with group name and returns the group and the
// source's index in it. Called while the job is built (one goroutine).
func (gs *alignGroups) add(name string) (*alignGroup, int) {
	if *gs == nil {
		*gs = alignGroups{}
	}
	g := (*gs)[name]
	if g == nil {
		g = &alignGroup{}
		g.mu.min = runtime.MinWatermark
		g.mu.wake = make(chan struct{})
		(*gs)[name] = g
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.mu.members = append(g.mu.members, nil)
	return g, len(g.mu.members) - 1
}

// join (re)starts subtask sub of par of source src, with no watermark yet.
func (g *alignGroup) join(src, sub, par int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.mu.members[src]) != par {
		ms := make([]alignMember, par)
		for i := range ms {
			ms[i].wm = runtime.MinWatermark
		}
		g.mu.members[src] = ms
	}
	g.mu.members[src][sub] = alignMember{wm: runtime.MinWatermark}
	g.recomputeLocked()
}

// set records a subtask's watermark and whether it is out (idle or
// finished).
func (g *alignGroup) set(src, sub int, wm int64, out bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := &g.mu.members[src][sub]
	if m.wm == wm && m.out == out {
		return
	}
	m.wm, m.out = wm, out
	g.recomputeLocked()
}

// recomputeLocked sets min to the lowest watermark of the members that are
// not out (MaxWatermark if none is in; MinWatermark while a source has no
// open subtask) and wakes the paused subtasks if it rose.
func (g *alignGroup) recomputeLocked() {
	min := runtime.MaxWatermark
	for _, ms := range g.mu.members {
		if ms == nil {
			min = runtime.MinWatermark
			break
		}
		for _, m := range ms {
			if !m.out && m.wm < min {
				min = m.wm
			}
		}
	}
	if min > g.mu.min {
		close(g.mu.wake)
		g.mu.wake = make(chan struct{})
	}
	g.mu.min = min
}

// lowest returns the group's lowest watermark and a channel closed when it
// rises.
func (g *alignGroup) lowest() (int64, <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.min, g.mu.wake
}

// aligner is one source subtask's view of its alignment group.
type aligner struct {
	g        *alignGroup
	src, sub int
	drift    int64
	// limit is the highest own watermark allowed by the group's lowest
	// watermark seen last: the group is asked again only beyond it.
	limit int64
}

// paused returns nil if a subtask whose watermark is own may read, or a
// channel closed when the group's lowest watermark rose.
func (a *aligner) paused(own int64) <-chan struct{} {
	if own <= a.limit {
		return nil
	}
	min, wake := a.g.lowest()
	a.limit = runtime.MaxWatermark
	if min < runtime.MaxWatermark-a.drift {
		a.limit = min + a.drift
	}
	if own <= a.limit {
		return nil
	}
	return wake
}
