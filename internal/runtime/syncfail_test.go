package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestSnapshotErrorFailsTask: an operator whose synchronous snapshot
// fails (a sink that could not stage its part file on a full disk) fails
// its task, as in Flink, where such failures are no tolerable checkpoint
// failures. Declining the checkpoint instead let a job that tolerates
// failed checkpoints go on without the records the operator lost.
func TestSnapshotErrorFailsTask(t *testing.T) {
	log := &hookLog{}
	reports := make(chan Report, 8)
	task, ops := hookTask(log, make(chan struct{}), reports)
	ops[2].snapErr = fmt.Errorf("staging part file: %w", syscall.ENOSPC)
	if err := task.Open(); err != nil {
		t.Fatal(err)
	}
	defer task.Close()
	task.Checkpoint.Mailbox <- Mail{Kind: MailTrigger, ID: 4}
	_, err := task.Step(context.Background())
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), `operator "tail"`) {
		t.Fatalf("err %v: want the task to fail with the snapshot's error, naming the operator", err)
	}
	if slices.Contains(log.calls, "barrier 4") {
		t.Fatalf("calls %q: no barrier may follow a failed snapshot", log.calls)
	}
	select {
	case r := <-reports:
		t.Fatalf("report %+v: the task must fail, not decline or acknowledge", r)
	default:
	}
}
