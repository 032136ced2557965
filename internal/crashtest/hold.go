package crashtest

import (
	"context"
	"fmt"

	"github.com/weirstream/weir"
)

// Hold wraps src for tests that fail a job on purpose once a checkpoint
// committed output: while held reports true, its readers emit nothing (they
// poll again a millisecond of processing time later), and checkpoints go
// on. A test holds the input from the record where it means to fail until
// a checkpoint committed, so the failure comes before the end of the input
// however slowly the machine checkpoints, instead of the job finishing
// first when it is loaded. held is called on the subtasks' goroutines.
func Hold[T any](src weir.Source[T], held func() bool) weir.Source[T] {
	return holdSource[T]{src: src, held: held}
}

type holdSource[T any] struct {
	src  weir.Source[T]
	held func() bool
}

func (s holdSource[T]) CreateReader(ctx weir.SourceContext) (weir.SourceReader[T], error) {
	r, err := s.src.CreateReader(ctx)
	if err != nil {
		return nil, err
	}
	return &holdReader[T]{r: r, held: s.held, time: ctx.Time}, nil
}

// holdReader is the wrapped reader; it passes on the optional interfaces
// the engine asks a reader for.
type holdReader[T any] struct {
	r    weir.SourceReader[T]
	held func() bool
	time weir.ProcessingTimeService
}

func (h *holdReader[T]) Poll(ctx context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	if h.held() {
		h.time.Schedule(h.time.Now()+1, func(int64) error { return nil }) // poll again
		return weir.NothingAvailable, nil
	}
	return h.r.Poll(ctx, out)
}

func (h *holdReader[T]) Close() error { return h.r.Close() }

func (h *holdReader[T]) Available() <-chan struct{} {
	if a, ok := h.r.(weir.Availability); ok {
		return a.Available()
	}
	return nil // as if the reader had no Available
}

func (h *holdReader[T]) SnapshotState(id int64) ([][]byte, error) {
	c, ok := h.r.(weir.CheckpointedReader)
	if !ok {
		return nil, fmt.Errorf("crashtest: held reader %T cannot store its position", h.r)
	}
	return c.SnapshotState(id)
}

func (h *holdReader[T]) NotifyCheckpointComplete(id int64) error {
	if l, ok := h.r.(weir.CheckpointListeningReader); ok {
		return l.NotifyCheckpointComplete(id)
	}
	return nil
}
