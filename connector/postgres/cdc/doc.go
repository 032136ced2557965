// Package cdc is a PostgreSQL change-data-capture source (Flink CDC's
// postgres-cdc, Debezium's PostgreSQL connector): it reads a snapshot of
// the chosen tables, then every insert, update and delete committed to
// them, from a logical replication slot with the pgoutput plugin
// (wal_level=logical on the server). It emits one Change per row change,
// with the row before and after, the commit LSN and time; Change.Kinds
// gives the changelog row kinds (+I, -U/+U, -D) and AppendDebezium the
// Debezium JSON event (package format/debezium reads it into rows).
//
// # Snapshot and hand-over
//
// On a fresh start the source creates the slot (pgoutput) with
// CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT and reads the tables in a
// REPEATABLE READ transaction that SET TRANSACTION SNAPSHOT to the
// exported snapshot, table by table in primary-key order (pages of
// SnapshotFetchSize rows, keyset pagination; strings ordered COLLATE "C").
// The snapshot is consistent with the slot's consistent point C, and the
// stream then starts at C: a transaction committed before C is in the
// snapshot and not streamed, one committed after is streamed and not in the
// snapshot. No gap, no duplicate (Debezium does the same).
//
// # Positions in checkpoints
//
// The reader's checkpoint state (one item) holds: the phase; C; the table
// the snapshot is in and the primary key of the last row it emitted;
// the regions read from later snapshots (below); Done, the end LSN of the
// last transaction wholly emitted (or of a keepalive's WAL position while
// no transaction is open); and, for a checkpoint in the middle of a
// transaction, its commit LSN and how many of its changes were emitted.
//
// A crash during the snapshot resumes it without duplicates, from the key
// after the last one emitted, not from scratch: the exported snapshot died
// with its connection, so the rest is read from a new snapshot, exported
// by a temporary slot so that its LSN S is exact; the position records
// the boundary "rows after key k of table t, and later tables, read at S".
// The stream still starts at C (the slot's confirmed position does not
// move before streaming), and a streamed change of a row in that region
// committed at or before S is skipped, since the row as read holds it
// (an update that moved a row across the boundary becomes the insert or
// delete of the side read before it). This is how Flink CDC's incremental
// snapshot merges a chunk read at a high watermark with the stream. For a
// key of that region, downstream sees the row as of S rather than as of C
// followed by the changes in between: the changelog it gets is still
// complete (applying it in order gives every later state and the table's
// current one) and holds no change twice, as with any snapshot.
//
// A crash while streaming resumes from the restored Done: the slot is
// asked to start there, and the reader skips transactions committed before
// it and the changes of a half-emitted transaction emitted before. The
// position is therefore the LSN of a commit plus an index within its
// transaction, and a checkpoint may fall inside a transaction without
// loss or duplication.
//
// # Confirming the slot
//
// The slot's confirmed_flush position advances only to what a completed
// checkpoint covers: NotifyCheckpointComplete hands the checkpoint's Done
// to the replication goroutine, whose standby status updates report it
// (every StatusInterval, and when the server asks). WAL the job may still
// need after a failure is kept until then. An idle slot still advances:
// keepalives carry the server's WAL position, which becomes Done when no
// transaction is open; HeartbeatQuery can write to a table of the
// publication to make WAL for a database with none of its own.
// Restoring a checkpoint older than the last completed one (a savepoint)
// cannot rewind the slot: the source then fails with an error rather than
// skip changes. A fresh start (no checkpoint) drops a slot of the same name
// left by an earlier run and creates it anew.
//
// # Guarantee
//
// Exactly-once with a transactional (two-phase commit) sink: every change
// committed after the snapshot reaches the sink once, in commit order (per
// key, and overall), across crashes, restarts and lost connections; a
// row's snapshot read comes before its changes. With other sinks,
// at-least-once.
//
// # Row images and replica identity
//
// With REPLICA IDENTITY FULL, updates and deletes carry the whole old row
// and an update is -U then +U. With DEFAULT (the primary key), PostgreSQL
// logs only the old key: a delete carries the key (BeforeKeyOnly), and an
// update carries no old row, so it is only +U — an upsert stream keyed by
// the primary key, as Flink CDC's postgres-cdc emits (Flink adds
// ChangelogNormalize to make -U from the last row per key). TOASTed
// columns an update did not touch are Unavailable unless the old row has
// them (FULL). TRUNCATE is logged, not emitted.
//
// # Values
//
// Column values decode from their text form (the session runs with
// TimeZone UTC and DateStyle ISO): see Change for the Go type of each
// PostgreSQL type. A value that does not decode (an infinite date, a
// year-0 timestamp) makes the whole change a dead letter under
// ErrorPolicy (by default it fails the job), with Source naming the table
// and the position ("table public.t lsn 0/1A2B3C change 2", "table
// public.t snapshot key (17)") and Field the column.
//
// # Connections and failures
//
// A goroutine owned by the reader does the I/O: a replication connection
// for the slot, ordinary ones for the snapshot and heartbeats. A lost
// connection is reopened with exponential backoff (MinBackoff doubling
// to MaxBackoff) and the reader goes on from what it handed over, without
// gap or duplicate; errors that retrying cannot fix (authentication, a
// missing table, slot or primary key) fail the job. The reader runs at
// parallelism 1 (one slot, one stream in commit order).
//
// Creating a slot waits until every transaction running at that moment
// has ended, prepared transactions included: an abandoned PREPARE
// TRANSACTION blocks a fresh start until it is committed or rolled back.
//
// # Metrics
//
// With Options.Registry: weir_postgres_cdc_events_total (changes
// emitted), weir_postgres_cdc_snapshot_rows_total and
// weir_postgres_cdc_lag_bytes (server WAL end minus the last position
// emitted), labelled with the slot.
package cdc
