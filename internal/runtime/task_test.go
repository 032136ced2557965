package runtime

import (
	"context"
	"testing"
)

type fakeClock struct{ now int64 }

func (c *fakeClock) Now() int64 { return c.now }

// waitingSource returns NothingAvailable and counts polls.
type waitingSource struct {
	polls int
	avail chan struct{}
}

func (s *waitingSource) PollNext(context.Context) (PollStatus, error) {
	s.polls++
	return NothingAvailable, nil
}

func (s *waitingSource) Available() <-chan struct{} { return s.avail }

// TestStepParksWhereRunWaits: after NothingAvailable, Step polls a source
// again only when Run's wait would wake: the reader's availability signal,
// a due processing-time timer, or mail.
func TestStepParksWhereRunWaits(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{}
	src := &waitingSource{avail: make(chan struct{}, 1)}
	task := &Task{Name: "src", Source: src, Timers: NewTimerQueue(clock),
		Checkpoint: &Checkpointing{Mailbox: make(chan Mail, 1), Reports: make(chan Report, 1)}}
	if err := task.Open(); err != nil {
		t.Fatal(err)
	}
	step := func(wantProgress bool, wantPolls int) {
		t.Helper()
		progress, err := task.Step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if progress != wantProgress || src.polls != wantPolls {
			t.Fatalf("Step = %v with %d polls, want %v with %d", progress, src.polls, wantProgress, wantPolls)
		}
	}
	step(false, 1)
	step(false, 1) // parked: not polled again
	src.avail <- struct{}{}
	step(false, 2)
	step(false, 2)
	fired := false
	task.Timers.Schedule(10, func(int64) error { fired = true; return nil })
	step(false, 2) // not due yet
	clock.now = 10
	step(false, 3)
	if !fired {
		t.Fatal("the due timer did not fire")
	}
	task.Checkpoint.Mailbox <- Mail{Kind: MailAbort, ID: 1}
	step(true, 4) // the mail is handled, then the source polled
	step(false, 4)
}
