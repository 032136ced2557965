package runtime

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// hookLog records the calls the task makes, in order.
type hookLog struct{ calls []string }

func (l *hookLog) add(format string, args ...any) {
	l.calls = append(l.calls, fmt.Sprintf(format, args...))
}

// bufferOp is an operator that holds a count outside its state and hands it
// to next before a barrier (or at Finish), as a mini-batch operator does.
type bufferOp struct {
	name    string
	log     *hookLog
	held    int
	next    *bufferOp
	gotten  int
	noHook  bool
	prepErr error
	snapErr error // SnapshotState's error
}

func (o *bufferOp) Open(*OperatorContext) error { return nil }
func (o *bufferOp) Close() error                { return nil }
func (o *bufferOp) Finish() error {
	o.log.add("finish %s", o.name)
	return o.emit()
}

func (o *bufferOp) emit() error {
	if o.next != nil {
		o.next.gotten += o.held
	}
	o.held = 0
	return nil
}

func (o *bufferOp) SnapshotState(id int64, w *StateWriter) error {
	o.log.add("snapshot %s %d held=%d gotten=%d", o.name, id, o.held, o.gotten)
	return o.snapErr
}

// hookOp is a bufferOp with the hook.
type hookOp struct{ *bufferOp }

func (o hookOp) PrepareSnapshotPreBarrier(id int64) error {
	o.log.add("prepare %s %d", o.name, id)
	if o.prepErr != nil {
		return o.prepErr
	}
	return o.emit()
}

// logWriter records barriers.
type logWriter struct{ log *hookLog }

func (w logWriter) Flush() error                       { return nil }
func (w logWriter) EndOfInput() error                  { w.log.add("end of input"); return nil }
func (w logWriter) Barrier(id int64) error             { w.log.add("barrier %d", id); return nil }
func (w logWriter) LatencyMarker(*LatencyMarker) error { return nil }
func (w logWriter) Stats() *WriterStats                { return &WriterStats{} }

// nullStore acknowledges every part without writing it.
type nullStore struct{}

func (nullStore) WritePart(context.Context, int64, TaskID, TaskSnapshot, bool) (SnapshotHandle, error) {
	return fakeHandle{}, nil
}

// hookTask is a source task whose chain is head -> middle (no hook) -> tail,
// each holding records it hands on before the barrier.
func hookTask(log *hookLog, end chan struct{}, reports chan Report) (*Task, []*bufferOp) {
	tail := &bufferOp{name: "tail", log: log}
	middle := &bufferOp{name: "middle", log: log, next: tail, noHook: true}
	head := &bufferOp{name: "head", log: log, next: middle}
	ops := []*bufferOp{head, middle, tail}
	var chain []ChainMember
	for _, o := range ops {
		var op Lifecycle = hookOp{o}
		if o.noHook {
			op = o
		}
		chain = append(chain, ChainMember{Op: op, Ctx: &OperatorContext{Name: o.name}})
	}
	task := &Task{
		Name:    "hooks",
		Source:  idleSource{end: end},
		Chain:   chain,
		Writers: []Writer{logWriter{log}},
		Timers:  NewTimerQueue(WallClock{}),
		Checkpoint: &Checkpointing{Task: TaskID{}, Store: nullStore{}, Mailbox: make(chan Mail, 4),
			Reports: reports, ExactlyOnce: true},
	}
	return task, ops
}

func stepAll(t *testing.T, task *Task) {
	t.Helper()
	for {
		progress, err := task.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !progress {
			return
		}
	}
}

// TestPrepareSnapshotPreBarrier checks the hook runs on every operator that
// implements it, head first, before any operator snapshots and before the
// barrier goes on; and before the final snapshot, after Finish.
func TestPrepareSnapshotPreBarrier(t *testing.T) {
	log := &hookLog{}
	end := make(chan struct{})
	reports := make(chan Report, 8)
	task, ops := hookTask(log, end, reports)
	if err := task.Open(); err != nil {
		t.Fatal(err)
	}
	defer task.Close()
	ops[0].held = 5 // head holds 5 rows, hands them to middle
	ops[1].held = 2 // middle holds 2 but has no hook: they stay
	task.Checkpoint.Mailbox <- Mail{Kind: MailTrigger, ID: 3}
	// One Step: the snapshot completes off the task's goroutine.
	if _, err := task.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	task.WaitSnapshots()
	want := []string{
		"prepare head 3",
		"prepare tail 3",
		"snapshot head 3 held=0 gotten=0",
		"snapshot middle 3 held=2 gotten=5",
		"snapshot tail 3 held=0 gotten=0",
		"barrier 3",
	}
	if !slices.Equal(log.calls, want) {
		t.Fatalf("calls\n%q\nwant\n%q", log.calls, want)
	}
	if r := <-reports; r.Kind != ReportAck || r.ID != 3 {
		t.Fatalf("report %+v, want the acknowledgement of checkpoint 3", r)
	}

	// End of input: Finish head first, then the hook, then the final
	// snapshot (id 0).
	log.calls = nil
	ops[0].held = 1
	close(end)
	stepAll(t, task)
	want = []string{
		"finish head",
		"finish middle",
		"finish tail",
		"end of input",
		"prepare head 0",
		"prepare tail 0",
		"snapshot head 0 held=0 gotten=0",
		"snapshot middle 0 held=0 gotten=6",
		"snapshot tail 0 held=0 gotten=2",
	}
	if !slices.Equal(log.calls, want) {
		t.Fatalf("calls at the end\n%q\nwant\n%q", log.calls, want)
	}
}

// TestPrepareSnapshotPreBarrierError fails the task: records may have
// been emitted in part, so the checkpoint cannot just be declined.
func TestPrepareSnapshotPreBarrierError(t *testing.T) {
	log := &hookLog{}
	task, ops := hookTask(log, make(chan struct{}), make(chan Report, 8))
	ops[2].prepErr = fmt.Errorf("boom")
	if err := task.Open(); err != nil {
		t.Fatal(err)
	}
	defer task.Close()
	task.Checkpoint.Mailbox <- Mail{Kind: MailTrigger, ID: 4}
	_, err := task.Step(context.Background())
	if err == nil || !slices.Contains(log.calls, "prepare tail 4") {
		t.Fatalf("err %v, calls %q: want the task to fail on the hook's error", err, log.calls)
	}
	for _, c := range log.calls {
		if c == "barrier 4" || c[:8] == "snapshot" {
			t.Fatalf("calls %q: nothing may be snapshotted or sent after the hook failed", log.calls)
		}
	}
}
