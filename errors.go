package weir

import (
	"errors"
	"net"
	"os"

	"github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/errkind"
	"github.com/weirstream/weir/internal/job"
)

// This file holds the kinds of error a caller of Execute (or a connector)
// can act on, after pebble's internal/base/error.go: each kind is a
// sentinel matched with errors.Is, with an Is* helper. Errors keep their
// package prefix and wrap their causes with %w; a kind is attached where
// the error is made (Mark), never found by matching messages. Sentinels of
// the engine and of the connectors (codec.ErrCorrupt, kafka.ErrOptions,
// kafka.ErrTransactionLost, ...) match their kind too.

// Error kinds.
var (
	// ErrCorruption is matched by the errors of damaged or truncated stored
	// bytes: a checkpoint or savepoint, keyed state, a committable or a
	// source position in a checkpoint, a file a sink staged.
	ErrCorruption = errkind.Corruption
	// ErrRetriable is matched by transient failures that may succeed when
	// tried again: a broker unavailable or not the leader, a timeout.
	ErrRetriable = errkind.Retriable
	// ErrInvalidOption is matched by the errors of invalid options of the
	// engine (Options) and of connectors; see InvalidOptionError.
	ErrInvalidOption = errkind.InvalidOption
	// ErrDataLoss is matched by errors reporting records that an external
	// system should hold and does not (kafka.ErrTransactionLost).
	ErrDataLoss = errkind.DataLoss
	// ErrAuthentication is matched by errors of an external system
	// refusing the job's credentials or permissions
	// (kafka.ErrAuthentication); retrying does not help.
	ErrAuthentication = errkind.Authentication
)

// IsCorruption reports whether err is due to damaged stored data.
func IsCorruption(err error) bool { return errors.Is(err, ErrCorruption) }

// IsRetriable reports whether err is transient: marked ErrRetriable, or a
// timeout (a net.Error whose Timeout is true, os.ErrDeadlineExceeded).
// Cancellation (context.Canceled) is not retriable; a context deadline is a
// timeout (context.DeadlineExceeded is a net.Error), so a caller that set
// the deadline of Execute itself checks ctx.Err() first.
func IsRetriable(err error) bool {
	if errors.Is(err, ErrRetriable) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IsInvalidOption reports whether err is due to an invalid option.
func IsInvalidOption(err error) bool { return errors.Is(err, ErrInvalidOption) }

// IsDataLoss reports whether err reports lost records.
func IsDataLoss(err error) bool { return errors.Is(err, ErrDataLoss) }

// IsAuthentication reports whether err is a refused authentication or
// authorization.
func IsAuthentication(err error) bool { return errors.Is(err, ErrAuthentication) }

// IsBadRecord reports whether err failed the job on a record a connector
// could not process (ErrBadRecord).
func IsBadRecord(err error) bool { return errors.Is(err, ErrBadRecord) }

// IsCheckpointFallback reports whether err refused a restore that would go
// back past a completed checkpoint (ErrCheckpointFallback).
func IsCheckpointFallback(err error) bool { return errors.Is(err, ErrCheckpointFallback) }

// MarkError returns an error with err's message that errors.Is matches
// against err and against kind (one of the Err kinds above) alike. A
// connector uses it to put its own sentinels under a kind:
//
//	var ErrTransactionLost = weir.MarkError(errors.New("kafka: transaction ... lost"), weir.ErrDataLoss)
func MarkError(err, kind error) error { return errkind.Mark(err, kind) }

// InvalidOptionError is the error of an invalid option, worded the same
// way by the engine and by every connector:
//
//	kafka: option Topic: must not be empty
//
// It matches ErrInvalidOption, its Kind (a package's own sentinel, such as
// kafka.ErrOptions) and its Err. Read it with errors.As. Fields: Prefix
// names the package ("weir", "kafka"), Option the option as the user
// writes it ("Topic", "Checkpoints.Dir"), Reason what is wrong ("must not
// be empty"); Kind and Err are optional.
type InvalidOptionError = errkind.OptionError

// ErrCheckpointFallback is wrapped by the error of a restore refused
// because newer completed checkpoints cannot be read (restoring an older one
// would repeat output sinks committed); the error names the damaged files.
// See Options.AllowCheckpointFallback.
var ErrCheckpointFallback = checkpoint.ErrFallback

// ErrAlreadyExecuted is returned by a second call of Execute.
var ErrAlreadyExecuted = errors.New("weir: environment already executed")

// ErrNoCheckpointing is returned by savepoint calls on a job without
// checkpointing (savepoints use the same barriers).
var ErrNoCheckpointing = job.ErrNoCheckpointing

// ErrSavepointJobEnded is matched (errors.Is) by the error of a savepoint
// (or stop with a savepoint) that the job ended before it completed: its
// bounded input ended, it failed, or it was canceled. Whether the job
// finished is its JobClient.Wait's answer.
var ErrSavepointJobEnded = checkpoint.ErrJobEnded

// ErrBadRecord is matched (errors.Is) by the error that fails a job when a
// connector under the default ErrorPolicy meets a record it cannot process.
var ErrBadRecord = errors.New("bad record")
