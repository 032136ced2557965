// Package clickhouse writes to ClickHouse tables over the server's HTTP
// interface: each batch is one INSERT INTO db.table FORMAT JSONEachRow
// request whose body holds one JSON object per row, keyed by column name.
// It needs no driver and works with every server version that has the
// HTTP interface (tested against Debian's ClickHouse 18.16).
//
// # Batches and guarantee
//
// A Sink's writer collects rows (encoded with a kafka.Serializer, usually
// kafka.JSONSerde[T]{}) and sends a batch when it holds BatchSize rows or
// BatchBytes bytes, on every checkpoint barrier, at the end of input and,
// with FlushInterval, when its first row has waited that long;
// optionally gzip-compressed. The writer waits for the answer, so a slow
// server backpressures the job, and a checkpoint completes only after its
// rows were inserted. The guarantee is at-least-once: after a failure the
// rows since the last completed checkpoint are inserted again, and an
// INSERT retried after a lost answer may have been applied already.
//
// Duplicates can be absorbed by the table or the server:
//
//   - A ReplacingMergeTree ordered by the rows' key keeps one row per key
//     after merges (query with FINAL, or argMax, to see one before).
//   - Replicated*MergeTree tables deduplicate an inserted block whose data
//     hash equals one of the last replicated_deduplication_window blocks
//     (insert_deduplicate=1, the default), in 18.16 too. The sink cuts
//     batches by count and bytes (unless FlushInterval is set), so a batch
//     repeated after a retry, or after a restore whose input replays in
//     the same order, is the same block and is dropped. Plain MergeTree
//     tables do this only from the versions that have
//     non_replicated_deduplication_window (not 18.16).
//   - Newer servers (22.x and later) take an insert_deduplication_token:
//     with Options.DeduplicationToken each INSERT carries its batch key
//     from weirhttp.BatchKeys, KeyPrefix-subtask-epoch-offset+count, which
//     names the same rows whenever a restored writer sends them again (it
//     learns its checkpoint's epoch through the two-phase-commit hooks)
//     and never other rows. ClickHouse 18.16 refuses the setting ("Unknown
//     setting insert_deduplication_token", code 115): the job fails.
//
// Either way a repeat is dropped only when it is the same rows: the batch
// that the failed run cut short on a barrier whose checkpoint did not
// complete, and the batches after it, are inserted again as other blocks
// under other keys, so those repeats stay (at-least-once, never a lost
// row).
//
// # Errors
//
// The writer tells errors apart by ClickHouse's error code in the answer
// ("Code: 27, e.displayText() = ..."), since 18.16 answers 500 to most of
// them. Network errors, 5xx answers without a code, and codes that pass
// (timeouts, too many parts, memory limit, too many simultaneous queries)
// are retried with exponential backoff, up to MaxAttempts (default: until
// the job is cancelled). Parse and type errors (codes 6, 26, 27, 33, 38,
// 41, 53, 70, 72, 117, ...) are about a row: ClickHouse names it ("(at row
// 3)"). Without DeadLetters the job fails with a RowError naming the
// table, the batch key, the row and the server's reason; with DeadLetters
// the row becomes a weir.DeadLetter and the rest of the batch is inserted
// again without it (one more request per bad row; a row the server does
// not name is found by inserting the batch's rows one by one). An INSERT
// of at most max_insert_block_size rows (1048576 by default, far above
// DefaultBatchSize) is one block, applied whole or not at all, so no row
// of a refused batch is inserted twice. Other errors (unknown table,
// database, setting or user) fail the job with a ServerError.
//
// # Concurrency
//
// A writer is used by its subtask's goroutine; with FlushInterval it
// starts one goroutine, which sends under the writer's lock and is
// stopped and waited for in Close. Metrics go to Options.Registry (nil: none).
package clickhouse
