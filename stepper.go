package weir

import (
	"context"
	"errors"
	"fmt"

	"github.com/weirstream/weir/internal/graph"
)

// Stepper runs a job deterministically on the caller's goroutine: every
// call does all the work that is possible at that moment and returns, and
// processing time moves only when the caller sets it. It is the engine of
// the weirtest harness; jobs that read from real systems should use Execute.
type Stepper struct {
	job  *graph.Job
	ctx  context.Context
	now  int64
	done bool
}

// stepChannelCapacity keeps the single goroutine from ever blocking on a
// full exchange: a stepped job holds at most this many batches in flight
// per channel between two steps.
const stepChannelCapacity = 4096

// Stepwise builds the job for stepwise execution, with processing time
// starting at start (milliseconds). It replaces Options.Clock.
func (e *Environment) Stepwise(ctx context.Context, start int64) (*Stepper, error) {
	if e.executed {
		return nil, ErrAlreadyExecuted
	}
	e.executed = true
	s := &Stepper{ctx: ctx, now: start}
	o := e.graphOptions()
	o.Clock = clockFunc(func() int64 { return s.now })
	o.ChannelCapacity = stepChannelCapacity
	j, err := e.g.Build(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := j.Open(); err != nil {
		return nil, err
	}
	s.job = j
	return s, s.Run()
}

// ErrStepperClosed is returned after Close or a failure.
var ErrStepperClosed = errors.New("weir: stepper closed")

// Run steps every task until none can make progress.
func (s *Stepper) Run() error {
	if s.done {
		return ErrStepperClosed
	}
	for {
		progress, err := s.job.Step(s.ctx)
		if err != nil {
			s.done = true
			_ = s.job.Close()
			return err
		}
		if !progress {
			return nil
		}
	}
}

// ProcessingTime returns the current processing time.
func (s *Stepper) ProcessingTime() int64 { return s.now }

// SetProcessingTime moves processing time to ms, fires due processing-time
// timers and runs until quiet. Time never goes back.
func (s *Stepper) SetProcessingTime(ms int64) error {
	if ms < s.now {
		return fmt.Errorf("weir: processing time cannot go back from %d to %d", s.now, ms)
	}
	s.now = ms
	return s.Run()
}

// Finished reports whether every task has ended (all sources ended and
// everything was processed).
func (s *Stepper) Finished() bool { return s.job.Done() }

// Close closes every operator.
func (s *Stepper) Close() error {
	if s.done {
		return nil
	}
	s.done = true
	return s.job.Close()
}
