package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/weirstream/weir"
)

// historySize is how many checkpoints a job's history keeps (Flink's
// web.checkpoints.history is 10; the REST API shows these).
const historySize = 50

// checkpointEntry is one checkpoint of a job's history.
type checkpointEntry struct {
	ID        int64
	Status    string // COMPLETED or FAILED
	Savepoint bool
	Triggered time.Time // zero if not known (the final checkpoint of a bounded job)
	Ended     time.Time
	Size      int64
	// Checkpointed is what the checkpoint wrote (Size less reused files).
	Checkpointed int64
	Path         string
	Failure      string
	// Alignment is the longest barrier alignment of a subtask; Subtasks
	// and Acked count the job's subtasks and those that acknowledged.
	Alignment       time.Duration
	Subtasks, Acked int
	// Vertices holds per-vertex statistics, in the plan's order.
	Vertices []vertexCheckpoint
}

// vertexCheckpoint is one vertex's share of a checkpoint.
type vertexCheckpoint struct {
	Name               string
	Acked              int
	Size, Checkpointed int64
	Alignment          time.Duration // the longest of its subtasks
	LatestAck          time.Time
}

// exceptionEntry is one failure of a job.
type exceptionEntry struct {
	Time    time.Time
	Message string
}

// history records a job's checkpoints as the engine's checkpoint hook
// reports them (checkpoint), and its restores and failures from its log
// records (see observer). It is shared by the engine's goroutines and the
// REST handlers, which read.
type history struct {
	chkDir string
	mu     struct {
		sync.Mutex
		entries    []checkpointEntry
		completed  int
		failed     int
		restored   *checkpointEntry
		exceptions []exceptionEntry
	}
}

func newHistory(chkDir string) *history { return &history{chkDir: chkDir} }

func (h *history) addLocked(e checkpointEntry) {
	h.mu.entries = append(h.mu.entries, e)
	if n := len(h.mu.entries); n > historySize {
		h.mu.entries = append(h.mu.entries[:0:0], h.mu.entries[n-historySize:]...)
	}
}

// noteException records a failure (a restart of the job, or its end).
func (h *history) noteException(t time.Time, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mu.exceptions = append(h.mu.exceptions, exceptionEntry{Time: t, Message: msg})
	if n := len(h.mu.exceptions); n > historySize {
		h.mu.exceptions = append(h.mu.exceptions[:0:0], h.mu.exceptions[n-historySize:]...)
	}
}

// checkpoint records a checkpoint or savepoint that ended
// (weir.Options.OnCheckpoint: the coordinator's goroutine, which must not
// block; the metadata is written by then).
func (h *history) checkpoint(ev weir.CheckpointEvent) {
	e := checkpointEntry{ID: ev.ID, Status: "COMPLETED", Savepoint: ev.Savepoint, Triggered: ev.Triggered, Ended: ev.Ended,
		Size: ev.Size, Checkpointed: ev.Checkpointed, Alignment: ev.Alignment, Subtasks: ev.NumSubtasks, Acked: len(ev.Subtasks)}
	if !ev.Completed {
		e.Status, e.Failure = "FAILED", ev.Failure
	} else if !ev.Savepoint {
		e.Path = filepath.Join(h.chkDir, "chk-"+itoa(e.ID))
	}
	index := map[string]int{}
	for _, s := range ev.Subtasks {
		i, ok := index[s.Vertex]
		if !ok {
			i = len(e.Vertices)
			index[s.Vertex] = i
			e.Vertices = append(e.Vertices, vertexCheckpoint{Name: s.Vertex})
		}
		v := &e.Vertices[i]
		v.Acked++
		v.Size += s.Size
		v.Checkpointed += s.Checkpointed
		v.Alignment = max(v.Alignment, s.Alignment())
		if s.Acknowledged.After(v.LatestAck) {
			v.LatestAck = s.Acknowledged
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if ev.Completed {
		h.mu.completed++
	} else {
		h.mu.failed++
	}
	h.addLocked(e)
}

// observe updates the history from one engine log record.
func (h *history) observe(r slog.Record) {
	attrs := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.Resolve()
		return true
	})
	id := func(key string) int64 {
		if v, ok := attrs[key]; ok && v.Kind() == slog.KindInt64 {
			return v.Int64()
		}
		return 0
	}
	str := func(key string) string {
		if v, ok := attrs[key]; ok {
			return v.String()
		}
		return ""
	}
	switch r.Message {
	case "weir: savepoint complete":
		path := str("path")
		info, err := weir.ReadCheckpointInfo(path)
		h.mu.Lock()
		for i := len(h.mu.entries) - 1; i >= 0; i-- {
			e := &h.mu.entries[i]
			if e.Savepoint && e.Path == "" && (err != nil || e.ID == info.ID) {
				e.Path = path
				break
			}
		}
		h.mu.Unlock()
	case "weir: restoring", "weir: restoring after failure":
		e := &checkpointEntry{ID: id("checkpoint"), Ended: r.Time, Path: str("from")}
		h.mu.Lock()
		h.mu.restored = e
		h.mu.Unlock()
	case "weir: job failed, restarting":
		h.noteException(r.Time, str("err"))
	}
}

// snapshot returns a copy of the history.
func (h *history) snapshot() (entries []checkpointEntry, completed, failed int, restored *checkpointEntry, exceptions []exceptionEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	entries = append(entries, h.mu.entries...)
	if h.mu.restored != nil {
		r := *h.mu.restored
		restored = &r
	}
	exceptions = append(exceptions, h.mu.exceptions...)
	return entries, h.mu.completed, h.mu.failed, restored, exceptions
}

// observer is a slog.Handler that feeds the engine's records to a history
// and passes them on to the server's handler.
type observer struct {
	h    *history
	next slog.Handler
}

func (o observer) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || o.next.Enabled(ctx, l)
}

func (o observer) Handle(ctx context.Context, r slog.Record) error {
	o.h.observe(r)
	if o.next.Enabled(ctx, r.Level) {
		return o.next.Handle(ctx, r)
	}
	return nil
}

func (o observer) WithAttrs(as []slog.Attr) slog.Handler {
	return observer{h: o.h, next: o.next.WithAttrs(as)}
}

func (o observer) WithGroup(name string) slog.Handler {
	return observer{h: o.h, next: o.next.WithGroup(name)}
}
