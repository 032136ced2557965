// Package http connects Weir to plain HTTP and WebSocket endpoints: an
// ingest endpoint that takes POSTed records, a source that polls a REST
// endpoint, a WebSocket feed source, and a webhook sink. Import it under
// another name (weirhttp) next to net/http.
//
// Records are JSON: every source splits a body (or message) into records
// and decodes each with a kafka.Deserializer (kafka.JSONSerde[T]{} for
// typed JSON, with its DecodeError naming the field at fault); the sink
// encodes with a kafka.Serializer. These are the serde types of
// connector/kafka, reused rather than reinvented. A body is split as
// follows: a top-level JSON array gives its elements; a body that is one
// other JSON value (an object, even spread over lines) is one record;
// anything else is JSON lines, one record per non-blank line.
//
// # Ingest source
//
// IngestSource listens on IngestOptions.Addr and takes records POSTed to
// Path. Subtask i of a source with parallelism p listens on Addr's port
// plus i (with port 0 each subtask takes a free port; IngestSource.Addr
// tells which), so each subtask has its own listener and a load balancer
// spreads the clients; one listener feeding several subtasks would need
// an exchange the engine already provides after the source (Rebalance).
//
// Each request is decoded in its handler's goroutine and queued whole in
// the subtask's bounded buffer (BufferSize records); the subtask's task
// emits from it. When the buffer is full the request waits up to
// AcceptTimeout for room, then is answered 429 Too Many Requests with a
// Retry-After header: backpressure reaches the client, nothing is dropped.
// A body larger than MaxBodyBytes is answered 413; a method other than
// POST 405. A record that does not decode makes the whole request a 400
// whose body names the line (or array element) and the field, and nothing
// of it is taken, unless ErrorPolicy is weir.DeadLetterTo: then the good
// records are taken and each bad one becomes a weir.DeadLetter whose
// Source names the listener, the request number, the client and the line.
// Every answer is a JSON object {"accepted":n,"rejected":m,"error":...}.
//
// What a 200 promises depends on Ack. AckOnAccept answers as soon as the
// records are in the buffer: fast, but at-most-once across crashes — the
// client was told yes, and records not yet covered by a completed
// checkpoint die with the process. AckOnCheckpoint holds the request until
// a checkpoint that covers every record of it has completed (the reader
// notes which requests were fully emitted before each barrier and answers
// them in NotifyCheckpointComplete): a 200 then means the records are in
// the checkpoint. A client that gets no answer (a crash, its own timeout,
// a 503 at shutdown, a 504 after AckTimeout) must retry, and since the
// records may have been taken the result is at-least-once; a client that
// sends a unique id with each record lets a downstream deduplicate. The
// source stores nothing in checkpoints itself: an HTTP request cannot be
// read again, so a restored job starts with an empty buffer.
//
// Close (job cancellation or failure) stops taking requests, answers the
// requests waiting for room or for a checkpoint 503, and shuts the server
// down, waiting up to ShutdownTimeout for the handlers in flight.
//
// # Polling source
//
// PollSource GETs URL every Interval (subtask 0 only; other subtasks are
// idle) and emits the records of each response. With CursorParam and
// Cursor it is incremental: each request carries the cursor of the last
// record emitted (for example ?after=1234), a response with records is
// followed at once by the next request (pagination), and the cursor is
// stored in checkpoints so that a restored job asks for what follows the
// last record it had emitted: exactly-once for an endpoint that returns
// the records after a cursor in a stable order. The cursor can only pass
// records that decode: a bad last record is fetched again (and dead-
// lettered again) until a good one follows it. Without a cursor every poll
// is emitted as it is, with no guarantee beyond the endpoint's. Network
// errors, 408, 429 (honouring Retry-After) and 5xx are retried with
// backoff; other answers fail the job, naming the URL and status.
//
// # WebSocket source
//
// WebSocketSource (github.com/coder/websocket) connects to URL (subtask 0
// only), sends Subscribe after every connect, and emits each message as a
// record. When the connection drops it reconnects with exponential
// backoff and subscribes again. A feed has no replay: messages sent while
// the source is disconnected, and messages read but not yet covered by a
// completed checkpoint when the process dies, are lost. The guarantee is
// at-most-once, and the source stores nothing in checkpoints. While the
// buffer (BufferSize messages) is full the source stops reading, so the
// server sees TCP backpressure.
//
// # Webhook sink
//
// WebhookSink POSTs batches of records (a JSON array, or JSON lines) to
// URL: a batch is sent when it holds BatchSize records or BatchBytes
// bytes, on every checkpoint barrier, at the end of input, and, with
// FlushInterval, when its first record has waited that long (sent by a
// goroutine of the writer, under the writer's lock); the sink waits for
// the answer, so a slow receiver backpressures the job.
// Network errors, 408, 429 and 5xx are retried with exponential backoff
// (a longer Retry-After is honoured), up to MaxAttempts (default: until
// the job is cancelled). Other 4xx answers fail the job with a
// RejectedError naming the batch, or with DeadLetters send each record of
// the batch to that sink as a weir.DeadLetter. The guarantee is
// at-least-once: a checkpoint completes only after its batches were
// taken, and after a failure the records since the last checkpoint are
// sent again.
//
// Every batch carries an Idempotency-Key header from BatchKeys,
// KeyPrefix-subtask-epoch-offset+count: the epoch names the last
// checkpoint before the batch and the run of the writer that took it
// ("7.9f3a01c2" after checkpoint 7 taken by a run whose random part is
// 9f3a01c2; "0.9f3a01c2" before the first checkpoint of a writer that
// did not restore, so that two jobs never share keys, and a restart
// before the first checkpoint sends its batches under new keys), offset counts the
// records sent since, and count is the batch's size. The
// writer learns the epoch of the checkpoint it was restored from through
// the two-phase-commit hooks (PreCommit stages the label; Commit, called
// again after a restore, reads it back), so a restored job whose input
// replays in the same order (a Kafka partition, a file) sends the same
// records under the same keys, and a receiver that drops keys it has seen
// drops those repeats. A key never names other records: a batch the failed
// run cut short on a barrier whose checkpoint did not complete, and the
// batches after it, come again under other keys (offset+count differ, and
// the random part keeps apart two runs that each take a checkpoint with
// the same id at different places), so such repeats are not caught, and
// neither are those of time-cut batches (FlushInterval) or of a restore
// at another parallelism. The guarantee is therefore at-least-once, with
// most repeats removable by the receiver; never a lost record.
//
// # Concurrency
//
// Readers and writers follow weir's contracts: Poll, Write, Flush and the
// checkpoint hooks run on the subtask's goroutine (a webhook writer with
// FlushInterval also sends from its own goroutine, under a lock). The
// ingest source's HTTP handlers, the polling goroutine and the WebSocket
// reading goroutine are owned by their reader, hand records over through
// a bounded buffer, signal weir.Availability, and are stopped and waited
// for in Close.
// Metrics go to the Registry given in the options (nil: none).
package http
