package runtime

import (
	"context"
	"log/slog"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend/kv"
)

// OperatorContext is what an operator learns about where it runs.
type OperatorContext struct {
	// Context is the task's context: it is done when the job is cancelled
	// or fails. Operators pass it to the blocking calls they make on the
	// task's goroutine (a sink writer's Write, Flush, PreCommit and
	// Commit), so that cancellation interrupts them. It is the one context
	// held in a struct: the operator interfaces take none on the
	// per-record path (Flink's neither), and the task that owns the
	// operator sets it once when the job is built; operators never keep a
	// copy of it. Nil (in tests building operators by hand) means
	// context.Background.
	Context context.Context
	// Name and UID identify the operator; UID is stable across job versions.
	Name, UID string
	// Subtask is this subtask's index, Parallelism the number of subtasks.
	Subtask, Parallelism int
	// MaxParallelism is the number of key groups.
	MaxParallelism int
	// KeyGroups is the range of key groups this subtask owns.
	KeyGroups keygroup.Range
	// Time is the processing-time service of the task.
	Time ProcessingTimeService
	// Logger is never nil.
	Logger *slog.Logger
	// Metrics receives operator-level counters; never nil.
	Metrics *OperatorMetrics
	// UserMetrics, set when the job publishes metrics, returns the
	// operator instance's user-defined metric of a kind (0 counter, 1
	// gauge, 2 histogram) and name, with extra labels keys=values: a
	// prometheus Counter, Gauge or Observer. Nil otherwise.
	UserMetrics func(kind int, name string, keys, values []string, buckets []float64) (any, error)
	// Mailbox runs actions that the operator posts from its own
	// goroutines on the task's goroutine (see Mailbox); nil when the
	// operator was built by hand outside a task.
	Mailbox *MailboxExecutor
	// Restore holds the state to restore, when the job starts from a
	// checkpoint or savepoint that has state for this operator; nil
	// otherwise.
	Restore *RestoreState
	// Checkpointing is true when the job takes checkpoints.
	Checkpointing bool
	// StateBackend names the keyed state backend: "heap" (or "") or
	// "pebble".
	StateBackend string
	// StateEngine opens the Pebble backend's databases, and the native
	// snapshots a heap backend converts; nil when the job has none.
	StateEngine kv.Engine
	// StateDir is a local working directory of this operator subtask's
	// own (for the Pebble backend), removed when the job ends.
	StateDir string
}

// OperatorMetrics are counters an operator updates; the task publishes them.
type OperatorMetrics struct {
	// LateRecordsDropped counts records dropped for arriving behind the
	// watermark (not sent to a side output).
	LateRecordsDropped int64
	// CurrentWatermark is the last watermark the operator received.
	CurrentWatermark int64
	// Async is set by async I/O operators, whose AsyncInFlight (records
	// requested and not yet emitted), AsyncRetries (calls after a
	// record's first) and AsyncTimeouts (records whose request timed out)
	// are then published.
	Async                                      bool
	AsyncInFlight, AsyncRetries, AsyncTimeouts int64
}
