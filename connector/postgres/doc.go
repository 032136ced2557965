// Package postgres writes streams to PostgreSQL tables and looks rows up
// in them, with pgx: a Sink (Flink's JDBC sink, append or upsert, with
// at-least-once or exactly-once delivery) and a Lookup with a partial cache
// (Flink's lookup join source with lookup.cache = PARTIAL).
//
// # Sink
//
// A Sink writes the columns SinkOptions.Values gives for each record (a
// user function: no reflection per record) to one table. Without a Key
// the records are appended with COPY; with a Key (the columns of the
// primary key or a unique constraint) each record is an upsert, INSERT ...
// ON CONFLICT (key) DO UPDATE, sent in one pipelined pgx.Batch per batch of
// records, in order. With SinkOptions.Kind the stream is a changelog
// (row.Kind): +I and +U upsert, -D deletes by key, -U is skipped, as in
// Flink's upsert JDBC sink. Records are buffered and written BatchSize at
// a time (or when the first buffered one is FlushInterval old, checked as
// records arrive).
//
// Measured on the test machine (BenchmarkSink, see docs/connectors.md),
// appends with COPY run at 0.7–1.1× a plain pgx COPY of the same rows;
// upserts through the pipelined batch at 0.2–0.4×. A COPY into a
// temporary table followed by INSERT ... SELECT ... ON CONFLICT is 1.7–3.7×
// faster for upserts (BenchmarkUpsertCopyMerge), but the sink does
// not use it: PostgreSQL cannot PREPARE a transaction that touched a
// temporary table, and it needs each batch reduced to one row per key.
//
// Guarantees:
//
//   - AtLeastOnce (default): every batch is written in a transaction of
//     its own; the buffer is written on every checkpoint barrier, so a
//     completed checkpoint covers every record before it. After a failure
//     the records since the restored checkpoint are written again: with a
//     Key the upserts make that idempotent, appends are duplicated.
//   - None: as AtLeastOnce, but checkpoints do not flush; buffered records
//     are lost in a failure.
//   - ExactlyOnce: two-phase commit with PostgreSQL's prepared
//     transactions (the server needs max_prepared_transactions > 0;
//     scripts/test-services.sh sets 64). Between two checkpoint barriers
//     the writer's records go into one transaction on its data connection.
//     On the barrier (PreCommit) the writer inserts a marker row
//     (gid, prefix, subtask, checkpoint) into the commit table
//     (SinkOptions.CommitTable, created if missing) and runs PREPARE
//     TRANSACTION gid, gid being "<TransactionPrefix>-<subtask>-<checkpoint>-
//     <nonce>"; the prepared transaction is durable and survives the
//     process. The checkpoint stores the gid. When the checkpoint
//     completes, and again after every restore of it, the writer runs
//     COMMIT PREPARED gid on a second connection; if the gid is no longer
//     prepared, the marker row tells whether it committed (nothing to do)
//     or was rolled back by someone else (ErrTransactionLost, a
//     weir.ErrDataLoss). Before it writes anything after a start or a
//     restore, each writer lists pg_prepared_xacts and rolls back (ROLLBACK
//     PREPARED) every transaction of TransactionPrefix whose subtask s maps
//     to it (s mod parallelism == its index) and that the restored
//     checkpoint did not name — the engine has committed those already
//     when it opens the writer — so a checkpoint that never completed
//     holds no locks and is never committed; its records are replayed
//     from the restored source positions. It also ends (pg_terminate_backend)
//     sessions that earlier runs of those subtasks left on the server —
//     their application_name is "weir-sink <hash of the prefix> <subtask>
//     <hash of SinkOptions.JobID>" — whose open transaction could
//     otherwise hold row locks until the server notices the client is gone
//     (this needs superuser or pg_signal_backend; without it, a warning).
//     The prefix must be unique to the job: before it ends a session or
//     rolls back a transaction, the writer looks for sessions of its prefix
//     of another job (another JobID), waits up to 10 seconds for them to
//     end (a run that just died), and fails with ErrPrefixInUse if they do
//     not, touching nothing. Every checkpoint also stores a marker naming
//     the prefix, and a restore rolls back the leftovers of the prefix the
//     checkpoint was taken with as well (for checkpoints of earlier
//     versions, without markers: the prefix of their gids, or
//     LegacyTransactionPrefix).
//
// Why this design and not a commit table alone (rows and a marker written
// in one ordinary transaction when the checkpoint completes, the rows
// staged in the checkpoint until then): both are exact under a SIGKILL at
// any instant — a prepared transaction either is in the restored
// checkpoint (committed then, idempotently) or not (rolled back, replayed);
// a marker decides the commit table's case. Prepared transactions keep
// checkpoints small (a gid, not the rows) and, above all, check
// constraints while records are written, before the checkpoint
// completes: a record the table rejects fails the job (or goes to the
// dead-letter table) before the checkpoint, whereas a commit that fails
// after its checkpoint completed fails again after every restore.
//
// One case uses staging in the checkpoint after all. A prepared
// transaction keeps its rows locked until COMMIT PREPARED, which runs in
// the same task as the writes: an upsert writer that wrote a key again
// before the previous checkpoint's commit would wait for itself forever.
// So while a transaction it prepared awaits its commit, an upsert writer
// buffers records instead of writing them; and if the next barrier comes
// first (the checkpoint completion travels separately from the barriers,
// and the final checkpoint of a bounded job follows at once), the buffered
// records are encoded with SinkOptions.Codec (default codec.For[T]) into
// that checkpoint's committable, and Commit writes them, in order after
// the earlier transaction, in one ordinary transaction together with their
// marker row, skipping them if the marker is already there. Records
// staged so are checked by the server only at that commit: a rejected one
// goes to the dead-letter table, or, without one, fails the commit (again
// after every restore, until the table accepts it or a dead-letter table
// is configured). For types codec.For cannot encode, the records are
// written in a new transaction with a 2 s lock_timeout instead, which fails
// the job (to restore) if they change a row the earlier transaction holds.
// Appends (no Key) never wait on earlier transactions and are always
// written directly.
//
// # Outages
//
// Connections are made lazily, with exponential backoff (100 ms doubling
// to 5 s) for up to SinkOptions.RetryTimeout (default 1 minute); after
// that the error is weir.ErrRetriable and the job's restart strategy
// takes over.
//
//   - AtLeastOnce / None: a batch whose connection breaks is written again
//     in full on a new connection (its transaction either committed or
//     not; if the COMMIT's answer was lost it may land twice).
//   - ExactlyOnce: the transaction open on a broken connection is rolled
//     back by the server; its records exist only there, so the writer
//     fails (weir.ErrRetriable) and the job restores its last checkpoint
//     and replays them, as Flink does. PREPARE TRANSACTION on a broken
//     connection fails the checkpoint the same way. Prepared transactions
//     are not tied to a connection: COMMIT PREPARED and ROLLBACK PREPARED
//     retry on a new connection until the server answers (or
//     RetryTimeout), and a commit that cannot be done is done again after
//     the restore. Nothing is lost silently.
//
// # Bad records
//
// A batch is written under a savepoint. If the server rejects it for a
// reason of a record — a data exception (SQLSTATE class 22, such as a
// value out of range or not of the column's type), an integrity
// constraint violation (class 23: NOT NULL, CHECK, foreign key, a unique
// violation of an append), or a value pgx cannot encode — the writer rolls
// back to the savepoint and writes the batch record by record, each under
// its own savepoint, to find the rejected ones. By default the first fails
// the job with a weir.BadRecordError naming the table, the subtask, the
// record (SinkOptions.Describe) and the reason with its SQLSTATE. With
// SinkOptions.DeadLetterTable each goes to that table (source, field,
// reason, raw: the record's column values as JSON, time) in the same
// transaction as the batch, so under the sink's guarantee, and the others
// are written. Other errors (a missing table, a lost connection) are not
// blamed on records.
//
// # Lookup
//
// A Lookup runs a query with a key's values as arguments on a pgxpool and
// returns the key's rows (SinkOptions-like LookupOptions: Query, Args,
// Scan). Its cache keeps up to CacheMaxRows keys, evicting the least
// recently used, each for CacheTTL after it was loaded; keys without rows
// are cached when CacheMissingKeys is set. Concurrent misses of one key
// share one query. A failed query is retried MaxRetries times (default
// 3) with backoff when the failure is the connection's; the error after
// that is weir.ErrRetriable. Get is the plain call; AsyncInvoke is the
// same with the signature of weir.AsyncFunction, so a Lookup can be given
// to weir.OrderedWait or weir.UnorderedWait. A lookup sees the table as it
// is when a key is loaded: like Flink's lookup join it has no guarantee
// tied to checkpoints (processing-time semantics; a restored job may see
// newer rows).
//
// # Metrics
//
// With SinkOptions.Registry: weir_postgres_sink_rows_total,
// weir_postgres_sink_dead_letters_total, weir_postgres_sink_reconnects_total,
// weir_postgres_sink_commits_total and the histogram
// weir_postgres_sink_flush_seconds, labelled by table. With
// LookupOptions.Registry: weir_postgres_lookup_cache_hits_total,
// weir_postgres_lookup_cache_misses_total,
// weir_postgres_lookup_load_errors_total and the histogram
// weir_postgres_lookup_load_seconds, labelled by LookupOptions.Name.
//
// # Concurrency
//
// A sink writer belongs to its subtask's goroutine and starts no
// goroutines; it holds one data connection, and an exactly-once writer a
// second one for commits. A Lookup is safe for concurrent use: its cache
// is guarded by a mutex, and the pool bounds the connections.
package postgres
