package connector

import (
	"fmt"
	nethttp "net/http"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	weirhttp "github.com/weirstream/weir/connector/http"
	"github.com/weirstream/weir/connector/kafka"
	"github.com/weirstream/weir/row"
)

// HTTP is an 'http' table connector over connector/http. As a source it
// either takes POSTed records ('source.mode' = 'ingest', the default: an
// endpoint at 'source.address', path 'source.path'; 'source.ack' =
// 'on-accept' answers 200 once the records are buffered, at-most-once,
// 'on-checkpoint' once a completed checkpoint covers them, at-least-once)
// or polls a URL ('source.mode' = 'poll', 'url', 'source.poll.interval';
// each poll's records are emitted as they are: no cursor through SQL).
// A body is split into records as the DataStream connector does: a JSON
// array gives its elements, one other JSON value is one record, anything
// else is lines. As a sink it is a webhook: batches of +I rows POSTed
// ('sink.method') to 'url' as a JSON array ('sink.batch-format' =
// 'json-array', format json only) or as lines ('lines'), with
// 'sink.batch-size', 'sink.flush-interval', 'sink.max-retries' and an
// Idempotency-Key header per batch; at-least-once. Insert-only both ways.
// format: json, csv, raw and their options. Flink has no HTTP connector
// of its own; these names follow its style.
type HTTP struct{}

// Identifier is "http".
func (HTTP) Identifier() string { return "http" }

// RequiredOptions is empty: url or source.address depends on the role.
func (HTTP) RequiredOptions() []string { return nil }

// OptionalOptions lists the connector's own options.
func (HTTP) OptionalOptions() []string {
	return []string{"url", "source.mode", "source.address", "source.path", "source.ack", "source.poll.interval",
		"sink.method", "sink.batch-format", "sink.batch-size", "sink.flush-interval", "sink.max-retries"}
}

type httpTable struct {
	table    string
	mode     string
	url      string
	addr     string
	path     string
	ack      weirhttp.AckMode
	interval time.Duration
	method   string
	lines    bool
	batch    int
	flush    time.Duration
	attempts int
	format   *messageFormat
}

func (f HTTP) create(ctx Context, sink bool) (*httpTable, error) {
	o, id, err := messageOptions(ctx, f, sink, "")
	if err != nil {
		return nil, err
	}
	t := &httpTable{table: ctx.Table, url: o.str("url", ""),
		mode:     o.enum("source.mode", "ingest", "ingest", "poll"),
		addr:     o.str("source.address", "127.0.0.1:8080"),
		path:     o.str("source.path", "/"),
		interval: o.duration("source.poll.interval", 10*time.Second),
		method:   strings.ToUpper(o.str("sink.method", nethttp.MethodPost)),
		lines:    o.enum("sink.batch-format", "json-array", "json-array", "lines") == "lines",
		batch:    int(o.int64("sink.batch-size", 500, 1)),
		flush:    o.duration("sink.flush-interval", 0),
		attempts: int(o.int64("sink.max-retries", 0, 0)),
	}
	if o.enum("source.ack", "on-accept", "on-accept", "on-checkpoint") == "on-checkpoint" {
		t.ack = weirhttp.AckOnCheckpoint
	}
	if t.attempts > 0 {
		t.attempts++
	}
	if o.err != nil {
		return nil, o.err
	}
	switch {
	case (sink || t.mode == "poll") && t.url == "":
		return nil, fmt.Errorf("connector: table %s: the http %s needs option 'url'", ctx.Table, map[bool]string{true: "sink", false: "poll source"}[sink])
	case sink && !t.lines && id != "json":
		return nil, fmt.Errorf("connector: table %s: 'sink.batch-format' 'json-array' needs format 'json'; use 'lines' for %s", ctx.Table, id)
	}
	if t.format, err = newMessageFormat(ctx, o, id, "http"); err != nil {
		return nil, err
	}
	return t, nil
}

// CreateSource validates the options.
func (f HTTP) CreateSource(ctx Context) (Source, error) {
	t, err := f.create(ctx, false)
	if err != nil {
		return nil, err
	}
	return &httpSource{t}, nil
}

// CreateSink validates the options.
func (f HTTP) CreateSink(ctx Context) (Sink, error) {
	t, err := f.create(ctx, true)
	if err != nil {
		return nil, err
	}
	return &httpSink{t}, nil
}

type httpSource struct{ *httpTable }

func (s *httpSource) ChangelogMode() ChangelogMode { return InsertOnly }
func (s *httpSource) Bounded() bool                { return false }

func (s *httpSource) Produce(b BuildContext) (weir.Stream[row.Row], error) {
	t := s.httpTable
	_, dl := b.OnError.DeadLetters()
	des := kafka.DeserializerFunc[row.Row](func(rec *kgo.Record) (row.Row, error) {
		r, err := t.format.decode(rec.Value, dl)
		if err != nil {
			return r, kafkaDecodeError(err)
		}
		return r, nil
	})
	var st weir.Stream[row.Row]
	if t.mode == "poll" {
		src := weirhttp.NewPollSource(weirhttp.PollOptions[row.Row]{URL: t.url, Interval: t.interval, Deserializer: des, ErrorPolicy: b.OnError})
		st = weir.FromSource(b.Env, src, b.Watermarks, t.table).UID(b.uid("source"))
	} else {
		src := weirhttp.NewIngestSource(weirhttp.IngestOptions[row.Row]{Addr: t.addr, Path: t.path, Ack: t.ack, Deserializer: des, ErrorPolicy: b.OnError})
		st = weir.FromSource(b.Env, src, b.Watermarks, t.table).UID(b.uid("source"))
	}
	return dropSkipped(b, st), nil
}

type httpSink struct{ *httpTable }

func (s *httpSink) ChangelogMode(q ChangelogMode) (ChangelogMode, error) {
	return insertOnlySink(s.table, "http", q)
}

func (s *httpSink) Consume(b BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	t := s.httpTable
	format := weirhttp.JSONArray
	if t.lines {
		format = weirhttp.JSONLines
	}
	sink := weirhttp.NewWebhookSink(weirhttp.WebhookOptions[row.Row]{
		URL: t.url, Method: t.method, Format: format, BatchSize: t.batch, FlushInterval: t.flush,
		MaxAttempts: t.attempts, KeyPrefix: b.uid("sink"),
		Serializer: serializerFunc(func(r row.Row) ([]byte, error) { return t.format.encode(r, "http") }),
	})
	return in.SinkTo(sink).UID(b.uid("sink")).Name(b.uid("http")), nil
}
