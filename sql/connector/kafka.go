package connector

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/kafka"
	"github.com/weirstream/weir/row"
)

// Kafka is Flink's 'kafka' connector over connector/kafka: an insert-only,
// unbounded source and an insert-only sink (at-least-once or exactly-once
// through Kafka transactions).
//
// Options: topic (';'-separated list) or topic-pattern,
// properties.bootstrap.servers (required), properties.group.id,
// properties.client.id, properties.transaction.timeout.ms, format or
// value.format with its options, key.format, key.fields (';'-separated),
// key.fields-prefix, value.fields-include (ALL | EXCEPT_KEY),
// scan.startup.mode (earliest-offset | latest-offset | group-offsets |
// timestamp), scan.startup.timestamp-millis,
// scan.topic-partition-discovery.interval, sink.delivery-guarantee
// (at-least-once | exactly-once | none), sink.transactional-id-prefix,
// sink.partitioner (default | round-robin), sink.parallelism,
// scan.parallelism (the source's parallelism; not with a changelog value
// format). Readable
// metadata: topic, partition, offset, timestamp, timestamp-type,
// leader-epoch, headers.
//
// Differences from Flink: other properties.* keys are refused (they are
// Java client settings that franz-go does not take by name);
// scan.startup.mode specific-offsets, scan.bounded.* and sink.partitioner
// fixed are not supported; 'none' delivers at least once. With
// properties.group.id the source commits the offsets of completed
// checkpoints to the group (Flink's default).
type Kafka struct{}

// Identifier is "kafka".
func (Kafka) Identifier() string { return "kafka" }

// RequiredOptions is properties.bootstrap.servers.
func (Kafka) RequiredOptions() []string { return []string{"properties.bootstrap.servers"} }

// OptionalOptions lists the connector's own options.
func (Kafka) OptionalOptions() []string {
	return []string{"topic", "topic-pattern", "properties.*", "format", "key.format", "value.format",
		"key.fields", "key.fields-prefix", "value.fields-include",
		"scan.startup.mode", "scan.startup.timestamp-millis", "scan.topic-partition-discovery.interval",
		"sink.delivery-guarantee", "sink.transactional-id-prefix", "sink.partitioner", "sink.parallelism", "scan.parallelism"}
}

// kafkaProperties are the properties.* keys Weir maps to franz-go.
var kafkaProperties = []string{"bootstrap.servers", "group.id", "client.id", "transaction.timeout.ms"}

// kafkaMetadata are the readable metadata keys and their types.
var kafkaMetadata = map[string]row.Type{
	"topic":          row.String().NotNull(),
	"partition":      row.IntType().NotNull(),
	"offset":         row.BigInt().NotNull(),
	"timestamp":      row.TimestampLTZType(3).NotNull(),
	"timestamp-type": row.String().NotNull(),
	"leader-epoch":   row.IntType(),
	"headers":        row.MapType(row.String(), row.BytesType()).NotNull(),
}

// UpsertKafka is Flink's 'upsert-kafka' connector: a Kafka topic read and
// written as a changelog keyed by the table's PRIMARY KEY. The source
// reads from the earliest offset: every value is an upsert and every
// tombstone (a null value) a delete of its key, with the key columns
// filled from the message key; Flink's ChangelogNormalize (normalize.go),
// keyed by the primary key, turns these into a retracting changelog: +I
// for a new key, -U(old)/+U(new) for a change, -D(old row) for a
// tombstone of a present key, nothing for a tombstone of an absent key or
// a value equal to the key's current row. The sink writes +I and +U rows as
// values and -D rows as tombstones, keyed by the primary key, and drops
// -U rows.
//
// Options: topic, properties.bootstrap.servers (and the properties.*
// Kafka takes), key.format, value.format and their options,
// key.fields-prefix, value.fields-include, sink.parallelism,
// scan.parallelism (the source's; ChangelogNormalize, keyed, runs at the
// job's parallelism),
// sink.delivery-guarantee, sink.transactional-id-prefix. Not supported:
// sink.buffer-flush.* (the sink does not reduce rows per key).
type UpsertKafka struct{}

// Identifier is "upsert-kafka".
func (UpsertKafka) Identifier() string { return "upsert-kafka" }

// RequiredOptions are Flink's.
func (UpsertKafka) RequiredOptions() []string {
	return []string{"topic", "properties.bootstrap.servers", "key.format", "value.format"}
}

// OptionalOptions lists the connector's own options.
func (UpsertKafka) OptionalOptions() []string {
	return []string{"properties.*", "key.fields-prefix", "value.fields-include", "sink.parallelism", "scan.parallelism",
		"sink.delivery-guarantee", "sink.transactional-id-prefix", "scan.topic-partition-discovery.interval"}
}

func (f UpsertKafka) create(ctx Context, sink bool) (*kafkaTable, error) {
	opt := f.OptionalOptions()
	for _, k := range []string{"key", "value"} {
		if id, ok := ctx.Options[k+".format"]; ok {
			if err := lookupFormat(ctx.Table, k+".format", id, sink); err != nil {
				return nil, err
			}
			opt = append(opt, formatKeys(k+".", id)...)
		}
	}
	if err := validate(ctx, f.Identifier(), f.RequiredOptions(), opt); err != nil {
		return nil, err
	}
	if id := ctx.Options["value.format"]; changelogOptions[id] != nil {
		return nil, fmt.Errorf("connector: table %s: 'upsert-kafka' connector doesn't support '%s' as value format, because '%s' is not in insert-only mode.", ctx.Table, id, id)
	}
	if len(ctx.PrimaryKey) == 0 {
		return nil, fmt.Errorf("connector: table %s: 'upsert-kafka' tables require to define a PRIMARY KEY constraint. The PRIMARY KEY specifies which columns should be read from or write to the Kafka message key. The PRIMARY KEY also defines records in the 'upsert-kafka' table should update or delete on which keys.", ctx.Table)
	}
	// Reuse the kafka connector's reading of the shared options: the
	// primary key is the key, the source starts at the earliest offset.
	names := make([]string, len(ctx.PrimaryKey))
	for i, c := range ctx.PrimaryKey {
		if c < 0 || c >= ctx.Schema.Len() {
			return nil, fmt.Errorf("connector: table %s: primary key column %d out of range", ctx.Table, c)
		}
		names[i] = ctx.Schema.Columns[c].Name
	}
	k := ctx
	k.Options = make(map[string]string, len(ctx.Options)+2)
	for key, v := range ctx.Options {
		k.Options[key] = v
	}
	k.Options["key.fields"] = strings.Join(names, ";")
	k.Options["scan.startup.mode"] = "earliest-offset"
	t, err := Kafka{}.create(k, sink)
	if err != nil {
		return nil, err
	}
	t.upsert = true
	return t, nil
}

// CreateSource validates the options.
func (f UpsertKafka) CreateSource(ctx Context) (Source, error) {
	t, err := f.create(ctx, false)
	if err != nil {
		return nil, err
	}
	return &kafkaSource{t}, nil
}

// CreateSink validates the options.
func (f UpsertKafka) CreateSink(ctx Context) (Sink, error) {
	t, err := f.create(ctx, true)
	if err != nil {
		return nil, err
	}
	return &kafkaSink{t}, nil
}

type kafkaTable struct {
	table    string
	schema   row.Schema
	meta     []MetadataColumn
	brokers  []string
	topics   []string
	pattern  *regexp.Regexp
	group    string
	client   []kgo.Opt
	key      *codec // nil without key.format
	value    *codec
	keyCols  []int // physical columns in the key, in key order
	valCols  []int // physical columns in the value
	start    kafka.StartOffset
	discover time.Duration
	guar     kafka.Guarantee
	txPrefix string
	txTime   time.Duration
	par      int
	// scanPar is scan.parallelism (Flink's FLIP-367 source option): the
	// source's parallelism, 0 for the job's.
	scanPar int
	// upsert: the 'upsert-kafka' connector (keys are the primary key,
	// tombstones are deletes).
	upsert bool
}

func (f Kafka) create(ctx Context, sink bool) (*kafkaTable, error) {
	// The format keys depend on the formats chosen.
	opt := f.OptionalOptions()
	valueKey := "value.format"
	if _, ok := ctx.Options["format"]; ok {
		valueKey = "format"
	}
	vprefix := "value."
	if valueKey == "format" {
		vprefix = ""
	}
	if id, ok := ctx.Options[valueKey]; ok {
		if err := lookupFormat(ctx.Table, valueKey, id, sink); err != nil {
			return nil, err
		}
		opt = append(opt, formatKeys(vprefix, id)...)
	}
	if id, ok := ctx.Options["key.format"]; ok {
		if err := lookupFormat(ctx.Table, "key.format", id, sink); err != nil {
			return nil, err
		}
		opt = append(opt, formatKeys("key.", id)...)
	}
	if err := validate(ctx, f.Identifier(), f.RequiredOptions(), opt); err != nil {
		return nil, err
	}
	for k := range ctx.Options {
		if p, ok := strings.CutPrefix(k, "properties."); ok && !contains(kafkaProperties, p) {
			return nil, fmt.Errorf("connector: table %s: Unsupported Kafka property '%s': Weir's Kafka client takes %s", ctx.Table, k, "properties."+strings.Join(kafkaProperties, ", properties."))
		}
	}
	_, hasFormat := ctx.Options["format"]
	_, hasValueFormat := ctx.Options["value.format"]
	switch {
	case hasFormat && hasValueFormat:
		return nil, fmt.Errorf("connector: table %s: Options 'format' and 'value.format' are mutually exclusive.", ctx.Table)
	case !hasFormat && !hasValueFormat:
		return nil, fmt.Errorf("connector: table %s: Could not find required scan format 'value.format'.", ctx.Table)
	}
	o := newOptions(ctx)
	t := &kafkaTable{table: ctx.Table, schema: ctx.Schema, meta: ctx.Metadata,
		group: o.str("properties.group.id", ""), par: int(o.int64("sink.parallelism", 0, 1)),
		scanPar: int(o.int64("scan.parallelism", 0, 1))}
	for _, b := range strings.Split(o.str("properties.bootstrap.servers", ""), ",") {
		if b = strings.TrimSpace(b); b != "" {
			t.brokers = append(t.brokers, b)
		}
	}
	if len(t.brokers) == 0 {
		o.fail("properties.bootstrap.servers", o.str("properties.bootstrap.servers", ""), "expected host:port[,host:port...]")
	}
	if id, ok := ctx.Options["properties.client.id"]; ok {
		t.client = append(t.client, kgo.ClientID(id))
	}
	// Topics.
	_, hasTopic := ctx.Options["topic"]
	_, hasPattern := ctx.Options["topic-pattern"]
	switch {
	case hasTopic && hasPattern:
		return nil, fmt.Errorf("connector: table %s: Option 'topic' and 'topic-pattern' shouldn't be set together.", ctx.Table)
	case sink && !hasTopic:
		return nil, fmt.Errorf("connector: table %s: the Kafka sink needs option 'topic' (one topic)", ctx.Table)
	case !hasTopic && !hasPattern:
		return nil, fmt.Errorf("connector: table %s: Either 'topic' or 'topic-pattern' must be set.", ctx.Table)
	}
	if hasTopic {
		for _, s := range strings.Split(ctx.Options["topic"], ";") {
			if s = strings.TrimSpace(s); s != "" {
				t.topics = append(t.topics, s)
			}
		}
		if sink && len(t.topics) != 1 {
			o.fail("topic", ctx.Options["topic"], "the sink writes to a single topic")
		}
	}
	if hasPattern {
		re, err := regexp.Compile("^(?:" + ctx.Options["topic-pattern"] + ")$")
		if err != nil {
			o.fail("topic-pattern", ctx.Options["topic-pattern"], "expected a regular expression: "+err.Error())
		}
		t.pattern = re
	}
	// Start.
	switch o.enum("scan.startup.mode", "group-offsets", "earliest-offset", "latest-offset", "group-offsets", "timestamp", "specific-offsets") {
	case "earliest-offset":
		t.start = kafka.Earliest()
	case "latest-offset":
		t.start = kafka.Latest()
	case "group-offsets":
		if t.group == "" && !sink {
			return nil, fmt.Errorf("connector: table %s: scan.startup.mode 'group-offsets' (the default) needs option 'properties.group.id'; or set scan.startup.mode to earliest-offset, latest-offset or timestamp", ctx.Table)
		}
		t.start = kafka.CommittedOffsets(t.group)
	case "timestamp":
		if !o.has("scan.startup.timestamp-millis") {
			return nil, fmt.Errorf("connector: table %s: 'scan.startup.timestamp-millis' is required in 'timestamp' startup mode but missing.", ctx.Table)
		}
		t.start = kafka.AtTimestamp(time.UnixMilli(o.int64("scan.startup.timestamp-millis", 0, 0)))
	case "specific-offsets":
		return nil, fmt.Errorf("connector: table %s: Invalid value for option 'scan.startup.mode': \"specific-offsets\" is not supported by Weir; expected one of: earliest-offset, latest-offset, group-offsets, timestamp", ctx.Table)
	}
	if o.has("scan.startup.timestamp-millis") && ctx.Options["scan.startup.mode"] != "timestamp" {
		return nil, fmt.Errorf("connector: table %s: option 'scan.startup.timestamp-millis' needs scan.startup.mode 'timestamp'", ctx.Table)
	}
	t.discover = o.duration("scan.topic-partition-discovery.interval", 5*time.Minute)
	switch o.enum("sink.delivery-guarantee", "at-least-once", "at-least-once", "exactly-once", "none") {
	case "exactly-once":
		t.guar = kafka.ExactlyOnce
		t.txPrefix = o.str("sink.transactional-id-prefix", "")
		if t.txPrefix == "" && sink {
			return nil, fmt.Errorf("connector: table %s: sink.transactional-id-prefix must be specified when using DeliveryGuarantee.EXACTLY_ONCE.", ctx.Table)
		}
	}
	if o.has("properties.transaction.timeout.ms") {
		t.txTime = time.Duration(o.int64("properties.transaction.timeout.ms", 0, 1)) * time.Millisecond
	}
	switch o.enum("sink.partitioner", "default", "default", "round-robin", "fixed") {
	case "round-robin":
		t.client = append(t.client, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	case "fixed":
		return nil, fmt.Errorf("connector: table %s: Invalid value for option 'sink.partitioner': \"fixed\" is not supported by Weir; expected one of: default, round-robin", ctx.Table)
	}
	if o.err != nil {
		return nil, o.err
	}
	// Key and value columns.
	prefix := o.str("key.fields-prefix", "")
	if kf, ok := ctx.Options["key.fields"]; ok {
		if _, ok := ctx.Options["key.format"]; !ok {
			return nil, fmt.Errorf("connector: table %s: option 'key.fields' needs 'key.format'", ctx.Table)
		}
		for _, name := range strings.Split(kf, ";") {
			i := ctx.Schema.Index(strings.TrimSpace(name))
			if i < 0 {
				return nil, fmt.Errorf("connector: table %s: Could not find the field '%s' in the table schema for usage in the key format. A key field must be a regular, physical column. The following columns can be selected in the 'key.fields' option:\n%s",
					ctx.Table, name, strings.Join(ctx.Schema.Names(), "\n"))
			}
			t.keyCols = append(t.keyCols, i)
		}
	} else if _, ok := ctx.Options["key.format"]; ok {
		return nil, fmt.Errorf("connector: table %s: A key format 'key.format' requires the declaration of one or more of key fields using 'key.fields'.", ctx.Table)
	}
	include := o.enum("value.fields-include", "ALL", "ALL", "EXCEPT_KEY")
	if prefix != "" && include != "EXCEPT_KEY" {
		return nil, fmt.Errorf("connector: table %s: A key prefix is not allowed when option 'value.fields-include' is set to 'ALL'. Set it to 'EXCEPT_KEY' instead to avoid field overlaps.", ctx.Table)
	}
	for i := range ctx.Schema.Columns {
		if include == "EXCEPT_KEY" && containsInt(t.keyCols, i) {
			continue
		}
		t.valCols = append(t.valCols, i)
	}
	if len(t.keyCols) > 0 {
		ks := subSchema(ctx.Schema, t.keyCols, prefix)
		c, err := newCodec(o, "key.", ctx.Options["key.format"], ks)
		if err != nil {
			return nil, err
		}
		if err := insertOnlyFormat(ctx.Table, "'key.format'", c); err != nil {
			return nil, err
		}
		t.key = c
	}
	c, err := newCodec(o, vprefix, ctx.Options[valueKey], subSchema(ctx.Schema, t.valCols, ""))
	if err != nil {
		return nil, err
	}
	t.value = c
	if c.newChangelog != nil && t.key != nil {
		return nil, fmt.Errorf("connector: table %s: the '%s' value format cannot be combined with 'key.format' in Weir", ctx.Table, c.id)
	}
	if c.newChangelog != nil && t.scanPar > 0 && !sink {
		// A changelog read at another parallelism than the operators
		// after it would need a shuffle by key to keep each key's
		// changes in order, as the filesystem connector.
		return nil, fmt.Errorf("connector: table %s: 'scan.parallelism' with the changelog format '%s' is not supported yet", ctx.Table, c.id)
	}
	return t, nil
}

// subSchema returns the columns at idx, names without prefix.
func subSchema(s row.Schema, idx []int, prefix string) row.Schema {
	cols := make([]row.Field, len(idx))
	for i, c := range idx {
		f := s.Columns[c]
		f.Name = strings.TrimPrefix(f.Name, prefix)
		cols[i] = f
	}
	return row.NewSchema(cols...)
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func containsInt(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

type kafkaSource struct{ *kafkaTable }

type kafkaSink struct{ *kafkaTable }

// CreateSource validates the options.
func (f Kafka) CreateSource(ctx Context) (Source, error) {
	t, err := f.create(ctx, false)
	if err != nil {
		return nil, err
	}
	return &kafkaSource{t}, nil
}

// CreateSink validates the options.
func (f Kafka) CreateSink(ctx Context) (Sink, error) {
	t, err := f.create(ctx, true)
	if err != nil {
		return nil, err
	}
	return &kafkaSink{t}, nil
}

func (s *kafkaSource) ChangelogMode() ChangelogMode {
	if s.value.newChangelog != nil {
		return All // debezium-json, canal-json
	}
	if s.upsert {
		// The upsert stream (+I per value, -D per tombstone) is
		// normalized in Produce, as Flink's planner does with a
		// ChangelogNormalize after an upsert source.
		return All
	}
	return InsertOnly
}
func (s *kafkaSource) Bounded() bool { return false }

// ReadableMetadata lists Kafka's metadata keys.
func (s *kafkaSource) ReadableMetadata() map[string]row.Type { return kafkaMetadata }

// skipKind marks a record skipped under ignore-parse-errors; the source's
// filter drops it.
const skipKind = row.Kind(0xff)

// decodeError carries the field at fault to the dead letter.
type decodeError struct {
	field string
	err   error
}

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

func (s *kafkaSource) Produce(b BuildContext) (weir.Stream[row.Row], error) {
	t := s.kafkaTable
	if t.value.newChangelog != nil {
		return s.produceChangelog(b) // changelog_format.go
	}
	_, dl := b.OnError.DeadLetters()
	valDecs := sync.Pool{New: func() any { d, _ := t.value.newDecoder(); return d }}
	var keyDecs sync.Pool
	if t.key != nil {
		keyDecs.New = func() any { d, _ := t.key.newDecoder(); return d }
	}
	n := t.schema.Len()
	decode := func(pool *sync.Pool, b []byte, cols []int, out []row.Value) (bool, error) {
		d := pool.Get().(rowDecoder)
		defer pool.Put(d)
		r, ok, err := d.Decode(b)
		if err != nil || !ok {
			return ok, err
		}
		for i, col := range cols {
			out[col] = r.Fields[i]
		}
		return true, nil
	}
	des := kafka.DeserializerFunc[row.Row](func(rec *kgo.Record) (row.Row, error) {
		out := make([]row.Value, n+len(t.meta))
		if rec.Value == nil && !t.upsert {
			// A tombstone: no row in an insert-only table (Flink skips it).
			return row.Row{Kind: skipKind}, nil
		}
		if t.key != nil {
			if _, err := decode(&keyDecs, rec.Key, t.keyCols, out); err != nil {
				if t.key.ignoreParseErrors && !dl {
					return row.Row{Kind: skipKind}, nil
				}
				return row.Row{}, kafkaDecodeError(err)
			}
		}
		kind := row.Insert
		if rec.Value == nil {
			kind = row.Delete // upsert-kafka: a tombstone deletes its key
		} else {
			ok, err := decode(&valDecs, rec.Value, t.valCols, out)
			if err != nil {
				if t.value.ignoreParseErrors && !dl {
					return row.Row{Kind: skipKind}, nil
				}
				return row.Row{}, kafkaDecodeError(err)
			}
			if !ok {
				return row.Row{Kind: skipKind}, nil // a JSON null value: no row
			}
		}
		for i, m := range t.meta {
			out[n+i] = kafkaMetaValue(rec, m.Key)
		}
		return row.Row{Kind: kind, Fields: out}, nil
	})
	src := kafka.NewSource(kafka.SourceOptions[row.Row]{
		Brokers: t.brokers, Topics: t.topics, TopicRegexp: t.pattern, Start: t.start,
		Deserializer: des, ErrorPolicy: b.OnError, DiscoveryInterval: t.discover,
		CommitGroup: t.group, ClientOptions: t.client,
	})
	st := weir.FromSource(b.Env, src, b.Watermarks, t.table).UID(b.uid("source"))
	if t.scanPar > 0 {
		st = st.SetParallelism(t.scanPar)
	}
	readRejects(b, st)
	rows := st.Filter(func(r row.Row) bool { return r.Kind != skipKind }).Name(b.uid("drop-skipped")).UID(b.uid("drop-skipped"))
	if t.scanPar > 0 {
		// The filter runs with the source (chained), so the rows of a
		// partition stay in order up to ChangelogNormalize's keyBy.
		rows = rows.SetParallelism(t.scanPar)
	}
	if t.upsert {
		// Flink's ChangelogNormalize, keyed by the primary key: +I for a
		// new key, -U/+U for a change, -D (the full old row) for a
		// tombstone of a present key; tombstones of absent keys and
		// values equal to the key's current row are dropped.
		return normalize(b, rows, t.schema.Types(), t.keyCols, len(t.meta)), nil
	}
	return rows, nil
}

func kafkaDecodeError(err error) error {
	field, reason := rejection(err)
	return &kafka.DecodeError{Format: "sql", Field: field, Reason: reason, Err: err}
}

func kafkaMetaValue(rec *kgo.Record, key string) row.Value {
	switch key {
	case "topic":
		return row.Str(rec.Topic)
	case "partition":
		return row.Int(int64(rec.Partition))
	case "offset":
		return row.Int(rec.Offset)
	case "timestamp":
		return row.Timestamp(rec.Timestamp.UnixMilli(), 0)
	case "timestamp-type":
		if rec.Attrs.TimestampType() == 1 {
			return row.Str("LogAppendTime")
		}
		return row.Str("CreateTime")
	case "leader-epoch":
		if rec.LeaderEpoch < 0 {
			return row.Null()
		}
		return row.Int(int64(rec.LeaderEpoch))
	case "headers":
		keys := make([]row.Value, 0, len(rec.Headers))
		vals := make([]row.Value, 0, len(rec.Headers))
		for _, h := range rec.Headers {
			keys = append(keys, row.Str(h.Key))
			vals = append(vals, row.Bytes(h.Value))
		}
		return row.Map(keys, vals)
	}
	return row.Null()
}

func (s *kafkaSink) ChangelogMode(q ChangelogMode) (ChangelogMode, error) {
	if s.upsert {
		return Upsert, nil // the planner drops -U rows before the sink
	}
	if s.value.encodesChangelog {
		return acceptAll(q) // debezium-json, canal-json
	}
	return insertOnlySink(s.table, "kafka", q)
}

func (s *kafkaSink) Consume(b BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	t := s.kafkaTable
	// Encoders are stateless but cost a type check to build: pool them.
	valEncs := sync.Pool{New: func() any { e, _ := t.value.newEncoder(); return e }}
	var keyEncs sync.Pool
	if t.key != nil {
		keyEncs.New = func() any { e, _ := t.key.newEncoder(); return e }
	}
	encode := func(pool *sync.Pool, cols []int, r row.Row) ([]byte, error) {
		e := pool.Get().(rowEncoder)
		defer pool.Put(e)
		sub := make([]row.Value, len(cols))
		for i, col := range cols {
			sub[i] = r.Fields[col]
		}
		return e.Append(nil, row.Row{Kind: r.Kind, Fields: sub})
	}
	opts := kafka.SinkOptions[row.Row]{
		Brokers: t.brokers, Topic: t.topics[0], Guarantee: t.guar,
		TransactionalIDPrefix: t.txPrefix, TransactionTimeout: t.txTime, ClientOptions: t.client,
		Serializer: kafka.SerializerFunc[row.Row](func(r row.Row) ([]byte, error) {
			if len(r.Fields) != t.schema.Len() {
				return nil, fmt.Errorf("connector: kafka sink: the row has %d fields, the table %d columns", len(r.Fields), t.schema.Len())
			}
			switch {
			case t.upsert && r.Kind == row.Delete:
				return nil, nil // a tombstone
			case !t.upsert && r.Kind != row.Insert && !t.value.encodesChangelog:
				return nil, fmt.Errorf("connector: kafka sink: a %s row reached an insert-only sink", r.Kind)
			}
			return encode(&valEncs, t.valCols, r)
		}),
	}
	if t.key != nil {
		opts.Key = func(r row.Row) []byte {
			b, err := encode(&keyEncs, t.keyCols, r)
			if err != nil {
				return nil // the value's encoding reports a bad row first
			}
			return b
		}
	}
	if t.upsert {
		// -U rows carry nothing an upsert topic needs: the +U after
		// them overwrites the key.
		in = in.Filter(func(r row.Row) bool { return r.Kind != row.UpdateBefore }).Name(b.uid("drop-update-before")).UID(b.uid("drop-update-before"))
	}
	d := in.SinkTo(kafka.NewSink(opts)).UID(b.uid("sink")).Name(b.uid("kafka"))
	if t.par > 0 {
		d = d.SetParallelism(t.par)
	}
	return d, nil
}
