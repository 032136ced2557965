package connector

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// ChangelogMode is the set of row kinds a stream holds (Flink's
// ChangelogMode): one bit per row.Kind.
type ChangelogMode uint8

// The changelog modes of Flink.
const (
	// InsertOnly holds +I rows only.
	InsertOnly = ChangelogMode(1 << row.Insert)
	// All holds +I, -U, +U and -D rows (a retracting changelog).
	All = ChangelogMode(1<<row.Insert | 1<<row.UpdateBefore | 1<<row.UpdateAfter | 1<<row.Delete)
	// Upsert holds +I, +U and -D rows keyed by the primary key (no -U).
	Upsert = ChangelogMode(1<<row.Insert | 1<<row.UpdateAfter | 1<<row.Delete)
)

// Contains reports whether m holds rows of kind k.
func (m ChangelogMode) Contains(k row.Kind) bool { return m&(1<<k) != 0 }

// ContainsAll reports whether every kind of o is in m.
func (m ChangelogMode) ContainsAll(o ChangelogMode) bool { return m&o == o }

// IsInsertOnly reports whether m holds only inserts.
func (m ChangelogMode) IsInsertOnly() bool { return m == InsertOnly }

// String prints m as Flink does: [I], [I,UB,UA,D], [I,UA,D].
func (m ChangelogMode) String() string {
	var parts []string
	for k, s := range []string{"I", "UB", "UA", "D"} {
		if m.Contains(row.Kind(k)) {
			parts = append(parts, s)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// MetadataColumn is a metadata column a table declares (`ts TIMESTAMP_LTZ(3)
// METADATA FROM 'timestamp'`): the source's metadata key and the
// column's type.
type MetadataColumn struct {
	// Name is the column's name in the table.
	Name string
	// Key is the metadata key ("timestamp", "partition", ...).
	Key string
	// Type is the column's declared type.
	Type row.Type
}

// Context is what the planner knows of a table when it creates its source
// or sink (Flink's DynamicTableFactory.Context).
type Context struct {
	// Table is the table's name, for messages.
	Table string
	// Schema is the table's physical schema: its columns that are neither
	// computed nor metadata, in declaration order.
	Schema row.Schema
	// Metadata are the metadata columns the query reads (sources) or
	// writes (sinks), in the order the source appends them after the
	// physical columns.
	Metadata []MetadataColumn
	// PrimaryKey holds the indexes in Schema of the primary key columns
	// (nil: no primary key).
	PrimaryKey []int
	// PartitionKeys holds the indexes in Schema of the PARTITIONED BY
	// columns, in their order (nil: not partitioned). Only connectors
	// that support partitioning (filesystem) accept them.
	PartitionKeys []int
	// Options are the table's WITH options; keys are case-sensitive, as in
	// Flink. They include 'connector'.
	Options map[string]string
}

// BuildContext is what a source or sink needs to add its operators to a
// job.
type BuildContext struct {
	// Env is the job's environment.
	Env *weir.Environment
	// Watermarks is the strategy of the table's WATERMARK declaration (and
	// its rowtime column), built by the planner, which evaluates computed
	// columns and the watermark expression itself; sources apply it as it
	// is. The zero value means no watermarks.
	Watermarks weir.WatermarkStrategy[row.Row]
	// Prefix names the operators: their uid and name start with it
	// ("orders" gives "orders-source"). Give each table scan or sink of a
	// job its own prefix.
	Prefix string
	// OnError is the job's dead-letter configuration: records a source
	// cannot decode fail the job (the default) or go, as weir.DeadLetter,
	// to the side output of the source operator. With a format's
	// ignore-parse-errors option they are skipped as Flink does, and still
	// sent to the dead-letter output when one is configured.
	OnError weir.ErrorPolicy
	// DeadLetters, when set together with an OnError of
	// weir.DeadLetterTo, receives the dead-letter side output of each
	// operator of the source that rejects records (the planner writes
	// them to the table's 'dead-letter.path'); see readRejects.
	DeadLetters func(weir.Stream[weir.DeadLetter])
}

// readRejects hands the dead-letter side output of st's operator, which
// rejects records under b.OnError, to b.DeadLetters.
func readRejects[T any](b BuildContext, st weir.Stream[T]) {
	if tag, ok := b.OnError.DeadLetters(); ok && b.DeadLetters != nil {
		b.DeadLetters(weir.SideOutput(st, tag))
	}
}

func (b BuildContext) uid(role string) string {
	if b.Prefix == "" {
		return role
	}
	return b.Prefix + "-" + role
}

// Factory is a connector: its identifier (the 'connector' option) and
// the option keys it takes. Option keys are Flink's; a key with a '#'
// segment ("fields.#.kind") matches any single segment there, and a key
// ending in ".*" ("properties.*") any suffix.
type Factory interface {
	// Identifier is the value of the 'connector' option.
	Identifier() string
	// RequiredOptions are the keys that must be given.
	RequiredOptions() []string
	// OptionalOptions are the other keys the connector takes itself
	// ('connector' and the keys of its format are implied).
	OptionalOptions() []string
}

// SourceFactory creates table sources (Flink's DynamicTableSourceFactory).
type SourceFactory interface {
	Factory
	// CreateSource validates the options and returns the source; it
	// opens no connection.
	CreateSource(ctx Context) (Source, error)
}

// SinkFactory creates table sinks (Flink's DynamicTableSinkFactory).
type SinkFactory interface {
	Factory
	// CreateSink validates the options and returns the sink.
	CreateSink(ctx Context) (Sink, error)
}

// Source is a table's scan source (Flink's ScanTableSource).
type Source interface {
	// ChangelogMode is the kinds of rows it produces.
	ChangelogMode() ChangelogMode
	// Bounded reports whether the scan ends.
	Bounded() bool
	// Produce adds the source to b.Env and returns its rows: the
	// physical columns (or those of the pushed-down projection) followed
	// by the requested metadata columns.
	Produce(b BuildContext) (weir.Stream[row.Row], error)
}

// ProjectionPushDown is implemented by sources that can produce a subset
// of the physical columns (Flink's SupportsProjectionPushDown, top-level
// fields only).
type ProjectionPushDown interface {
	// ApplyProjection makes the source produce only the physical columns
	// at these indexes of Context.Schema, in this order.
	ApplyProjection(fields []int) error
}

// NestedProjectionPushDown is implemented by sources that can produce
// fields of nested ROW columns as flat columns (Flink's
// SupportsProjectionPushDown with supportsNestedProjection): no ROW
// value is built for a column of which only some fields are read.
type NestedProjectionPushDown interface {
	// ApplyNestedProjection makes the source produce one column per
	// path, in this order: path[0] is a physical column of
	// Context.Schema, and each further index a field of the ROW before
	// it. A field of a NULL ROW is NULL.
	ApplyNestedProjection(paths [][]int) error
}

// RowtimePushDown is implemented by sources that attach each row's event
// time themselves (the nexmark generator knows it): when the table's
// rowtime is what the source attaches, the planner keeps the source's
// timestamps instead of evaluating the rowtime per row, and reads no
// column for it.
type RowtimePushDown interface {
	// ApplyRowtime reports whether the timestamp the source attaches to
	// every row is the value of rowtime, a deterministic expression over
	// the physical columns of Context.Schema; it must answer true only if
	// that holds for every row the source produces (never NULL).
	ApplyRowtime(rowtime expr.Expr) bool
}

// MetadataReader is implemented by sources with metadata columns (Flink's
// SupportsReadingMetadata).
type MetadataReader interface {
	// ReadableMetadata lists the metadata keys and their types.
	ReadableMetadata() map[string]row.Type
}

// Sink is a table's sink (Flink's DynamicTableSink).
type Sink interface {
	// ChangelogMode returns the kinds of rows the sink takes when the query
	// produces the kinds in query, or an error if it cannot take them.
	ChangelogMode(query ChangelogMode) (ChangelogMode, error)
	// Consume adds the sink to the job, writing in's rows.
	Consume(b BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error)
}

// Registry holds the connectors a planner knows, by identifier. It is
// built by the planner (there is no global registry) and is read-only once
// handed over: safe for concurrent reads.
type Registry struct {
	factories map[string]Factory
}

// NewRegistry returns a registry of the given factories.
func NewRegistry(fs ...Factory) *Registry {
	r := &Registry{factories: map[string]Factory{}}
	for _, f := range fs {
		r.Register(f)
	}
	return r
}

// Default returns a registry of the built-in connectors: datagen, print
// (to os.Stdout / os.Stderr), blackhole, filesystem, kafka, upsert-kafka,
// jdbc, redis, postgres-cdc, mysql-cdc, nats, mqtt, rabbitmq, http and
// clickhouse.
func Default() *Registry {
	return NewRegistry(Datagen{}, Print{}, Blackhole{}, Filesystem{}, Kafka{}, UpsertKafka{}, JDBC{}, Redis{},
		PostgresCDC{}, MySQLCDC{}, NATS{}, MQTT{}, RabbitMQ{}, HTTP{}, ClickHouse{})
}

// Register adds f, replacing a factory of the same identifier.
func (r *Registry) Register(f Factory) { r.factories[f.Identifier()] = f }

// Lookup returns the factory of an identifier.
func (r *Registry) Lookup(id string) (Factory, bool) {
	f, ok := r.factories[id]
	return f, ok
}

// Identifiers returns the registered identifiers, sorted.
func (r *Registry) Identifiers() []string {
	ids := make([]string, 0, len(r.factories))
	for id := range r.factories {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (r *Registry) find(ctx Context, sink bool) (Factory, error) {
	id, ok := ctx.Options["connector"]
	if !ok {
		return nil, fmt.Errorf("connector: table %s: Table options do not contain an option key 'connector' for discovering a connector.", ctx.Table)
	}
	var ids []string
	for _, x := range r.Identifiers() {
		f := r.factories[x]
		if _, ok := f.(SinkFactory); ok && sink {
			ids = append(ids, x)
		}
		if _, ok := f.(SourceFactory); ok && !sink {
			ids = append(ids, x)
		}
	}
	f, ok := r.factories[id]
	if ok {
		if _, isSink := f.(SinkFactory); isSink && sink {
			return f, nil
		}
		if _, isSrc := f.(SourceFactory); isSrc && !sink {
			return f, nil
		}
	}
	kind := "DynamicTableSourceFactory"
	if sink {
		kind = "DynamicTableSinkFactory"
	}
	return nil, fmt.Errorf("connector: table %s: Could not find any factory for identifier '%s' that implements '%s'.\n\nAvailable factory identifiers are:\n\n%s",
		ctx.Table, id, kind, strings.Join(ids, "\n"))
}

// CreateSource creates the source of a table from its 'connector' option,
// checking the requested metadata keys.
func (r *Registry) CreateSource(ctx Context) (Source, error) {
	f, err := r.find(ctx, false)
	if err != nil {
		return nil, err
	}
	src, err := f.(SourceFactory).CreateSource(ctx)
	if err != nil {
		return nil, err
	}
	if len(ctx.Metadata) > 0 {
		mr, ok := src.(MetadataReader)
		var keys []string
		if ok {
			for k := range mr.ReadableMetadata() {
				keys = append(keys, k)
			}
			sort.Strings(keys)
		}
		for _, m := range ctx.Metadata {
			if !slices.Contains(keys, m.Key) {
				return nil, fmt.Errorf("connector: table %s: Invalid metadata key '%s' in column '%s'. The '%s' connector supports the following metadata keys for reading:\n%s",
					ctx.Table, m.Key, m.Name, f.Identifier(), strings.Join(keys, "\n"))
			}
		}
	}
	return src, nil
}

// CreateSink creates the sink of a table from its 'connector' option.
func (r *Registry) CreateSink(ctx Context) (Sink, error) {
	f, err := r.find(ctx, true)
	if err != nil {
		return nil, err
	}
	if len(ctx.Metadata) > 0 {
		return nil, fmt.Errorf("connector: table %s: the '%s' connector writes no metadata columns (column '%s')", ctx.Table, f.Identifier(), ctx.Metadata[0].Name)
	}
	if _, ok := f.(PartitioningFactory); len(ctx.PartitionKeys) > 0 && !ok {
		return nil, fmt.Errorf("connector: Table '%s' is a partitioned table, but the underlying DynamicTableSink doesn't implement the SupportsPartitioning interface (the '%s' connector writes no partitions).", ctx.Table, f.Identifier())
	}
	return f.(SinkFactory).CreateSink(ctx)
}

// PartitioningFactory is implemented by connectors whose sinks write
// partitioned tables (Flink's SupportsPartitioning): they read
// Context.PartitionKeys.
type PartitioningFactory interface {
	SupportsPartitioning()
}

// acceptAll is the ChangelogMode of sinks that take every kind.
func acceptAll(query ChangelogMode) (ChangelogMode, error) { return query, nil }

// insertOnlySink is the ChangelogMode of sinks that take inserts only.
func insertOnlySink(table, id string, query ChangelogMode) (ChangelogMode, error) {
	if !query.IsInsertOnly() {
		return 0, &InsertOnlyError{msg: fmt.Sprintf("connector: Table sink '%s' takes inserts only (the '%s' connector accepts %s)", table, id, InsertOnly)}
	}
	return InsertOnly, nil
}

// InsertOnlyError is a sink's ChangelogMode refusing changes because it
// takes inserts only (the planner names the node that produces them);
// other refusals (an option that rules out changes) are other errors.
type InsertOnlyError struct{ msg string }

func (e *InsertOnlyError) Error() string { return e.msg }
