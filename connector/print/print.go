// Package print is a sink that writes every record as a line of text to an
// io.Writer, like Flink's print sink: for debugging and examples.
//
// With parallelism above 1 each line is prefixed with the number of the
// subtask that wrote it, counted from 1 as Flink does ("2> record"); with
// an identifier the prefix is "identifier:2> " (or "identifier> " at
// parallelism 1).
//
// Concurrency: the subtasks of one Sink write to its writer under a mutex
// that the Sink owns, one Write call per line, so lines never interleave.
// Two Sinks writing to the same writer each hold their own mutex; give them
// a writer that is safe for concurrent whole-line writes (os.Stdout is).
package print

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/weirstream/weir"
)

// Sink prints records to a writer. Configure it before the job runs.
type Sink[T any] struct {
	w      io.Writer
	format func(T) string
	id     string
	mu     *sync.Mutex
}

// New returns a sink printing records to w with fmt's %v.
func New[T any](w io.Writer) *Sink[T] {
	return &Sink[T]{w: w, mu: &sync.Mutex{}}
}

// WithFormat sets the function that turns a record into its line (without
// the newline); it may be called from several subtasks at once.
func (s *Sink[T]) WithFormat(fn func(T) string) *Sink[T] {
	s.format = fn
	return s
}

// WithIdentifier sets an identifier printed before each line, to tell
// several print sinks apart.
func (s *Sink[T]) WithIdentifier(id string) *Sink[T] {
	s.id = id
	return s
}

// CreateWriter returns the writer of one subtask. A sink made with a nil
// writer fails with a weir.InvalidOptionError (weir.IsInvalidOption).
func (s *Sink[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	if s.w == nil {
		return nil, &weir.InvalidOptionError{Prefix: "print", Option: "writer", Reason: "must not be nil"}
	}
	prefix := s.id
	if ctx.Parallelism > 1 {
		if prefix != "" {
			prefix += ":"
		}
		prefix += strconv.Itoa(ctx.Subtask + 1)
	}
	if prefix != "" {
		prefix += "> "
	}
	return &writer[T]{s: s, prefix: prefix}, nil
}

type writer[T any] struct {
	s      *Sink[T]
	prefix string
	buf    []byte
}

// Write prints v. A write to a blocked pipe cannot be interrupted, so ctx
// is not consulted.
func (w *writer[T]) Write(_ context.Context, v T, _ int64) error {
	b := append(w.buf[:0], w.prefix...)
	if w.s.format != nil {
		b = append(b, w.s.format(v)...)
	} else {
		b = fmt.Appendf(b, "%v", v)
	}
	b = append(b, '\n')
	w.buf = b
	w.s.mu.Lock()
	_, err := w.s.w.Write(b)
	w.s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("print: %w", err)
	}
	return nil
}

func (w *writer[T]) Flush(context.Context, bool) error { return nil }
func (w *writer[T]) Close() error                      { return nil }
