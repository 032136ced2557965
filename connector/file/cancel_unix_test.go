//go:build unix

package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
)

// endlessLine returns a FIFO fed zeros without a newline, like /dev/zero,
// and a channel closed once 8*limit bytes went in. Feeding stops at
// 64*limit bytes (a reader that buffers the line whole would grow without
// bound) and when the test ends. The feeder opens the FIFO read-write and
// non-blocking, so it never waits for a reader to open it, and it writes
// with a deadline, so it sees the test's end even while the pipe is full
// and nobody reads (a blocking writer could wait forever there).
func endlessLine(t *testing.T, limit int) (string, <-chan struct{}) {
	path := filepath.Join(t.TempDir(), "zero")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	w, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Skipf("open FIFO read-write: %v", err)
	}
	fed := make(chan struct{})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer w.Close()
		zeros := make([]byte, 64<<10)
		for written := 0; written <= 64*limit; {
			select {
			case <-stop:
				return
			default:
			}
			if err := w.SetWriteDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
				return
			}
			n, err := w.Write(zeros)
			before := written
			written += n
			if before < 8*limit && written >= 8*limit {
				close(fed)
			}
			if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
		}
		<-stop
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
	})
	return path, fed
}

// Under the dead-letter policy a line with no end is skipped without
// holding it, and cancelling the job stops the skipping: the reader used
// to buffer the line whole and ignore the context until memory ran out.
func TestCancelInsideEndlessLine(t *testing.T) {
	const limit = 1 << 20
	path, fed := endlessLine(t, limit)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dlq := weir.NewOutputTag[weir.DeadLetter]("dlq")
	env := weir.NewEnvironment(weir.Options{})
	s := weir.FromSource(env, file.JSONSource[event](path, file.SourceOptions{MaxRecordBytes: limit, OnError: weir.DeadLetterTo(dlq)}), weir.NoWatermarks[event](), "files")
	weir.Collect(s)
	weir.Collect(weir.SideOutput(s, dlq))
	done := make(chan error, 1)
	go func() { done <- env.Execute(ctx) }()
	<-fed // well past the limit: the reader is skipping
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Execute = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second): // a bound for the failing case only
		t.Fatal("the job did not stop within 30 s of being cancelled")
	}
}

// Under the fail policy a line with no end fails the job once it passes
// the limit, without reading on (weir run sums --input /dev/zero).
func TestEndlessLineFails(t *testing.T) {
	const limit = 1 << 20
	path, _ := endlessLine(t, limit)
	env := weir.NewEnvironment(weir.Options{})
	weir.Collect(weir.FromSource(env, file.JSONSource[event](path, file.SourceOptions{MaxRecordBytes: limit}), weir.NoWatermarks[event](), "files"))
	done := make(chan error, 1)
	go func() { done <- env.Execute(context.Background()) }()
	select {
	case err := <-done:
		var bre *weir.BadRecordError
		if !errors.As(err, &bre) || bre.DeadLetter.Source != "file "+path+" line 1" {
			t.Fatalf("Execute = %v, want a bad record at line 1", err)
		}
	case <-time.After(30 * time.Second): // a bound for the failing case only
		t.Fatal("the job did not fail within 30 s")
	}
}
