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
// p offset o", the field at fault (from a DecodeError) and the reason goes
// to the dead-letter side output.
//
// JSONSerde is strict: a record value must be exactly one JSON value with
// only JSON whitespace around it (`{"key":"a"} GARBAGE` and two values in
// one record are bad records), and a null or empty value is a bad record
// unless the type is a pointer or an interface. DisallowUnknownFields
// rejects keys the type lacks; FailOnMissingField (Flink's
// json.fail-on-missing-field) rejects documents that lack a field of the
// type, or of a struct it holds, naming the field ("inner.id"); fields
// tagged omitempty, omitzero or "-" are not required, and a key present
// with the value null counts as present. Reasons read "json: ..." once:
// the dead letter's source and field say the rest.
//
// TLS and SASL (PLAIN, SCRAM) are set through SourceOptions.ClientOptions
// and SinkOptions.ClientOptions with franz-go's options (kgo.DialTLSConfig,
// kgo.SASL with pkg/sasl/plain or pkg/sasl/scram). A broker that refuses
// the credentials (SASL_AUTHENTICATION_FAILED) or an ACL that denies the
// client fails the job with an error matching ErrAuthentication (see
// IsAuthError), where other broker errors are retried.
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
// Every blocking step — a produce waiting for buffer space, a flush
// waiting for acknowledgements, the requests of a pre-commit or commit and
// their retries — uses the context the job passes to the writer, so
// cancelling the job (or its failure elsewhere) interrupts a sink waiting
// on a broker that does not answer.
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
// retry detection with it). A transaction the broker refuses to commit
// (its epoch moved on: INVALID_TXN_STATE, PRODUCER_FENCED,
// INVALID_PRODUCER_EPOCH, INVALID_PRODUCER_ID_MAPPING) was either committed
// before (its id was re-initialised since) or aborted by the broker. The
// committable records the first offset the transaction wrote in each
// partition, and the sink reads from there (uncommitted, with control
// records) to the first end marker of the transaction's producer id: a
// COMMIT marker means it committed earlier and all is well; an ABORT
// marker means its records are lost, and so does a transaction whose
// marker cannot be found (the log was truncated by retention, or a
// committable of an older version names no partitions), since it cannot
// be told from an aborted one. A lost transaction fails the job with an
// error matching ErrTransactionLost that names the transaction, where its
// records were and why (the transaction timeout against the downtime), and
// the weir_kafka_sink_lost_transactions_total counter (SinkOptions.Registry)
// counts it; SinkOptions.LostTransactions = LogLostTransaction logs it at
// ERROR level and lets the job go on without those records. Once the
// restored transactions are committed, the
// writer re-initialises all its transactional ids (InitProducerID), which
// fences zombie producers of earlier runs and aborts what they left open;
// restored at a lower parallelism, a subtask also does this for the ids of
// the old subtasks that map to it (s mod parallelism).
//
// What this guarantees: read_committed consumers see every record of the
// job exactly once, provided that (1) the transactional id prefix is unique
// to the job (two jobs sharing it fence each other); (2) the transaction
// timeout rule holds: TransactionTimeout exceeds the checkpoint interval
// plus the longest time a failed job takes to be restored (the downtime),
// and the broker's transaction.max.timeout.ms (15 minutes by default)
// allows it. A transaction is open from its first record until the commit
// after its checkpoint completed; the broker aborts one open for longer
// than the timeout, and if that happens while the job is down, the records
// of a completed checkpoint are lost. Flink logs this and goes on; here
// the restored job fails with ErrTransactionLost unless LostTransactions
// says to log it. (3) At most TransactionSlots checkpoints of a subtask
// wait for their commit at once — otherwise the job fails rather than
// reuse an id. Read_uncommitted consumers see aborted records.
//
// The committable of a transaction (in the checkpoint's sink items, see
// docs/format/checkpoint.md) is version 2: byte 2, uvarint subtask,
// uvarint parallelism, varint transaction number, varint producer id,
// varint epoch, uvarint length + transactional id, uvarint count, then
// per partition uvarint length + topic, varint partition, varint first
// offset. Version 1 (byte 1, the same numbers, then the transactional id to
// the end) is still read; its transactions cannot be checked for a commit
// marker.
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
