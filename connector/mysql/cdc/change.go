package cdc

import (
	"fmt"
	"time"

	"github.com/weirstream/weir/row"
)

// Op is the operation of a change, with Debezium's letters.
type Op byte

// Operations.
const (
	// OpRead is a row of the initial snapshot.
	OpRead Op = 'r'
	// OpCreate is an inserted row.
	OpCreate Op = 'c'
	// OpUpdate is an updated row (Before and After set).
	OpUpdate Op = 'u'
	// OpDelete is a deleted row (Before set).
	OpDelete Op = 'd'
)

// String returns the Debezium letter.
func (o Op) String() string { return string(rune(o)) }

// RowKinds returns the changelog kinds the change stands for in Flink's
// model: +I for a read or an insert, -U then +U for an update (Before,
// then After), -D for a delete.
func (o Op) RowKinds() []row.Kind {
	switch o {
	case OpRead, OpCreate:
		return []row.Kind{row.Insert}
	case OpUpdate:
		return []row.Kind{row.UpdateBefore, row.UpdateAfter}
	case OpDelete:
		return []row.Kind{row.Delete}
	}
	return nil
}

// Position locates a change in the binlog: the start of its transaction
// (File, Pos and, where the server has GTIDs, the transaction's GTID) and
// the change's index among the row changes of that transaction. Snapshot
// rows carry the binlog position their chunk was consistent with and
// Snapshot set.
type Position struct {
	File     string
	Pos      uint32
	GTID     string
	Row      int
	Snapshot bool
}

// String formats the position for logs and dead letters.
func (p Position) String() string {
	s := fmt.Sprintf("binlog %s:%d row %d", p.File, p.Pos, p.Row)
	if p.GTID != "" {
		s += " gtid " + p.GTID
	}
	if p.Snapshot {
		s = "snapshot at " + s
	}
	return s
}

// Change is one captured row change.
//
// Values of Before and After follow the table's columns (Table.Columns)
// and are nil for NULL, or: int64 (signed integer types, YEAR), uint64
// (unsigned integer types, BIT), float64 (FLOAT, widened from float32,
// and DOUBLE), string (DECIMAL in its exact text form, CHAR, VARCHAR,
// TEXT types, JSON, ENUM and SET as their text, TIME), []byte (BINARY,
// VARBINARY, BLOB types), time.Time (DATE and DATETIME as UTC wall-clock
// values, TIMESTAMP as the UTC instant).
type Change struct {
	Op     Op
	Table  *Table
	Before []any
	After  []any
	// Time is when the change was made: the binlog event's timestamp
	// (second precision), or the time the snapshot chunk was read.
	Time     time.Time
	Position Position
}

// Key returns the change's primary key values (of After, or of Before
// for a delete).
func (c Change) Key() []any {
	vals := c.After
	if c.Op == OpDelete {
		vals = c.Before
	}
	k := make([]any, len(c.Table.Key))
	for i, col := range c.Table.Key {
		k[i] = vals[col]
	}
	return k
}

// Debezium returns the change as the fields of a Debezium envelope
// (before, after, op, ts_ms, source), with rows as maps from column name
// to value, for a Debezium JSON serializer. The source block carries
// Debezium's MySQL connector fields (db, table, file, pos, row, gtid,
// snapshot, ts_ms).
func (c Change) Debezium() map[string]any {
	asMap := func(vals []any) map[string]any {
		if vals == nil {
			return nil
		}
		m := make(map[string]any, len(vals))
		for i, col := range c.Table.Columns {
			m[col.Name] = vals[i]
		}
		return m
	}
	snap := "false"
	if c.Position.Snapshot {
		snap = "true"
	}
	var gtid any
	if c.Position.GTID != "" {
		gtid = c.Position.GTID
	}
	return map[string]any{
		"before": asMap(c.Before),
		"after":  asMap(c.After),
		"op":     c.Op.String(),
		"ts_ms":  c.Time.UnixMilli(),
		"source": map[string]any{
			"connector": "mysql",
			"db":        c.Table.Database,
			"table":     c.Table.Name,
			"file":      c.Position.File,
			"pos":       c.Position.Pos,
			"row":       c.Position.Row,
			"gtid":      gtid,
			"snapshot":  snap,
			"ts_ms":     c.Time.UnixMilli(),
		},
	}
}
