package file

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// errOpenQuote reports a line that ends inside a quoted field: the record
// continues on the next line.
var errOpenQuote = errors.New("quoted field not closed before end of line")

var (
	errBareQuote  = errors.New(`bare " in non-quoted field`)
	errAfterQuote = errors.New(`extraneous or missing " in quoted field`)
)

// splitCSV splits one CSV record (without its line terminator) into fields,
// as encoding/csv does with its default settings: fields separated by comma,
// a field that starts with a double quote is quoted and "" in it stands for
// one quote; quoted fields may hold commas and newlines. The fields are
// appended to fields and point into buf, which is reused; both are returned
// for the next call. If the record ends inside a quoted field it returns
// errOpenQuote: the caller appends a newline and the next line, and calls
// again.
func splitCSV(rec []byte, comma byte, fields [][]byte, buf []byte) ([][]byte, []byte, error) {
	fields, buf = fields[:0], buf[:0]
	var ends []int // end offsets in buf, as buf may move while it grows
	i := 0
	for {
		if i < len(rec) && rec[i] == '"' {
			// Quoted field.
			i++
			for {
				j := indexByte(rec[i:], '"')
				if j < 0 {
					return fields, buf, errOpenQuote
				}
				buf = append(buf, rec[i:i+j]...)
				i += j + 1
				if i < len(rec) && rec[i] == '"' { // "" is a quote
					buf = append(buf, '"')
					i++
					continue
				}
				break
			}
			ends = append(ends, len(buf))
			if i == len(rec) {
				break
			}
			if rec[i] != comma {
				return fields, buf, errAfterQuote
			}
			i++
			continue
		}
		j := indexByte(rec[i:], comma)
		end := len(rec)
		if j >= 0 {
			end = i + j
		}
		f := rec[i:end]
		if indexByte(f, '"') >= 0 {
			return fields, buf, errBareQuote
		}
		buf = append(buf, f...)
		ends = append(ends, len(buf))
		if j < 0 {
			break
		}
		i = end + 1
	}
	start := 0
	for _, e := range ends {
		fields = append(fields, buf[start:e:e])
		start = e
	}
	return fields, buf, nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// appendCSVField appends f to dst, quoted if it must be for splitCSV (and
// encoding/csv) to read it back unchanged.
func appendCSVField[S ~string | ~[]byte](dst []byte, f S, comma byte) []byte {
	need := false
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == comma || c == '"' || c == '\r' || c == '\n' {
			need = true
			break
		}
	}
	if len(f) > 0 && (f[0] == ' ' || f[0] == '\t') {
		need = true
	}
	// A byte order mark starting a file is dropped on reading.
	if len(f) >= 3 && f[0] == 0xEF && f[1] == 0xBB && f[2] == 0xBF {
		need = true
	}
	if !need {
		return append(dst, f...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(f); i++ {
		if f[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, f[i])
	}
	return append(dst, '"')
}

// csvSchema maps CSV columns to the fields of a struct type T, or to the
// keys of a map[string]string.
type csvSchema struct {
	typ    reflect.Type
	isMap  bool
	fields []csvField
}

type csvField struct {
	name  string
	index int
	conv  csvConv
}

// csvConv parses and formats one field type.
type csvConv struct {
	// parse sets v from the cell b, which is only valid during the call.
	parse  func(v reflect.Value, b []byte) error
	format func(dst []byte, v reflect.Value) ([]byte, error)
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	durationType    = reflect.TypeFor[time.Duration]()
)

// newCSVSchema returns the schema of T: a map[string]string, or a struct
// whose exported fields are columns named by their `csv:"name"` tag or their
// Go name (tag "-" skips a field). Field types: strings, bools, integers,
// floats, time.Duration, types implementing encoding.TextUnmarshaler and
// TextMarshaler (time.Time, as RFC 3339), and pointers to these.
func newCSVSchema[T any]() (*csvSchema, error) {
	t := reflect.TypeFor[T]()
	if t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String {
		return &csvSchema{typ: t, isMap: true}, nil
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("file: CSV needs a struct or map[string]string, not %v", t)
	}
	s := &csvSchema{typ: t}
	seen := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("csv"); ok {
			tag, _, _ = strings.Cut(tag, ",")
			if tag == "-" {
				continue
			}
			if tag != "" {
				name = tag
			}
		}
		conv, err := convFor(f.Type)
		if err != nil {
			return nil, fmt.Errorf("file: CSV field %s of %v: %w", f.Name, t, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("file: CSV column %q named twice in %v", name, t)
		}
		seen[name] = true
		s.fields = append(s.fields, csvField{name: name, index: i, conv: conv})
	}
	if len(s.fields) == 0 {
		return nil, fmt.Errorf("file: CSV type %v has no exported fields", t)
	}
	return s, nil
}

func convFor(t reflect.Type) (csvConv, error) {
	if t.Kind() == reflect.Pointer {
		inner, err := convFor(t.Elem())
		if err != nil {
			return csvConv{}, err
		}
		return csvConv{
			parse: func(v reflect.Value, b []byte) error {
				if len(b) == 0 {
					v.SetZero()
					return nil
				}
				p := reflect.New(t.Elem())
				if err := inner.parse(p.Elem(), b); err != nil {
					return err
				}
				v.Set(p)
				return nil
			},
			format: func(dst []byte, v reflect.Value) ([]byte, error) {
				if v.IsNil() {
					return dst, nil
				}
				return inner.format(dst, v.Elem())
			},
		}, nil
	}
	var c csvConv
	switch {
	case reflect.PointerTo(t).Implements(textUnmarshaler):
		c.parse = func(v reflect.Value, b []byte) error {
			return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText(b)
		}
	case t == durationType:
		c.parse = func(v reflect.Value, b []byte) error {
			d, err := time.ParseDuration(string(b))
			v.SetInt(int64(d))
			return err
		}
	default:
		switch t.Kind() {
		case reflect.String:
			c.parse = func(v reflect.Value, b []byte) error { v.SetString(string(b)); return nil }
		case reflect.Bool:
			c.parse = func(v reflect.Value, b []byte) error {
				x, err := strconv.ParseBool(view(b))
				v.SetBool(x)
				return unwrapNum(err, t)
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			bits := t.Bits()
			c.parse = func(v reflect.Value, b []byte) error {
				n, err := strconv.ParseInt(view(b), 10, bits)
				v.SetInt(n)
				return unwrapNum(err, t)
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			bits := t.Bits()
			c.parse = func(v reflect.Value, b []byte) error {
				n, err := strconv.ParseUint(view(b), 10, bits)
				v.SetUint(n)
				return unwrapNum(err, t)
			}
		case reflect.Float32, reflect.Float64:
			bits := t.Bits()
			c.parse = func(v reflect.Value, b []byte) error {
				n, err := strconv.ParseFloat(view(b), bits)
				v.SetFloat(n)
				return unwrapNum(err, t)
			}
		default:
			return csvConv{}, fmt.Errorf("unsupported type %v", t)
		}
	}
	switch {
	case t.Implements(textMarshaler):
		c.format = func(dst []byte, v reflect.Value) ([]byte, error) {
			b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
			return append(dst, b...), err
		}
	case reflect.PointerTo(t).Implements(textMarshaler):
		c.format = func(dst []byte, v reflect.Value) ([]byte, error) {
			p := reflect.New(t)
			p.Elem().Set(v)
			b, err := p.Interface().(encoding.TextMarshaler).MarshalText()
			return append(dst, b...), err
		}
	case t == durationType:
		c.format = func(dst []byte, v reflect.Value) ([]byte, error) {
			return append(dst, time.Duration(v.Int()).String()...), nil
		}
	default:
		switch t.Kind() {
		case reflect.String:
			c.format = func(dst []byte, v reflect.Value) ([]byte, error) { return append(dst, v.String()...), nil }
		case reflect.Bool:
			c.format = func(dst []byte, v reflect.Value) ([]byte, error) { return strconv.AppendBool(dst, v.Bool()), nil }
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			c.format = func(dst []byte, v reflect.Value) ([]byte, error) { return strconv.AppendInt(dst, v.Int(), 10), nil }
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			c.format = func(dst []byte, v reflect.Value) ([]byte, error) { return strconv.AppendUint(dst, v.Uint(), 10), nil }
		case reflect.Float32, reflect.Float64:
			bits := t.Bits()
			c.format = func(dst []byte, v reflect.Value) ([]byte, error) {
				return strconv.AppendFloat(dst, v.Float(), 'g', -1, bits), nil
			}
		default:
			return csvConv{}, fmt.Errorf("type %v can be read but not written", t)
		}
	}
	return c, nil
}

// view returns b as a string without copying, for parse functions that do
// not retain their argument; unwrapNum copies the text into the error.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// unwrapNum rewords strconv's "strconv.ParseInt: parsing "x": ..." for
// users, who know the field type but not the parse function.
func unwrapNum(err error, t reflect.Type) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return fmt.Errorf("cannot parse %q as %v: %w", ne.Num, t, ne.Err)
	}
	return err
}

// csvDecoder decodes the records of one CSV file: its header fixes the
// column order.
type csvDecoder[T any] struct {
	schema *csvSchema
	comma  byte
	cols   []int    // column -> index in schema.fields, -1 if ignored
	names  []string // column names from the header
	fields [][]byte
	buf    []byte
	strict bool
	// required rejects empty cells of fields that are neither strings nor
	// pointers (SourceOptions.FailOnMissingField).
	required bool
	haveHdr  bool
	unknown  []string // header columns that match no field
}

// header reads the header line.
func (d *csvDecoder[T]) header(line []byte) (string, error) {
	fields, buf, err := splitCSV(line, d.comma, d.fields, d.buf)
	d.fields, d.buf = fields, buf
	if err != nil {
		return "", fmt.Errorf("header: %w", err)
	}
	d.cols = d.cols[:0]
	d.names = d.names[:0]
	d.unknown = d.unknown[:0]
	mapped := 0
	seen := map[string]bool{}
	for _, f := range fields {
		name := string(f)
		if seen[name] {
			return name, fmt.Errorf("header: column %q appears twice", name)
		}
		seen[name] = true
		d.names = append(d.names, name)
		if d.schema.isMap {
			d.cols = append(d.cols, -1)
			continue
		}
		idx := slices.IndexFunc(d.schema.fields, func(f csvField) bool { return f.name == name })
		if idx < 0 {
			idx = slices.IndexFunc(d.schema.fields, func(f csvField) bool { return strings.EqualFold(f.name, name) })
		}
		if idx < 0 && d.strict {
			return name, fmt.Errorf("header: unknown column %q", name)
		}
		if idx < 0 {
			d.unknown = append(d.unknown, name)
		} else {
			mapped++
		}
		d.cols = append(d.cols, idx)
	}
	if !d.schema.isMap && mapped == 0 {
		// Every record would be the zero value: the file is not of this
		// type (or its header is missing).
		want := make([]string, len(d.schema.fields))
		for i, f := range d.schema.fields {
			want[i] = f.name
		}
		return "", fmt.Errorf("header: no column matches a field of %v (columns %q, fields %q)", d.schema.typ, d.names, want)
	}
	d.haveHdr = true
	return "", nil
}

// unknownColumns returns the columns of the last header that match no
// field (ignored, unless DisallowUnknownFields).
func (d *csvDecoder[T]) unknownColumns() []string { return d.unknown }

// decode decodes one record into v (which must be the zero value), and on
// failure returns the name of the column at fault, if any.
func (d *csvDecoder[T]) decode(rec []byte, v *T) (string, error) {
	fields, buf, err := splitCSV(rec, d.comma, d.fields, d.buf)
	d.fields, d.buf = fields, buf
	if err != nil {
		return "", err
	}
	if len(fields) != len(d.names) {
		return "", fmt.Errorf("%d fields, header has %d", len(fields), len(d.names))
	}
	if d.schema.isMap {
		m := make(map[string]string, len(fields))
		for i, f := range fields {
			m[d.names[i]] = string(f)
		}
		reflect.ValueOf(v).Elem().Set(reflect.ValueOf(m))
		return "", nil
	}
	rv := reflect.ValueOf(v).Elem()
	for i, f := range fields {
		idx := d.cols[i]
		if idx < 0 {
			continue // unmapped column
		}
		sf := &d.schema.fields[idx]
		if len(f) == 0 {
			if d.required {
				if k := rv.Field(sf.index).Kind(); k != reflect.String && k != reflect.Pointer {
					return d.names[i], errors.New("empty cell for a required field (FailOnMissingField)")
				}
			}
			continue // empty: the zero value
		}
		if err := sf.conv.parse(rv.Field(sf.index), f); err != nil {
			return d.names[i], err
		}
	}
	return "", nil
}

// csvEncoder writes records of T as CSV lines.
type csvEncoder[T any] struct {
	schema *csvSchema
	comma  byte
	keys   []string // map columns, fixed by the first record
	buf    []byte
	cell   []byte
}

// header returns the header line for a struct type (nil for maps, whose
// header comes with the first record).
func (e *csvEncoder[T]) header() []byte {
	if e.schema.isMap {
		return nil
	}
	var b []byte
	for i, f := range e.schema.fields {
		if i > 0 {
			b = append(b, e.comma)
		}
		b = appendCSVField(b, f.name, e.comma)
	}
	return append(b, '\n')
}

// encode returns the record's line (and, for the first record of a map
// type, the header before it). The slice is reused by the next call.
func (e *csvEncoder[T]) encode(v T) ([]byte, error) {
	b := e.buf[:0]
	var start int // where the record starts, after a header
	if e.schema.isMap {
		m := reflect.ValueOf(v)
		if e.keys == nil {
			if m.Len() == 0 {
				return nil, fmt.Errorf("the first record has no keys to make a header of")
			}
			for _, k := range m.MapKeys() {
				e.keys = append(e.keys, k.String())
			}
			slices.Sort(e.keys)
			for i, k := range e.keys {
				if i > 0 {
					b = append(b, e.comma)
				}
				b = appendCSVField(b, k, e.comma)
			}
			if len(b) == 0 {
				// One empty key: an empty line would be skipped on reading.
				b = append(b, '"', '"')
			}
			b = append(b, '\n')
		}
		start = len(b)
		if m.Len() > len(e.keys) {
			return nil, fmt.Errorf("record has %d keys, header has %d: %v", m.Len(), len(e.keys), e.keys)
		}
		found := 0
		for i, k := range e.keys {
			if i > 0 {
				b = append(b, e.comma)
			}
			x := m.MapIndex(reflect.ValueOf(k))
			if x.IsValid() {
				found++
				b = appendCSVField(b, x.String(), e.comma)
			}
		}
		if found != m.Len() {
			return nil, fmt.Errorf("record has keys outside the header %v", e.keys)
		}
	} else {
		rv := reflect.ValueOf(v)
		for i, f := range e.schema.fields {
			if i > 0 {
				b = append(b, e.comma)
			}
			cell, err := f.conv.format(e.cell[:0], rv.Field(f.index))
			e.cell = cell
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.name, err)
			}
			b = appendCSVField(b, cell, e.comma)
		}
	}
	if len(b) == start {
		// One empty field: an empty line would be skipped on reading.
		b = append(b, '"', '"')
	}
	b = append(b, '\n')
	e.buf = b
	return b, nil
}
