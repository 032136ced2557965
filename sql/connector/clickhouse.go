package connector

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/clickhouse"
	"github.com/weirstream/weir/format/json"
	"github.com/weirstream/weir/row"
)

// ClickHouse is a 'clickhouse' table sink over connector/clickhouse:
// rows inserted with INSERT ... FORMAT JSONEachRow in batches sent when
// full, on every checkpoint and at the end; at-least-once (see
// docs/connectors.md for removing repeats). Insert-only: an updating
// query is refused at planning. Options, after the community
// flink-connector-clickhouse: url (default http://127.0.0.1:8123),
// database-name (default "default"), table-name (required), username,
// password, sink.batch-size, sink.flush-interval, sink.max-retries (0:
// retry until the job is cancelled), sink.parallelism. Rows are encoded as
// Flink's json format does (timestamps "yyyy-MM-dd HH:mm:ss[.fff]",
// decimals as plain numbers), which ClickHouse's JSONEachRow reads.
type ClickHouse struct{}

// Identifier is "clickhouse".
func (ClickHouse) Identifier() string { return "clickhouse" }

// RequiredOptions is table-name.
func (ClickHouse) RequiredOptions() []string { return []string{"table-name"} }

// OptionalOptions lists the connector's options.
func (ClickHouse) OptionalOptions() []string {
	return []string{"url", "database-name", "username", "password", "sink.batch-size",
		"sink.flush-interval", "sink.max-retries", "sink.parallelism"}
}

type clickhouseSink struct {
	table string
	opts  clickhouse.Options[row.Row]
	par   int
}

// CreateSink validates the options.
func (f ClickHouse) CreateSink(ctx Context) (Sink, error) {
	if err := validate(ctx, f.Identifier(), f.RequiredOptions(), f.OptionalOptions()); err != nil {
		return nil, err
	}
	o := newOptions(ctx)
	s := &clickhouseSink{table: ctx.Table, par: int(o.int64("sink.parallelism", 0, 1))}
	s.opts = clickhouse.Options[row.Row]{
		URL:           strings.TrimSuffix(o.str("url", "http://127.0.0.1:8123"), "/"),
		User:          o.str("username", ""),
		Password:      o.str("password", ""),
		Database:      o.str("database-name", "default"),
		Table:         o.str("table-name", ""),
		BatchSize:     int(o.int64("sink.batch-size", clickhouse.DefaultBatchSize, 1)),
		FlushInterval: o.duration("sink.flush-interval", 0),
		MaxAttempts:   int(o.int64("sink.max-retries", 0, 0)),
	}
	if s.opts.MaxAttempts > 0 {
		s.opts.MaxAttempts++ // retries after the first attempt
	}
	if o.err != nil {
		return nil, o.err
	}
	jo := json.Options{DecimalAsPlainNumber: true}
	if _, err := json.NewEncoder(ctx.Schema, jo); err != nil {
		return nil, fmt.Errorf("connector: table %s: %w", ctx.Table, err)
	}
	m := &messageFormat{table: ctx.Table, n: ctx.Schema.Len()}
	m.encs.New = func() any { e, _ := json.NewEncoder(ctx.Schema, jo); return e }
	s.opts.Serializer = serializerFunc(func(r row.Row) ([]byte, error) { return m.encode(r, "clickhouse") })
	return s, nil
}

// serializerFunc is a kafka.Serializer[row.Row] (the type the clickhouse
// sink takes).
type serializerFunc func(row.Row) ([]byte, error)

func (f serializerFunc) Serialize(r row.Row) ([]byte, error) { return f(r) }

func (s *clickhouseSink) ChangelogMode(q ChangelogMode) (ChangelogMode, error) {
	return insertOnlySink(s.table, "clickhouse", q)
}

func (s *clickhouseSink) Consume(b BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	opts := s.opts
	opts.KeyPrefix = b.uid("sink")
	d := in.SinkTo(clickhouse.NewSink(opts)).UID(b.uid("sink")).Name(b.uid("clickhouse"))
	if s.par > 0 {
		d = d.SetParallelism(s.par)
	}
	return d, nil
}
