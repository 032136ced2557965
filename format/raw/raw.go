// Package raw is Flink's 'raw' format: a record is the bytes of a single
// STRING (UTF-8) or BYTES column, unchanged. An empty (or absent) record
// reads as NULL, and NULL writes as no bytes. Its functions are safe for
// concurrent use.
package raw

import (
	"fmt"

	"github.com/weirstream/weir/row"
)

// Check reports whether schema s suits the raw format: exactly one
// CHAR/VARCHAR/STRING or BINARY/VARBINARY/BYTES column.
func Check(s row.Schema) error {
	if len(s.Columns) != 1 {
		return fmt.Errorf("raw: the raw format supports a single physical column, the schema has %d: %s", len(s.Columns), s)
	}
	t := s.Columns[0].Type
	if !t.IsString() && !t.IsBinary() {
		return fmt.Errorf("raw: the raw format supports STRING or BYTES columns, not %s", t)
	}
	return nil
}

// Decode returns the one-column row of b (a copy); nil or empty b is NULL.
func Decode(b []byte) row.Row {
	if len(b) == 0 {
		return row.Of(row.Null())
	}
	return row.Of(row.Bytes(b)) // strings and bytes hold the same datum
}

// Append appends the bytes of r's single field to dst.
func Append(dst []byte, r row.Row) ([]byte, error) {
	if len(r.Fields) != 1 {
		return dst, fmt.Errorf("raw: the row has %d fields, want 1", len(r.Fields))
	}
	return append(dst, r.Fields[0].Str()...), nil
}
