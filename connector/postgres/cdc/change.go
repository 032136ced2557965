package cdc

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/weirstream/weir/row"
)

// Op is what happened to a row.
type Op uint8

// The operations of a Change, with Debezium's letters.
const (
	// OpRead is a row read by the initial snapshot ("r").
	OpRead Op = iota
	// OpInsert is an inserted row ("c").
	OpInsert
	// OpUpdate is an updated row ("u").
	OpUpdate
	// OpDelete is a deleted row ("d").
	OpDelete
)

// String returns Debezium's letter for the operation.
func (o Op) String() string {
	switch o {
	case OpRead:
		return "r"
	case OpInsert:
		return "c"
	case OpUpdate:
		return "u"
	case OpDelete:
		return "d"
	}
	return "?"
}

// Column describes a column of a captured table.
type Column struct {
	// Name is the column's name.
	Name string
	// Type is the name of the column's type (int4, text, ...).
	Type string
	// OID is the type's object id.
	OID uint32
	// Key reports whether the column is part of the primary key.
	Key bool
}

// Table describes a captured table. Changes share it; it must not be
// modified.
type Table struct {
	// Schema and Name name the table.
	Schema, Name string
	// Columns are the table's columns in order (Before and After of a
	// Change hold one value per column).
	Columns []Column
	// Key holds the indexes of the primary key's columns in Columns.
	Key []int
}

// String returns schema.name.
func (t *Table) String() string { return t.Schema + "." + t.Name }

// Unavailable is the value of a column whose value the change does not
// carry: a TOASTed column the update did not touch (PostgreSQL sends no
// value for it unless the table has REPLICA IDENTITY FULL and the old row
// holds it), or a non-key column of the old row of a table with REPLICA
// IDENTITY DEFAULT.
type Unavailable struct{}

// Change is one row change: a row read by the snapshot, or an insert,
// update or delete read from the replication slot.
//
// Values are Go values by column type: int2/int4/int8 int64; numeric
// string (the exact decimal text, "NaN" for NaN); float4/float8 float64;
// bool bool; text, varchar, bpchar, name, uuid and every other type string
// (PostgreSQL's text form); date time.Time (UTC midnight); timestamp
// time.Time (the wall clock as UTC); timestamptz time.Time (UTC); bytea
// []byte; json and jsonb json.RawMessage; NULL nil; a value the change does
// not carry Unavailable{}.
type Change struct {
	// Op says what happened.
	Op Op
	// Table is the row's table.
	Table *Table
	// Before is the row before an update or a delete, nil for reads and
	// inserts. With REPLICA IDENTITY FULL it is the whole old row. With
	// REPLICA IDENTITY DEFAULT PostgreSQL logs only the old key: a delete's
	// Before then holds the key columns and Unavailable{} elsewhere
	// (BeforeKeyOnly), and an update's Before is nil unless it changed the
	// key, when it holds the old key likewise.
	Before []any
	// BeforeKeyOnly reports that Before holds only the key columns.
	BeforeKeyOnly bool
	// After is the row after a read, an insert or an update; nil for
	// deletes.
	After []any
	// LSN is the commit LSN of the change's transaction; for snapshot reads
	// the LSN the snapshot is consistent with.
	LSN pglogrepl.LSN
	// Index is the change's position within its transaction (0 for the
	// first change).
	Index int
	// XID is the transaction id (0 for snapshot reads).
	XID uint32
	// CommitTime is the commit time of the transaction (the zero time for
	// snapshot reads).
	CommitTime time.Time
}

// Kinds returns the changelog row kinds the change stands for, in order:
// +I for a read or an insert; -U then +U for an update whose full old row
// is known (REPLICA IDENTITY FULL), only +U otherwise (an upsert by key, as
// Flink CDC's postgres-cdc emits: a consumer that needs -U keeps the last
// row per key, Flink's ChangelogNormalize); -D for a delete. An update
// that changed the key under REPLICA IDENTITY DEFAULT is -D of the old key
// then +I of the new row.
func (c *Change) Kinds() []row.Kind {
	switch c.Op {
	case OpRead, OpInsert:
		return []row.Kind{row.Insert}
	case OpUpdate:
		switch {
		case c.Before != nil && !c.BeforeKeyOnly:
			return []row.Kind{row.UpdateBefore, row.UpdateAfter}
		case c.Before != nil:
			return []row.Kind{row.Delete, row.Insert}
		}
		return []row.Kind{row.UpdateAfter}
	case OpDelete:
		return []row.Kind{row.Delete}
	}
	return nil
}

// Value returns the value of column name in the row after the change (or
// before it, for deletes) and whether the table has that column.
func (c *Change) Value(name string) (any, bool) {
	img := c.After
	if img == nil {
		img = c.Before
	}
	for i, col := range c.Table.Columns {
		if col.Name == name && i < len(img) {
			return img[i], true
		}
	}
	return nil, false
}

// Type OIDs of the types decoded to something other than a string.
const (
	oidBool        = 16
	oidBytea       = 17
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidDate        = 1082
	oidTimestamp   = 1114
	oidTimestampTZ = 1184
	oidNumeric     = 1700
	oidJSONB       = 3802
)

// errBadValue wraps the errors of values that do not decode.
var errBadValue = errors.New("cdc: value does not decode")

// decodeText decodes the text form of a value of type oid.
func decodeText(oid uint32, b []byte) (any, error) {
	s := string(b)
	switch oid {
	case oidInt2, oidInt4, oidInt8:
		return strconv.ParseInt(s, 10, 64)
	case oidBool:
		switch s {
		case "t":
			return true, nil
		case "f":
			return false, nil
		}
		return nil, fmt.Errorf("%w: bool %q", errBadValue, s)
	case oidFloat4, oidFloat8:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: float %q", errBadValue, s)
		}
		return f, nil
	case oidNumeric:
		if s == "NaN" {
			return s, nil
		}
		if _, ok := new(big.Rat).SetString(s); !ok {
			return nil, fmt.Errorf("%w: numeric %q", errBadValue, s)
		}
		return s, nil
	case oidDate:
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, fmt.Errorf("%w: date %q (infinite and BC dates have no time.Time)", errBadValue, s)
		}
		return t, nil
	case oidTimestamp:
		t, err := time.Parse("2006-01-02 15:04:05.999999", s)
		if err != nil {
			return nil, fmt.Errorf("%w: timestamp %q (infinite and BC timestamps have no time.Time)", errBadValue, s)
		}
		return t, nil
	case oidTimestampTZ:
		t, err := time.Parse("2006-01-02 15:04:05.999999-07", s)
		if err != nil {
			t, err = time.Parse("2006-01-02 15:04:05.999999-07:00", s)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: timestamptz %q (infinite and BC timestamps have no time.Time)", errBadValue, s)
		}
		return t.UTC(), nil
	case oidBytea:
		h, ok := strings.CutPrefix(s, `\x`)
		if !ok {
			return nil, fmt.Errorf("%w: bytea not in hex form", errBadValue)
		}
		v, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("%w: bytea: %v", errBadValue, err)
		}
		return v, nil
	case oidJSON, oidJSONB:
		if !json.Valid(b) {
			return nil, fmt.Errorf("%w: invalid json", errBadValue)
		}
		return json.RawMessage(s), nil
	}
	return s, nil
}
