package checkpoint

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// The methods below drive a Driver step by step from one goroutine, for
// stepwise (deterministic) runs: nothing happens by the clock, and the
// caller interleaves them with the tasks' steps. Run must not be running.

// HandleReports handles every report the tasks sent so far, without
// waiting for more, and reports whether there was any.
func (d *Driver) HandleReports(ctx context.Context) bool {
	got := false
	for {
		select {
		case r := <-d.reports:
			got = true
			d.handle(ctx, r)
		default:
			return got
		}
	}
}

// DeliverMail delivers queued mail as far as the mailboxes take it, and
// reports whether any was delivered.
func (d *Driver) DeliverMail() bool {
	before := d.backlogLen()
	if before == 0 {
		return false
	}
	d.flushBacklog()
	return d.backlogLen() < before
}

func (d *Driver) backlogLen() int {
	n := 0
	for _, q := range d.backlog {
		n += len(q)
	}
	return n
}

// Trigger triggers a checkpoint now, whatever the interval, and returns its
// id.
func (d *Driver) Trigger(ctx context.Context) (int64, error) {
	acts, err := d.coord.TriggerNow(time.Now(), false)
	if err != nil {
		return 0, fmt.Errorf("weir: checkpoint: %w", err)
	}
	d.do(ctx, acts)
	return acts[0].ID, nil
}

// Savepoint starts the savepoint req asks for, as a request on
// DriverOptions.Savepoints does; the result arrives on req.Reply.
func (d *Driver) Savepoint(ctx context.Context, req SavepointRequest) { d.savepoint(ctx, req) }

// IsPending reports whether checkpoint id is under way.
func (d *Driver) IsPending(id int64) bool { return d.coord.IsPending(id) }

// IsCompleted reports whether checkpoint id completed (and is retained).
func (d *Driver) IsCompleted(id int64) bool { return slices.Contains(d.coord.Completed(), id) }

// FinalDone reports whether a checkpoint completed after every task
// finished: the job's end.
func (d *Driver) FinalDone() bool { return d.coord.FinalDone() }

// Location returns where checkpoint id is (or would be) stored.
func (d *Driver) Location(id int64) string { return d.store.ChkDir(id) }

// Abandon forgets every checkpoint under way (the job is closed before they
// complete); the parts their tasks wrote go with the next run's
// RemovePartial.
func (d *Driver) Abandon() {
	for _, id := range d.coord.Pending() {
		d.forget(id)
	}
}
