package connector

import (
	"github.com/rabbitmq/amqp091-go"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/rabbitmq"
	"github.com/weirstream/weir/row"
)

// RabbitMQ is a 'rabbitmq' table connector over connector/rabbitmq: an
// insert-only, unbounded source (manual acks after checkpoints, message
// ids deduplicated: exactly-once for messages with an id) and an
// insert-only sink (publisher confirms: at-least-once; every message
// carries a message-id). Options, after Flink's RMQSource settings:
// uri (default amqp://guest:guest@127.0.0.1:5672/), queue (required: the
// source's queue; for the sink the queue declared and bound on demand),
// exchange and routing-key (sink; default: the default exchange and the
// queue's name), format (json, csv, raw) and its options. Readable
// metadata: message-id, routing-key, exchange.
type RabbitMQ struct{}

// Identifier is "rabbitmq".
func (RabbitMQ) Identifier() string { return "rabbitmq" }

// RequiredOptions is queue.
func (RabbitMQ) RequiredOptions() []string { return []string{"queue"} }

// OptionalOptions lists the connector's own options.
func (RabbitMQ) OptionalOptions() []string { return []string{"uri", "exchange", "routing-key"} }

type rabbitTable struct {
	table, uri, queue, exchange, key string
	format                           *messageFormat
	meta                             []MetadataColumn
}

func (f RabbitMQ) create(ctx Context, sink bool) (*rabbitTable, error) {
	o, id, err := messageOptions(ctx, f, sink, "")
	if err != nil {
		return nil, err
	}
	t := &rabbitTable{table: ctx.Table, uri: o.str("uri", rabbitmq.DefaultURL), queue: o.str("queue", ""),
		exchange: o.str("exchange", ""), meta: ctx.Metadata}
	t.key = o.str("routing-key", t.queue)
	if o.err != nil {
		return nil, o.err
	}
	if t.format, err = newMessageFormat(ctx, o, id, "rabbitmq"); err != nil {
		return nil, err
	}
	return t, nil
}

// CreateSource validates the options.
func (f RabbitMQ) CreateSource(ctx Context) (Source, error) {
	t, err := f.create(ctx, false)
	if err != nil {
		return nil, err
	}
	return &rabbitSource{t}, nil
}

// CreateSink validates the options.
func (f RabbitMQ) CreateSink(ctx Context) (Sink, error) {
	t, err := f.create(ctx, true)
	if err != nil {
		return nil, err
	}
	return &rabbitSink{t}, nil
}

type rabbitSource struct{ *rabbitTable }

func (s *rabbitSource) ChangelogMode() ChangelogMode { return InsertOnly }
func (s *rabbitSource) Bounded() bool                { return false }

// ReadableMetadata lists the delivery's metadata keys.
func (s *rabbitSource) ReadableMetadata() map[string]row.Type {
	return map[string]row.Type{"message-id": row.String(), "routing-key": row.String().NotNull(), "exchange": row.String().NotNull()}
}

func (s *rabbitSource) Produce(b BuildContext) (weir.Stream[row.Row], error) {
	t := s.rabbitTable
	_, dl := b.OnError.DeadLetters()
	src := rabbitmq.NewSource(rabbitmq.SourceOptions[row.Row]{
		URL: t.uri, Queue: t.queue, ErrorPolicy: b.OnError,
		Deserializer: rabbitmq.DeserializerFunc[row.Row](func(d *amqp091.Delivery) (row.Row, error) {
			r, err := t.format.decode(d.Body, dl)
			if err != nil || r.Kind == skipKind {
				return r, err
			}
			for _, m := range t.meta {
				switch m.Key {
				case "message-id":
					if d.MessageId == "" {
						r.Fields = append(r.Fields, row.Null())
					} else {
						r.Fields = append(r.Fields, row.Str(d.MessageId))
					}
				case "routing-key":
					r.Fields = append(r.Fields, row.Str(d.RoutingKey))
				case "exchange":
					r.Fields = append(r.Fields, row.Str(d.Exchange))
				}
			}
			return r, nil
		}),
	})
	st := weir.FromSource(b.Env, src, b.Watermarks, t.table).UID(b.uid("source"))
	return dropSkipped(b, st), nil
}

type rabbitSink struct{ *rabbitTable }

func (s *rabbitSink) ChangelogMode(q ChangelogMode) (ChangelogMode, error) {
	return insertOnlySink(s.table, "rabbitmq", q)
}

func (s *rabbitSink) Consume(b BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	t := s.rabbitTable
	sink := rabbitmq.NewSink(rabbitmq.SinkOptions[row.Row]{
		URL: t.uri, Exchange: t.exchange, RoutingKey: t.key, Queue: t.queue, IDPrefix: b.uid("sink"),
		Serializer: rabbitmq.SerializerFunc[row.Row](func(r row.Row) ([]byte, error) { return t.format.encode(r, "rabbitmq") }),
	})
	return in.SinkTo(sink).UID(b.uid("sink")).Name(b.uid("rabbitmq")), nil
}
