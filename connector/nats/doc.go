// Package nats reads and writes NATS JetStream streams with nats.go's
// jetstream package: a Source that brings every stored message into
// Weir's state exactly once, and a Sink whose output is exactly once
// within the stream's duplicate window.
//
// # Source
//
// A Source reads one stream through a durable pull consumer (explicit
// acks), created on demand with SourceOptions (and the stream too, if
// Subjects are given). Every subtask fetches from the same consumer, so
// the server spreads the messages over the subtasks as they ask for them
// (no subject partitioning to configure, and any parallelism works, also
// after a restore).
//
// Invariants:
//
//   - A message is acked only after the checkpoint whose barrier followed
//     its emission completed (weir.CheckpointListeningReader): until then
//     the server keeps it pending, and a crash makes it come back.
//   - Every checkpoint holds, per subtask, the stream sequences of the
//     messages it emitted (or dead-lettered) that lie above the
//     consumer's ack floor, read from the server every second: a message
//     at or below the floor is acked and never delivered again.
//   - After a restore every subtask knows the union of the restored
//     sequences: a redelivered message among them is already in the
//     restored state, so it is dropped and acked at once. Each restored
//     sequence is carried on in the checkpoints of the subtask
//     sequence mod parallelism until the ack floor passes it, so a
//     restore at any parallelism, and a crash before those acks reached
//     the server, are both covered.
//   - While the job runs, a redelivery (an ack lost in an outage, AckWait
//     exceeded) is dropped too: the readers of one job share a registry
//     of the sequences fetched and not yet below the ack floor. The
//     reader that fetched a message emits it; when it closes, the
//     sequences it fetched that are neither acked nor restored leave the
//     registry (no completed checkpoint holds them), so a reader of the
//     next run that shares the registry emits their redeliveries. (The
//     registry is new for a run that starts with no reader open, as the
//     runtime does after a failure; this covers a run opened before the
//     last reader of the failed one closed.)
//
// Together these make the source exactly-once into Weir's state: each
// message of the stream is part of the state of the latest completed
// checkpoint at most once, and, once the job has run past it, exactly
// once. The conditions: the stream retains messages until they are acked
// (limits or work-queue retention, no MaxAge/MaxMsgs shorter than a
// checkpoint interval plus AckWait), the job owns its consumer, and the
// job restores its latest checkpoint (restoring an older savepoint than
// the acks sent since loses the messages acked after it, as with any
// queue: they are not redelivered).
//
// "Once the job has run past it" matters when checking a job: a message
// that a failed run fetched and no completed checkpoint holds was not
// acked, so the server hands it out again only AckWait after that fetch,
// and it enters the state then, after messages published later (a
// message sent as soon as the restored job is up can be summed before
// it). Since a message is acked only once a completed checkpoint holds it
// in the state, a message at or below the consumer's ack floor is in the
// state of the latest completed checkpoint: wait for the floor to pass
// the input before comparing the state with it.
//
// AckWait and the checkpoint interval: a message waits for its
// checkpoint to complete before it is acked. The fetch goroutine sends
// in-progress acks (+WPI) for messages older than AckWait/3, so slow
// checkpoints do not cause redeliveries; still choose AckWait well above
// the checkpoint interval. AckWait is also how long the messages that a
// crashed run fetched and did not ack stay invisible: a restored job sees
// them again only after AckWait (the default, 30s, suits production; the
// tests use 1–2s). MaxAckPending (over all subtasks) must exceed the
// messages read in one checkpoint interval, or the source waits for each
// checkpoint.
//
// Messages are fetched in batches of FetchBatch by a goroutine per
// reader and handed to the task through a buffer of Buffer batches (a
// full buffer stops fetching: backpressure). Records carry the stream's
// store time as their timestamp. Messages the Deserializer rejects go to
// the ErrorPolicy: the job fails, or a weir.DeadLetter naming "stream S
// seq N" goes to the dead-letter side output; either way the message
// counts as emitted (acked with its checkpoint).
//
// # Sink
//
// A Sink publishes each record asynchronously with a Nats-Msg-Id header
// and waits for the server's acks when MaxInFlight are pending, on every
// checkpoint barrier (the checkpoint completes only once every message
// before it is stored) and at the end. A publish whose ack does not come
// (timeout, lost connection) is sent again with the same id; the stream
// stores it once.
//
// After a restore the records since the restored checkpoint are written
// again; the stream drops those whose id it stored within its duplicate
// window (StreamConfig.Duplicates, default 2 minutes; a stream the sink
// creates gets DuplicateWindow). With MsgID deriving the id from the
// record (a key and a sequence, say) this is exactly-once whatever the
// order of the replay, provided the restore happens within the window.
// The default id, IDPrefix/subtask/chain/seq (seq: the record's position
// in the subtask's input, carried through checkpoints; a restore at
// another parallelism starts a new chain), is the same only if the replay
// is the same sequence of records at the same subtask: a deterministic
// pipeline from a replayable, ordered source (files, Kafka); use MsgID
// otherwise. It does not depend on where checkpoint barriers fell, so a
// checkpoint that did not complete changes nothing. The chain of a job
// that did not restore is random to its Sink value (its restarts reuse
// it), so two jobs, or two runs of one, never share ids even with the same
// IDPrefix; a job started again in a new process before its first
// checkpoint completed writes its records again under new ids. The
// stored message is the one of the first attempt. Beyond the duplicate
// window the sink is at-least-once.
//
// Records the Serializer fails on, and messages the server or client
// refuses for themselves (larger than max payload, rejected by the
// stream), fail the job with an error naming them (wrapping
// weir.ErrBadRecord) or, with DeadLetters set, go there as
// weir.DeadLetter.
//
// # Connections and metrics
//
// Each reader and writer has its own connection, which reconnects forever
// with exponential backoff (50ms doubling to 5s, jittered); fetches and
// publishes that fail meanwhile are retried, and acks that fail are sent
// again after the next checkpoint. Metrics go to the Registry of the
// options: weir_nats_source_{messages,dead_letters,duplicates_dropped,
// acks,fetch_errors,disconnects}_total and
// weir_nats_sink_{published,duplicates,retries,dead_letters,disconnects}_total.
//
// # Concurrency
//
// A reader's Poll, SnapshotState and NotifyCheckpointComplete run on the
// task's goroutine; its fetch goroutine is owned by the reader (Close
// stops and waits for it). The registry shared by a job's readers is
// guarded by a mutex, taken once per fetched batch. A writer is used by
// its task's goroutine only.
package nats
