package connector

import (
	"fmt"
	"regexp"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/kafka"
	"github.com/weirstream/weir/format/canal"
	"github.com/weirstream/weir/format/debezium"
	"github.com/weirstream/weir/format/json"
	"github.com/weirstream/weir/row"
)

// This file holds the changelog formats debezium-json and canal-json
// (Flink's names and options): a value decodes into any number of rows
// of any kind, so a kafka table with one of them is an updating source,
// and both encode a changelog for a kafka or filesystem sink.

// changelogDecoder decodes one message into changelog rows.
type changelogDecoder interface {
	Decode(dst []row.Row, b []byte) ([]row.Row, error)
}

// changelogOptions are the option keys of the changelog formats.
var changelogOptions = map[string][]string{
	"debezium-json": {"schema-include", "ignore-parse-errors", "timestamp-format.standard",
		"map-null-key.mode", "map-null-key.literal", "encode.decimal-as-plain-number"},
	"canal-json": {"ignore-parse-errors", "timestamp-format.standard", "map-null-key.mode",
		"map-null-key.literal", "encode.decimal-as-plain-number", "database.include", "table.include"},
}

// changelogJSONOptions reads the JSON options shared by both formats.
func changelogJSONOptions(o *options, k func(string) string) json.Options {
	opts := json.Options{
		IgnoreParseErrors:    o.bool(k("ignore-parse-errors"), false),
		MapNullKeyLiteral:    o.str(k("map-null-key.literal"), "null"),
		DecimalAsPlainNumber: o.bool(k("encode.decimal-as-plain-number"), false),
	}
	if o.enum(k("timestamp-format.standard"), "SQL", "SQL", "ISO-8601") == "ISO-8601" {
		opts.Timestamp = json.ISO8601
	}
	switch o.enum(k("map-null-key.mode"), "FAIL", "FAIL", "DROP", "LITERAL") {
	case "DROP":
		opts.MapNullKey = json.MapNullKeyDrop
	case "LITERAL":
		opts.MapNullKey = json.MapNullKeyLiteral
	}
	return opts
}

// newChangelogCodec reads the options of changelog format id under
// prefix and returns the format for schema s.
func newChangelogCodec(o *options, prefix, id string, s row.Schema) (*codec, error) {
	k := func(name string) string { return prefix + id + "." + name }
	opts := changelogJSONOptions(o, k)
	c := &codec{id: id, ignoreParseErrors: opts.IgnoreParseErrors}
	switch id {
	case "debezium-json":
		// Both forms of event are decoded, with or without the schema
		// envelope; the option is taken as Flink's.
		o.bool(k("schema-include"), false)
		if o.err != nil {
			return nil, o.err
		}
		if _, err := debezium.NewDecoder(s, opts); err != nil {
			return nil, fmt.Errorf("connector: table %s: %w", o.table, err)
		}
		c.newChangelog = func() (changelogDecoder, error) { return debezium.NewDecoder(s, opts) }
		c.newEncoder = func() (rowEncoder, error) { return debezium.NewEncoder(s, opts) }
		c.encodesChangelog = true
	case "canal-json":
		co := canal.Options{JSON: opts}
		for _, f := range []struct {
			key string
			re  **regexp.Regexp
		}{{"database.include", &co.Database}, {"table.include", &co.Table}} {
			if v, ok := o.m[k(f.key)]; ok {
				re, err := regexp.Compile("^(?:" + v + ")$")
				if err != nil {
					o.fail(k(f.key), v, "expected a regular expression: "+err.Error())
				}
				*f.re = re
			}
		}
		if o.err != nil {
			return nil, o.err
		}
		if _, err := canal.NewDecoder(s, co); err != nil {
			return nil, fmt.Errorf("connector: table %s: %w", o.table, err)
		}
		c.newChangelog = func() (changelogDecoder, error) { return canal.NewDecoder(s, co) }
		// Flink's CanalJsonSerializationSchema: one message per row,
		// +I and +U as "INSERT", -U and -D as "DELETE".
		c.newEncoder = func() (rowEncoder, error) { return canal.NewEncoder(s, co) }
		c.encodesChangelog = true
	}
	return c, nil
}

// insertOnlyFormat refuses a changelog format where a connector or key
// takes insert-only rows.
func insertOnlyFormat(table, where string, c *codec) error {
	if c != nil && c.newChangelog != nil {
		return fmt.Errorf("connector: table %s: the '%s' format is a changelog format; %s takes insert-only formats (json, csv, raw)", table, c.id, where)
	}
	return nil
}

// kafkaChanges are the rows of one Kafka message in a changelog format.
type kafkaChanges struct{ rows []row.Row }

// produceChangelog is kafkaSource.Produce for changelog value formats:
// the source emits each message's rows together (so that the message's
// offset covers all of them in checkpoints), and a flat map hands them
// on one by one.
func (s *kafkaSource) produceChangelog(b BuildContext) (weir.Stream[row.Row], error) {
	t := s.kafkaTable
	_, dl := b.OnError.DeadLetters()
	decs := sync.Pool{New: func() any { d, _ := t.value.newChangelog(); return d }}
	n := t.schema.Len()
	des := kafka.DeserializerFunc[kafkaChanges](func(rec *kgo.Record) (kafkaChanges, error) {
		d := decs.Get().(changelogDecoder)
		defer decs.Put(d)
		rows, err := d.Decode(nil, rec.Value)
		if err != nil {
			if t.value.ignoreParseErrors && !dl {
				return kafkaChanges{}, nil
			}
			return kafkaChanges{}, kafkaDecodeError(err)
		}
		if len(t.meta) > 0 {
			for i := range rows {
				f := make([]row.Value, n, n+len(t.meta))
				copy(f, rows[i].Fields)
				for _, m := range t.meta {
					f = append(f, kafkaMetaValue(rec, m.Key))
				}
				rows[i].Fields = f
			}
		}
		return kafkaChanges{rows: rows}, nil
	})
	last := func(c kafkaChanges) (row.Row, bool) {
		if len(c.rows) == 0 {
			return row.Row{}, false
		}
		return c.rows[len(c.rows)-1], true
	}
	src := kafka.NewSource(kafka.SourceOptions[kafkaChanges]{
		Brokers: t.brokers, Topics: t.topics, TopicRegexp: t.pattern, Start: t.start,
		Deserializer: des, ErrorPolicy: b.OnError, DiscoveryInterval: t.discover,
		CommitGroup: t.group, ClientOptions: t.client,
	})
	st := weir.FromSource(b.Env, src, changeWatermarks(b.Watermarks, func() func(kafkaChanges) (row.Row, bool) { return last }), t.table).UID(b.uid("source"))
	readRejects(b, st)
	return weir.FlatMap(st, func(c kafkaChanges, out weir.Collector[row.Row]) error {
		for _, r := range c.rows {
			out.Collect(r)
		}
		return nil
	}).Name(b.uid("changelog")).UID(b.uid("changelog")), nil
}
