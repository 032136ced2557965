package runtime

import (
	"context"
	"testing"
)

// TestOvertakenBarrierDeclinesSubsumed checks that a task giving a
// checkpoint up because a newer barrier overtook it during alignment says
// so in its decline: the coordinator counts such a checkpoint as no
// failure (Flink's CHECKPOINT_DECLINED_SUBSUMED).
func TestOvertakenBarrierDeclinesSubsumed(t *testing.T) {
	reports := make(chan Report, 4)
	task := &Task{Checkpoint: &Checkpointing{Task: TaskID{Vertex: 1, Subtask: 0}, Reports: reports}}
	a := NewAligner(2, true)
	if r := a.OnBarrier(0, 7); r.Snapshot != 0 || r.Aborted != 0 {
		t.Fatalf("first barrier of 7: %+v", r)
	}
	r := a.OnBarrier(1, 8) // 8 overtakes 7: channel 1's upstream gave 7 up
	if r.Aborted != 7 {
		t.Fatalf("barrier 8 while aligning 7: %+v, want 7 aborted", r)
	}
	if err := task.aligned(context.Background(), AlignResult{Aborted: r.Aborted}); err != nil {
		t.Fatal(err)
	}
	rep := <-reports
	if rep.Kind != ReportDecline || rep.ID != 7 || !rep.Subsumed {
		t.Fatalf("report %+v, want a decline of 7 marked subsumed", rep)
	}
}
