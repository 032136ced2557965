package connector

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// This file holds what the postgres-cdc and mysql-cdc table connectors
// share: the conversion of a captured change's Go values into rows of the
// declared column types, the metadata columns, and the adaptation of the
// planner's row watermark strategy to the change stream.

// cdcMetadata are the readable metadata keys of both CDC connectors, as
// Flink CDC names them. op_ts is 0 (the epoch) for snapshot rows, as in
// Flink CDC.
var cdcMetadata = map[string]row.Type{
	"table_name":    row.String().NotNull(),
	"database_name": row.String().NotNull(),
	"op_ts":         row.TimestampLTZType(3).NotNull(),
	"row_kind":      row.String().NotNull(),
}

// checkCDCSchema refuses declared column types no captured value converts
// to, and a table without a primary key (Flink CDC needs one to read the
// changelog as updates of rows).
func checkCDCSchema(ctx Context, id string) error {
	if len(ctx.PrimaryKey) == 0 {
		return fmt.Errorf("connector: table %s: the '%s' connector needs a PRIMARY KEY (..) NOT ENFORCED: its rows are updated and deleted by key", ctx.Table, id)
	}
	for _, c := range ctx.Schema.Columns {
		switch c.Type.Root {
		case row.TypeBoolean, row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt,
			row.TypeFloat, row.TypeDouble, row.TypeDecimal, row.TypeChar, row.TypeVarChar,
			row.TypeBinary, row.TypeVarBinary, row.TypeDate, row.TypeTime, row.TypeTimestamp, row.TypeTimestampLTZ:
		default:
			return fmt.Errorf("connector: table %s: column %s: type %s is not supported by the '%s' connector (supported: BOOLEAN, the integer types, FLOAT, DOUBLE, DECIMAL, CHAR, VARCHAR, BINARY, VARBINARY, DATE, TIME, TIMESTAMP, TIMESTAMP_LTZ)",
				ctx.Table, c.Name, c.Type, id)
		}
	}
	return nil
}

// cdcConvert converts a captured value to a value of type t. Captured
// values are those of connector/postgres/cdc and connector/mysql/cdc:
// nil, bool, int64, uint64, float64, string, []byte, json.RawMessage,
// time.Time. wall, for TIMESTAMP (without time zone) columns read from a
// source column that holds an instant, is the zone whose wall clock the
// value becomes (nil: the instant's UTC wall clock).
func cdcConvert(v any, t row.Type, wall *time.Location) (row.Value, error) {
	if v == nil {
		if !t.Nullable {
			return row.Null(), fmt.Errorf("NULL in a NOT NULL column")
		}
		return row.Null(), nil
	}
	bad := func() (row.Value, error) {
		return row.Null(), fmt.Errorf("a %T value (%v) does not convert to %s", v, v, t)
	}
	switch t.Root {
	case row.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return row.Bool(x), nil
		case int64:
			if x == 0 || x == 1 {
				return row.Bool(x == 1), nil // MySQL's BOOLEAN is TINYINT(1)
			}
		}
		return bad()
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
		var i int64
		switch x := v.(type) {
		case int64:
			i = x
		case uint64:
			if x > math.MaxInt64 {
				return row.Null(), fmt.Errorf("%d overflows %s", x, t)
			}
			i = int64(x)
		default:
			return bad()
		}
		lo, hi := intRange(t)
		if i < lo || i > hi {
			return row.Null(), fmt.Errorf("%d overflows %s", i, t)
		}
		return row.Int(i), nil
	case row.TypeFloat, row.TypeDouble:
		switch x := v.(type) {
		case float64:
			return row.Float(x), nil
		case int64:
			return row.Float(float64(x)), nil
		case uint64:
			return row.Float(float64(x)), nil
		}
		return bad()
	case row.TypeDecimal:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case int64:
			s = strconv.FormatInt(x, 10)
		case uint64:
			s = strconv.FormatUint(x, 10)
		default:
			return bad()
		}
		d, err := row.ParseDecimal(s, t)
		if err != nil {
			return row.Null(), fmt.Errorf("%q does not fit %s: %w", s, t, err)
		}
		return d, nil
	case row.TypeChar, row.TypeVarChar:
		switch x := v.(type) {
		case string:
			return row.Str(x), nil
		case json.RawMessage:
			return row.Str(string(x)), nil
		}
		return bad()
	case row.TypeBinary, row.TypeVarBinary:
		switch x := v.(type) {
		case []byte:
			return row.Bytes(x), nil
		case string:
			return row.Bytes([]byte(x)), nil
		}
		return bad()
	case row.TypeDate:
		if x, ok := v.(time.Time); ok {
			y, m, d := x.Date()
			days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
			return row.Int(days), nil
		}
		return bad()
	case row.TypeTime:
		if x, ok := v.(string); ok {
			ns, err := parseTimeOfDay(x)
			if err != nil {
				return row.Null(), err
			}
			return row.Int(truncNanos(ns, t.Precision)), nil
		}
		return bad()
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		if x, ok := v.(time.Time); ok {
			if t.Root == row.TypeTimestamp && wall != nil {
				w := x.In(wall)
				x = time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
			}
			return timeTimestamp(x, t.Precision), nil
		}
		return bad()
	}
	return bad()
}

// truncNanos drops the digits of a nanosecond count beyond precision p
// (0..9) of its sub-second part.
func truncNanos(ns int64, p int) int64 {
	if p >= 9 || p < 0 {
		return ns
	}
	unit := int64(math.Pow10(9 - p))
	r := ns % unit
	if r < 0 {
		r += unit
	}
	return ns - r
}

// parseTimeOfDay parses "HH:MM:SS[.fffffffff]" into nanoseconds of the day.
func parseTimeOfDay(s string) (int64, error) {
	hms, frac, _ := strings.Cut(s, ".")
	parts := strings.Split(hms, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("time %q is not HH:MM:SS", s)
	}
	var n [3]int64
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("time %q is not HH:MM:SS", s)
		}
		n[i] = v
	}
	if n[0] > 23 || n[1] > 59 || n[2] > 59 {
		return 0, fmt.Errorf("time %q is outside 00:00:00..23:59:59 (a TIME column takes a time of day)", s)
	}
	var ns int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		f, err := strconv.ParseInt(frac, 10, 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("time %q has a bad fraction", s)
		}
		ns = f * int64(math.Pow10(9-len(frac)))
	}
	return (n[0]*3600+n[1]*60+n[2])*1e9 + ns, nil
}

// cdcColumn maps one declared physical column to the captured table.
type cdcColumn struct {
	name string
	typ  row.Type
	src  int            // index in the captured table's columns
	wall *time.Location // see cdcConvert
}

// cdcImage converts a captured row image into the declared columns
// (fields) and appends the metadata values; table names the captured
// table in errors.
//
// keyOnly images (the deletes of an upsert stream) hold NULL outside the
// key, whatever the declared nullability.
func cdcImage(table string, cols []cdcColumn, img []any, nMeta int, keyOnly bool) (row.Row, string, error) {
	out := make([]row.Value, len(cols), len(cols)+nMeta)
	for i, c := range cols {
		if c.src >= len(img) {
			return row.Row{}, c.name, fmt.Errorf("the change of %s has %d values, column %s is number %d", table, len(img), c.name, c.src+1)
		}
		if keyOnly && img[c.src] == nil {
			continue
		}
		v, err := cdcConvert(img[c.src], c.typ, c.wall)
		if err != nil {
			return row.Row{}, c.name, err
		}
		out[i] = v
	}
	return row.Row{Fields: out}, "", nil
}

// cdcMetaValue returns a metadata column's value.
func cdcMetaValue(key, table, database string, opTime time.Time, kind row.Kind) row.Value {
	switch key {
	case "table_name":
		return row.Str(table)
	case "database_name":
		return row.Str(database)
	case "schema_name":
		return row.Str(database)
	case "op_ts":
		if opTime.IsZero() {
			return row.Timestamp(0, 0)
		}
		return row.Timestamp(opTime.UnixMilli(), 0)
	case "row_kind":
		return row.Str(kind.String())
	}
	return row.Null()
}

// changeWatermarks adapts the planner's strategy over rows to a source of
// changes C: a change's timestamp is that of its last row (the row after
// an update, the deleted row of a delete) as the strategy's assigner
// (Timestamp or NewTimestamp) computes it, and the generator sees that
// row. newLast returns a function that converts a change to that row
// (false: it does not convert; the conversion step reports the error);
// each assigner and generator gets its own, so a converter may keep
// per-subtask caches.
func changeWatermarks[C any](w weir.WatermarkStrategy[row.Row], newLast func() func(C) (row.Row, bool)) weir.WatermarkStrategy[C] {
	out := weir.WatermarkStrategy[C]{IdleTimeout: w.IdleTimeout}
	over := func(ts func(row.Row) int64, last func(C) (row.Row, bool)) func(C) int64 {
		return func(c C) int64 {
			r, ok := last(c)
			if !ok {
				return weir.NoTimestamp
			}
			return ts(r)
		}
	}
	switch {
	case w.NewTimestamp != nil:
		// The planner's per-subtask assigner (the rowtime expression
		// keeps scratch space): each subtask of the source gets its own.
		newTS := w.NewTimestamp
		out.NewTimestamp = func() func(C) int64 { return over(newTS(), newLast()) }
	case w.Timestamp != nil:
		ts := w.Timestamp
		out.NewTimestamp = func() func(C) int64 { return over(ts, newLast()) }
	}
	if w.Generator != nil {
		gen := w.Generator
		out.Generator = func() weir.WatermarkGenerator[C] { return &changeGenerator[C]{g: gen(), last: newLast()} }
	}
	return out
}

// cdcRows turns the changes C of a CDC source into changelog rows of the
// declared columns: conv appends the rows of one change, using and filling
// cols, the column mapping of each captured table description T (a new
// one after DDL). A change whose values do not convert is rejected under
// the policy, naming the table, column and position.
type cdcRows[T comparable, C any] struct {
	policy weir.ErrorPolicy
	conv   func(cols map[T][]cdcColumn, dst []row.Row, c *C) ([]row.Row, error)
	cols   map[T][]cdcColumn
	buf    []row.Row
}

func newCDCRows[T comparable, C any](policy weir.ErrorPolicy, conv func(map[T][]cdcColumn, []row.Row, *C) ([]row.Row, error)) *cdcRows[T, C] {
	return &cdcRows[T, C]{policy: policy, conv: conv, cols: map[T][]cdcColumn{}}
}

// Open starts the subtask with an empty column-mapping cache.
func (p *cdcRows[T, C]) Open(*weir.RuntimeContext) error {
	p.cols = map[T][]cdcColumn{}
	return nil
}

// ProcessElement emits the change's rows, or rejects the change.
func (p *cdcRows[T, C]) ProcessElement(ctx *weir.Context[row.Row], c C) error {
	var err error
	p.buf, err = p.conv(p.cols, p.buf[:0], &c)
	var bad *weir.BadRecordError
	if errors.As(err, &bad) {
		return weir.Reject(ctx, p.policy, bad.DeadLetter)
	}
	if err != nil {
		return err
	}
	for _, r := range p.buf {
		ctx.Collect(r)
	}
	return nil
}

// lastOf returns, for changeWatermarks, a converter of changes to their
// last row with a column-mapping cache of its own.
func lastOf[T comparable, C any](conv func(map[T][]cdcColumn, []row.Row, *C) ([]row.Row, error)) func() func(C) (row.Row, bool) {
	return func() func(C) (row.Row, bool) {
		p := newCDCRows[T, C](weir.ErrorPolicy{}, conv)
		return func(c C) (row.Row, bool) {
			var err error
			p.buf, err = p.conv(p.cols, p.buf[:0], &c)
			if err != nil || len(p.buf) == 0 {
				return row.Row{}, false
			}
			return p.buf[len(p.buf)-1], true
		}
	}
}

type changeGenerator[C any] struct {
	g    weir.WatermarkGenerator[row.Row]
	last func(C) (row.Row, bool)
}

func (g *changeGenerator[C]) OnEvent(c C, ts int64) {
	if r, ok := g.last(c); ok {
		g.g.OnEvent(r, ts)
	}
}

func (g *changeGenerator[C]) Watermark() int64 { return g.g.Watermark() }
