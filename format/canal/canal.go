// Package canal converts rows to and from Canal's JSON change messages,
// as Flink's 'canal-json' format does.
//
// A message is an object {"data": [...], "old": [...], "type": ...,
// "database": ..., "table": ..., "isDdl": ...}: data holds the rows the
// statement wrote (the new rows of an UPDATE), old, for UPDATE, the
// previous values of the fields it changed, one object per data element.
// The row images are JSON objects keyed by column name, converted as
// package json converts rows (format/json: the same type mapping; Canal
// writes every value as a string, which the numeric, boolean and temporal
// types parse).
//
// Decoding, as Flink's CanalJsonDeserializationSchema: "INSERT" gives +I
// of each data row; "UPDATE" gives, per data row, -U of the old row (the
// data row with the fields of the matching old object put back) then +U of
// the data row; "DELETE" gives -D of each data row; "CREATE" (and any
// message with isDdl true) gives nothing; a record that is the JSON null
// gives nothing. Other types are errors. Options.Database and
// Options.Table, when set, keep only the messages whose database and table
// match them (Flink's canal-json.database.include and table.include).
//
// Decoders are not safe for concurrent use: give each subtask its own.
// They keep no state between records.
//
// Encoding (Encoder), as Flink's CanalJsonSerializationSchema: one message
// {"data":[row],"type":...} per row, "INSERT" for +I and +U, "DELETE" for
// -U and -D.
package canal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	wjson "github.com/weirstream/weir/format/json"
	"github.com/weirstream/weir/row"
)

// Error is the error of a message that does not decode.
type Error struct {
	// Field is the field at fault ("data[0].price"), "" if none.
	Field string
	// Reason says what is wrong.
	Reason string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return "canal: " + e.Reason
	}
	return fmt.Sprintf("canal: field %s: %s", e.Field, e.Reason)
}

// FieldPath returns the field at fault.
func (e *Error) FieldPath() string { return e.Field }

// Options configure a decoder.
type Options struct {
	// JSON configures the decoding of the row images.
	JSON wjson.Options
	// Database and Table, if not nil, keep only the messages whose
	// "database" and "table" match them entirely.
	Database, Table *regexp.Regexp
}

// Decoder decodes Canal messages into rows of a schema.
type Decoder struct {
	img  *wjson.Decoder
	opts Options
}

// NewDecoder returns a decoder of messages whose rows have schema s.
func NewDecoder(s row.Schema, o Options) (*Decoder, error) {
	d, err := wjson.NewDecoder(s, o.JSON)
	if err != nil {
		return nil, fmt.Errorf("canal: %w", err)
	}
	return &Decoder{img: d, opts: o}, nil
}

type message struct {
	Data     []json.RawMessage `json:"data"`
	Old      []json.RawMessage `json:"old"`
	Type     *string           `json:"type"`
	Database string            `json:"database"`
	Table    string            `json:"table"`
	IsDDL    bool              `json:"isDdl"`
}

func isNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || bytes.Equal(b, []byte("null"))
}

// Decode appends the rows of message b to dst. Errors are *Error.
func (d *Decoder) Decode(dst []row.Row, b []byte) ([]row.Row, error) {
	if isNull(b) {
		return dst, nil
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return dst, &Error{Reason: "malformed message: " + err.Error()}
	}
	if m.Type == nil {
		return dst, &Error{Field: "type", Reason: "missing"}
	}
	if d.opts.Database != nil && !d.opts.Database.MatchString(m.Database) ||
		d.opts.Table != nil && !d.opts.Table.MatchString(m.Table) {
		return dst, nil
	}
	if m.IsDDL || *m.Type == "CREATE" {
		return dst, nil
	}
	image := func(field string, b json.RawMessage, k row.Kind) error {
		if isNull(b) {
			return &Error{Field: field, Reason: "null row"}
		}
		r, ok, err := d.img.Decode(b)
		if err != nil {
			if je, isJSON := err.(*wjson.Error); isJSON {
				f := field
				if je.Field != "" {
					f += "." + je.Field
				}
				return &Error{Field: f, Reason: je.Reason}
			}
			return &Error{Field: field, Reason: err.Error()}
		}
		if !ok {
			return &Error{Field: field, Reason: "null row"}
		}
		r.Kind = k
		dst = append(dst, r)
		return nil
	}
	start := len(dst)
	var err error
	switch *m.Type {
	case "INSERT", "DELETE":
		k := row.Insert
		if *m.Type == "DELETE" {
			k = row.Delete
		}
		if m.Data == nil {
			return dst, &Error{Field: "data", Reason: "missing"}
		}
		for i, r := range m.Data {
			if err = image(fmt.Sprintf("data[%d]", i), r, k); err != nil {
				return dst[:start], err
			}
		}
	case "UPDATE":
		if m.Data == nil {
			return dst, &Error{Field: "data", Reason: "missing"}
		}
		if len(m.Old) != len(m.Data) {
			return dst, &Error{Field: "old", Reason: fmt.Sprintf("%d old rows for %d data rows", len(m.Old), len(m.Data))}
		}
		for i, r := range m.Data {
			before, merr := merge(r, m.Old[i])
			if merr != nil {
				return dst[:start], &Error{Field: fmt.Sprintf("old[%d]", i), Reason: merr.Error()}
			}
			if err = image(fmt.Sprintf("old[%d]", i), before, row.UpdateBefore); err != nil {
				return dst[:start], err
			}
			if err = image(fmt.Sprintf("data[%d]", i), r, row.UpdateAfter); err != nil {
				return dst[:start], err
			}
		}
	default:
		return dst, &Error{Field: "type", Reason: fmt.Sprintf("unknown message type %q", *m.Type)}
	}
	return dst, nil
}

// merge returns the object data with the fields of old put back: the row
// before the update (old holds the changed fields only).
func merge(data, old json.RawMessage) (json.RawMessage, error) {
	var d, o map[string]json.RawMessage
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("data row is not an object: %w", err)
	}
	if isNull(old) {
		return data, nil
	}
	if err := json.Unmarshal(old, &o); err != nil {
		return nil, fmt.Errorf("not an object: %w", err)
	}
	if d == nil {
		d = map[string]json.RawMessage{}
	}
	for k, v := range o {
		d[k] = v
	}
	return json.Marshal(d)
}
