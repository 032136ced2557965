package weir

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/internal/statebackend/heap"
)

// This file connects operators to checkpoints: keyed state and timers are
// written key group by key group; sources store their positions and sinks
// their staged transactions as operator-state items.

// SnapshotState captures the operator's keyed state and timers; they are
// written after the barrier went on, off the task's goroutine (the maps the
// capture sees are copied on write meanwhile).
func (k *keyed[K]) SnapshotState(_ int64, w *runtime.StateWriter) error {
	snap, err := k.backend.Snapshot()
	if err != nil {
		return err
	}
	if snap.Native != nil {
		w.SetNative(snap.Native)
	}
	w.Defer(func(w *runtime.StateWriter) error {
		return snap.Write(func(kg int, sec []byte) { w.AppendKeyed(kg, sec) })
	})
	return nil
}

// CloseState releases the backend (a Pebble database) after the operator
// closed.
func (k *keyed[K]) CloseState() error {
	if k.backend == nil {
		return nil
	}
	return k.backend.Close()
}

// AfterOpen restores the keyed state registered during Open from the
// checkpoint the job started from. Every operator embedding keyed gets it;
// the task calls it once every operator of the chain opened.
func (k *keyed[K]) AfterOpen() error { return k.backend.Seal() }

// keyedTimers creates a timer service whose timers are part of the
// operator's snapshots under name.
func keyedTimers[K, N comparable](k *keyed[K], ctx *runtime.OperatorContext, name string, onEvent, onProc func(runtime.Timer[K, N]) error) *runtime.TimerService[K, N] {
	ts := runtime.NewTimerService[K, N](ctx.Time, onEvent, onProc)
	k.backend.Register(&timerState[K, N]{name: name, k: k, ts: ts})
	return ts
}

// timerState stores a timer service's timers: per timer a domain byte, the
// time, the namespace and the key.
type timerState[K, N comparable] struct {
	name string
	k    *keyed[K]
	ts   *runtime.TimerService[K, N]
	kc   codec.Codec[K]
	nc   codec.Codec[N]
	err  error
}

func (t *timerState[K, N]) codecs() error {
	if t.kc == nil && t.err == nil {
		if t.kc, t.err = codec.For[K](); t.err != nil {
			t.err = fmt.Errorf("timers: key type: %w", t.err)
			return t.err
		}
		if t.nc, t.err = codec.For[N](); t.err != nil {
			t.err = fmt.Errorf("timers: namespace type: %w", t.err)
		}
	}
	return t.err
}

func (t *timerState[K, N]) StateName() string { return "timers:" + t.name }
func (t *timerState[K, N]) StateKind() byte   { return heap.KindTimers }
func (t *timerState[K, N]) StateSchema() string {
	return codec.Schema[K]() + "|" + codec.Schema[N]()
}

// Freeze encodes every timer at once, grouped by key group (timers are
// few next to state, and the service changes as soon as the task goes on).
func (t *timerState[K, N]) Freeze() (func(dst []byte, idx int) ([]byte, error), error) {
	if err := t.codecs(); err != nil {
		return nil, err
	}
	groups := map[int][]byte{}
	start := t.k.kc.Range.Start
	t.ts.ForEachRegisteredTimer(func(processing bool, ts int64, key K, ns N) {
		i := t.k.kc.GroupOf(key) - start
		groups[i] = t.append(groups[i], processing, ts, key, ns)
	})
	// Implicit timers (an operator's own index, as many as its state) are
	// captured copy-on-write with the state and encoded with it, off the
	// task's goroutine.
	var implicit func(idx int, fn func(runtime.Timer[K, N]))
	if it := t.ts.Implicit(); it != nil {
		implicit = it.Freeze()
	}
	return func(dst []byte, idx int) ([]byte, error) {
		dst = append(dst, groups[idx]...)
		if implicit != nil {
			implicit(idx, func(tm runtime.Timer[K, N]) { dst = t.append(dst, false, tm.TS, tm.Key, tm.NS) })
		}
		return dst, nil
	}, nil
}

// append encodes a timer: domain byte, time, namespace, key.
func (t *timerState[K, N]) append(b []byte, processing bool, ts int64, key K, ns N) []byte {
	if processing {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendVarint(b, ts)
	b = t.nc.Append(b, ns)
	return t.kc.Append(b, key)
}

func (t *timerState[K, N]) RestoreGroup(idx int, src []byte) error {
	if err := t.codecs(); err != nil {
		return err
	}
	kg := t.k.kc.Range.Start + idx
	for len(src) > 0 {
		if src[0] > 1 {
			return fmt.Errorf("%w: timer domain %d", codec.ErrCorrupt, src[0])
		}
		processing := src[0] == 1
		ts, n := binary.Varint(src[1:])
		if n <= 0 {
			return fmt.Errorf("%w: timer time", codec.ErrCorrupt)
		}
		src = src[1+n:]
		ns, n, err := t.nc.Decode(src)
		if err != nil {
			return err
		}
		src = src[n:]
		key, n, err := t.kc.Decode(src)
		if err != nil {
			return err
		}
		src = src[n:]
		// Freeze files a timer under its key's group: one stored under
		// another would move, or leave the subtask's range and be lost.
		if g := t.k.kc.GroupOf(key); g != kg {
			return fmt.Errorf("%w: a timer of key group %d in key group %d", codec.ErrCorrupt, g, kg)
		}
		tm := runtime.Timer[K, N]{TS: ts, Key: key, NS: ns, KeyGroup: kg}
		if processing {
			t.ts.RegisterProcessingTime(tm)
		} else {
			t.ts.RegisterEventTime(tm)
		}
	}
	return nil
}

// CheckpointedReader is implemented by source readers whose position must
// survive a failure. The items it returns are stored with the checkpoint;
// after a restore every reader of the source gets the items of every
// reader of the previous run (SourceContext.Restored) and keeps those of
// the splits it owns now, so a source can be restored at another
// parallelism.
type CheckpointedReader interface {
	SnapshotState(checkpointID int64) ([][]byte, error)
}

// SnapshotState stores the reader's position.
func (s *sourceOp[T]) SnapshotState(id int64, w *runtime.StateWriter) error {
	r, ok := s.reader.(CheckpointedReader)
	if !ok {
		if s.ctx.Checkpointing {
			return fmt.Errorf("source reader %T cannot store its position (it does not implement weir.CheckpointedReader), so the job cannot be restored exactly", s.reader)
		}
		return nil
	}
	items, err := r.SnapshotState(id)
	if err != nil {
		return err
	}
	for _, it := range items {
		w.AddItem(it)
	}
	return nil
}

// TwoPhaseCommitWriter is a SinkWriter that makes its output visible only
// when a checkpoint completes, for end-to-end exactly-once (Flink's
// TwoPhaseCommittingSink). The sink operator calls PreCommit when the
// checkpoint's barrier reaches it, stores the returned committables in the
// checkpoint, and calls Commit with them once the checkpoint completed —
// or, after a failure, once the job restored that checkpoint. Commit must
// therefore be idempotent: committing something already committed is not
// an error. After a restore every subtask of the sink receives the staged
// committables of every old subtask (whatever the new parallelism), so
// Commit may also run for the same committable on several subtasks at once.
//
// ctx is the task's context, as for SinkWriter.Write: PreCommit and Commit
// must return once it is done (the job was cancelled or failed); a commit
// interrupted that way is retried after the restore, like any other.
type TwoPhaseCommitWriter[T any] interface {
	SinkWriter[T]
	// PreCommit flushes what was written since the last checkpoint and
	// stages it; the committables describe what to make visible (Flink's
	// SinkWriter.prepareCommit).
	PreCommit(ctx context.Context, checkpointID int64) ([][]byte, error)
	// Commit makes staged committables visible (Flink's Committer.commit).
	Commit(ctx context.Context, committables [][]byte) error
}

// pendingCommit is a checkpoint's committables awaiting completion.
type pendingCommit struct {
	id    int64
	items [][]byte
}

// encodePending stores a pending commit as an operator-state item:
// id, then each committable with its length.
func encodePending(p pendingCommit) []byte {
	b := binary.AppendVarint(nil, p.id)
	for _, it := range p.items {
		b = binary.AppendUvarint(b, uint64(len(it)))
		b = append(b, it...)
	}
	return b
}

func decodePending(b []byte) (pendingCommit, error) {
	id, n := binary.Varint(b)
	if n <= 0 {
		return pendingCommit{}, fmt.Errorf("%w: pending commit id", codec.ErrCorrupt)
	}
	p := pendingCommit{id: id}
	b = b[n:]
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return pendingCommit{}, fmt.Errorf("%w: committable", codec.ErrCorrupt)
		}
		p.items = append(p.items, b[n:n+int(l)])
		b = b[n+int(l):]
	}
	return p, nil
}
