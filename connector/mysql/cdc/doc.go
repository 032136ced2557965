// Package cdc is a change-data-capture source for MariaDB and MySQL: a
// snapshot of the chosen tables, then their changes from the binlog, each
// exactly once across failures, as Flink CDC's mysql-cdc source. (Only
// MariaDB was available to test against; see Snapshot algorithms.)
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
// chunk). One binlog reader, started before the first chunk, runs
// alongside: a change of a row whose key is at or below the bound of the
// chunks already emitted is emitted; any other is in a chunk still to
// emit. Each chunk is made exact at a binlog position P (see below), the
// reader is read up to P, the chunk's rows are emitted as reads and the
// bound moves to the chunk's last key. Once every table is read, every
// change is emitted. So each row appears once in the snapshot, every
// change after its snapshot exactly once, in binlog order, and nothing is
// locked.
//
// # Snapshot algorithms
//
// Options.SnapshotAlgorithm chooses how a chunk is made exact.
//
// ConsistentSnapshot reads the chunk in its own transaction opened with
// START TRANSACTION WITH CONSISTENT SNAPSHOT; MariaDB reports the binlog
// position P that this snapshot is consistent with (the session status
// binlog_snapshot_file and binlog_snapshot_position), so the chunk is the
// table's state at P exactly. Changes the reader meets up to P of keys in
// the chunk's range are already in it and are skipped.
//
// WatermarkSnapshot is Flink CDC's incremental snapshot (the low and high
// watermark chunk algorithm), for servers without such a position (MySQL).
// The low watermark L is the reader's position: the previous chunk's high
// watermark, or the start. The chunk's SELECT runs (one statement, its own
// read view), then the high watermark H is the server's current binlog
// position (SHOW MASTER STATUS, or SHOW BINARY LOG STATUS where the server
// has only that, as MySQL 8.4). The reader is read from L to H: changes of
// keys at or below the bound are emitted as usual; changes of keys in the
// chunk's range (above the bound, up to the chunk's last key; the last
// chunk of a table has no upper end) are applied to the chunk's rows, an
// insert or an update's new image replacing the key's row, a delete or an
// update's old image removing it (a key update moves the row); changes of
// keys above the range are left to later chunks. The SELECT saw every
// change before L and none after H, and applying again a change it saw
// gives the same row, so the corrected chunk is the table's state of its
// range at H; it is emitted as reads at H. Flink CDC's low watermark is
// the server's position just before the SELECT; the reader's position is
// at or before it, which only widens the window.
//
// The SELECT does not always see every transaction before L: the server
// writes a transaction to the binlog and sends it to the binlog readers
// before it commits it in the engine, so for an instant the reader has a
// change no new read sees (measured on the test server under load: about
// one update in forty, looked up as soon as a binlog reader had it, was
// not visible yet; Flink CDC's window has the same gap). Such a change of a row of a later chunk,
// read before that chunk's L, would be in neither its SELECT nor its
// window. So the reader keeps the last change of each row above the bound
// (one row image per row changed during the snapshot and not snapshotted
// yet, in memory), and a chunk's window applies those of its range first,
// then the binlog from L: the chunk is exact as long as the SELECT sees
// the transactions the reader read before it started, at a fresh start or
// a restore, rather than before each chunk. The chunk's rows are held in
// memory until H.
//
// AutoSnapshot (the default) takes ConsistentSnapshot when the server
// reports binlog_snapshot_file (MariaDB), WatermarkSnapshot otherwise.
// Both emit the same rows and have the same checkpoint format and the
// same hand-over: a job restored with the other one goes on. Both are tested
// here on MariaDB only (the watermarks by forcing them): MySQL itself,
// its SHOW BINARY LOG STATUS and its GTID sets were not available to test
// against.
//
// Flink CDC's other design, FLUSH TABLES WITH READ LOCK for the whole
// snapshot, blocks writers and cannot checkpoint inside the snapshot; it
// is not offered.
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
// heartbeats (HeartbeatPeriod) and ReadTimeout detect a silent one once
// the binlog stream is positioned; before, while the server seeks the
// start position (by GTID MariaDB scans the binlog file and sends
// nothing), only SeekTimeout applies. A reconnection to the same server
// resumes by file and offset, a restore by GTID (see
// Options.ResumeByPosition). Errors
// retrying cannot fix (a missing table, a table without primary key, a
// column count change, a binlog position the server no longer has,
// ConsistentSnapshot on a server without binlog_snapshot_position) fail
// the job. A row the source
// cannot convert (a zero date, an enum index outside the column's values)
// fails the job naming its position, or with weir.DeadLetterTo goes to the
// dead-letter side output with its position, column and raw values.
//
// # Metrics
//
// With Options.Registry: weir_mysql_cdc_events_total{op} (changes
// emitted), weir_mysql_cdc_lag_seconds (now minus the timestamp of the
// last binlog event emitted; second precision),
// weir_mysql_cdc_reconnects_total, weir_mysql_cdc_dead_letters_total and
// weir_mysql_cdc_xa_prepared (XA transactions prepared, their decision not
// read yet, whose changes the source holds).
//
// # Concurrency
//
// A goroutine owned by the reader connects, reads the snapshot chunks and
// the binlog and hands batches of changes, each with the position after
// it, to the reader through a bounded channel (the backpressure); Poll,
// SnapshotState and Close run on the subtask's goroutine, and Close waits
// for the reading goroutine.
//
// # XA transactions
//
// An XA transaction's changes take effect at its XA COMMIT and are
// dropped at its XA ROLLBACK (see xa.go); the prepared ones are held in
// the checkpointed position. A fresh start also holds those prepared
// before its start position: it asks XA RECOVER and reads the binlog
// backwards from the start position for their prepare groups (see
// xastart.go and docs/connectors.md).
package cdc
