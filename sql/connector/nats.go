package connector

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/nats"
	"github.com/weirstream/weir/row"
)

// NATS is a 'nats' table connector over connector/nats (JetStream): an
// insert-only, unbounded source (a durable pull consumer; exactly-once
// into Weir's state) and an insert-only sink (exactly-once within the
// stream's duplicate window). Flink has no NATS connector; the options
// follow Flink's naming: url (default nats://127.0.0.1:4222), stream
// (required), subjects (';'-separated subjects of the stream, used when
// the connector creates it), subject (the sink's subject; for the source,
// an optional filter), consumer (the source's durable consumer, required
// for sources), format (json, csv, raw) and its options. Readable
// metadata: subject, stream, sequence, timestamp.
type NATS struct{}

// Identifier is "nats".
func (NATS) Identifier() string { return "nats" }

// RequiredOptions is stream.
func (NATS) RequiredOptions() []string { return []string{"stream"} }

// OptionalOptions lists the connector's own options.
func (NATS) OptionalOptions() []string {
	return []string{"url", "subjects", "subject", "consumer"}
}

var natsMetadata = map[string]row.Type{
	"subject":   row.String().NotNull(),
	"stream":    row.String().NotNull(),
	"sequence":  row.BigInt().NotNull(),
	"timestamp": row.TimestampLTZType(3).NotNull(),
}

type natsTable struct {
	table    string
	url      string
	stream   string
	subjects []string
	subject  string
	consumer string
	format   *messageFormat
	meta     []MetadataColumn
}

func (f NATS) create(ctx Context, sink bool) (*natsTable, error) {
	o, id, err := messageOptions(ctx, f, sink, "")
	if err != nil {
		return nil, err
	}
	t := &natsTable{table: ctx.Table, url: o.str("url", "nats://127.0.0.1:4222"), stream: o.str("stream", ""),
		subject: o.str("subject", ""), consumer: o.str("consumer", ""), meta: ctx.Metadata}
	for _, s := range strings.Split(o.str("subjects", ""), ";") {
		if s = strings.TrimSpace(s); s != "" {
			t.subjects = append(t.subjects, s)
		}
	}
	if o.err != nil {
		return nil, o.err
	}
	switch {
	case sink && t.subject == "":
		return nil, fmt.Errorf("connector: table %s: the nats sink needs option 'subject'", ctx.Table)
	case !sink && t.consumer == "":
		return nil, fmt.Errorf("connector: table %s: the nats source needs option 'consumer' (its durable consumer's name)", ctx.Table)
	}
	if t.format, err = newMessageFormat(ctx, o, id, "nats"); err != nil {
		return nil, err
	}
	return t, nil
}

// CreateSource validates the options.
func (f NATS) CreateSource(ctx Context) (Source, error) {
	t, err := f.create(ctx, false)
	if err != nil {
		return nil, err
	}
	return &natsSource{t}, nil
}

// CreateSink validates the options.
func (f NATS) CreateSink(ctx Context) (Sink, error) {
	t, err := f.create(ctx, true)
	if err != nil {
		return nil, err
	}
	return &natsSink{t}, nil
}

type natsSource struct{ *natsTable }

func (s *natsSource) ChangelogMode() ChangelogMode { return InsertOnly }
func (s *natsSource) Bounded() bool                { return false }

// ReadableMetadata lists the message's metadata keys.
func (s *natsSource) ReadableMetadata() map[string]row.Type { return natsMetadata }

func (s *natsSource) Produce(b BuildContext) (weir.Stream[row.Row], error) {
	t := s.natsTable
	_, dl := b.OnError.DeadLetters()
	var filter []string
	if t.subject != "" {
		filter = []string{t.subject}
	}
	src := nats.NewSource(nats.SourceOptions[row.Row]{
		URL: t.url, Stream: t.stream, Subjects: t.subjects, Consumer: t.consumer, FilterSubjects: filter,
		ErrorPolicy: b.OnError,
		Deserializer: nats.DeserializerFunc[row.Row](func(m *nats.Message) (row.Row, error) {
			r, err := t.format.decode(m.Data, dl)
			if err != nil || r.Kind == skipKind || len(t.meta) == 0 {
				return r, err
			}
			for _, md := range t.meta {
				switch md.Key {
				case "subject":
					r.Fields = append(r.Fields, row.Str(m.Subject))
				case "stream":
					r.Fields = append(r.Fields, row.Str(m.Stream))
				case "sequence":
					r.Fields = append(r.Fields, row.Int(int64(m.Sequence)))
				case "timestamp":
					r.Fields = append(r.Fields, row.Timestamp(m.Timestamp.UnixMilli(), 0))
				}
			}
			return r, nil
		}),
	})
	st := weir.FromSource(b.Env, src, b.Watermarks, t.table).UID(b.uid("source"))
	return dropSkipped(b, st), nil
}

type natsSink struct{ *natsTable }

func (s *natsSink) ChangelogMode(q ChangelogMode) (ChangelogMode, error) {
	return insertOnlySink(s.table, "nats", q)
}

func (s *natsSink) Consume(b BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	t := s.natsTable
	sink := nats.NewSink(nats.SinkOptions[row.Row]{
		URL: t.url, Subject: t.subject, Stream: t.stream, Subjects: t.subjects, IDPrefix: b.uid("sink"),
		Serializer: nats.SerializerFunc[row.Row](func(r row.Row) ([]byte, error) { return t.format.encode(r, "nats") }),
	})
	return in.SinkTo(sink).UID(b.uid("sink")).Name(b.uid("nats")), nil
}
