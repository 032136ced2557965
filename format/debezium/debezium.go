// Package debezium converts rows to and from Debezium's JSON change
// events, as Flink's 'debezium-json' format does.
//
// A change event is an object {"before": {...}, "after": {...}, "op": ...}
// (optionally wrapped as {"schema": ..., "payload": {...}}, Debezium's
// JsonConverter with schemas enabled; the decoder accepts both). The row
// images are JSON objects whose keys are the column names, converted as
// package json converts rows (format/json: the same type mapping).
//
// Decoding, as Flink's DebeziumJsonDeserializationSchema: op "c" (create)
// and "r" (snapshot read) give +I of after; "u" gives -U of before then +U
// of after (a "u" without before, from a table without full old rows, gives
// only +U); "d" gives -D of before; "t" (truncate) and "m" (message) give
// nothing; a record that is the JSON null (a Kafka tombstone) gives
// nothing.
//
// Encoding, as Flink's DebeziumJsonSerializationSchema: +I and +U become
// {"before":null,"after":row,"op":"c"}, -U and -D {"before":row,"after":null,
// "op":"d"}.
//
// Decoders and encoders are not safe for concurrent use: give each subtask
// its own. They keep no state between records.
package debezium

import (
	"bytes"
	"encoding/json"
	"fmt"

	wjson "github.com/weirstream/weir/format/json"
	"github.com/weirstream/weir/row"
)

// Error is the error of a record that does not decode or encode.
type Error struct {
	// Field is the field at fault ("before.price"), "" if none.
	Field string
	// Reason says what is wrong.
	Reason string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return "debezium: " + e.Reason
	}
	return fmt.Sprintf("debezium: field %s: %s", e.Field, e.Reason)
}

// Options configure decoders and encoders; the row images use them as
// package json does.
type Options = wjson.Options

// Decoder decodes Debezium change events into rows of a schema.
type Decoder struct {
	img *wjson.Decoder
}

// NewDecoder returns a decoder of events whose row images have schema s.
func NewDecoder(s row.Schema, o Options) (*Decoder, error) {
	d, err := wjson.NewDecoder(s, o)
	if err != nil {
		return nil, fmt.Errorf("debezium: %w", err)
	}
	return &Decoder{img: d}, nil
}

// envelope is a change event's payload.
type envelope struct {
	Before  json.RawMessage `json:"before"`
	After   json.RawMessage `json:"after"`
	Op      *string         `json:"op"`
	Payload json.RawMessage `json:"payload"`
}

func isNull(b json.RawMessage) bool {
	return len(b) == 0 || bytes.Equal(bytes.TrimSpace(b), []byte("null"))
}

// Decode appends the rows of event b to dst (none, one or two). Errors
// are *Error.
func (d *Decoder) Decode(dst []row.Row, b []byte) ([]row.Row, error) {
	if isNull(b) {
		return dst, nil
	}
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return dst, &Error{Reason: "malformed event: " + err.Error()}
	}
	if e.Op == nil && !isNull(e.Payload) {
		// {"schema": ..., "payload": {...}}
		p := e.Payload
		e = envelope{}
		if err := json.Unmarshal(p, &e); err != nil {
			return dst, &Error{Field: "payload", Reason: "malformed event: " + err.Error()}
		}
	}
	if e.Op == nil {
		return dst, &Error{Field: "op", Reason: "missing"}
	}
	image := func(field string, b json.RawMessage, k row.Kind) ([]row.Row, error) {
		if isNull(b) {
			return dst, &Error{Field: field, Reason: fmt.Sprintf("missing for op %q", *e.Op)}
		}
		r, ok, err := d.img.Decode(b)
		if err != nil {
			reason := err.Error()
			var je *wjson.Error
			if ok := asJSONError(err, &je); ok {
				if je.Field != "" {
					return dst, &Error{Field: field + "." + je.Field, Reason: je.Reason}
				}
				reason = je.Reason
			}
			return dst, &Error{Field: field, Reason: reason}
		}
		if !ok {
			return dst, &Error{Field: field, Reason: "null"}
		}
		r.Kind = k
		return append(dst, r), nil
	}
	var err error
	switch *e.Op {
	case "c", "r":
		return image("after", e.After, row.Insert)
	case "u":
		if !isNull(e.Before) {
			if dst, err = image("before", e.Before, row.UpdateBefore); err != nil {
				return dst, err
			}
		}
		return image("after", e.After, row.UpdateAfter)
	case "d":
		return image("before", e.Before, row.Delete)
	case "t", "m":
		return dst, nil
	}
	return dst, &Error{Field: "op", Reason: fmt.Sprintf("unknown operation %q", *e.Op)}
}

func asJSONError(err error, target **wjson.Error) bool {
	je, ok := err.(*wjson.Error)
	if ok {
		*target = je
	}
	return ok
}

// Encoder encodes rows of a schema as Debezium change events.
type Encoder struct {
	img *wjson.Encoder
}

// NewEncoder returns an encoder of rows with schema s.
func NewEncoder(s row.Schema, o Options) (*Encoder, error) {
	e, err := wjson.NewEncoder(s, o)
	if err != nil {
		return nil, fmt.Errorf("debezium: %w", err)
	}
	return &Encoder{img: e}, nil
}

// Append appends the event of r to dst. Errors are *Error.
func (e *Encoder) Append(dst []byte, r row.Row) ([]byte, error) {
	start := len(dst)
	var err error
	switch r.Kind {
	case row.Insert, row.UpdateAfter:
		dst = append(dst, `{"before":null,"after":`...)
		dst, err = e.img.Append(dst, r)
		dst = append(dst, `,"op":"c"}`...)
	case row.UpdateBefore, row.Delete:
		dst = append(dst, `{"before":`...)
		dst, err = e.img.Append(dst, r)
		dst = append(dst, `,"after":null,"op":"d"}`...)
	default:
		return dst, &Error{Reason: fmt.Sprintf("unknown row kind %d", r.Kind)}
	}
	if err != nil {
		return dst[:start], &Error{Reason: err.Error()}
	}
	return dst, nil
}

// FieldPath returns the field at fault ("" if none).
func (e *Error) FieldPath() string { return e.Field }
