package cdc

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Table is the schema of a captured table, read from information_schema
// when the source starts. DDL while the source runs is not followed: a
// binlog row whose column count differs from Columns fails the job.
type Table struct {
	Database, Name string
	Columns        []Column
	// Key holds the indexes in Columns of the primary key's columns.
	Key []int
}

// ID returns "database.table".
func (t *Table) ID() string { return t.Database + "." + t.Name }

// Column is one column of a Table.
type Column struct {
	Name string
	// DataType and ColumnType are information_schema's DATA_TYPE ("int")
	// and COLUMN_TYPE ("int(10) unsigned", "enum('a','b')").
	DataType, ColumnType string
	Nullable             bool

	kind  colKind
	bits  uint     // width of integer types
	elems []string // ENUM and SET values
}

type colKind uint8

const (
	kSigned colKind = iota
	kUnsigned
	kFloat
	kDouble
	kDecimal
	kText
	kBinary
	kDate
	kDatetime
	kTimestamp
	kTime
	kYear
	kBit
	kEnum
	kSet
)

// errPermanent marks errors that retrying cannot fix.
var errPermanent = errors.New("mysql cdc: permanent error")

type permanentError struct{ err error }

func (e permanentError) Error() string        { return e.err.Error() }
func (e permanentError) Unwrap() []error      { return []error{e.err, errPermanent} }
func permanent(format string, a ...any) error { return permanentError{fmt.Errorf(format, a...)} }

// loadTable reads the schema of db.name.
func loadTable(ctx context.Context, db *sql.DB, database, name string) (*Table, error) {
	rows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, database, name)
	if err != nil {
		return nil, fmt.Errorf("mysql cdc: reading the columns of %s.%s: %w", database, name, err)
	}
	t := &Table{Database: database, Name: name}
	for rows.Next() {
		var c Column
		var nullable string
		if err := rows.Scan(&c.Name, &c.DataType, &c.ColumnType, &nullable); err != nil {
			rows.Close()
			return nil, fmt.Errorf("mysql cdc: reading the columns of %s.%s: %w", database, name, err)
		}
		c.Nullable = nullable == "YES"
		c.classify()
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mysql cdc: reading the columns of %s.%s: %w", database, name, err)
	}
	if len(t.Columns) == 0 {
		return nil, permanent("mysql cdc: table %s.%s does not exist (or has no columns the user may read)", database, name)
	}
	krows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`, database, name)
	if err != nil {
		return nil, fmt.Errorf("mysql cdc: reading the primary key of %s.%s: %w", database, name, err)
	}
	defer krows.Close()
	for krows.Next() {
		var col string
		if err := krows.Scan(&col); err != nil {
			return nil, fmt.Errorf("mysql cdc: reading the primary key of %s.%s: %w", database, name, err)
		}
		for i := range t.Columns {
			if t.Columns[i].Name == col {
				t.Key = append(t.Key, i)
			}
		}
	}
	if err := krows.Err(); err != nil {
		return nil, fmt.Errorf("mysql cdc: reading the primary key of %s.%s: %w", database, name, err)
	}
	if len(t.Key) == 0 {
		return nil, permanent("mysql cdc: table %s.%s has no primary key (the snapshot and its hand-over to the binlog need one)", database, name)
	}
	return t, nil
}

// chunked reports whether the table is snapshotted in chunks: its primary
// key is one integer column, whose order the source can compare itself.
func (t *Table) chunked() bool {
	if len(t.Key) != 1 {
		return false
	}
	k := t.Columns[t.Key[0]].kind
	return k == kSigned || k == kUnsigned
}

func (c *Column) classify() {
	ct := strings.ToLower(c.ColumnType)
	unsigned := strings.Contains(ct, "unsigned")
	intKind := func(bits uint) {
		c.bits = bits
		c.kind = kSigned
		if unsigned {
			c.kind = kUnsigned
		}
	}
	switch strings.ToLower(c.DataType) {
	case "tinyint":
		intKind(8)
	case "smallint":
		intKind(16)
	case "mediumint":
		intKind(24)
	case "int", "integer":
		intKind(32)
	case "bigint":
		intKind(64)
	case "float":
		c.kind = kFloat
	case "double", "real":
		c.kind = kDouble
	case "decimal", "numeric":
		c.kind = kDecimal
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json":
		c.kind = kText
	case "date":
		c.kind = kDate
	case "datetime":
		c.kind = kDatetime
	case "timestamp":
		c.kind = kTimestamp
	case "time":
		c.kind = kTime
	case "year":
		c.kind = kYear
	case "bit":
		c.kind = kBit
	case "enum":
		c.kind = kEnum
		c.elems = parseElems(c.ColumnType)
	case "set":
		c.kind = kSet
		c.elems = parseElems(c.ColumnType)
	default: // binary, varbinary, blob types, geometry, others: raw bytes
		c.kind = kBinary
	}
}

// parseElems parses the values of "enum('a','b”c')".
func parseElems(ct string) []string {
	open := strings.IndexByte(ct, '(')
	if open < 0 {
		return nil
	}
	s := ct[open+1:]
	var out []string
	for len(s) > 0 && s[0] == '\'' {
		var b strings.Builder
		i := 1
		for i < len(s) {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i += 2
					continue
				}
				break
			}
			b.WriteByte(s[i])
			i++
		}
		out = append(out, b.String())
		s = s[min(i+1, len(s)):]
		s = strings.TrimPrefix(s, ",")
	}
	return out
}

const (
	dateLayout     = "2006-01-02"
	datetimeLayout = "2006-01-02 15:04:05.999999"
)

// fromBinlog converts a value decoded by go-mysql's replication package
// to the column's Go type (see Change).
func (c *Column) fromBinlog(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.kind {
	case kSigned, kUnsigned, kYear, kBit:
		if _, ok := v.(int64); ok && c.kind == kSigned {
			return v, nil // already the value: no new interface
		}
		var i int64
		switch x := v.(type) {
		case int8:
			i = int64(x)
		case int16:
			i = int64(x)
		case int32:
			i = int64(x)
		case int64:
			i = x
		case int:
			i = int64(x)
		case uint64:
			i = int64(x)
		default:
			return nil, fmt.Errorf("integer column holds %T", v)
		}
		switch c.kind {
		case kSigned, kYear:
			return i, nil
		case kBit:
			return uint64(i), nil
		}
		u := uint64(i)
		if c.bits < 64 {
			u &= 1<<c.bits - 1
		}
		return u, nil
	case kFloat:
		if f, ok := v.(float32); ok {
			return float64(f), nil
		}
	case kDouble:
		if _, ok := v.(float64); ok {
			return v, nil
		}
	case kDecimal, kText, kTime:
		switch x := v.(type) {
		case string:
			return v, nil
		case []byte:
			return string(x), nil
		}
	case kBinary:
		switch x := v.(type) {
		case string:
			return []byte(x), nil
		case []byte:
			return bytes.Clone(x), nil
		}
	case kDate:
		if s, ok := v.(string); ok {
			return parseTime(dateLayout, s)
		}
	case kDatetime, kTimestamp:
		switch x := v.(type) {
		case time.Time:
			if x.Location() == time.UTC {
				return v, nil
			}
			return x.UTC(), nil
		case string:
			return parseTime(datetimeLayout, x)
		}
	case kEnum:
		if i, ok := v.(int64); ok {
			if i == 0 {
				return "", nil // MySQL's error value
			}
			if i < 0 || int(i) > len(c.elems) {
				return nil, fmt.Errorf("enum index %d outside the %d values", i, len(c.elems))
			}
			return c.elems[i-1], nil
		}
	case kSet:
		if i, ok := v.(int64); ok {
			var parts []string
			for b := range c.elems {
				if i&(1<<b) != 0 {
					parts = append(parts, c.elems[b])
				}
			}
			if i>>len(c.elems) != 0 {
				return nil, fmt.Errorf("set bits %#x outside the %d values", i, len(c.elems))
			}
			return strings.Join(parts, ","), nil
		}
	}
	return nil, fmt.Errorf("unexpected %T for a %s column", v, c.DataType)
}

// fromText converts a value in MySQL's text protocol (the snapshot's
// SELECT, with time_zone '+00:00') to the column's Go type; nil is NULL.
func (c *Column) fromText(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	s := string(b)
	switch c.kind {
	case kSigned, kYear:
		return strconv.ParseInt(s, 10, 64)
	case kUnsigned:
		return strconv.ParseUint(s, 10, 64)
	case kBit:
		if len(b) > 8 {
			return nil, fmt.Errorf("bit value of %d bytes", len(b))
		}
		var buf [8]byte
		copy(buf[8-len(b):], b)
		return binary.BigEndian.Uint64(buf[:]), nil
	case kFloat:
		f, err := strconv.ParseFloat(s, 32)
		return f, err
	case kDouble:
		return strconv.ParseFloat(s, 64)
	case kBinary:
		return bytes.Clone(b), nil
	case kDate:
		return parseTime(dateLayout, s)
	case kDatetime, kTimestamp:
		return parseTime(datetimeLayout, s)
	}
	return s, nil
}

func parseTime(layout, s string) (any, error) {
	if strings.HasPrefix(s, "0000-00-00") {
		return nil, fmt.Errorf("zero date %q has no time value", s)
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// keyLE reports whether key value v is at or below bound (both of the
// key column's type: int64 or uint64).
func keyLE(v, bound any) bool {
	switch b := bound.(type) {
	case int64:
		x, _ := v.(int64)
		return x <= b
	case uint64:
		x, _ := v.(uint64)
		return x <= b
	}
	return false
}
