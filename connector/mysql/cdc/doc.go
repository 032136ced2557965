// Package cdc is a change-data-capture source for MariaDB (and, for
// streaming only, MySQL): a snapshot of the chosen tables, then their
// changes from the binlog, each exactly once across failures, as Flink
// CDC's mysql-cdc source.
//
//	changes := weir.FromSource[cdc.Change](env, cdc.NewSource(cdc.Options{
//		Addr:   "127.0.0.1:3306",
//		Tables: []string{"shop.orders", "shop.customers"},
//	}), weir.NoWatermarks[cdc.Change](), "mysql")
//
// Each record is a Change: the operation (r snapshot read, c insert,
// u update, d delete, with Flink's row kinds from Op.RowKinds), the
// table, the row Before and After as Go values (see Change for the type
// of each column type), the event time and the binlog Position.
// Change.Debezium gives the fields of a Debezium envelope; this package
// does not depend on a Debezium format package.
//
// # Startup modes
//
// Initial (the default) snapshots the tables, then streams the binlog;
// Latest streams from the current end of the binlog; SpecificOffset from
// a binlog file and offset or a GTID position. A job restored from a
// checkpoint resumes from the checkpoint's position whatever the mode.
//
// # Snapshot and hand-over
//
// The snapshot reads each table in chunks of Options.ChunkSize rows in
// primary-key order (tables whose key is not one integer column in one
// chunk). Each chunk is read in its own transaction opened with START
// TRANSACTION WITH CONSISTENT SNAPSHOT; MariaDB reports the binlog
// position S that this snapshot is consistent with (the session status
// binlog_snapshot_file and binlog_snapshot_position), so the chunk is the
// table's state at S exactly, without any lock. One binlog reader, started
// before the first chunk, is then read up to S: a change of a row whose key
// is at or below the bound of the chunks already emitted is emitted; any
// other is already in this chunk or will be in a later one, and is
// skipped. Then the chunk's rows are emitted as reads and the bound moves
// to the chunk's last key. Once every table is read, every change is
// emitted. So each row appears once in the snapshot, every change after
// its snapshot exactly once, in binlog order, and nothing is locked.
//
// This replaces both designs Flink CDC offers: FLUSH TABLES WITH READ
// LOCK for the whole snapshot blocks writers and cannot checkpoint inside
// the snapshot; the lock-free incremental snapshot needs a low and a high
// watermark per chunk and a merge of the binlog between them. MariaDB's
// snapshot position makes the chunk exact, so neither is needed. MySQL
// has no such position: with MySQL only Latest and SpecificOffset work
// (and that path is not tested here: the test server is MariaDB).
//
// # Positions and checkpoints
//
// The checkpointed position is a binlog file and offset, the GTID
// position before it (MariaDB domain-server-seq; MySQL GTID sets where
// the server has them) and, inside a transaction, the start of the
// transaction and the number of its row changes already emitted; during
// the snapshot also the table and key bound reached. A snapshot chunk is
// emitted whole between two checkpoints. A restore (or a reconnect)
// starts the binlog at the transaction's start, by GTID where known
// (Options.ResumeByPosition: by file and offset), and skips the row
// changes already emitted, as Debezium does: a checkpoint in the middle
// of a big transaction neither loses nor repeats a row. Each row change
// of the transaction counts, captured or not, so the count is the same
// when the transaction is read again.
//
// # Guarantee
//
// Exactly-once with an exactly-once sink: the position in the checkpoint
// is exactly what was emitted before the barrier. The source runs with
// parallelism 1 (one binlog reader, as Flink CDC's binlog phase).
//
// # Schema
//
// Table schemas are read from information_schema when the source starts;
// each table needs a primary key. DDL while the job runs is not followed:
// a binlog row whose column count differs from the schema read at start
// fails the job with an error saying so (restart without the checkpoint
// for a new snapshot). A type change that keeps the column count is not
// detected. The binlog must be ROW format with binlog_row_image FULL.
//
// # Failures
//
// A lost connection is retried forever with exponential backoff
// (Options.MinBackoff to MaxBackoff) from the last position handed over;
// heartbeats (HeartbeatPeriod) and ReadTimeout detect a silent one. Errors
// retrying cannot fix (a missing table, a table without primary key, a
// column count change, a binlog position the server no longer has, MySQL
// with Initial) fail the job. A row the source
// cannot convert (a zero date, an enum index outside the column's values)
// fails the job naming its position, or with weir.DeadLetterTo goes to the
// dead-letter side output with its position, column and raw values.
//
// # Metrics
//
// With Options.Registry: weir_mysql_cdc_events_total{op} (changes
// emitted), weir_mysql_cdc_lag_seconds (now minus the timestamp of the
// last binlog event emitted; second precision),
// weir_mysql_cdc_reconnects_total and weir_mysql_cdc_dead_letters_total.
//
// # Concurrency
//
// A goroutine owned by the reader connects, reads the snapshot chunks and
// the binlog and hands batches of changes, each with the position after
// it, to the reader through a bounded channel (the backpressure); Poll,
// SnapshotState and Close run on the subtask's goroutine, and Close waits
// for the reading goroutine.
package cdc
