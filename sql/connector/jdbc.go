package connector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/postgres"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// JDBC is Flink's 'jdbc' connector for PostgreSQL (URLs
// jdbc:postgresql://host[:port]/db[?params]), over connector/postgres and
// pgx: a bounded scan source, a lookup source for lookup joins and a sink
// that upserts by the PRIMARY KEY (INSERT ... ON CONFLICT, -D deletes) or
// appends (COPY) without one. MySQL and MariaDB URLs (jdbc:mysql://,
// jdbc:mariadb://host[:port]/db, no parameters) get the scan, lookups and
// an at-least-once sink (INSERT ... ON DUPLICATE KEY UPDATE, DELETE) over
// go-sql-driver/mysql (jdbc_mysql.go); their exactly-once delivery is
// refused. Scans of both take pushed-down filters (jdbc_filter.go,
// jdbc_mysql_filter.go) and may be partitioned (scan.partition.*,
// jdbc_partition.go).
//
// Options: url and table-name (required), username, password, driver,
// connection.max-retry-timeout, scan.fetch-size, scan.auto-commit,
// scan.partition.column, .num, .lower-bound and .upper-bound,
// lookup.cache (NONE | PARTIAL), lookup.partial-cache.max-rows,
// .expire-after-write, .expire-after-access, .cache-missing-key (and the
// legacy lookup.cache.max-rows, .ttl, .caching-missing-key),
// lookup.max-retries, sink.buffer-flush.max-rows,
// sink.buffer-flush.interval, sink.max-retries, sink.parallelism; Weir's
// own sink.delivery-guarantee (at-least-once, the default, exactly-once
// through PostgreSQL's prepared transactions, or none) and
// sink.transactional-id-prefix (unique per job; by default derived from
// the job's name and the sink, see jdbcDefaultPrefix).
//
// Not supported, refused with an error: other databases' URLs,
// the FULL lookup cache, column
// types ARRAY, MAP, ROW, MULTISET and intervals.
type JDBC struct{}

// Identifier is "jdbc".
func (JDBC) Identifier() string { return "jdbc" }

// RequiredOptions are url and table-name.
func (JDBC) RequiredOptions() []string { return []string{"url", "table-name"} }

// OptionalOptions lists the connector's other options.
func (JDBC) OptionalOptions() []string {
	return append([]string{"username", "password", "driver", "connection.max-retry-timeout",
		"scan.fetch-size", "scan.auto-commit", "scan.partition.column", "scan.partition.num",
		"scan.partition.lower-bound", "scan.partition.upper-bound", "lookup.max-retries",
		"sink.buffer-flush.max-rows", "sink.buffer-flush.interval", "sink.max-retries", "sink.parallelism",
		"sink.delivery-guarantee", "sink.transactional-id-prefix"}, lookupCacheKeys...)
}

type jdbcTable struct {
	table     string        // the Flink table's name, for messages
	connStr   string        // PostgreSQL
	mysql     *mysql.Config // MySQL/MariaDB (connStr empty)
	dbTable   string        // table-name
	schema    row.Schema
	pk        []int
	cache     LookupCacheOptions
	retries   int
	fetchSize int64
	part      *jdbcPartition // scan.partition.*, nil for one query
	// Sink options.
	batch     int
	interval  time.Duration
	retryTime time.Duration
	guar      postgres.Guarantee
	txPrefix  string
	par       int
}

// jdbcConnString turns a PostgreSQL JDBC URL into a pgx connection string
// with the user and password options.
func jdbcConnString(table, u, user, password string) (string, error) {
	if !strings.HasPrefix(u, "jdbc:postgresql://") {
		return "", fmt.Errorf("connector: table %s: option 'url' = %q: Weir's 'jdbc' connector supports PostgreSQL (jdbc:postgresql://host[:port]/db[?params]) and MySQL/MariaDB (jdbc:mysql://host[:port]/db, jdbc:mariadb://...) URLs only", table, u)
	}
	pu, err := url.Parse("postgres://" + strings.TrimPrefix(u, "jdbc:postgresql://"))
	if err != nil {
		return "", fmt.Errorf("connector: table %s: option 'url': %w", table, err)
	}
	if user != "" {
		if password != "" {
			pu.User = url.UserPassword(user, password)
		} else {
			pu.User = url.User(user)
		}
	}
	return pu.String(), nil
}

func (f JDBC) create(ctx Context) (*jdbcTable, error) {
	if err := validate(ctx, f.Identifier(), f.RequiredOptions(), f.OptionalOptions()); err != nil {
		return nil, err
	}
	o := newOptions(ctx)
	t := &jdbcTable{table: ctx.Table, dbTable: o.str("table-name", ""), schema: ctx.Schema, pk: ctx.PrimaryKey}
	user, pw := o.str("username", ""), o.str("password", "")
	if user == "" && pw != "" {
		return nil, fmt.Errorf("connector: table %s: option 'password' needs 'username'", ctx.Table)
	}
	var err error
	u := o.str("url", "")
	if strings.HasPrefix(u, "jdbc:mysql:") || strings.HasPrefix(u, "jdbc:mariadb:") {
		if t.mysql, err = mysqlConfig(ctx.Table, u, user, pw); err != nil {
			return nil, err
		}
		switch d := o.str("driver", "com.mysql.cj.jdbc.Driver"); d {
		case "com.mysql.cj.jdbc.Driver", "com.mysql.jdbc.Driver", "org.mariadb.jdbc.Driver":
		default:
			o.fail("driver", d, "Weir talks to MySQL/MariaDB with go-sql-driver/mysql: com.mysql.cj.jdbc.Driver, com.mysql.jdbc.Driver or org.mariadb.jdbc.Driver name it")
		}
	} else {
		if t.connStr, err = jdbcConnString(ctx.Table, u, user, pw); err != nil {
			return nil, err
		}
		if d := o.str("driver", "org.postgresql.Driver"); d != "org.postgresql.Driver" {
			o.fail("driver", d, "Weir talks to PostgreSQL with pgx: only org.postgresql.Driver names it")
		}
	}
	t.part = partitionOptions(o, ctx.Schema)
	t.fetchSize = o.int64("scan.fetch-size", 0, 0)
	o.bool("scan.auto-commit", true) // pgx streams results whatever its value
	t.cache = lookupCache(o)
	t.retries = int(o.int64("lookup.max-retries", 3, 0))
	t.batch = int(o.int64("sink.buffer-flush.max-rows", 100, 0))
	t.interval = o.duration("sink.buffer-flush.interval", time.Second)
	t.retryTime = o.duration("connection.max-retry-timeout", time.Minute)
	if o.int64("sink.max-retries", 3, 0) == 0 {
		t.retryTime = time.Nanosecond // fail at the first lost connection
	}
	switch o.enum("sink.delivery-guarantee", "at-least-once", "at-least-once", "exactly-once", "none") {
	case "exactly-once":
		t.guar = postgres.ExactlyOnce
	case "none":
		t.guar = postgres.None
	}
	t.txPrefix = o.str("sink.transactional-id-prefix", "")
	t.par = int(o.int64("sink.parallelism", 0, 1))
	if o.err != nil {
		return nil, o.err
	}
	if t.mysql != nil && t.guar == postgres.ExactlyOnce {
		return nil, fmt.Errorf("connector: table %s: 'sink.delivery-guarantee' = 'exactly-once' is supported for PostgreSQL only; the MySQL/MariaDB sink is at-least-once", ctx.Table)
	}
	if t.dbTable == "" {
		return nil, fmt.Errorf("connector: table %s: option 'table-name' must not be empty", ctx.Table)
	}
	for _, c := range ctx.Schema.Columns {
		if !jdbcSupports(c.Type) {
			return nil, fmt.Errorf("connector: table %s: column %s: type %s is not supported by Weir's 'jdbc' connector yet", ctx.Table, c.Name, c.Type)
		}
	}
	return t, nil
}

// jdbcSupports reports whether a column type maps to PostgreSQL.
func jdbcSupports(t row.Type) bool {
	switch t.Root {
	case row.TypeBoolean, row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt, row.TypeFloat, row.TypeDouble,
		row.TypeDecimal, row.TypeChar, row.TypeVarChar, row.TypeBinary, row.TypeVarBinary, row.TypeDate, row.TypeTime,
		row.TypeTimestamp, row.TypeTimestampLTZ:
		return true
	}
	return false
}

// CreateSource validates the options.
func (f JDBC) CreateSource(ctx Context) (Source, error) {
	t, err := f.create(ctx)
	if err != nil {
		return nil, err
	}
	return &jdbcSource{jdbcTable: t}, nil
}

// CreateSink validates the options.
func (f JDBC) CreateSink(ctx Context) (Sink, error) {
	t, err := f.create(ctx)
	if err != nil {
		return nil, err
	}
	return &jdbcSink{t}, nil
}

// quotedTable quotes each part of table-name ("public.orders").
func (t *jdbcTable) quotedTable() string {
	parts := strings.Split(t.dbTable, ".")
	for i, p := range parts {
		parts[i] = pgx.Identifier{p}.Sanitize()
	}
	return strings.Join(parts, ".")
}

func (t *jdbcTable) selectList() string {
	cols := make([]string, t.schema.Len())
	for i, c := range t.schema.Columns {
		cols[i] = pgx.Identifier{c.Name}.Sanitize()
	}
	return strings.Join(cols, ", ")
}

// jdbcSource is the bounded scan and the lookup source.
type jdbcSource struct {
	*jdbcTable
	// filters are the pushed-down filters (jdbc_filter.go).
	filters []jdbcFilter
}

func (s *jdbcSource) ChangelogMode() ChangelogMode { return InsertOnly }
func (s *jdbcSource) Bounded() bool                { return true }

// scanClauses returns the scan query's "SELECT .. FROM table", the table
// as the FROM names it, and its " ORDER BY ..": the primary key (or every
// column), so that a restore can skip the rows it emitted before.
func (s *jdbcSource) scanClauses() (selectFrom, from, orderBy string) {
	order := s.pk
	if len(order) == 0 {
		order = make([]int, s.schema.Len())
		for i := range order {
			order[i] = i
		}
	}
	var ob []string
	if s.mysql != nil {
		// The scan's order must be the same on every run, for a restored
		// position (a row count) to skip the rows already emitted: MySQL's
		// default collations tie 'a' and 'A', so strings sort by their
		// bytes.
		for _, i := range order {
			c := s.schema.Columns[i]
			if c.Type.IsString() {
				ob = append(ob, "CAST("+mysqlQuoteColumn(c.Name)+" AS BINARY)")
			} else {
				ob = append(ob, mysqlQuoteColumn(c.Name))
			}
		}
		from = mysqlQuote(s.dbTable)
		selectFrom = "SELECT " + s.mysqlSelectList() + " FROM " + from
	} else {
		for _, i := range order {
			ob = append(ob, pgx.Identifier{s.schema.Columns[i].Name}.Sanitize())
		}
		from = s.quotedTable()
		selectFrom = "SELECT " + s.selectList() + " FROM " + from
	}
	return selectFrom, from, " ORDER BY " + strings.Join(ob, ", ")
}

// Produce reads the table with one query on one subtask, ordered by the
// primary key (or every column) so that a restore can skip the rows it
// emitted before; a partitioned scan (jdbc_partition.go) reads its splits'
// queries, each ordered so, on the source's subtasks.
func (s *jdbcSource) Produce(b BuildContext) (weir.Stream[row.Row], error) {
	selectFrom, from, orderBy := s.scanClauses()
	conds, args := s.conditions()
	if s.part != nil {
		src := s.newPartScan(selectFrom, from, orderBy, conds, args)
		if s.mysql != nil {
			src.open = func(ctx context.Context, q jdbcSplitQuery) (scanRows, error) {
				return s.mysqlOpenScan(q.sql, q.args)(ctx)
			}
		} else {
			src.open = func(ctx context.Context, q jdbcSplitQuery) (scanRows, error) { return s.pgOpenScan(q.sql, q.args)(ctx) }
		}
		return weir.FromSource[row.Row](b.Env, src, b.Watermarks, b.uid("jdbc")).UID(b.uid("source")), nil
	}
	src := s.newOneScan(selectFrom, from, orderBy, conds, args)
	return weir.FromSource[row.Row](b.Env, src, b.Watermarks, b.uid("jdbc")).UID(b.uid("source")).SetParallelism(1), nil
}

// scanRows is the result of a scan query in the database's client.
type scanRows interface {
	Next() bool
	// Row converts the current result row to a row of the table.
	Row() (row.Row, error)
	Err() error
	Close() error
}

// jdbcScan is the bounded scan of a jdbc table: one query, ordered so that
// a restored position (the number of rows emitted) can skip what was
// emitted before.
type jdbcScan struct {
	t    *jdbcTable
	open func(ctx context.Context) (scanRows, error)
	fp   *jdbcScanFP // jdbc_scan_fp.go
}

func (s *jdbcScan) CreateReader(ctx weir.SourceContext) (weir.SourceReader[row.Row], error) {
	r := &jdbcScanReader{s: s}
	for _, it := range ctx.Restored {
		if len(it) > 1 && it[0] == 0 {
			return nil, fmt.Errorf("connector: jdbc source %s: the checkpoint holds the positions of a partitioned scan (scan.partition.*); a scan of one query cannot resume them (restore with the same scan.partition.* options, or start the job afresh)", s.t.table)
		}
		n, err := s.decodeScanPosition(it)
		if err != nil {
			return nil, err
		}
		// The position is the restored one until the first Poll: a
		// checkpoint taken before it must not record 0, or the next
		// restore emits the skipped rows a second time.
		r.skip, r.emitted = n, n
	}
	return r, nil
}

type jdbcScanReader struct {
	s       *jdbcScan
	rows    scanRows
	emitted int64 // rows emitted, the position
	skip    int64 // rows to skip after a restore
	done    bool
}

func (r *jdbcScanReader) SnapshotState(int64) ([][]byte, error) {
	return [][]byte{r.s.encodeScanPosition(r.emitted)}, nil
}

func (r *jdbcScanReader) Poll(ctx context.Context, out *weir.SourceOutput[row.Row]) (weir.PollStatus, error) {
	if r.done {
		return weir.EndOfInput, nil
	}
	t := r.s.t
	if r.rows == nil {
		rows, err := r.s.open(ctx)
		if err != nil {
			return 0, fmt.Errorf("connector: jdbc source %s: %w", t.table, err)
		}
		r.rows = rows
		r.emitted = r.skip
	}
	for n := 0; n < 1024; n++ {
		if !r.rows.Next() {
			if err := r.rows.Err(); err != nil {
				return 0, fmt.Errorf("connector: jdbc source %s: %w", t.table, err)
			}
			r.done = true
			if err := r.rows.Close(); err != nil {
				return 0, fmt.Errorf("connector: jdbc source %s: %w", t.table, err)
			}
			return weir.EndOfInput, nil
		}
		if r.skip > 0 {
			r.skip--
			continue
		}
		rw, err := r.rows.Row()
		if err != nil {
			return 0, err
		}
		out.Collect(rw)
		r.emitted++
	}
	return weir.MoreAvailable, nil
}

func (r *jdbcScanReader) Close() error {
	if r.rows != nil {
		return r.rows.Close()
	}
	return nil
}

// pgScanRows are a PostgreSQL scan's rows on their own connection.
type pgScanRows struct {
	t    *jdbcTable
	conn *pgx.Conn
	rows pgx.Rows
}

func (s *jdbcSource) pgOpenScan(query string, args []any) func(ctx context.Context) (scanRows, error) {
	t := s.jdbcTable
	return func(ctx context.Context) (scanRows, error) {
		conn, err := pgx.Connect(ctx, t.connStr)
		if err != nil {
			return nil, err
		}
		rows, err := conn.Query(ctx, query, args...)
		if err != nil {
			conn.Close(ctx)
			return nil, err
		}
		return &pgScanRows{t: t, conn: conn, rows: rows}, nil
	}
}

func (p *pgScanRows) Next() bool { return p.rows.Next() }
func (p *pgScanRows) Err() error { return p.rows.Err() }

func (p *pgScanRows) Row() (row.Row, error) {
	vals, err := p.rows.Values()
	if err != nil {
		return row.Row{}, fmt.Errorf("connector: jdbc source %s: %w", p.t.table, err)
	}
	return p.t.fromPG(vals)
}

func (p *pgScanRows) Close() error {
	p.rows.Close()
	if p.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.conn.Close(ctx)
	p.conn = nil
	return err
}

// fromPG converts a result row (pgx's decoded values) to a row of the
// table's schema.
func (t *jdbcTable) fromPG(vals []any) (row.Row, error) {
	out := row.Row{Fields: make([]row.Value, len(vals))}
	for i, v := range vals {
		c := t.schema.Columns[i]
		x, err := fromPGValue(v, c.Type)
		if err != nil {
			return out, fmt.Errorf("connector: jdbc table %s: column %s: value %v (%T): %w", t.table, c.Name, v, v, err)
		}
		out.Fields[i] = x
	}
	return out, nil
}

var errPGType = errors.New("does not convert to the column's type")

// fromPGValue converts one value pgx decoded into a value of type t.
func fromPGValue(v any, t row.Type) (row.Value, error) {
	if v == nil {
		return row.Null(), nil
	}
	switch t.Root {
	case row.TypeBoolean:
		if b, ok := v.(bool); ok {
			return row.Bool(b), nil
		}
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
		var n int64
		switch x := v.(type) {
		case int16:
			n = int64(x)
		case int32:
			n = int64(x)
		case int64:
			n = x
		default:
			return castText(v, t)
		}
		lim := map[row.Root]int64{row.TypeTinyInt: math.MaxInt8, row.TypeSmallInt: math.MaxInt16, row.TypeInt: math.MaxInt32, row.TypeBigInt: math.MaxInt64}[t.Root]
		if n > lim || n < -lim-1 {
			return row.Null(), fmt.Errorf("%w: out of range", errPGType)
		}
		return row.Int(n), nil
	case row.TypeFloat, row.TypeDouble:
		switch x := v.(type) {
		case float32:
			return row.Float(float64(x)), nil
		case float64:
			return row.Float(x), nil
		}
	case row.TypeDecimal:
		if n, ok := v.(pgtype.Numeric); ok && n.Valid && !n.NaN && n.InfinityModifier == pgtype.Finite {
			r := new(big.Rat).SetInt(n.Int)
			e := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(n.Exp))), nil)
			if n.Exp >= 0 {
				r.Mul(r, new(big.Rat).SetInt(e))
			} else {
				r.Quo(r, new(big.Rat).SetInt(e))
			}
			d, ok := row.DecimalFromRat(r, t)
			if !ok {
				return row.Null(), fmt.Errorf("%w: out of the precision of %s", errPGType, t)
			}
			return d, nil
		}
	case row.TypeChar, row.TypeVarChar:
		if s, ok := v.(string); ok {
			return row.Str(s), nil
		}
		return row.Str(fmt.Sprint(v)), nil
	case row.TypeBinary, row.TypeVarBinary:
		if b, ok := v.([]byte); ok {
			return row.Bytes(b), nil
		}
	case row.TypeDate:
		if tm, ok := v.(time.Time); ok {
			y, m, d := tm.Date()
			return row.Int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400), nil
		}
	case row.TypeTime:
		if tm, ok := v.(pgtype.Time); ok && tm.Valid {
			return row.Int(tm.Microseconds * 1000), nil
		}
	case row.TypeTimestamp:
		if tm, ok := v.(time.Time); ok {
			// The wall clock, as TIMESTAMP has no zone.
			w := time.Date(tm.Year(), tm.Month(), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(), tm.Nanosecond(), time.UTC)
			// Milliseconds, not UnixNano: that overflows outside 1677-2262.
			return row.Timestamp(w.UnixMilli(), int32(w.Nanosecond()%1e6)), nil
		}
	case row.TypeTimestampLTZ:
		if tm, ok := v.(time.Time); ok {
			return row.Timestamp(tm.UnixMilli(), int32(tm.Nanosecond()%1e6)), nil
		}
	}
	return castText(v, t)
}

func abs(n int32) int32 {
	if n < 0 {
		return -n
	}
	return n
}

// castText converts a value of another PostgreSQL type through its text,
// as CAST(text AS t).
func castText(v any, t row.Type) (row.Value, error) {
	s, ok := v.(string)
	if !ok {
		return row.Null(), errPGType
	}
	return parseText(s, t)
}

// parseText is CAST(s AS t) with Flink's rules.
func parseText(s string, t row.Type) (row.Value, error) {
	c, err := expr.NewCast(expr.Lit(row.Str(s), row.String().NotNull()), t)
	if err != nil {
		return row.Null(), err
	}
	return expr.Eval(&expr.EvalContext{Location: time.UTC}, c, nil)
}

// toPGValue converts a value of type t into what pgx encodes for the
// column (nil for NULL).
func toPGValue(v row.Value, t row.Type) any {
	if v.IsNull() {
		return nil
	}
	switch t.Root {
	case row.TypeBoolean:
		return v.Bool()
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
		return v.Int()
	case row.TypeFloat, row.TypeDouble:
		return v.Float()
	case row.TypeDecimal:
		return pgtype.Numeric{Int: row.DecimalUnscaled(v, t), Exp: int32(-t.Scale), Valid: true}
	case row.TypeChar, row.TypeVarChar:
		return v.Str()
	case row.TypeBinary, row.TypeVarBinary:
		return []byte(v.Str())
	case row.TypeDate:
		return pgtype.Date{Time: time.Unix(v.Int()*86400, 0).UTC(), Valid: true}
	case row.TypeTime:
		return pgtype.Time{Microseconds: v.Int() / 1000, Valid: true}
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		return timestampTime(v)
	}
	return row.Format(v, t)
}

// LookupFunction returns the lookup of rows by the columns keys: SELECT
// the physical columns WHERE each key column = $i, every matching row.
func (s *jdbcSource) LookupFunction(keys []int) (LookupFunction, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("connector: jdbc table %s: a lookup needs at least one key column", s.table)
	}
	var where []string
	types := make([]row.Type, len(keys))
	for i, k := range keys {
		if k < 0 || k >= s.schema.Len() {
			return nil, fmt.Errorf("connector: jdbc table %s: lookup key column %d out of range", s.table, k)
		}
		c := s.schema.Columns[k]
		types[i] = c.Type
		where = append(where, fmt.Sprintf("%s = $%d", pgx.Identifier{c.Name}.Sanitize(), i+1))
	}
	if s.mysql != nil {
		return s.mysqlLookupFunction(keys, types), nil
	}
	q := "SELECT " + s.selectList() + " FROM " + s.quotedTable() + " WHERE " + strings.Join(where, " AND ")
	return Cached(&jdbcLookup{t: s.jdbcTable, query: q, types: types}, types, s.cache), nil
}

// jdbcLookup queries PostgreSQL through postgres.Lookup (a pool, retries
// of lost connections, lookup.max-retries); the cache is Cached's.
type jdbcLookup struct {
	t     *jdbcTable
	query string
	types []row.Type
	codec *row.Codec // encodes keys for postgres.Lookup
	l     *postgres.Lookup[string, row.Row]
}

func (j *jdbcLookup) Open(context.Context) error {
	retries := j.t.retries
	if retries == 0 {
		retries = -1 // postgres.Lookup: -1 is none, 0 the default
	}
	kc := row.NewCodec(j.types)
	j.codec = kc
	l, err := postgres.NewLookup(postgres.LookupOptions[string, row.Row]{
		ConnString: j.t.connStr,
		Query:      j.query,
		Args: func(k string) []any {
			r, _, err := kc.Decode([]byte(k))
			if err != nil {
				return nil // cannot happen: Lookup encoded it
			}
			args := make([]any, len(r.Fields))
			for i, v := range r.Fields {
				args[i] = toPGValue(v, j.types[i])
			}
			return args
		},
		Scan: func(pr pgx.Row) (row.Row, error) {
			rows, ok := pr.(pgx.Rows)
			if !ok {
				return row.Row{}, fmt.Errorf("connector: jdbc lookup %s: unexpected row %T", j.t.table, pr)
			}
			vals, err := rows.Values()
			if err != nil {
				return row.Row{}, err
			}
			return j.t.fromPG(vals)
		},
		MaxRetries: retries,
		Name:       "jdbc " + j.t.table,
	})
	if err != nil {
		return fmt.Errorf("connector: jdbc table %s: %w", j.t.table, err)
	}
	j.l = l
	return nil
}

func (j *jdbcLookup) Lookup(ctx context.Context, key []row.Value) ([]row.Row, error) {
	if hasNull(key) {
		return nil, nil
	}
	k := j.codec.Append(nil, row.Row{Fields: key})
	rows, err := j.l.Get(ctx, string(k))
	if err != nil {
		return nil, fmt.Errorf("connector: jdbc table %s: %w", j.t.table, err)
	}
	return rows, nil
}

func (j *jdbcLookup) Close() error {
	if j.l != nil {
		j.l.Close()
	}
	return nil
}

// jdbcSink writes rows with postgres.Sink.
type jdbcSink struct{ *jdbcTable }

// ChangelogMode: with a primary key the sink upserts (and deletes); without
// one it takes inserts only, as Flink's JDBC sink.
func (s *jdbcSink) ChangelogMode(q ChangelogMode) (ChangelogMode, error) {
	if len(s.pk) == 0 {
		return insertOnlySink(s.table, "jdbc", q)
	}
	if q.IsInsertOnly() {
		return InsertOnly, nil
	}
	return Upsert, nil
}

func (s *jdbcSink) Consume(b BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	cols := make([]string, s.schema.Len())
	types := make([]row.Type, s.schema.Len())
	for i, c := range s.schema.Columns {
		cols[i], types[i] = c.Name, c.Type
	}
	opts := postgres.SinkOptions[row.Row]{
		ConnString: s.connStr,
		Table:      s.dbTable,
		Columns:    cols,
		Values: func(dst []any, r row.Row) []any {
			for i, v := range r.Fields {
				dst = append(dst, toPGValue(v, types[i]))
			}
			return dst
		},
		Guarantee:     s.guar,
		BatchSize:     max(s.batch, 1),
		FlushInterval: s.interval,
		RetryTimeout:  s.retryTime,
		Describe:      func(r row.Row) string { return r.Kind.String() + row.FormatRow(r, types) },
		Codec:         row.NewCodec(types),
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = -1
	}
	if s.guar == postgres.ExactlyOnce {
		opts.TransactionPrefix = s.txPrefix
		if opts.TransactionPrefix == "" {
			opts.TransactionPrefix = jdbcDefaultPrefix(b)
			// Checkpoints of versions that did not store the prefix were
			// taken with the old default, the same for every job.
			opts.LegacyTransactionPrefix = "weir-" + b.uid("jdbc")
		}
		if b.Env != nil {
			// The job and the sink: two sinks of one job given the same
			// prefix are caught as two jobs would be.
			opts.JobID = b.Env.JobID() + "\x00" + b.uid("sink")
		}
	}
	par := s.par
	if par == 0 {
		par = b.Env.Parallelism()
	}
	if len(s.pk) > 0 {
		for _, k := range s.pk {
			opts.Key = append(opts.Key, cols[k])
		}
		opts.Kind = func(r row.Row) row.Kind { return r.Kind }
		if par > 1 {
			// The changes of a key go to one writer, in order.
			pk := s.pk
			in = weir.KeyBy(in, func(r row.Row) string { return string(row.AppendKey(nil, r, pk, types)) }).ByKey()
		}
	}
	var sink weir.Sink[row.Row] = postgres.NewSink(opts)
	if s.mysql != nil {
		sink = &mysqlSink{t: s.jdbcTable, types: types}
	}
	d := in.SinkTo(sink).UID(b.uid("sink")).Name(b.uid("jdbc"))
	if s.par > 0 {
		d = d.SetParallelism(s.par)
	}
	return d, nil
}

// jdbcDefaultPrefix is the exactly-once sink's transaction prefix when
// 'sink.transactional-id-prefix' is not set: "weir-", the sink's uid and 8
// hex digits of a hash of the job's name ('pipeline.name', or Flink's
// default insert-into_<sink tables>; the job id if the job has no name).
// It is the same every time the job runs, so that a run started afresh
// rolls back what an earlier one left prepared, and differs between jobs
// of different names. (A restore rolls back the leftovers of the prefix
// its checkpoint stores as well.)
func jdbcDefaultPrefix(b BuildContext) string {
	name := ""
	if b.Env != nil {
		name = b.Env.JobName()
		if name == "" {
			name = b.Env.JobID()
		}
	}
	sum := sha256.Sum256([]byte(name))
	return "weir-" + b.uid("jdbc") + "-" + hex.EncodeToString(sum[:4])
}
