// Package json converts rows to and from JSON objects as Flink's 'json'
// format does: one object per record, its keys the column names.
//
// Types map as in Flink: BOOLEAN to true/false, integers and FLOAT/DOUBLE
// to numbers (a quoted number is read too), DECIMAL to an exact number
// (rounded half up to the column's scale when read, NULL when it has too
// many digits, as Flink's DecimalData.fromBigDecimal), CHAR/VARCHAR to
// strings (a non-string value read into a string column is its JSON text),
// BINARY/VARBINARY to base64 strings, DATE to "yyyy-MM-dd", TIME to
// "HH:mm:ss[.fraction]", TIMESTAMP to "yyyy-MM-dd HH:mm:ss[.fraction]" (or
// ISO-8601 with a 'T' under Options.Timestamp = ISO8601), TIMESTAMP_LTZ the
// same with a trailing 'Z' (UTC), intervals to numbers (months,
// milliseconds), ARRAY to arrays, ROW to nested objects and MAP (with
// CHAR/VARCHAR keys only, as Flink) to objects. A key missing from an
// object is NULL unless Options.FailOnMissingField; unknown keys are
// ignored.
//
// Decoders and encoders are not safe for concurrent use: give each subtask
// its own. They keep no state between records.
package json

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/weirstream/weir/format/internal/text"
	"github.com/weirstream/weir/row"
)

// TimestampFormat is Flink's json.timestamp-format.standard.
type TimestampFormat = text.Style

// Timestamp formats.
const (
	// SQL writes "2020-12-30 12:13:14.123" (the default).
	SQL = text.SQL
	// ISO8601 writes "2020-12-30T12:13:14.123".
	ISO8601 = text.ISO8601
)

// MapNullKeyMode is Flink's json.map-null-key.mode: what encoding a MAP
// entry with a NULL key does.
type MapNullKeyMode uint8

// Map null key modes.
const (
	// MapNullKeyFail fails the record (the default).
	MapNullKeyFail MapNullKeyMode = iota
	// MapNullKeyDrop drops the entry.
	MapNullKeyDrop
	// MapNullKeyLiteral writes the key as Options.MapNullKeyLiteral.
	MapNullKeyLiteral
)

// Options are the format's options, named after Flink's.
type Options struct {
	// FailOnMissingField makes a missing key an error (json.fail-on-missing-field).
	FailOnMissingField bool
	// IgnoreParseErrors sets fields that do not convert to NULL instead
	// of failing the record (json.ignore-parse-errors); a record that is
	// not JSON still fails, and the connector skips it.
	IgnoreParseErrors bool
	// Timestamp is the timestamp text style (json.timestamp-format.standard).
	Timestamp TimestampFormat
	// MapNullKey is json.map-null-key.mode; MapNullKeyLiteral is
	// json.map-null-key.literal (default "null").
	MapNullKey        MapNullKeyMode
	MapNullKeyLiteral string
	// DecimalAsPlainNumber writes DECIMALs without scientific notation
	// (json.encode.decimal-as-plain-number).
	DecimalAsPlainNumber bool
	// IgnoreNullFields leaves out the members of objects (the record and
	// nested ROWs) whose value is NULL (json.encode.ignore-null-fields,
	// as Flink's RowDataToJsonConverters); MAP entries and ARRAY elements
	// that are NULL are still written.
	IgnoreNullFields bool
}

// Error is a record that does not decode or encode: Field is the path of
// the field at fault ("a.b[2]"), "" for the record as a whole.
type Error struct {
	Field  string
	Reason string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return "json: " + e.Reason
	}
	return fmt.Sprintf("json: field %s: %s", e.Field, e.Reason)
}

// FieldPath returns the field at fault.
func (e *Error) FieldPath() string { return e.Field }

// checkType reports types the format cannot handle.
func checkType(t row.Type, path string) error {
	switch t.Root {
	case row.TypeMap, row.TypeMultiset:
		if !t.Elem.IsString() {
			return fmt.Errorf("json: column %s: JSON format doesn't support non-string as key type of map: %s", path, t)
		}
		return checkType(*t.Value, path)
	case row.TypeArray:
		return checkType(*t.Elem, path)
	case row.TypeRow:
		for _, f := range t.Fields {
			if err := checkType(f.Type, path+"."+f.Name); err != nil {
				return err
			}
		}
	case row.TypeNull:
		return fmt.Errorf("json: column %s: type NULL is not supported", path)
	}
	return nil
}

// Decoder turns JSON objects into rows of a schema.
type Decoder struct {
	schema row.Schema
	opts   Options
}

// NewDecoder returns a decoder for rows of schema s.
func NewDecoder(s row.Schema, o Options) (*Decoder, error) {
	for _, c := range s.Columns {
		if err := checkType(c.Type, c.Name); err != nil {
			return nil, err
		}
	}
	return &Decoder{schema: s, opts: o}, nil
}

// node is a parsed JSON value, object keys in document order.
type node struct {
	kind  byte // 'n' null, 'b' bool, 's' string, '#' number, '[' array, '{' object
	s     string
	b     bool
	elems []node
	keys  []string
}

const maxDepth = 256

func parse(b []byte) (node, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := parseValue(dec, 0)
	if err != nil {
		return node{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return node{}, errors.New("unexpected data after the JSON value")
	}
	return n, nil
}

func parseValue(dec *json.Decoder, depth int) (node, error) {
	if depth > maxDepth {
		return node{}, errors.New("nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return node{}, errors.New("unexpected end of JSON input")
		}
		return node{}, err
	}
	switch v := tok.(type) {
	case nil:
		return node{kind: 'n'}, nil
	case bool:
		return node{kind: 'b', b: v}, nil
	case string:
		return node{kind: 's', s: v}, nil
	case json.Number:
		return node{kind: '#', s: string(v)}, nil
	case json.Delim:
		switch v {
		case '[':
			n := node{kind: '['}
			for dec.More() {
				e, err := parseValue(dec, depth+1)
				if err != nil {
					return node{}, err
				}
				n.elems = append(n.elems, e)
			}
			_, err := dec.Token()
			return n, err
		case '{':
			n := node{kind: '{'}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return node{}, err
				}
				e, err := parseValue(dec, depth+1)
				if err != nil {
					return node{}, err
				}
				n.keys = append(n.keys, k.(string))
				n.elems = append(n.elems, e)
			}
			_, err := dec.Token()
			return n, err
		}
	}
	return node{}, fmt.Errorf("unexpected token %v", tok)
}

// get returns the value of key k of an object (the last one if repeated).
func (n *node) get(k string) (node, bool) {
	for i := len(n.keys) - 1; i >= 0; i-- {
		if n.keys[i] == k {
			return n.elems[i], true
		}
	}
	return node{}, false
}

// text returns a node as JSON text (compact).
func (n node) text(b *bytes.Buffer) {
	switch n.kind {
	case 'n':
		b.WriteString("null")
	case 'b':
		b.WriteString(strconv.FormatBool(n.b))
	case '#':
		b.WriteString(n.s)
	case 's':
		q, _ := json.Marshal(n.s)
		b.Write(q)
	case '[':
		b.WriteByte('[')
		for i, e := range n.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			e.text(b)
		}
		b.WriteByte(']')
	case '{':
		b.WriteByte('{')
		for i, e := range n.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			q, _ := json.Marshal(n.keys[i])
			b.Write(q)
			b.WriteByte(':')
			e.text(b)
		}
		b.WriteByte('}')
	}
}

// Decode decodes one JSON object. ok is false for a record that is the
// JSON null (Flink emits no row for it). Errors are *Error.
func (d *Decoder) Decode(b []byte) (r row.Row, ok bool, err error) {
	n, err := parse(b)
	if err != nil {
		return row.Row{}, false, &Error{Reason: "malformed JSON: " + err.Error()}
	}
	if n.kind == 'n' {
		return row.Row{}, false, nil
	}
	if n.kind != '{' {
		return row.Row{}, false, &Error{Reason: "the record is not a JSON object"}
	}
	fields, err := d.fields(&n, d.schema.Columns, "")
	if err != nil {
		return row.Row{}, false, err
	}
	return row.Row{Fields: fields}, true, nil
}

func (d *Decoder) fields(obj *node, cols []row.Field, prefix string) ([]row.Value, error) {
	out := make([]row.Value, len(cols))
	for i, c := range cols {
		path := prefix + c.Name
		v, present := obj.get(c.Name)
		if !present {
			if d.opts.FailOnMissingField {
				return nil, &Error{Field: path, Reason: fmt.Sprintf("Could not find field with name '%s'.", c.Name)}
			}
			continue
		}
		val, err := d.value(v, c.Type, path)
		if err != nil {
			var e *Error
			if d.opts.IgnoreParseErrors && errors.As(err, &e) {
				continue // NULL, as Flink
			}
			return nil, err
		}
		out[i] = val
	}
	return out, nil
}

func (d *Decoder) value(n node, t row.Type, path string) (row.Value, error) {
	if n.kind == 'n' {
		return row.Value{}, nil
	}
	fail := func(reason string) (row.Value, error) {
		return row.Value{}, &Error{Field: path, Reason: reason}
	}
	scalar := func() (string, bool) {
		switch n.kind {
		case 's', '#':
			return n.s, true
		case 'b':
			return strconv.FormatBool(n.b), true
		}
		return "", false
	}
	switch t.Root {
	case row.TypeVariant:
		// Any JSON value, as PARSE_JSON reads it; a repeated key keeps
		// the last value, as everywhere in this format. A JSON null is
		// SQL NULL (above).
		var b bytes.Buffer
		n.text(&b)
		enc, err := row.ParseJSONVariant(b.String(), true)
		if err != nil {
			return fail("cannot read a VARIANT: " + err.Error())
		}
		return row.Variant(enc), nil
	case row.TypeBoolean:
		if n.kind == 'b' {
			return row.Bool(n.b), nil
		}
		s, ok := scalar()
		if !ok {
			return fail("expected a BOOLEAN")
		}
		return row.Bool(strings.EqualFold(strings.TrimSpace(s), "true")), nil // Java's parseBoolean
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt,
		row.TypeIntervalYearMonth, row.TypeIntervalDayTime:
		s, ok := scalar()
		if !ok || n.kind == 'b' {
			return fail(fmt.Sprintf("expected %s", t.WithNullable(true)))
		}
		it := t
		if !t.IsInteger() {
			it = row.BigInt()
		}
		i, err := text.ParseInt(s, it)
		if err != nil {
			return fail(err.Error())
		}
		return row.Int(i), nil
	case row.TypeFloat, row.TypeDouble:
		s, ok := scalar()
		if !ok || n.kind == 'b' {
			return fail(fmt.Sprintf("expected %s", t.WithNullable(true)))
		}
		f, err := text.ParseFloat(s, t)
		if err != nil {
			return fail(err.Error())
		}
		return row.Float(f), nil
	case row.TypeDecimal:
		s, ok := scalar()
		if !ok || n.kind == 'b' {
			return fail(fmt.Sprintf("expected %s", t.WithNullable(true)))
		}
		v, fits, err := text.ParseDecimal(s, t)
		if err != nil {
			return fail(err.Error())
		}
		if !fits {
			return row.Value{}, nil // Flink: NULL on overflow
		}
		return v, nil
	case row.TypeChar, row.TypeVarChar:
		if n.kind == 's' {
			return row.Str(n.s), nil
		}
		var b bytes.Buffer
		n.text(&b)
		return row.Str(b.String()), nil
	case row.TypeBinary, row.TypeVarBinary:
		if n.kind != 's' {
			return fail("expected a base64 string")
		}
		raw, err := base64.StdEncoding.DecodeString(n.s)
		if err != nil {
			return fail("not base64: " + err.Error())
		}
		return row.Bytes(raw), nil
	case row.TypeDate:
		if n.kind != 's' {
			return fail("expected a date string")
		}
		days, err := text.ParseDate(n.s)
		if err != nil {
			return fail(err.Error())
		}
		return row.Int(days), nil
	case row.TypeTime:
		if n.kind != 's' {
			return fail("expected a time string")
		}
		ns, err := text.ParseTime(n.s, min(t.Precision, 3))
		if err != nil {
			return fail(err.Error())
		}
		return row.Int(ns), nil
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		if n.kind != 's' {
			return fail("expected a timestamp string")
		}
		v, err := text.ParseTimestamp(n.s, d.opts.Timestamp, t.Root == row.TypeTimestampLTZ, t.Precision)
		if err != nil {
			return fail(err.Error())
		}
		return v, nil
	case row.TypeArray:
		if n.kind != '[' {
			return fail("expected a JSON array")
		}
		elems := make([]row.Value, len(n.elems))
		for i, e := range n.elems {
			v, err := d.value(e, *t.Elem, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return row.Value{}, err
			}
			elems[i] = v
		}
		return row.Array(elems), nil
	case row.TypeMap, row.TypeMultiset:
		if n.kind != '{' {
			return fail("expected a JSON object")
		}
		keys := make([]row.Value, 0, len(n.keys))
		vals := make([]row.Value, 0, len(n.keys))
		for i, k := range n.keys {
			v, err := d.value(n.elems[i], *t.Value, path+"["+strconv.Quote(k)+"]")
			if err != nil {
				return row.Value{}, err
			}
			dup := false
			for j := range keys {
				if keys[j].Str() == k {
					vals[j], dup = v, true
				}
			}
			if !dup {
				keys = append(keys, row.Str(k))
				vals = append(vals, v)
			}
		}
		if t.Root == row.TypeMultiset {
			return sortedMultiset(keys, vals, *t.Elem), nil
		}
		return row.Map(keys, vals), nil
	case row.TypeRow:
		if n.kind != '{' {
			return fail("expected a JSON object")
		}
		f, err := d.fields(&n, t.Fields, path+".")
		if err != nil {
			return row.Value{}, err
		}
		return row.Nested(f), nil
	}
	return fail(fmt.Sprintf("type %s is not supported", t))
}

// Encoder turns rows of a schema into JSON objects.
type Encoder struct {
	schema row.Schema
	opts   Options
}

// NewEncoder returns an encoder for rows of schema s.
func NewEncoder(s row.Schema, o Options) (*Encoder, error) {
	for _, c := range s.Columns {
		if err := checkType(c.Type, c.Name); err != nil {
			return nil, err
		}
	}
	if o.MapNullKey == MapNullKeyLiteral && o.MapNullKeyLiteral == "" {
		o.MapNullKeyLiteral = "null"
	}
	return &Encoder{schema: s, opts: o}, nil
}

// Append appends the JSON object of r (its kind is not written: Flink's
// json format is insert-only) to dst. Errors are *Error.
func (e *Encoder) Append(dst []byte, r row.Row) ([]byte, error) {
	if len(r.Fields) != len(e.schema.Columns) {
		return dst, &Error{Reason: fmt.Sprintf("the row has %d fields, the schema %d columns", len(r.Fields), len(e.schema.Columns))}
	}
	return e.object(dst, r.Fields, e.schema.Columns, "")
}

func (e *Encoder) object(dst []byte, vals []row.Value, cols []row.Field, prefix string) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	for i, c := range cols {
		var v row.Value
		if i < len(vals) {
			v = vals[i]
		}
		if e.opts.IgnoreNullFields && v.IsNull() {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = strconv.AppendQuote(dst, c.Name)
		dst = append(dst, ':')
		var err error
		if dst, err = e.value(dst, v, c.Type, prefix+c.Name); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func appendString(dst []byte, s string) []byte {
	q, _ := json.Marshal(s) // JSON escapes, invalid UTF-8 replaced
	return append(dst, q...)
}

func (e *Encoder) value(dst []byte, v row.Value, t row.Type, path string) ([]byte, error) {
	if v.IsNull() {
		return append(dst, "null"...), nil
	}
	switch t.Root {
	case row.TypeVariant:
		// Nested JSON, not a string.
		return row.AppendVariantJSON(dst, v.Str()), nil
	case row.TypeBoolean:
		return strconv.AppendBool(dst, v.Bool()), nil
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt,
		row.TypeIntervalYearMonth, row.TypeIntervalDayTime:
		return strconv.AppendInt(dst, v.Int(), 10), nil
	case row.TypeFloat, row.TypeDouble:
		bits := 64
		if t.Root == row.TypeFloat {
			bits = 32
		}
		s := row.JavaFloatString(v.Float(), bits)
		if s == "NaN" || strings.HasSuffix(s, "Infinity") {
			return appendString(dst, s), nil
		}
		return append(dst, s...), nil
	case row.TypeDecimal:
		if e.opts.DecimalAsPlainNumber {
			return append(dst, row.DecimalString(v, t)...), nil
		}
		return append(dst, text.JavaDecimalString(v, t)...), nil
	case row.TypeChar, row.TypeVarChar:
		return appendString(dst, v.Str()), nil
	case row.TypeBinary, row.TypeVarBinary:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, []byte(v.Str()))
		return append(dst, '"'), nil
	case row.TypeDate:
		return appendString(dst, text.FormatDate(v.Int())), nil
	case row.TypeTime:
		return appendString(dst, row.FormatTime(v.Int(), 0)), nil // Flink writes HH:mm:ss
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		return appendString(dst, text.FormatTimestamp(v, e.opts.Timestamp, t.Root == row.TypeTimestampLTZ)), nil
	case row.TypeArray:
		dst = append(dst, '[')
		for i, el := range v.Elems() {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = e.value(dst, el, *t.Elem, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case row.TypeMap, row.TypeMultiset:
		m := v.MapOf()
		dst = append(dst, '{')
		first := true
		for i := range m.Keys {
			k := m.Keys[i]
			key := k.Str()
			if k.IsNull() {
				switch e.opts.MapNullKey {
				case MapNullKeyDrop:
					continue
				case MapNullKeyLiteral:
					key = e.opts.MapNullKeyLiteral
				default:
					return dst, &Error{Field: path, Reason: "JSON format doesn't support to serialize map data with null keys. You can drop null key entries or encode null in literals by specifying map-null-key.mode option."}
				}
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendString(dst, key)
			dst = append(dst, ':')
			var err error
			if dst, err = e.value(dst, m.Values[i], *t.Value, path+"["+strconv.Quote(key)+"]"); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case row.TypeRow:
		return e.object(dst, v.Elems(), t.Fields, path+".")
	}
	return dst, &Error{Field: path, Reason: fmt.Sprintf("type %s is not supported", t)}
}

// sortedMultiset is a MULTISET of the object's members in ascending order
// of the elements, as COLLECT makes one, so that equal multisets are one
// value (a GROUP BY key) whatever order the object lists them in.
func sortedMultiset(keys, vals []row.Value, elem row.Type) row.Value {
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return row.Compare(keys[i], keys[j], elem) })
	ks := make([]row.Value, len(keys))
	vs := make([]row.Value, len(keys))
	for i, o := range order {
		ks[i], vs[i] = keys[o], vals[o]
	}
	return row.Map(ks, vs)
}
