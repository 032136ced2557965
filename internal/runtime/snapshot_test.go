package runtime

import (
	"context"
	"sync"
	"testing"
	"time"
)

// idleSource never has input until end is closed, then ends.
type idleSource struct{ end chan struct{} }

func (s idleSource) PollNext(context.Context) (PollStatus, error) {
	select {
	case <-s.end:
		return EndOfInput, nil
	default:
		return NothingAvailable, nil
	}
}

func (s idleSource) Available() <-chan struct{} { return s.end }

// stateOp is a stateful operator whose snapshot is one key group.
type stateOp struct{ kg int }

func (stateOp) Open(*OperatorContext) error { return nil }
func (stateOp) Finish() error               { return nil }
func (stateOp) Close() error                { return nil }
func (o stateOp) SnapshotState(id int64, w *StateWriter) error {
	w.AppendKeyed(o.kg, []byte{byte(id)})
	return nil
}

// gatedStore is a SnapshotStore whose writes wait until n of them are
// under way at once: it proves that the parts of several subtasks are
// written concurrently, by the tasks (a single writer would never get past
// the first).
type gatedStore struct {
	n       int
	mu      sync.Mutex
	entered int
	all     chan struct{}
	// tasks records who wrote, with the snapshot they wrote.
	tasks map[TaskID]TaskSnapshot
	final map[TaskID]bool
}

type fakeHandle struct{ task TaskID }

func (fakeHandle) StoredBytes() int64 { return 1 }

func (g *gatedStore) WritePart(ctx context.Context, id int64, task TaskID, snap TaskSnapshot, final bool) (SnapshotHandle, error) {
	g.mu.Lock()
	g.entered++
	if g.entered == g.n {
		close(g.all)
	}
	g.tasks[task] = snap
	g.final[task] = final
	g.mu.Unlock()
	select {
	case <-g.all:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return fakeHandle{task}, nil
}

func newSourceTask(id TaskID, end chan struct{}, store SnapshotStore, reports chan Report) *Task {
	return &Task{
		Name:   id.String(),
		Source: idleSource{end: end},
		Chain:  []ChainMember{{Op: stateOp{kg: id.Subtask}, Ctx: &OperatorContext{Name: "op"}}},
		Timers: NewTimerQueue(WallClock{}),
		Checkpoint: &Checkpointing{Task: id, Store: store, Mailbox: make(chan Mail, 4),
			Reports: reports, ExactlyOnce: true},
	}
}

// receive returns the next report, failing the test if none comes.
func receive(t *testing.T, reports <-chan Report) Report {
	t.Helper()
	select {
	case r := <-reports:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("no report from the tasks")
		return Report{}
	}
}

func TestTasksWriteTheirPartsConcurrently(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	store := &gatedStore{n: 2, all: make(chan struct{}), tasks: map[TaskID]TaskSnapshot{}, final: map[TaskID]bool{}}
	reports := make(chan Report, 8)
	end := make(chan struct{})
	ids := []TaskID{{Vertex: 3, Subtask: 0}, {Vertex: 3, Subtask: 1}}
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	var tasks []*Task
	for _, id := range ids {
		task := newSourceTask(id, end, store, reports)
		tasks = append(tasks, task)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- task.Run(ctx)
		}()
	}
	// On failure: cancel the tasks, then wait for them.
	defer wg.Wait()
	defer cancel()
	for _, task := range tasks {
		task.Checkpoint.Mailbox <- Mail{Kind: MailTrigger, ID: 7}
	}
	acked := map[TaskID]bool{}
	for range ids {
		r := receive(t, reports)
		if r.Kind != ReportAck || r.ID != 7 {
			t.Fatalf("report %+v, want an acknowledgement of checkpoint 7", r)
		}
		if h, ok := r.Handle.(fakeHandle); !ok || h.task != r.Task {
			t.Fatalf("acknowledgement of %s carries handle %#v, want the one its WritePart returned", r.Task, r.Handle)
		}
		acked[r.Task] = true
	}
	for _, id := range ids {
		if !acked[id] {
			t.Fatalf("task %s did not acknowledge (acks: %v)", id, acked)
		}
		snap := store.tasks[id]
		if kg := snap.Ops[0].Keyed; len(kg) != 1 || kg[0].KeyGroup != id.Subtask || store.final[id] {
			t.Fatalf("task %s wrote %+v (final %v), want its own key group %d", id, snap, store.final[id], id.Subtask)
		}
	}

	// Finished tasks write their final state when the driver asks.
	close(end)
	for range ids {
		if r := receive(t, reports); r.Kind != ReportFinished {
			t.Fatalf("report %+v, want finished", r)
		}
	}
	store.mu.Lock()
	store.n, store.entered, store.all = 2, 0, make(chan struct{})
	store.mu.Unlock()
	for _, task := range tasks {
		task.Checkpoint.Mailbox <- Mail{Kind: MailWriteFinal, ID: 8}
	}
	for range ids {
		if r := receive(t, reports); r.Kind != ReportAck || r.ID != 8 {
			t.Fatalf("report %+v, want an acknowledgement of checkpoint 8", r)
		}
	}
	for _, id := range ids {
		if !store.final[id] {
			t.Fatalf("task %s wrote its part of checkpoint 8 as not final", id)
		}
	}
	for _, task := range tasks {
		task.Checkpoint.Mailbox <- Mail{Kind: MailStop}
	}
	for range ids {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
