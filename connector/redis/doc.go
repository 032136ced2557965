// Package redis writes to and reads from Redis with go-redis: a pipelined
// Sink (SET, HSET, DEL, XADD, PUBLISH), a Lookup with a cache for
// enrichment (usable as a weir.AsyncFunction), and a Source reading Redis
// Streams through a consumer group.
//
// # Sink
//
// SinkOptions.Map turns each record into a Command: OpSet (SET with an
// optional TTL), OpHSet (HSET, then PEXPIRE if a TTL is set), OpDel (the
// delete of a changelog), OpXAdd or OpPublish; OpNone skips the record.
// The mapping is a plain function, so there is no reflection per record.
// Commands are queued and sent in pipelines of BatchSize; every Flush (the
// engine flushes on each checkpoint barrier and at the end of input) sends
// the rest and waits for every reply, so when a checkpoint completes every
// record before its barrier is in Redis.
//
// A command Redis refuses because of the command itself (WRONGTYPE, a bad
// argument), or a record Map rejects, is a bad record: it fails the job
// with a *weir.BadRecordError naming the command and key, or, with
// SinkOptions.DeadLetters (a weir.Sink[weir.DeadLetter]), goes to a writer
// of that sink owned by the subtask and flushed with it. A connection error, or a transient server state (LOADING,
// READONLY, TRYAGAIN, ...), sends the batch again with exponential backoff
// (50ms to 5s) from the first failed command, so that writes to one key
// stay in order, for up to MaxRetryTime before the job fails.
//
// Guarantees. After a failure the job restarts from its last completed
// checkpoint and the records since then are written again. SET, HSET and
// DEL are idempotent upserts and deletes: replaying them converges to the
// same final state, so key-value writes are effectively exactly-once in
// their final state (a reader may briefly see an older value again while
// the replay catches up; HSET replaces only the fields it names). XADD
// with Redis-assigned ids and PUBLISH are at-least-once: a replay appends
// or publishes again. XADD is idempotent if the mapping gives explicit
// ids (Command.ID) that strictly increase along the record sequence of a
// single writer of that stream and are the same on replay (for example
// derived from a source position): Redis rejects an id not above the
// stream's last, and the sink counts that rejection as a duplicate of a
// write made before the restore. Ids derived from checkpoint id, subtask
// and index do not work: two subtasks writing one stream do not produce
// increasing ids, and the sink does not know the checkpoint a replayed
// record belonged to. (Redis 8.6's IDMP producer ids would make XADD
// idempotent without this; Redis 7 does not have them.)
//
// # Lookup
//
// A Lookup reads a key with GET (Decode) or a hash with HGETALL
// (DecodeHash) through an LRU cache of CacheMaxEntries entries that keeps
// each for CacheTTL (no cache if zero; CacheMissing caches absent keys
// too), like Flink's lookup cache. Get(ctx, key) is the plain lookup;
// AsyncInvoke(ctx, in) looks up Key(in) and returns Join(in, v, found),
// which makes a Lookup a weir.AsyncFunction for weir.OrderedWait and
// weir.UnorderedWait. Lookups retry with backoff while Redis is
// unreachable, until ctx is done or MaxRetryTime passes. All methods are
// safe for concurrent use.
//
// # Streams source
//
// A Source reads Streams as consumer group Group, which it creates (with
// MKSTREAM, at StartID) if needed. Subtask s is consumer Consumer-s. Each
// entry is emitted with the millisecond part of its id as timestamp;
// entries the Deserializer rejects go to the ErrorPolicy (dead letters
// name "redis stream S id ID" and hold the fields as JSON). A goroutine
// owned by the reader issues XREADGROUP and hands the replies to Poll
// through a bounded channel; another acknowledges.
//
// The checkpoint holds, per consumer and stream, the id of the last entry
// emitted. The entries emitted before a checkpoint's barrier are
// acknowledged (XACK) only after the checkpoint completed, so until then
// they stay in the consumer's pending entries list. On a restore each
// reader first acknowledges the pending entries at or below the restored
// position (they were emitted before the checkpoint; it is complete),
// then re-reads the rest of its pending list (XREADGROUP with id 0): the
// entries emitted after the checkpoint, and entries delivered but never
// emitted. Then it reads new entries ('>'). This is exact because a
// consumer is only ever given entries in increasing id order: its pending
// entries first, then new ones, above every entry delivered before.
//
// Guarantee: exactly-once in Weir's state, as for the Kafka source,
// provided that (1) the group belongs to the job: no other client reads
// it, claims (XCLAIM, XAUTOCLAIM) from its consumers or acknowledges its
// entries; (2) the job is restored from its latest completed checkpoint
// (restoring an older checkpoint or savepoint, or a fallback past a
// damaged one with AllowCheckpointFallback, misses the entries a newer
// checkpoint acknowledged); (3) pending entries are not trimmed from the
// stream before they are acknowledged (a trimmed pending entry is read
// back without fields and skipped). A fresh start (no checkpoint)
// re-emits the pending entries of its consumers: at-least-once for what a
// previous run read without completing a checkpoint.
//
// Parallelism may change across a restore. When it goes down, consumers
// Consumer-k with k >= parallelism have no subtask any more: subtask
// k mod parallelism adopts each one (found with XINFO CONSUMERS),
// settles its pending list with its checkpointed position as above and
// re-reads the rest under that consumer's name, so that each consumer's
// entries still come in id order. When it goes up, the new consumers
// start with empty pending lists.
//
// After a connection error the reader waits (backoff) and re-reads its
// pending entries after the last one it handed to Poll before reading new
// ones: an XREADGROUP whose reply was lost with the connection delivered
// entries that only the pending list still knows. The source retries for
// as long as the job runs.
//
// # Metrics
//
// With a Registry: weir_redis_sink_records_total, _batches_total,
// _retries_total, _dead_letters_total; weir_redis_lookup_cache_hits_total,
// _cache_misses_total, _retries_total; weir_redis_source_entries_total,
// _acked_total, _dead_letters_total, _reconnects_total. Connectors sharing
// a registry share the counters.
//
// # Concurrency
//
// Writers and readers are used by their subtask's goroutine; a reader owns
// two goroutines that Close stops and waits for. A Lookup may be called
// from any goroutine. Nothing is global.
package redis
