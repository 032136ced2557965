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

// A line with no end (a FIFO fed zeros, like /dev/zero) is skipped under
// the dead-letter policy without holding it, and cancelling the job stops
// the skipping: the reader used to buffer the line whole and ignore the
// context until memory ran out.
func TestCancelInsideEndlessLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zero")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	const max = 1 << 20
	fed := make(chan struct{})
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			close(fed)
			return
		}
		defer w.Close()
		zeros := make([]byte, 64<<10)
		written := 0
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := w.Write(zeros); err != nil {
				return // the reader closed the FIFO
			}
			if written += len(zeros); written == 8*max {
				close(fed) // well past the limit: the reader is skipping
			}
			if written > 64*max {
				<-stop // the old reader would buffer without bound: stop feeding
				return
			}
		}
	}()
	defer func() { close(stop); <-writerDone }()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dlq := weir.NewOutputTag[weir.DeadLetter]("dlq")
	env := weir.NewEnvironment(weir.Options{})
	s := weir.FromSource(env, file.JSONSource[event](path, file.SourceOptions{MaxRecordBytes: max, OnError: weir.DeadLetterTo(dlq)}), weir.NoWatermarks[event](), "files")
	weir.Collect(s)
	weir.Collect(weir.SideOutput(s, dlq))
	done := make(chan error, 1)
	go func() { done <- env.Execute(ctx) }()
	<-fed
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
