package nexmark

import (
	"sync"
	"time"

	"github.com/weirstream/weir"
)

// ckptStats collects the checkpoints of a benchmark run (Options.OnCheckpoint):
// how many completed and, per checkpoint, the longest synchronous part of
// its subtasks' snapshots (from the snapshot's start, AlignEnd, to the
// barrier going downstream, SyncEnd): the time a checkpoint stops a task.
type ckptStats struct {
	mu   sync.Mutex
	n    int
	sync []time.Duration
}

// hook returns opts with OnCheckpoint also feeding c.
func (c *ckptStats) hook(opts weir.Options) weir.Options {
	user := opts.OnCheckpoint
	opts.OnCheckpoint = func(ev weir.CheckpointEvent) {
		if user != nil {
			user(ev)
		}
		if !ev.Completed || ev.Savepoint {
			return
		}
		var longest time.Duration
		for _, s := range ev.Subtasks {
			if s.AlignEnd.IsZero() || s.SyncEnd.IsZero() {
				continue
			}
			longest = max(longest, s.SyncEnd.Sub(s.AlignEnd))
		}
		c.mu.Lock()
		c.n++
		c.sync = append(c.sync, longest)
		c.mu.Unlock()
	}
	return opts
}

// fill sets r's checkpoint fields.
func (c *ckptStats) fill(r *BenchResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		return
	}
	var sum, longest time.Duration
	for _, d := range c.sync {
		sum += d
		longest = max(longest, d)
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	r.Checkpoints = c.n
	r.CheckpointSyncMeanMs = ms(sum / time.Duration(len(c.sync)))
	r.CheckpointSyncMaxMs = ms(longest)
}
