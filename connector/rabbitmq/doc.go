// Package rabbitmq consumes and publishes RabbitMQ (AMQP 0-9-1) queues
// with amqp091-go: a Source that acks messages only after the checkpoint
// covering them completed and drops redeliveries by message id, after
// Flink's RMQSource with usesCorrelationId, and an at-least-once Sink
// with publisher confirms.
//
// # Source
//
// Every subtask consumes the queue (competing consumers) on its own
// connection, with manual acks and a QoS prefetch of Prefetch messages.
// The queue is declared (durable) on demand unless Passive.
//
// Invariants:
//
//   - A delivery is acked only once the checkpoint whose barrier followed
//     it completed (weir.CheckpointListeningReader): with multiple=true up
//     to the last tag that may be acked, one by one beyond a delivery that
//     may not be acked yet.
//   - Delivery tags belong to a channel. When the channel or connection
//     fails, the broker requeues its unacked messages; the reader
//     reconnects with backoff, forgets the old tags, and drops the
//     deliveries of the old channel still buffered (they come again).
//   - Each checkpoint holds, per subtask, the ids (message-id, or
//     correlation-id with IDFrom) of the messages it emitted whose
//     checkpoint has not completed, or completed less than
//     DedupRetention ago, and the restored ids it carries (an id is
//     carried by subtask fnv32a(id) mod parallelism).
//   - After a restore every subtask knows the union of the restored ids;
//     while the job runs, its readers share a registry of the ids they
//     emitted. A delivery whose id is known is dropped: acked with the
//     next checkpoint if its checkpoint completed (or it was restored),
//     else once that checkpoint completes.
//
// Guarantee. For messages with an id, exactly-once into Weir's state
// when every redelivery of a message arrives within DedupRetention
// (default one minute) after the checkpoint covering it completed — or,
// after a restore, after the restore. RabbitMQ redelivers as soon as the
// consuming channel closes (at once when a process dies, after the
// heartbeat timeout, 10s here, when the network fails), so the window
// covers crashes, restores and outages unless a redelivery waits longer
// in a queue behind other messages. Later redeliveries, and messages
// without an id, are read at least once. Flink's RMQSource keeps the ids
// only until the next checkpoint after the restore completes, and is
// exactly-once only at parallelism 1; here any parallelism works and a
// restore may change it, since every subtask knows the restored ids.
// Restoring a checkpoint older than the latest loses the messages acked
// since (they are gone from the queue), as with any queue.
//
// The state grows with the messages read per DedupRetention; size it to
// the rate. Prefetch must exceed the messages a subtask reads in one
// checkpoint interval (acks wait for the checkpoint), or the broker stops
// delivering until each checkpoint completes; PrefetchFor computes one
// from a rate and the interval. Records carry the message's timestamp
// property, if set. Bodies the Deserializer rejects go to the
// ErrorPolicy: the job fails, or a weir.DeadLetter naming the queue and
// message id goes to the dead-letter side output; the message counts as
// emitted.
//
// # Sink
//
// A Sink publishes each record (persistent, mandatory unless
// AllowUnroutable) on a channel in confirm mode, at most MaxInFlight
// awaiting their confirms, and waits for every confirm on each
// checkpoint barrier and at the end. A nacked message, or one whose
// channel died, is published again after reconnecting with backoff. The
// guarantee is at-least-once: resends and the replay after a restore can
// write a message twice. Every message has a message-id (MessageID from
// the record, or IDPrefix/subtask/chain/seq, which a deterministic replay
// at the same subtask repeats and no other record gets, not even one of
// another job: the ids of a job that did not restore are random to its
// Sink value) so that a
// consumer that deduplicates by id, such as this package's Source, drops
// the copies.
// A message the broker returns as unroutable, and a record the
// Serializer fails on, fail the job with an error naming it (wrapping
// weir.ErrBadRecord) or go to DeadLetters.
//
// # Metrics
//
// weir_rabbitmq_source_{messages,dead_letters,duplicates_dropped,acks,reconnects}_total
// and weir_rabbitmq_sink_{published,resent,returned,dead_letters,reconnects}_total,
// registered with the options' Registry.
//
// # Concurrency
//
// A reader's consuming goroutine (owned by the reader; Close stops and
// waits for it) owns the connection and publishes the current channel
// under a mutex; Poll, SnapshotState and NotifyCheckpointComplete run on
// the task's goroutine. The registry shared by a job's readers is guarded
// by a mutex taken once per batch. A writer is used by its task's
// goroutine only.
package rabbitmq
