package graph

import (
	"fmt"

	"github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/runtime"
)

// Checkpointing is done by package checkpoint: each task writes its own
// part of a checkpoint and a checkpoint.Driver writes the metadata. This
// file wires a job's tasks to it.

// CheckpointOptions turn checkpointing on.
type CheckpointOptions struct {
	checkpoint.Config
	// Storage is where checkpoints go.
	Storage *checkpoint.Storage
	// AtLeastOnce tracks barriers without aligning them.
	AtLeastOnce bool
}

// Restore is a checkpoint or savepoint a job starts from.
type Restore = checkpoint.Restore

// SavepointRequest asks a running job for a savepoint.
type SavepointRequest = checkpoint.SavepointRequest

// SavepointResult is the outcome of a SavepointRequest.
type SavepointResult = checkpoint.SavepointResult

// ErrStoppedWithSavepoint is the cause of a job's end after a
// stop-with-savepoint; Run returns nil for it.
var ErrStoppedWithSavepoint = checkpoint.ErrStoppedWithSavepoint

// operatorID is the id under which an operator's state is stored: its uid,
// or its name and position in the graph when it has none. A default name
// counts without the number that tells operators sharing it apart.
func operatorID(n *Node) string {
	if n.UID != "" {
		return n.UID
	}
	return fmt.Sprintf("%s#%d", n.stateName(), n.ID)
}

// checkRestore fails if the checkpoint has state for an operator the job
// lacks, unless that is allowed.
func checkRestore(rs *Restore, g *Graph, o *Options) error {
	if rs == nil {
		return nil
	}
	if rs.Meta.MaxParallelism != o.MaxParallelism {
		return fmt.Errorf("weir: checkpoint %d was taken with max parallelism %d, the job has %d: key groups cannot be mapped", rs.Meta.ID, rs.Meta.MaxParallelism, o.MaxParallelism)
	}
	have := map[string]bool{}
	for _, n := range g.Nodes {
		have[operatorID(n)] = true
	}
	for _, op := range rs.Meta.Operators {
		if !have[op.UID] && !rs.AllowNonRestoredState {
			return fmt.Errorf("weir: checkpoint %d has state for operator %q (%s) that this job does not have; give the operator the same uid, or allow non-restored state", rs.Meta.ID, op.UID, op.Name)
		}
	}
	return nil
}

// driverTasks describes the job's tasks to the checkpoint driver.
func (j *Job) driverTasks() []checkpoint.DriverTask {
	out := make([]checkpoint.DriverTask, len(j.tasks))
	for i, t := range j.tasks {
		info := j.infos[i]
		ops := make([]checkpoint.OperatorInfo, len(info.nodes))
		for ci, n := range info.nodes {
			ops[ci] = checkpoint.OperatorInfo{UID: operatorID(n), Name: n.Name, Parallelism: info.par}
		}
		out[i] = checkpoint.DriverTask{ID: t.Checkpoint.Task, Name: t.Name, Mailbox: t.Checkpoint.Mailbox,
			Source: t.Source != nil, Operators: ops, Vertex: info.Vertex, Subtask: info.Subtask}
	}
	return out
}

// taskID is the name of subtask sub of plan vertex v in the checkpoint
// path.
func taskID(v, sub int) runtime.TaskID { return runtime.TaskID{Vertex: v, Subtask: sub} }
