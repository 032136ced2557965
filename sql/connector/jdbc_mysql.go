package connector

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/postgres"
	"github.com/weirstream/weir/row"
)

// The MySQL/MariaDB dialect of the 'jdbc' connector (URLs jdbc:mysql:// and
// jdbc:mariadb://), over database/sql and go-sql-driver/mysql: the bounded
// scan, lookups and an at-least-once sink (upserts with INSERT ... ON
// DUPLICATE KEY UPDATE and deletes by primary key, or plain inserts
// without one). Exactly-once delivery is PostgreSQL only for now; filter
// push-down takes fewer filters than PostgreSQL's (jdbc_mysql_filter.go).

// mysqlConfig turns a jdbc:mysql:// or jdbc:mariadb:// URL into a driver
// configuration. URL parameters are refused: JDBC's (useSSL, ...) are not
// the Go driver's.
func mysqlConfig(table, u, user, password string) (*mysql.Config, error) {
	rest, ok := strings.CutPrefix(u, "jdbc:mysql://")
	if !ok {
		rest, ok = strings.CutPrefix(u, "jdbc:mariadb://")
	}
	if !ok {
		return nil, fmt.Errorf("connector: table %s: option 'url' = %q: expected jdbc:mysql://host[:port]/db or jdbc:mariadb://host[:port]/db", table, u)
	}
	pu, err := url.Parse("mysql://" + rest)
	if err != nil {
		return nil, fmt.Errorf("connector: table %s: option 'url': %w", table, err)
	}
	if pu.RawQuery != "" {
		return nil, fmt.Errorf("connector: table %s: option 'url' = %q: URL parameters are not supported for MySQL/MariaDB (JDBC's parameters are not the Go driver's)", table, u)
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = pu.Host
	if pu.Port() == "" {
		cfg.Addr = net.JoinHostPort(pu.Hostname(), "3306")
	}
	cfg.DBName = strings.TrimPrefix(pu.Path, "/")
	cfg.User, cfg.Passwd = user, password
	if pu.User != nil && user == "" {
		cfg.User = pu.User.Username()
		cfg.Passwd, _ = pu.User.Password()
	}
	cfg.Loc = time.UTC
	return cfg, nil
}

func mysqlQuote(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = "`" + strings.ReplaceAll(p, "`", "``") + "`"
	}
	return strings.Join(parts, ".")
}

// toMySQLValue converts a value of type t into a driver argument.
func toMySQLValue(v row.Value, t row.Type) any {
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
		return row.DecimalString(v, t)
	case row.TypeChar, row.TypeVarChar:
		return v.Str()
	case row.TypeBinary, row.TypeVarBinary:
		return []byte(v.Str())
	case row.TypeDate:
		return row.FormatDate(v.Int())
	case row.TypeTime:
		return row.FormatTime(v.Int(), t.Precision)
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		return timestampTime(v)
	}
	return row.Format(v, t)
}

// fromMySQLValue converts a value the driver returned into type t.
func fromMySQLValue(v any, t row.Type) (row.Value, error) {
	switch x := v.(type) {
	case nil:
		return row.Null(), nil
	case []byte:
		s := string(x)
		switch {
		case t.IsBinary():
			return row.BytesString(s), nil
		case t.IsString():
			return row.Str(s), nil
		case t.Root == row.TypeBoolean:
			return row.Bool(s != "0"), nil
		}
		return parseText(s, t)
	case string:
		return fromMySQLValue([]byte(x), t)
	case int64:
		if t.Root == row.TypeBoolean {
			return row.Bool(x != 0), nil
		}
		return fromPGValue(x, t)
	case uint64:
		if x > math.MaxInt64 {
			return row.Null(), fmt.Errorf("%w: out of range", errPGType)
		}
		return fromMySQLValue(int64(x), t)
	case float32, float64, bool:
		return fromPGValue(x, t)
	case time.Time:
		if t.Root == row.TypeTimestamp || t.Root == row.TypeTimestampLTZ || t.Root == row.TypeDate {
			return fromPGValue(x, t)
		}
		return parseText(x.Format("2006-01-02 15:04:05.999999999"), t)
	}
	return row.Null(), errPGType
}

// mysqlRows reads every row of a query into rows of the table's schema.
func (t *jdbcTable) mysqlRows(rows *dbsql.Rows) ([]row.Row, error) {
	defer rows.Close()
	var out []row.Row
	sr := t.newMySQLScanRows(rows)
	for rows.Next() {
		r, err := sr.Row()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// mysqlScanRows converts the rows of a query over the table's columns;
// db, when set, is closed with them (a scan's own connection).
type mysqlScanRows struct {
	t    *jdbcTable
	db   *dbsql.DB
	rows *dbsql.Rows
	vals []any
	ptrs []any
}

func (t *jdbcTable) newMySQLScanRows(rows *dbsql.Rows) *mysqlScanRows {
	n := t.schema.Len()
	m := &mysqlScanRows{t: t, rows: rows, vals: make([]any, n), ptrs: make([]any, n)}
	for i := range m.vals {
		m.ptrs[i] = &m.vals[i]
	}
	return m
}

func (m *mysqlScanRows) Next() bool { return m.rows.Next() }
func (m *mysqlScanRows) Err() error { return m.rows.Err() }

func (m *mysqlScanRows) Row() (row.Row, error) {
	if err := m.rows.Scan(m.ptrs...); err != nil {
		return row.Row{}, fmt.Errorf("connector: jdbc table %s: %w", m.t.table, err)
	}
	r := row.Row{Fields: make([]row.Value, len(m.vals))}
	for i, v := range m.vals {
		c := m.t.schema.Columns[i]
		x, err := fromMySQLValue(v, c.Type)
		if err != nil {
			return row.Row{}, fmt.Errorf("connector: jdbc table %s: column %s: value %v (%T): %w", m.t.table, c.Name, v, v, err)
		}
		r.Fields[i] = x
	}
	return r, nil
}

func (m *mysqlScanRows) Close() error {
	err := m.rows.Close()
	if m.db != nil {
		err = errors.Join(err, m.db.Close())
		m.db = nil
	}
	return err
}

// mysqlOpenScan runs a scan query on a connection of its own.
func (s *jdbcSource) mysqlOpenScan(query string, args []any) func(ctx context.Context) (scanRows, error) {
	t := s.jdbcTable
	return func(ctx context.Context) (scanRows, error) {
		conn, err := mysql.NewConnector(t.mysql)
		if err != nil {
			return nil, err
		}
		db := dbsql.OpenDB(conn)
		rows, err := db.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, errors.Join(err, db.Close())
		}
		m := t.newMySQLScanRows(rows)
		m.db = db
		return m, nil
	}
}

func (t *jdbcTable) mysqlSelectList() string {
	cols := make([]string, t.schema.Len())
	for i, c := range t.schema.Columns {
		cols[i] = mysqlQuoteColumn(c.Name)
	}
	return strings.Join(cols, ", ")
}

// mysqlLookup looks rows up with one query per key, retrying connection
// failures lookup.max-retries times.
type mysqlLookup struct {
	t     *jdbcTable
	query string
	types []row.Type
	db    *dbsql.DB
}

func (t *jdbcTable) mysqlLookupFunction(keys []int, types []row.Type) LookupFunction {
	var where []string
	for _, k := range keys {
		where = append(where, mysqlQuoteColumn(t.schema.Columns[k].Name)+" = ?")
	}
	q := "SELECT " + t.mysqlSelectList() + " FROM " + mysqlQuote(t.dbTable) + " WHERE " + strings.Join(where, " AND ")
	return Cached(&mysqlLookup{t: t, query: q, types: types}, types, t.cache)
}

func (m *mysqlLookup) Open(context.Context) error {
	conn, err := mysql.NewConnector(m.t.mysql)
	if err != nil {
		return fmt.Errorf("connector: jdbc table %s: %w", m.t.table, err)
	}
	m.db = dbsql.OpenDB(conn)
	return nil
}

func (m *mysqlLookup) Lookup(ctx context.Context, key []row.Value) ([]row.Row, error) {
	if hasNull(key) {
		return nil, nil
	}
	args := make([]any, len(key))
	for i, v := range key {
		args[i] = toMySQLValue(v, m.types[i])
	}
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		rows, err := m.db.QueryContext(ctx, m.query, args...)
		var out []row.Row
		if err == nil {
			out, err = m.t.mysqlRows(rows)
		}
		if err == nil {
			return out, nil
		}
		var me *mysql.MySQLError
		if errors.As(err, &me) || ctx.Err() != nil || attempt >= m.t.retries {
			return nil, fmt.Errorf("connector: jdbc table %s: lookup: %w", m.t.table, err)
		}
		tm := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			tm.Stop()
		case <-tm.C:
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func (m *mysqlLookup) Close() error {
	if m.db != nil {
		return m.db.Close()
	}
	return nil
}

// mysqlSink writes rows at least once: each flush is one transaction with
// one statement per row, in order.
type mysqlSink struct {
	t     *jdbcTable
	types []row.Type
}

func (s *mysqlSink) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[row.Row], error) {
	t := s.t
	conn, err := mysql.NewConnector(t.mysql)
	if err != nil {
		return nil, fmt.Errorf("connector: jdbc table %s: %w", t.table, err)
	}
	cols := make([]string, t.schema.Len())
	marks := make([]string, t.schema.Len())
	var upd []string
	for i, c := range t.schema.Columns {
		cols[i], marks[i] = mysqlQuoteColumn(c.Name), "?"
		isKey := false
		for _, k := range t.pk {
			isKey = isKey || k == i
		}
		if !isKey {
			upd = append(upd, cols[i]+" = VALUES("+cols[i]+")")
		}
	}
	w := &mysqlWriter{s: s, db: dbsql.OpenDB(conn)}
	w.insert = "INSERT INTO " + mysqlQuote(t.dbTable) + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	if len(t.pk) > 0 {
		if len(upd) == 0 {
			upd = append(upd, cols[t.pk[0]]+" = "+cols[t.pk[0]])
		}
		w.insert += " ON DUPLICATE KEY UPDATE " + strings.Join(upd, ", ")
		var where []string
		for _, k := range t.pk {
			where = append(where, cols[k]+" = ?")
		}
		w.del = "DELETE FROM " + mysqlQuote(t.dbTable) + " WHERE " + strings.Join(where, " AND ")
	}
	return w, nil
}

type mysqlWriter struct {
	s           *mysqlSink
	db          *dbsql.DB
	insert, del string
	buf         []row.Row
	first       time.Time // when the first buffered row came
}

func (w *mysqlWriter) Write(ctx context.Context, r row.Row, _ int64) error {
	if r.Kind == row.UpdateBefore {
		return nil // the +U after it overwrites the row
	}
	if len(w.buf) == 0 {
		w.first = time.Now()
	}
	w.buf = append(w.buf, r)
	t := w.s.t
	if len(w.buf) >= max(t.batch, 1) || (t.interval > 0 && time.Since(w.first) >= t.interval) {
		return w.flush(ctx)
	}
	return nil
}

// Flush writes the buffer: on every checkpoint (at-least-once) and at the
// end of the input; under 'none' only at the end.
func (w *mysqlWriter) Flush(ctx context.Context, endOfInput bool) error {
	if w.s.t.guar == postgres.None && !endOfInput {
		return nil
	}
	return w.flush(ctx)
}

// flush writes the buffer in one transaction, retrying it on connection
// errors for connection.max-retry-timeout.
func (w *mysqlWriter) flush(ctx context.Context) error {
	if len(w.buf) == 0 {
		return nil
	}
	t := w.s.t
	start := time.Now()
	delay := 50 * time.Millisecond
	for {
		err := w.write(ctx)
		if err == nil {
			clear(w.buf)
			w.buf = w.buf[:0]
			return nil
		}
		var me *mysql.MySQLError
		if errors.As(err, &me) || ctx.Err() != nil || time.Since(start) > t.retryTime {
			return fmt.Errorf("connector: jdbc sink %s: %w", t.table, err)
		}
		tm := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			tm.Stop()
		case <-tm.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func (w *mysqlWriter) write(ctx context.Context) error {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	ins, err := tx.PrepareContext(ctx, w.insert)
	if err != nil {
		return err
	}
	defer ins.Close()
	var del *dbsql.Stmt
	if w.del != "" {
		if del, err = tx.PrepareContext(ctx, w.del); err != nil {
			return err
		}
		defer del.Close()
	}
	types, pk := w.s.types, w.s.t.pk
	args := make([]any, 0, len(types))
	for _, r := range w.buf {
		args = args[:0]
		if r.Kind == row.Delete && del != nil {
			for _, k := range pk {
				args = append(args, toMySQLValue(r.Fields[k], types[k]))
			}
			_, err = del.ExecContext(ctx, args...)
		} else {
			for i, v := range r.Fields {
				args = append(args, toMySQLValue(v, types[i]))
			}
			_, err = ins.ExecContext(ctx, args...)
		}
		if err != nil {
			return fmt.Errorf("row %s%s: %w", r.Kind, row.FormatRow(r, types), err)
		}
	}
	return tx.Commit()
}

func (w *mysqlWriter) Close() error { return w.db.Close() }
