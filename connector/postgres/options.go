package postgres

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
)

// Guarantee is a sink's delivery guarantee (Flink's DeliveryGuarantee).
type Guarantee uint8

const (
	// AtLeastOnce writes each batch in a transaction of its own and
	// flushes every buffered record before a checkpoint completes; after a
	// failure the records since the restored checkpoint are written again
	// (with a Key, an upsert makes that idempotent).
	AtLeastOnce Guarantee = iota
	// ExactlyOnce writes the records of each checkpoint in one
	// transaction, prepared (PREPARE TRANSACTION) on the checkpoint
	// barrier and committed (COMMIT PREPARED) when the checkpoint
	// completes. It needs max_prepared_transactions > 0 on the server.
	ExactlyOnce
	// None writes a batch when it is full (or FlushInterval passed) and at
	// the end of input, not on checkpoints: records buffered at a failure
	// are lost.
	None
)

// String names the guarantee.
func (g Guarantee) String() string {
	switch g {
	case AtLeastOnce:
		return "at-least-once"
	case ExactlyOnce:
		return "exactly-once"
	case None:
		return "none"
	}
	return fmt.Sprintf("Guarantee(%d)", uint8(g))
}

// DefaultBatchSize is the number of records a sink buffers before it
// writes them, by default (Flink JDBC's sink.buffer-flush.max-rows is 100;
// larger batches amortise the round trip better).
const DefaultBatchSize = 1000

// DefaultCommitTable is the table an exactly-once sink records its
// transactions in, by default.
const DefaultCommitTable = "weir_commits"

// ErrOptions is matched (errors.Is) by the errors of invalid options,
// which are weir.InvalidOptionErrors worded "postgres: option Table: must
// not be empty". It matches weir.ErrInvalidOption.
var ErrOptions = weir.MarkError(errors.New("postgres: invalid options"), weir.ErrInvalidOption)

// ErrTransactionLost is matched by the error of a committable whose
// prepared transaction is gone without having committed (rolled back by an
// administrator, or by a job that wrongly shares the TransactionPrefix):
// its records are lost. It matches weir.ErrDataLoss.
var ErrTransactionLost = weir.MarkError(errors.New("postgres: prepared transaction of a completed checkpoint lost"), weir.ErrDataLoss)

// ErrPrefixInUse is matched by the error of an ExactlyOnce writer that
// found a live session of another job using its TransactionPrefix: the
// writer would roll back that job's prepared transactions (losing its
// records), so it fails instead, before it touches any. Give each job its
// own prefix. It matches weir.ErrRetriable: a session of an earlier run
// that the server has not yet noticed is gone ends eventually.
var ErrPrefixInUse = weir.MarkError(errors.New("postgres: the exactly-once sink's transaction prefix is in use by another job"), weir.ErrRetriable)

func optionError(option, reason string) error {
	return &weir.InvalidOptionError{Prefix: "postgres", Option: option, Reason: reason, Kind: ErrOptions}
}

// SinkOptions configure a Sink. Table, Columns and Values are required.
type SinkOptions[T any] struct {
	// ConnString is a pgx connection string ("postgres://user@host/db" or
	// "host=... dbname=..."), required.
	ConnString string
	// Table is the table written, optionally schema-qualified
	// ("public.orders"); each part is quoted as an identifier.
	Table string
	// Columns are the columns Values fills, in order.
	Columns []string
	// Values appends the column values of v to dst, one per column in
	// Columns order, and returns dst (pgx encodes them: int64, string,
	// time.Time, []byte, nil for NULL, ...). It is called once per
	// record; no reflection happens per record.
	Values func(dst []any, v T) []any
	// Key names the columns of the table's primary key or of a unique
	// constraint (a subset of Columns). With a Key records are upserted
	// (INSERT ... ON CONFLICT (key) DO UPDATE) and may be deletes; without
	// one they are appended with COPY.
	Key []string
	// Kind, if set (and Key is), gives each record's change kind: +I and
	// +U upsert the row, -D deletes the row with its key, -U is skipped
	// (the +U that follows it overwrites the row), as Flink's upsert JDBC
	// sink does. Nil: every record is an upsert.
	Kind func(v T) row.Kind
	// Guarantee is AtLeastOnce (default), ExactlyOnce or None.
	Guarantee Guarantee
	// TransactionPrefix names the prepared transactions of an ExactlyOnce
	// sink, required for it, and must be unique to the job and sink (as
	// Flink's sink.transactional-id-prefix): subtask s prepares
	// "<prefix>-<s>-<checkpoint>-<nonce>", and after a restore (or a fresh
	// start) rolls back every prepared transaction of its subtasks that
	// the restored checkpoint does not commit. It should stay the same
	// when the job restarts without a checkpoint, so that the new run rolls
	// back what the old one left prepared. Before it rolls back anything, a
	// writer checks that no session of another job (see JobID) uses the
	// prefix and fails with ErrPrefixInUse if one does. Every checkpoint
	// stores the prefix; after a restore the writer also rolls back the
	// leftovers of the prefix the checkpoint was taken with, if it was
	// another.
	TransactionPrefix string
	// JobID identifies the job (or the job and the sink, to also catch
	// two sinks of one job given the same prefix) for the check that no
	// other job uses TransactionPrefix: sessions of the prefix whose job id differs are
	// another job's (see ErrPrefixInUse), sessions with the same one are
	// left by earlier runs of this job and are ended. It should be the same
	// for every run of the job (weir.Environment.JobID when the job is
	// rebuilt with the same id) and must differ between jobs. Default: a
	// random id drawn by NewSink, the same for the restarts of the job in
	// this process.
	JobID string
	// LegacyTransactionPrefix is the prefix a checkpoint taken by a Weir
	// version that did not store it in checkpoints was prepared under (the
	// jdbc connector's old default): after a restore of such a checkpoint
	// the writer rolls back the leftovers of that prefix too. Empty: such
	// checkpoints were taken with TransactionPrefix.
	LegacyTransactionPrefix string
	// CommitTable is the table (created if missing) where an ExactlyOnce
	// sink marks, in each prepared transaction, that it committed; default
	// DefaultCommitTable.
	CommitTable string
	// BatchSize is the number of records buffered before they are written
	// (default DefaultBatchSize).
	BatchSize int
	// FlushInterval, if positive, writes a buffered batch once its first
	// record is that old, checked when records arrive (default 1s; -1: no
	// time limit). Checkpoints flush anyway (except under None).
	FlushInterval time.Duration
	// DeadLetterTable, if set, receives the records the server rejects
	// because of the record itself (NOT NULL, CHECK, foreign key,
	// unique violations of an append, values out of range, values that do
	// not encode), with their description and reason, in the same
	// transaction as the batch, so under the sink's guarantee. The table is
	// created if missing with the columns (source text, field text, reason
	// text, raw bytea, time timestamptz). Empty (default): such a record
	// fails the job with a weir.BadRecordError naming it.
	DeadLetterTable string
	// Codec encodes records for the checkpoint in the one case where an
	// ExactlyOnce upsert sink stages records there instead of in a prepared
	// transaction (see the package documentation); default codec.For[T].
	Codec codec.Codec[T]
	// Describe formats a record for dead letters and errors (default
	// fmt's %+v of the value).
	Describe func(v T) string
	// RetryTimeout bounds how long the sink reconnects, with exponential
	// backoff, after losing its connection before it fails the job
	// (default 1 minute). See the package documentation for what an
	// outage does under each guarantee.
	RetryTimeout time.Duration
	// Registry, if set, receives the sink's metrics (see the package
	// documentation). Sinks of one job may share it.
	Registry prometheus.Registerer
	// Logger receives warnings (nil discards them).
	Logger *slog.Logger
}

// withDefaults checks the options and fills in defaults.
func (o SinkOptions[T]) withDefaults() (SinkOptions[T], error) {
	switch {
	case o.ConnString == "":
		return o, optionError("ConnString", "must not be empty")
	case o.Table == "":
		return o, optionError("Table", "must not be empty")
	case len(o.Columns) == 0:
		return o, optionError("Columns", "must not be empty")
	case o.Values == nil:
		return o, optionError("Values", "must be set")
	case o.Kind != nil && len(o.Key) == 0:
		return o, optionError("Kind", "needs a Key (deletes and updates go by key)")
	case o.Guarantee > None:
		return o, optionError("Guarantee", fmt.Sprintf("unknown guarantee %d", o.Guarantee))
	case o.Guarantee == ExactlyOnce && o.TransactionPrefix == "":
		return o, optionError("TransactionPrefix", "must be set for ExactlyOnce")
	case len(o.TransactionPrefix) > 120 || len(o.LegacyTransactionPrefix) > 120:
		return o, optionError("TransactionPrefix", "must be at most 120 bytes (transaction ids are limited to 200)")
	case o.BatchSize < 0:
		return o, optionError("BatchSize", "must not be negative")
	}
	for _, k := range o.Key {
		if !slices.Contains(o.Columns, k) {
			return o, optionError("Key", fmt.Sprintf("column %q is not in Columns", k))
		}
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = time.Second
	}
	if o.CommitTable == "" {
		o.CommitTable = DefaultCommitTable
	}
	if o.RetryTimeout <= 0 {
		o.RetryTimeout = time.Minute
	}
	if o.Describe == nil {
		o.Describe = func(v T) string { return fmt.Sprintf("%+v", v) }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
