// Package errkind holds the kinds of error Weir tells apart — corruption,
// transient failures, invalid options, lost data, refused credentials —
// and Mark, which puts a sentinel under a kind. Packages that the root
// package imports (codec, internal/checkpoint, ...) mark their own
// sentinels with these kinds; the root package re-exports them
// (weir.ErrCorruption, weir.IsCorruption, ...) for users and connectors.
// The pattern is pebble's internal/base/error.go, with the standard
// library's errors instead of cockroachdb/errors.
//
// Kinds are plain sentinel values, compared with errors.Is; nothing here
// holds state.
package errkind

import (
	"errors"
	"strings"
)

// The kinds. Their messages are never shown alone: Mark keeps the message
// of the error it marks.
var (
	// Corruption: stored bytes (a checkpoint, state, a file the job owns)
	// are damaged or truncated.
	Corruption = errors.New("corruption")
	// Retriable: a transient failure (a broker unavailable, an I/O
	// timeout) that may succeed when tried again.
	Retriable = errors.New("retriable")
	// InvalidOption: an option or configuration value is invalid.
	InvalidOption = errors.New("invalid option")
	// DataLoss: records an external system should hold are lost (a
	// transaction of a completed checkpoint aborted by the broker).
	DataLoss = errors.New("data loss")
	// Authentication: an external system refused the job's credentials or
	// permissions; retrying does not help.
	Authentication = errors.New("authentication")
)

// Mark returns an error with err's message that errors.Is matches against
// err and against kind alike.
func Mark(err, kind error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, kind: kind}
}

type marked struct{ err, kind error }

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() []error { return []error{m.err, m.kind} }

// OptionError is the error of an invalid option (weir.InvalidOptionError),
// worded the same way by the engine and by every connector:
//
//	kafka: option Topic: must not be empty
//
// It matches InvalidOption, Kind (a package's own sentinel, such as
// kafka.ErrOptions) and Err. Read it with errors.As.
type OptionError struct {
	// Prefix names the package: "weir", "kafka", "file".
	Prefix string
	// Option is the option's name as the user writes it: "Topic",
	// "Checkpoints.Dir".
	Option string
	// Reason says what is wrong: "must not be empty".
	Reason string
	// Kind, if set, is the package's own invalid-option sentinel.
	Kind error
	// Err, if set, is the cause; its message follows Reason.
	Err error
}

func (e *OptionError) Error() string {
	var b strings.Builder
	b.WriteString(e.Prefix)
	b.WriteString(": option ")
	b.WriteString(e.Option)
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is matches InvalidOption.
func (e *OptionError) Is(target error) bool { return target == InvalidOption }

// Unwrap returns Kind and Err, those that are set.
func (e *OptionError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}
