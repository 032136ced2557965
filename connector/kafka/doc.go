// Package kafka reads and writes Apache Kafka topics with franz-go, with
// end-to-end exactly-once through checkpoints, after Flink's KafkaSource
// and KafkaSink.
//
// # Source
//
// A Source reads a list of topics (and/or the topics matching a regular
// expression). Every partition is a split, owned by the subtask
// PartitionOwner names; each subtask's reader discovers partitions at start
// and every DiscoveryInterval, so partitions and matching topics added while
// the job runs are picked up (from their earliest offset). Partitions read
// for the first time in a fresh job start where SourceOptions.Start says:
// Earliest, Latest, AtTimestamp or a group's CommittedOffsets.
//
// The start is resolved to exact offsets when a partition is assigned
// (Latest is the last stable offset then), so positions in checkpoints are
// exact: the next offset of every partition. After a restore each reader
// resumes the partitions it owns at the stored offsets, at any parallelism.
// The source takes no part in consumer groups; with CommitGroup it commits
// the offsets of every completed checkpoint to that group, only so that
// tools can show the job's lag.
//
// Records are read with isolation level read_committed. Each partition
// emits through its own weir.SplitOutput, so watermarks are generated per
// partition by the job's WatermarkStrategy with the records' Kafka
// timestamps, and a partition quiet for the strategy's IdleTimeout stops
// holding back event time. Deserializers: BytesSerde, StringSerde,
// JSONSerde, AvroSerde (schema registry, Confluent wire format) and
// RecordDeserializer (key, value, headers, timestamp, position); the same
// types serialise for the sink. Records the Deserializer rejects go to the
// ErrorPolicy: the job fails, or a weir.DeadLetter with "topic t partition
// p offset o" and the reason goes to the dead-letter side output.
//
// TLS and SASL (PLAIN, SCRAM) are set through SourceOptions.ClientOptions
// and SinkOptions.ClientOptions with franz-go's options (kgo.DialTLSConfig,
// kgo.SASL with pkg/sasl/plain or pkg/sasl/scram).
//
// Concurrency: each reader owns one franz-go client and one goroutine that
// discovers partitions and polls fetches, handing them over a channel; Poll
// never blocks, and the reader implements weir.Availability so its subtask
// wakes when records arrive. Close stops the goroutine and waits for it.
//
// # Sink
//
// A Sink writes with one of two guarantees. AtLeastOnce produces
// asynchronously and flushes on every checkpoint and at the end of input.
//
// ExactlyOnce writes each checkpoint's records in a Kafka transaction. A
// subtask s numbers its transactions and runs transaction n with the
// transactional id prefix-s-(n mod TransactionSlots), through a franz-go
// client of its own. On the checkpoint barrier (PreCommit) the client
// flushes and the writer stages (transactional id, producer id, epoch) in
// the checkpoint; the client is then closed with the transaction still
// open, and the next records start transaction n+1. When the checkpoint
// completes, the sink sends EndTxn(commit) for that staged triple. After a
// failure the job restores its last completed checkpoint and the sink sends
// EndTxn(commit) again for every triple it holds: the Kafka transaction
// coordinator accepts the commit of an open transaction from any client
// that names its producer id and epoch, so a transaction prepared by a
// process that died is committed by the next one (Flink resumes it the same
// way, through reflection on the Java producer). A transaction already
// committed is accepted again (same epoch on brokers without KIP-890,
// retry detection with it); a transaction whose epoch moved on was
// committed before, since a transactional id is reused only after its
// transaction committed. Once the restored transactions are committed, the
// writer re-initialises all its transactional ids (InitProducerID), which
// fences zombie producers of earlier runs and aborts what they left open;
// restored at a lower parallelism, a subtask also does this for the ids of
// the old subtasks that map to it (s mod parallelism).
//
// What this guarantees: read_committed consumers see every record of the
// job exactly once, provided that (1) the transactional id prefix is unique
// to the job (two jobs sharing it fence each other); (2) a failed job is
// restored before TransactionTimeout expires — the broker aborts a
// transaction open for longer, and the records of a checkpoint that
// completed but whose transaction was aborted are lost (the commit logs a
// warning, as Flink's does); the broker's transaction.max.timeout.ms must
// allow the timeout; (3) at most TransactionSlots checkpoints of a subtask
// wait for their commit at once — otherwise the job fails rather than reuse
// an id. Read_uncommitted consumers see aborted records.
//
// A job started fresh (not restored) re-initialises its ids too, aborting
// transactions a previous run left open, but cannot commit them: restore
// with the same checkpoint directory to keep them. Without checkpoints an
// exactly-once sink commits only at the end of a bounded input.
//
// # Differences from Flink
//
// The source is always unbounded (no stopping offsets) and does not stop
// reading partitions that disappear. AvroSerde treats an unreachable
// schema registry like a bad record (the ErrorPolicy decides), where Flink
// fails the job. Partitions are spread by a hash of the topic name plus the
// partition number, as Flink's enumerator does, but every reader discovers
// its own partitions (there is no central enumerator). The sink uses
// TransactionSlots transactional ids per subtask in a ring rather than one
// id per checkpoint, and commits with a plain EndTxn request rather than by
// resuming a producer.
package kafka
