package connector

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/redis"
	"github.com/weirstream/weir/row"
)

// Redis is a 'redis' table connector over connector/redis: an upsert sink
// and a lookup source, keyed by the table's PRIMARY KEY. Flink has no
// official Redis SQL connector; the option names follow the widely used
// community connectors (bahir's flink-connector-redis and its SQL
// successors): host, port, password, database, ttl.
//
// A row is stored under the key key-prefix + the primary key's values as
// text (several key columns joined by key-separator, default ':'). With
// data-type 'string' (the default) the other columns are the value,
// encoded with 'format' (json by default; 'raw' for one column), written
// with SET; with data-type 'hash' each other column is a hash field named
// after it holding the value's text (as CAST(v AS STRING)), written with
// HSET, a NULL column removing its field (HDEL). A -D row deletes the key
// (DEL); -U rows are skipped (the +U after them overwrites the key). With
// ttl the key expires that long after it was written.
//
// A lookup (lookup join) reads the key of the primary key's values (GET,
// or HGETALL for a hash); lookups on other columns are refused. The
// lookup.cache options are those of the 'jdbc' connector.
//
// Not supported: a scan source (a Redis key space is not a table),
// cluster and sentinel modes, other Redis data types (lists, sets,
// streams: connector/redis offers streams to DataStream jobs).
type Redis struct{}

// Identifier is "redis".
func (Redis) Identifier() string { return "redis" }

// RequiredOptions is empty: host defaults to localhost.
func (Redis) RequiredOptions() []string { return nil }

// OptionalOptions lists the connector's options.
func (Redis) OptionalOptions() []string {
	return append([]string{"host", "port", "password", "database", "data-type", "key-prefix", "key-separator",
		"ttl", "format", "sink.buffer-flush.max-rows", "sink.parallelism", "lookup.max-retry-timeout"}, lookupCacheKeys...)
}

type redisTable struct {
	table    string
	schema   row.Schema
	pk       []int
	valCols  []int
	opts     goredis.Options
	hash     bool
	prefix   string
	sep      string
	ttl      time.Duration
	value    *codec // data-type string
	cache    LookupCacheOptions
	retry    time.Duration
	batch    int
	par      int
	pkTypes  []row.Type
	valTypes []row.Type
}

func (f Redis) create(ctx Context, sink bool) (*redisTable, error) {
	opt := f.OptionalOptions()
	id := "json"
	if v, ok := ctx.Options["format"]; ok {
		if err := lookupFormat(ctx.Table, "format", v, sink); err != nil {
			return nil, err
		}
		id = v
	}
	opt = append(opt, formatKeys("", id)...)
	if err := validate(ctx, f.Identifier(), f.RequiredOptions(), opt); err != nil {
		return nil, err
	}
	if len(ctx.PrimaryKey) == 0 {
		return nil, fmt.Errorf("connector: table %s: 'redis' tables require a PRIMARY KEY: it is the Redis key of a row", ctx.Table)
	}
	o := newOptions(ctx)
	t := &redisTable{table: ctx.Table, schema: ctx.Schema, pk: ctx.PrimaryKey}
	host := o.str("host", "localhost")
	port := o.int64("port", 6379, 1)
	t.opts = goredis.Options{Addr: host + ":" + strconv.FormatInt(port, 10), Password: o.str("password", ""), DB: int(o.int64("database", 0, 0))}
	t.hash = o.enum("data-type", "string", "string", "hash") == "hash"
	t.prefix = o.str("key-prefix", "")
	t.sep = o.str("key-separator", ":")
	t.ttl = o.duration("ttl", 0)
	t.cache = lookupCache(o)
	t.retry = o.duration("lookup.max-retry-timeout", redis.DefaultMaxRetryTime)
	t.batch = int(o.int64("sink.buffer-flush.max-rows", redis.DefaultBatchSize, 1))
	t.par = int(o.int64("sink.parallelism", 0, 1))
	if o.err != nil {
		return nil, o.err
	}
	for i, c := range ctx.Schema.Columns {
		if slices.Contains(t.pk, i) {
			t.pkTypes = append(t.pkTypes, c.Type)
			continue
		}
		t.valCols = append(t.valCols, i)
		t.valTypes = append(t.valTypes, c.Type)
	}
	var vs row.Schema
	for _, i := range t.valCols {
		vs.Columns = append(vs.Columns, ctx.Schema.Columns[i])
	}
	if t.hash {
		if o.has("format") {
			return nil, fmt.Errorf("connector: table %s: option 'format' applies to data-type 'string' only (a hash stores each column's text in its own field)", ctx.Table)
		}
		return t, nil
	}
	var err error
	if t.value, err = newCodec(o, "", id, vs); err != nil {
		return nil, err
	}
	return t, nil
}

// CreateSource validates the options; the source is a lookup source only.
func (f Redis) CreateSource(ctx Context) (Source, error) {
	t, err := f.create(ctx, false)
	if err != nil {
		return nil, err
	}
	return &redisSource{t}, nil
}

// CreateSink validates the options.
func (f Redis) CreateSink(ctx Context) (Sink, error) {
	t, err := f.create(ctx, true)
	if err != nil {
		return nil, err
	}
	return &redisSink{t}, nil
}

// key is the Redis key of primary key values.
func (t *redisTable) key(vals []row.Value) string {
	var b strings.Builder
	b.WriteString(t.prefix)
	for i, v := range vals {
		if i > 0 {
			b.WriteString(t.sep)
		}
		b.WriteString(row.Format(v, t.pkTypes[i]))
	}
	return b.String()
}

// text is a hash field's value: CAST(v AS STRING), bytes as they are.
func text(v row.Value, t row.Type) string {
	if t.IsBinary() || t.IsString() {
		return v.Str()
	}
	return row.Format(v, t)
}

// fromText reads a hash field's value back.
func fromText(s string, t row.Type) (row.Value, error) {
	if t.IsBinary() {
		return row.BytesString(s), nil
	}
	if t.IsString() {
		return row.Str(s), nil
	}
	return parseText(s, t)
}

type redisSource struct{ *redisTable }

func (s *redisSource) ChangelogMode() ChangelogMode { return InsertOnly }
func (s *redisSource) Bounded() bool                { return true }

// Produce refuses: a Redis table is read by lookup joins only.
func (s *redisSource) Produce(BuildContext) (weir.Stream[row.Row], error) {
	return weir.Stream[row.Row]{}, fmt.Errorf("connector: table %s: the 'redis' connector cannot be scanned; use it as the lookup table of a lookup join (JOIN %s FOR SYSTEM_TIME AS OF <left>.proc_time ...)", s.table, s.table)
}

// LookupFunction returns the lookup by primary key; keys must be the
// primary key's columns (in any order).
func (s *redisSource) LookupFunction(keys []int) (LookupFunction, error) {
	perm := make([]int, len(s.pk)) // perm[i]: position in keys of pk column i
	if len(keys) != len(s.pk) {
		return nil, s.keyError(keys)
	}
	for i, c := range s.pk {
		j := slices.Index(keys, c)
		if j < 0 {
			return nil, s.keyError(keys)
		}
		perm[i] = j
	}
	types := make([]row.Type, len(keys))
	for i, k := range keys {
		types[i] = s.schema.Columns[k].Type
	}
	return Cached(&redisLookup{t: s.redisTable, perm: perm}, types, s.cache), nil
}

func (s *redisSource) keyError(keys []int) error {
	var have, want []string
	for _, k := range keys {
		have = append(have, s.schema.Columns[k].Name)
	}
	for _, k := range s.pk {
		want = append(want, s.schema.Columns[k].Name)
	}
	return fmt.Errorf("connector: table %s: the 'redis' connector looks rows up by their primary key (%s) only; the join looks up by %s", s.table, strings.Join(want, ", "), strings.Join(have, ", "))
}

type redisLookup struct {
	t    *redisTable
	perm []int
	l    *redis.Lookup[struct{}, row.Row, row.Row]
	// decoders of the string value, one per concurrent call.
	decoders sync.Pool
}

func (r *redisLookup) Open(context.Context) error {
	t := r.t
	o := redis.LookupOptions[struct{}, row.Row, row.Row]{Redis: t.opts, MaxRetryTime: t.retry}
	if t.hash {
		o.DecodeHash = r.decodeHash
	} else {
		r.decoders.New = func() any { d, _ := t.value.newDecoder(); return d }
		o.Decode = r.decode
	}
	l, err := redis.NewLookup(o)
	if err != nil {
		return fmt.Errorf("connector: redis table %s: %w", t.table, err)
	}
	r.l = l
	return nil
}

func (r *redisLookup) decode(b []byte) (row.Row, error) {
	d, _ := r.decoders.Get().(rowDecoder)
	if d == nil {
		return row.Row{}, fmt.Errorf("connector: redis table %s: no decoder", r.t.table)
	}
	defer r.decoders.Put(d)
	v, ok, err := d.Decode(b)
	if err != nil {
		return row.Row{}, err
	}
	if !ok {
		return row.Row{}, fmt.Errorf("the value does not parse")
	}
	return v.Clone(), nil
}

func (r *redisLookup) decodeHash(h map[string]string) (row.Row, error) {
	out := row.Row{Fields: make([]row.Value, len(r.t.valCols))}
	for i, c := range r.t.valCols {
		col := r.t.schema.Columns[c]
		s, ok := h[col.Name]
		if !ok {
			continue // NULL
		}
		v, err := fromText(s, col.Type)
		if err != nil {
			return out, fmt.Errorf("field %s: %w", col.Name, err)
		}
		out.Fields[i] = v
	}
	return out, nil
}

func (r *redisLookup) Lookup(ctx context.Context, key []row.Value) ([]row.Row, error) {
	if hasNull(key) {
		return nil, nil
	}
	pk := make([]row.Value, len(r.perm))
	for i, j := range r.perm {
		pk[i] = key[j]
	}
	k := r.t.key(pk)
	val, found, err := r.l.Get(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("connector: redis table %s: %w", r.t.table, err)
	}
	if !found {
		return nil, nil
	}
	out := row.Row{Fields: make([]row.Value, r.t.schema.Len())}
	for i, c := range r.t.pk {
		out.Fields[c] = pk[i]
	}
	if len(val.Fields) != len(r.t.valCols) {
		return nil, fmt.Errorf("connector: redis table %s: key %q holds %d values, the table has %d value columns", r.t.table, k, len(val.Fields), len(r.t.valCols))
	}
	for i, c := range r.t.valCols {
		out.Fields[c] = val.Fields[i]
	}
	return []row.Row{out}, nil
}

func (r *redisLookup) Close() error {
	if r.l != nil {
		return r.l.Close()
	}
	return nil
}

type redisSink struct{ *redisTable }

// ChangelogMode: the sink upserts by primary key.
func (s *redisSink) ChangelogMode(q ChangelogMode) (ChangelogMode, error) {
	if q.IsInsertOnly() {
		return InsertOnly, nil
	}
	return Upsert, nil
}

func (s *redisSink) Consume(b BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	t := s.redisTable
	types := make([]row.Type, t.schema.Len())
	for i, c := range t.schema.Columns {
		types[i] = c.Type
	}
	var encoders sync.Pool
	if !t.hash {
		encoders.New = func() any { e, _ := t.value.newEncoder(); return e }
	}
	sink, err := redis.NewSink(redis.SinkOptions[row.Row]{
		Redis:     t.opts,
		BatchSize: t.batch,
		Map: func(r row.Row) (redis.Command, error) {
			if len(r.Fields) != t.schema.Len() {
				return redis.Command{}, fmt.Errorf("the row has %d fields, the table %d columns", len(r.Fields), t.schema.Len())
			}
			pk := make([]row.Value, len(t.pk))
			for i, c := range t.pk {
				if r.Fields[c].IsNull() {
					return redis.Command{}, fmt.Errorf("table %s: primary key column %s is NULL", t.table, t.schema.Columns[c].Name)
				}
				pk[i] = r.Fields[c]
			}
			key := t.key(pk)
			switch r.Kind {
			case row.UpdateBefore:
				return redis.Command{Op: redis.OpNone}, nil
			case row.Delete:
				return redis.Command{Op: redis.OpDel, Key: key}, nil
			}
			if t.hash {
				c := redis.Command{Op: redis.OpHSet, Key: key, TTL: t.ttl}
				for _, i := range t.valCols {
					name := t.schema.Columns[i].Name
					if r.Fields[i].IsNull() {
						c.DelFields = append(c.DelFields, name)
						continue
					}
					c.Fields = append(c.Fields, redis.Field{Name: name, Value: text(r.Fields[i], types[i])})
				}
				return c, nil
			}
			vals := make([]row.Value, len(t.valCols))
			for j, i := range t.valCols {
				vals[j] = r.Fields[i]
			}
			e, _ := encoders.Get().(rowEncoder)
			if e == nil {
				return redis.Command{}, fmt.Errorf("table %s: no encoder", t.table)
			}
			defer encoders.Put(e)
			v, err := e.Append(nil, row.Row{Fields: vals})
			if err != nil {
				return redis.Command{}, fmt.Errorf("table %s: %w", t.table, err)
			}
			return redis.Command{Op: redis.OpSet, Key: key, Value: v, TTL: t.ttl}, nil
		},
	})
	if err != nil {
		return weir.DataSink{}, fmt.Errorf("connector: table %s: %w", t.table, err)
	}
	par := t.par
	if par == 0 {
		par = b.Env.Parallelism()
	}
	if par > 1 {
		pk := t.pk
		in = weir.KeyBy(in, func(r row.Row) string { return string(row.AppendKey(nil, r, pk, types)) }).ByKey()
	}
	d := in.SinkTo(sink).UID(b.uid("sink")).Name(b.uid("redis"))
	if t.par > 0 {
		d = d.SetParallelism(t.par)
	}
	return d, nil
}
