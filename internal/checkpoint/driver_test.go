package checkpoint

import (
	"context"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/runtime"
)

// TestDriverFinalCheckpointHoldsFinalStates drives the end of a bounded
// job through the Driver: task a finishes before checkpoint n's barrier
// reaches it, task b acknowledges n with a part taken before it finished,
// then b finishes while n waits for a's final part. Checkpoint n lacks b's
// final state (what b's sink staged last, for n+1): the job may end only
// after a later checkpoint, holding every final state, completed. The
// driver must not tell the tasks to stop after n.
func TestDriverFinalCheckpointHoldsFinalStates(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := &Storage{Dir: t.TempDir()}
	ops := []OperatorInfo{{UID: "sink", Name: "Sink", Parallelism: 2}}
	reports := make(chan runtime.Report, 8)
	a, b := runtime.TaskID{Vertex: 1, Subtask: 0}, runtime.TaskID{Vertex: 1, Subtask: 1}
	boxes := map[runtime.TaskID]chan runtime.Mail{a: make(chan runtime.Mail, 16), b: make(chan runtime.Mail, 16)}
	tasks := []DriverTask{
		{ID: a, Name: "sink (1/2)", Mailbox: boxes[a], Source: true, Operators: ops},
		{ID: b, Name: "sink (2/2)", Mailbox: boxes[b], Source: true, Operators: ops},
	}
	d, _ := runDriver(t, ctx, DriverOptions{Config: Config{Interval: time.Millisecond}, Storage: store, Tasks: tasks,
		MaxParallelism: 4, Reports: reports})

	snap := func(item string) runtime.TaskSnapshot {
		return runtime.TaskSnapshot{Ops: map[int]runtime.OperatorSnapshot{0: {Items: [][]byte{[]byte(item)}}}}
	}
	ack := func(task runtime.TaskID, id int64, item string, final bool) {
		t.Helper()
		h, err := d.Parts().WritePart(ctx, id, task, snap(item), final)
		if err != nil {
			t.Fatal(err)
		}
		reports <- runtime.Report{Kind: runtime.ReportAck, Task: task, ID: id, Handle: h}
	}

	n := nextMail(t, boxes[a], runtime.MailTrigger).ID
	if m := nextMail(t, boxes[b], runtime.MailTrigger); m.ID != n {
		t.Fatalf("b triggered for %d, a for %d", m.ID, n)
	}
	reports <- runtime.Report{Kind: runtime.ReportFinished, Task: a}
	ack(b, n, "b before its end", false)
	if m := nextMail(t, boxes[a], runtime.MailWriteFinal); m.ID != n {
		t.Fatalf("a asked for its final part of %d, want %d", m.ID, n)
	}
	reports <- runtime.Report{Kind: runtime.ReportFinished, Task: b}
	ack(a, n, "a final", true)

	// Until b is told to stop, write every final part asked for; b must
	// have been asked for its final state in a checkpoint that completed.
	var finalOfB, completed []int64
	timeout := time.After(20 * time.Second)
	for stopped := false; !stopped; {
		select {
		case m := <-boxes[a]:
			if m.Kind == runtime.MailWriteFinal {
				ack(a, m.ID, "a final", true)
			}
		case m := <-boxes[b]:
			switch m.Kind {
			case runtime.MailWriteFinal:
				finalOfB = append(finalOfB, m.ID)
				ack(b, m.ID, "b final", true)
			case runtime.MailComplete:
				completed = append(completed, m.ID)
			case runtime.MailStop:
				stopped = true
			}
		case <-timeout:
			t.Fatalf("b was never told to stop; completed %v", completed)
		}
	}
	if len(completed) == 0 || len(finalOfB) == 0 || completed[len(completed)-1] != finalOfB[len(finalOfB)-1] {
		t.Fatalf("b stopped after checkpoints %v completed, holding its final state in %v: "+
			"the last one before the stop must hold b's final state (its sink's last staged output is never committed)",
			completed, finalOfB)
	}
	if completed[len(completed)-1] <= n {
		t.Fatalf("the job ended after checkpoint %d, which b acknowledged before it finished", completed[len(completed)-1])
	}
}

// TestDriverSavepointAtEndIsNotFinal: a savepoint pending when the last
// task finishes holds every final state but commits nothing; the job must
// still end with a final checkpoint (sinks commit, tasks are told to stop)
// rather than wait forever.
func TestDriverSavepointAtEndIsNotFinal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := &Storage{Dir: t.TempDir()}
	ops := []OperatorInfo{{UID: "sink", Name: "Sink", Parallelism: 1}}
	reports := make(chan runtime.Report, 8)
	requests := make(chan SavepointRequest, 1)
	a := runtime.TaskID{Vertex: 1, Subtask: 0}
	box := make(chan runtime.Mail, 16)
	d, _ := runDriver(t, ctx, DriverOptions{Config: Config{Interval: time.Hour}, Storage: store,
		Tasks:          []DriverTask{{ID: a, Name: "sink (1/1)", Mailbox: box, Source: true, Operators: ops}},
		MaxParallelism: 4, Reports: reports, Savepoints: requests})

	reply := make(chan SavepointResult, 1)
	requests <- SavepointRequest{Dir: t.TempDir(), Reply: reply}
	sp := nextMail(t, box, runtime.MailTrigger).ID
	reports <- runtime.Report{Kind: runtime.ReportFinished, Task: a}
	var completed []int64
	timeout := time.After(20 * time.Second)
	for stopped := false; !stopped; {
		select {
		case m := <-box:
			switch m.Kind {
			case runtime.MailWriteFinal:
				h, err := d.Parts().WritePart(ctx, m.ID, a, runtime.TaskSnapshot{}, true)
				if err != nil {
					t.Fatal(err)
				}
				reports <- runtime.Report{Kind: runtime.ReportAck, Task: a, ID: m.ID, Handle: h}
			case runtime.MailComplete:
				completed = append(completed, m.ID)
			case runtime.MailStop:
				stopped = true
			}
		case r := <-reply:
			if r.Err != nil {
				t.Fatalf("savepoint %d: %v", sp, r.Err)
			}
		case <-timeout:
			t.Fatalf("the task was never told to stop after savepoint %d; completed %v", sp, completed)
		}
	}
	if len(completed) != 1 || completed[0] <= sp {
		t.Fatalf("completed %v before the stop, want one checkpoint after savepoint %d", completed, sp)
	}
}

// runDriver makes a driver of o whose job failures fail the test, and runs
// it until ctx is done; the test waits for it before it ends. done is
// closed when the driver returned.
func runDriver(t *testing.T, ctx context.Context, o DriverOptions) (d *Driver, done <-chan struct{}) {
	t.Helper()
	o.Fail = func(err error) { t.Errorf("job failed: %v", err) }
	d, err := NewDriver(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		d.Run(ctx, time.Millisecond)
	}()
	t.Cleanup(func() { <-ended })
	return d, ended
}
