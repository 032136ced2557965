package connector

import (
	"fmt"
	"strings"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/mqtt"
	"github.com/weirstream/weir/row"
)

// MQTT is an 'mqtt' table connector over connector/mqtt (MQTT 3.1.1 or
// 5.0, QoS 1): an insert-only, unbounded source (persistent session,
// PUBACK after the checkpoint: at-least-once) and an insert-only sink
// (at-least-once). Flink has no MQTT connector; options: broker (default
// tcp://127.0.0.1:1883), topic (the source's ';'-separated topic filters;
// the sink's topic), client-id (required: subtask i connects as
// client-id-i and keeps its session), username, password,
// shared-group (source at parallelism > 1: $share subscriptions),
// protocol-version ('3.1.1', the default, or '5'), with '5'
// scan.session-expiry (a duration; default: never) and
// scan.receive-maximum (default 1024), sink.retained, format (json, csv,
// raw) and its options. Readable metadata: topic.
type MQTT struct{}

// Identifier is "mqtt".
func (MQTT) Identifier() string { return "mqtt" }

// RequiredOptions are topic and client-id.
func (MQTT) RequiredOptions() []string { return []string{"topic", "client-id"} }

// OptionalOptions lists the connector's own options.
func (MQTT) OptionalOptions() []string {
	return []string{"broker", "username", "password", "shared-group", "sink.retained",
		"protocol-version", "scan.session-expiry", "scan.receive-maximum"}
}

type mqttTable struct {
	table    string
	conn     mqtt.Connection
	topics   []string
	group    string
	retained bool
	expiry   time.Duration
	receive  uint16
	format   *messageFormat
	meta     []MetadataColumn
}

func (f MQTT) create(ctx Context, sink bool) (*mqttTable, error) {
	o, id, err := messageOptions(ctx, f, sink, "")
	if err != nil {
		return nil, err
	}
	t := &mqttTable{table: ctx.Table, meta: ctx.Metadata,
		conn: mqtt.Connection{Broker: o.str("broker", "tcp://127.0.0.1:1883"), ClientID: o.str("client-id", ""),
			Username: o.str("username", ""), Password: o.str("password", "")},
		group: o.str("shared-group", ""), retained: o.bool("sink.retained", false),
		expiry: o.duration("scan.session-expiry", 0), receive: uint16(o.int64("scan.receive-maximum", 0, 1))}
	if o.enum("protocol-version", "3.1.1", "3.1.1", "5") == "5" {
		t.conn.ProtocolVersion = 5
	} else if o.has("scan.session-expiry") || o.has("scan.receive-maximum") {
		return nil, fmt.Errorf("connector: table %s: options 'scan.session-expiry' and 'scan.receive-maximum' need 'protocol-version' = '5'", ctx.Table)
	}
	if n := o.int64("scan.receive-maximum", 0, 1); n > 65535 {
		o.fail("scan.receive-maximum", ctx.Options["scan.receive-maximum"], "expected at most 65535")
	}
	for _, s := range strings.Split(o.str("topic", ""), ";") {
		if s = strings.TrimSpace(s); s != "" {
			t.topics = append(t.topics, s)
		}
	}
	if o.err != nil {
		return nil, o.err
	}
	if sink && (len(t.topics) != 1 || strings.ContainsAny(t.topics[0], "+#")) {
		return nil, fmt.Errorf("connector: table %s: Invalid value for option 'topic': %q; the mqtt sink publishes to one topic (no wildcards)", ctx.Table, ctx.Options["topic"])
	}
	if t.format, err = newMessageFormat(ctx, o, id, "mqtt"); err != nil {
		return nil, err
	}
	return t, nil
}

// CreateSource validates the options.
func (f MQTT) CreateSource(ctx Context) (Source, error) {
	t, err := f.create(ctx, false)
	if err != nil {
		return nil, err
	}
	return &mqttSource{t}, nil
}

// CreateSink validates the options.
func (f MQTT) CreateSink(ctx Context) (Sink, error) {
	t, err := f.create(ctx, true)
	if err != nil {
		return nil, err
	}
	return &mqttSink{t}, nil
}

type mqttSource struct{ *mqttTable }

func (s *mqttSource) ChangelogMode() ChangelogMode { return InsertOnly }
func (s *mqttSource) Bounded() bool                { return false }

// ReadableMetadata lists the message's metadata keys.
func (s *mqttSource) ReadableMetadata() map[string]row.Type {
	return map[string]row.Type{"topic": row.String().NotNull()}
}

func (s *mqttSource) Produce(b BuildContext) (weir.Stream[row.Row], error) {
	t := s.mqttTable
	_, dl := b.OnError.DeadLetters()
	src, err := mqtt.NewSource(mqtt.SourceOptions[row.Row]{
		Connection: t.conn, Topics: t.topics, SharedGroup: t.group, ErrorPolicy: b.OnError,
		SessionExpiry: t.expiry, ReceiveMaximum: t.receive,
		Deserializer: func(m mqtt.Message) (row.Row, error) {
			r, err := t.format.decode(m.Payload, dl)
			if err != nil || r.Kind == skipKind {
				return r, err
			}
			for range t.meta {
				r.Fields = append(r.Fields, row.Str(m.Topic))
			}
			return r, nil
		},
	})
	if err != nil {
		return weir.Stream[row.Row]{}, fmt.Errorf("connector: table %s: %w", t.table, err)
	}
	st := weir.FromSource(b.Env, src, b.Watermarks, t.table).UID(b.uid("source"))
	return dropSkipped(b, st), nil
}

type mqttSink struct{ *mqttTable }

func (s *mqttSink) ChangelogMode(q ChangelogMode) (ChangelogMode, error) {
	return insertOnlySink(s.table, "mqtt", q)
}

func (s *mqttSink) Consume(b BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	t := s.mqttTable
	sink, err := mqtt.NewSink(mqtt.SinkOptions[row.Row]{
		Connection: t.conn, Topic: t.topics[0], Retained: t.retained,
		Serialize: func(r row.Row) ([]byte, error) { return t.format.encode(r, "mqtt") },
	})
	if err != nil {
		return weir.DataSink{}, fmt.Errorf("connector: table %s: %w", t.table, err)
	}
	return in.SinkTo(sink).UID(b.uid("sink")).Name(b.uid("mqtt")), nil
}
