// Package connector is the table connector layer of Weir's SQL: what the
// planner calls for every CREATE TABLE ... WITH ('connector' = '...', ...),
// after Flink's DynamicTableSourceFactory and DynamicTableSinkFactory.
//
// A Factory is one connector, named by its identifier (the 'connector'
// option), with Flink's option keys. The planner builds a Registry
// (Default lists the built-in connectors: datagen, print, blackhole,
// filesystem, kafka, upsert-kafka, jdbc, redis, postgres-cdc, mysql-cdc, nats, mqtt,
// rabbitmq, http, clickhouse) and asks it for a table's Source or
// Sink with a Context: the table's name, its physical schema (row.Schema), the
// metadata columns it reads, its primary key and its options. Options are
// checked as Flink checks them: a missing required option, an option no
// one takes ("Unsupported options found for 'datagen'. ... Supported
// options: ...") and a bad value ("Invalid value for option
// 'rows-per-second': ...") are errors that name the option; creating a
// source or sink opens no connection.
//
// The planner then adds them to a job with a BuildContext: the
// weir.Environment, the weir.WatermarkStrategy of the table's WATERMARK
// (the planner evaluates computed columns and the watermark expression;
// sources only apply the strategy), a prefix for operator uids and names,
// and the dead-letter policy. A Source reports its ChangelogMode and
// whether it is bounded, and may implement ProjectionPushDown and
// MetadataReader; a Sink says which ChangelogMode it takes for the
// query's, then consumes a weir.Stream[row.Row].
//
// A Source that implements LookupSource can be the table of a lookup join:
// LookupFunction returns the lookup by the join's equality keys, with the
// table's lookup.cache options applied (Cached: Flink's partial cache, one
// per subtask); each subtask of the join opens its own and calls it from
// its async I/O goroutines. jdbc (PostgreSQL, MySQL/MariaDB) and redis are
// lookup sources.
//
// Connectors wrap Weir's DataStream connectors (connector/datagen,
// connector/print, connector/file, connector/kafka, connector/postgres/cdc,
// connector/mysql/cdc, connector/nats, connector/mqtt, connector/rabbitmq,
// connector/http, connector/clickhouse) and keep their guarantees:
// checkpointed source positions, exactly-once file and Kafka sinks. The
// CDC connectors (postgres_cdc.go, mysql_cdc.go, cdc.go) turn captured
// changes into +I/-U/+U/-D rows of the declared column types. Formats
// (json, csv, raw; packages format/json, format/csv, format/raw) turn rows
// into bytes and back; the changelog formats debezium-json and canal-json
// (format/debezium, format/canal; changelog_format.go) decode a message
// into any number of changelog rows and encode every row kind; a record that does not decode
// fails the job naming its place (file and line, or topic, partition and
// offset) and field, unless the format's ignore-parse-errors skips it as in
// Flink. With BuildContext.OnError set to weir.DeadLetterTo, such records
// (skipped or not) go to the source's dead-letter side output instead.
//
// Concurrency: factories and registries are immutable once built and may be
// shared; sources and sinks are created per table scan and used by the
// goroutine that plans the job. Readers and writers follow their
// DataStream connectors: one per subtask.
package connector
