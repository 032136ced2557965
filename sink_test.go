package weir_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/weirstream/weir"
)

// blockingSink's writers block in the method named by block until the
// context they were given is done, then return its error.
type blockingSink struct {
	block   string        // "Write", "Flush", "PreCommit" or "Commit"
	tpc     bool          // writers are two-phase-commit writers
	blocked chan struct{} // closed when a writer blocks
	once    *atomic.Bool
	// returned records what the blocked call returned.
	returned chan error
}

func (s blockingSink) CreateWriter(weir.SinkContext) (weir.SinkWriter[int], error) {
	w := &blockingWriter{s: s}
	if s.tpc {
		return &blockingTPCWriter{w}, nil
	}
	return w, nil
}

type blockingWriter struct{ s blockingSink }

func (w *blockingWriter) wait(ctx context.Context, method string) error {
	if method != w.s.block {
		return nil
	}
	if w.s.once.CompareAndSwap(false, true) {
		close(w.s.blocked)
	}
	<-ctx.Done()
	err := ctx.Err()
	select {
	case w.s.returned <- err:
	default:
	}
	return err
}

func (w *blockingWriter) Write(ctx context.Context, _ int, _ int64) error {
	return w.wait(ctx, "Write")
}
func (w *blockingWriter) Flush(ctx context.Context, _ bool) error { return w.wait(ctx, "Flush") }
func (w *blockingWriter) Close() error                            { return nil }

type blockingTPCWriter struct{ *blockingWriter }

func (w *blockingTPCWriter) PreCommit(ctx context.Context, id int64) ([][]byte, error) {
	return [][]byte{[]byte("staged")}, w.wait(ctx, "PreCommit")
}

func (w *blockingTPCWriter) Commit(ctx context.Context, _ [][]byte) error {
	return w.wait(ctx, "Commit")
}

// ckptCounter is counter with a position to checkpoint (none: it is
// endless and its output is not compared).
type ckptCounter struct{}

func (ckptCounter) CreateReader(ctx weir.SourceContext) (weir.SourceReader[int], error) {
	r, err := counter{}.CreateReader(ctx)
	return ckptCounterReader{r}, err
}

type ckptCounterReader struct{ weir.SourceReader[int] }

func (ckptCounterReader) SnapshotState(int64) ([][]byte, error) { return nil, nil }

// Cancelling a job interrupts a sink writer blocked in any of its calls:
// the job ends promptly with context.Canceled, the writer saw the
// cancellation through its ctx, and no goroutine is left behind.
func TestCancelInterruptsBlockedSinkCall(t *testing.T) {
	for _, tc := range []struct {
		block string
		tpc   bool
	}{
		{"Write", false},
		{"Flush", false}, // at a checkpoint
		{"PreCommit", true},
		{"Commit", true},
	} {
		t.Run(tc.block, func(t *testing.T) {
			s := blockingSink{block: tc.block, tpc: tc.tpc, blocked: make(chan struct{}),
				once: new(atomic.Bool), returned: make(chan error, 1)}
			env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{
				Interval: 10 * time.Millisecond, Dir: t.TempDir()}})
			weir.FromSource[int](env, ckptCounter{}, weir.NoWatermarks[int](), "counter").SinkTo(s)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- env.Execute(ctx) }()
			select {
			case <-s.blocked:
			case err := <-done:
				t.Fatalf("Execute = %v before the sink blocked in %s", err, tc.block)
			}
			cancel()
			deadline := time.NewTimer(30 * time.Second)
			defer deadline.Stop()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Execute = %v, want context.Canceled", err)
				}
			case <-deadline.C:
				t.Fatalf("Execute did not return after the job was cancelled: the sink's %s was not interrupted", tc.block)
			}
			if err := <-s.returned; !errors.Is(err, context.Canceled) {
				t.Fatalf("the blocked %s returned %v, want context.Canceled", tc.block, err)
			}
			goleak.VerifyNone(t)
		})
	}
}

// A job that fails elsewhere interrupts a sink writer blocked in Write:
// the job ends with the failure, not with the cancellation it caused.
func TestFailureInterruptsBlockedSinkWrite(t *testing.T) {
	s := blockingSink{block: "Write", blocked: make(chan struct{}), once: new(atomic.Bool), returned: make(chan error, 1)}
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	boom := errors.New("boom")
	src := weir.FromSource[int](env, counter{}, weir.NoWatermarks[int](), "counter")
	// Neither sink is chained to the source, so that a blocked sink does
	// not hold back the other.
	src.SinkTo(s).DisableChaining()
	started := s.blocked
	src.SinkTo(weir.SinkFunc[int](func(ctx context.Context, _ int, _ int64) error {
		// Fail only once the other sink is blocked.
		select {
		case <-started:
			return boom
		case <-ctx.Done():
			return ctx.Err()
		}
	})).DisableChaining()
	done := make(chan error, 1)
	go func() { done <- env.Execute(context.Background()) }()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Fatalf("Execute = %v, want the sink's failure", err)
		}
	case <-deadline.C:
		t.Fatal("Execute did not return after a sink failed: the blocked sink was not interrupted")
	}
	if err := <-s.returned; !errors.Is(err, context.Canceled) {
		t.Fatalf("the blocked Write returned %v, want context.Canceled", err)
	}
	goleak.VerifyNone(t)
}
