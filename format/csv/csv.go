// Package csv converts rows to and from CSV records as Flink's 'csv'
// format does: one record per line, fields by position (no header), the
// field delimiter, quote and escape characters of Options.
//
// Values: BOOLEAN true/false, numbers as text, DECIMAL plain, CHAR/VARCHAR
// as is, BINARY/VARBINARY base64, DATE yyyy-MM-dd, TIME HH:mm:ss,
// TIMESTAMP "yyyy-MM-dd HH:mm:ss[.fraction]", TIMESTAMP_LTZ the same with
// a trailing 'Z'; ARRAY and ROW values are their elements joined by
// Options.ArrayElementDelimiter (one level; MAP is not supported, as in
// Flink). Elements are not quoted: a string element holding the element
// delimiter, or an empty element of a non-string type, does not read back
// as written. NULL is written as Options.NullLiteral (empty by default); when
// reading, a field equal to NullLiteral is NULL, and so is an empty field
// of a non-string column.
//
// Decoders and encoders are not safe for concurrent use: give each subtask
// its own.
package csv

import (
	"encoding/base64"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/weirstream/weir/format/internal/text"
	"github.com/weirstream/weir/row"
)

// Options are the format's options, named after Flink's csv.* options.
type Options struct {
	// FieldDelimiter separates fields (csv.field-delimiter, default ',').
	FieldDelimiter rune
	// QuoteCharacter encloses fields holding special characters
	// (csv.quote-character, default '"'); DisableQuoteCharacter turns
	// quoting off (csv.disable-quote-character).
	QuoteCharacter        rune
	DisableQuoteCharacter bool
	// AllowComments skips lines starting with '#' (csv.allow-comments).
	AllowComments bool
	// IgnoreParseErrors sets fields that do not convert to NULL
	// (csv.ignore-parse-errors); a record of the wrong shape still fails
	// and the connector skips it.
	IgnoreParseErrors bool
	// ArrayElementDelimiter separates ARRAY and ROW elements
	// (csv.array-element-delimiter, default ";").
	ArrayElementDelimiter string
	// EscapeCharacter, if not 0, escapes the next character
	// (csv.escape-character).
	EscapeCharacter rune
	// NullLiteral is the text of NULL (csv.null-literal, default none:
	// an empty field).
	NullLiteral    string
	HasNullLiteral bool
	// DecimalScientific writes DECIMALs as Flink's CSV serializer does
	// with csv.write-bigdecimal-in-scientific-notation = 'true': trailing
	// zeros stripped, then Java's BigDecimal.toString (12.50 as 12.5,
	// 100000.000 as 1E+5, 0.00 as 0, 0.0000001 as 1E-7). Without it a
	// DECIMAL is written with its scale and no exponent (12.50,
	// 100000.000), as Flink's serializer does with 'false' and also when
	// the option is not set: its factory reads the option with getOptional,
	// so the declared default (true) never reaches the serializer.
	DecimalScientific bool
}

func (o *Options) fill() error {
	if o.FieldDelimiter == 0 {
		o.FieldDelimiter = ','
	}
	if o.QuoteCharacter == 0 {
		o.QuoteCharacter = '"'
	}
	if o.ArrayElementDelimiter == "" {
		o.ArrayElementDelimiter = ";"
	}
	if o.FieldDelimiter == '\n' || o.FieldDelimiter == '\r' {
		return fmt.Errorf("csv: the field delimiter cannot be a line break")
	}
	if !o.DisableQuoteCharacter && o.QuoteCharacter == o.FieldDelimiter {
		return fmt.Errorf("csv: the quote character and the field delimiter must differ")
	}
	if o.EscapeCharacter != 0 && (o.EscapeCharacter == o.FieldDelimiter || (!o.DisableQuoteCharacter && o.EscapeCharacter == o.QuoteCharacter)) {
		return fmt.Errorf("csv: the escape character must differ from the field delimiter and the quote character")
	}
	return nil
}

// Error is a record that does not decode or encode: Field names the
// column at fault, "" for the record as a whole.
type Error struct {
	Field  string
	Reason string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return "csv: " + e.Reason
	}
	return fmt.Sprintf("csv: field %s: %s", e.Field, e.Reason)
}

// FieldPath returns the field at fault.
func (e *Error) FieldPath() string { return e.Field }

func checkType(t row.Type, path string, nested bool) error {
	switch t.Root {
	case row.TypeMap, row.TypeMultiset, row.TypeNull, row.TypeVariant:
		return fmt.Errorf("csv: column %s: type %s is not supported by the CSV format", path, t)
	case row.TypeArray:
		if nested {
			return fmt.Errorf("csv: column %s: nested %s is not supported by the CSV format", path, t)
		}
		return checkType(*t.Elem, path, true)
	case row.TypeRow:
		if nested {
			return fmt.Errorf("csv: column %s: nested %s is not supported by the CSV format", path, t)
		}
		for _, f := range t.Fields {
			if err := checkType(f.Type, path+"."+f.Name, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// Decoder turns CSV records into rows of a schema.
type Decoder struct {
	schema row.Schema
	opts   Options
	fields []field
}

type field struct {
	s      string
	raw    string // the unquoted field's text before unescaping
	quoted bool
}

// NewDecoder returns a decoder for rows of schema s.
func NewDecoder(s row.Schema, o Options) (*Decoder, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	for _, c := range s.Columns {
		if err := checkType(c.Type, c.Name, false); err != nil {
			return nil, err
		}
	}
	return &Decoder{schema: s, opts: o}, nil
}

// split splits a record into fields.
func (d *Decoder) split(line string) ([]field, error) {
	out := d.fields[:0]
	o := &d.opts
	var b strings.Builder
	i := 0
	for {
		b.Reset()
		quoted := false
		rawText := ""
		// One field.
		if !o.DisableQuoteCharacter && strings.HasPrefix(line[i:], string(o.QuoteCharacter)) {
			quoted = true
			i += len(string(o.QuoteCharacter))
			closed := false
			for i < len(line) {
				r, n := decodeRune(line[i:])
				switch {
				case o.EscapeCharacter != 0 && r == o.EscapeCharacter && i+n < len(line):
					r2, n2 := decodeRune(line[i+n:])
					b.WriteRune(r2)
					i += n + n2
					continue
				case r == o.QuoteCharacter:
					if i+n < len(line) && strings.HasPrefix(line[i+n:], string(o.QuoteCharacter)) {
						b.WriteRune(r)
						i += 2 * n
						continue
					}
					i += n
					closed = true
				default:
					b.WriteRune(r)
					i += n
					continue
				}
				break
			}
			if !closed {
				return nil, &Error{Reason: "unterminated quoted field"}
			}
			if i < len(line) {
				r, _ := decodeRune(line[i:])
				if r != o.FieldDelimiter {
					return nil, &Error{Reason: fmt.Sprintf("unexpected character %q after a quoted field", r)}
				}
			}
		} else {
			start := i
			for i < len(line) {
				r, n := decodeRune(line[i:])
				if r == o.FieldDelimiter {
					break
				}
				if o.EscapeCharacter != 0 && r == o.EscapeCharacter && i+n < len(line) {
					r2, n2 := decodeRune(line[i+n:])
					b.WriteRune(r2)
					i += n + n2
					continue
				}
				b.WriteRune(r)
				i += n
			}
			rawText = line[start:i]
		}
		out = append(out, field{s: b.String(), raw: rawText, quoted: quoted})
		if i >= len(line) {
			break
		}
		_, n := decodeRune(line[i:]) // the delimiter
		i += n
		if i == len(line) {
			out = append(out, field{})
			break
		}
	}
	d.fields = out
	return out, nil
}

func decodeRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }

// Decode decodes one record (a line without its line break). ok is false
// for a comment line under AllowComments and for an empty line. Errors are
// *Error.
func (d *Decoder) Decode(b []byte) (r row.Row, ok bool, err error) {
	line := string(b)
	if line == "" || (d.opts.AllowComments && strings.HasPrefix(line, "#")) {
		return row.Row{}, false, nil
	}
	fs, err := d.split(line)
	if err != nil {
		return row.Row{}, false, err
	}
	cols := d.schema.Columns
	if len(fs) != len(cols) {
		return row.Row{}, false, &Error{Reason: fmt.Sprintf("Row length mismatch. %d fields expected but was %d.", len(cols), len(fs))}
	}
	out := make([]row.Value, len(cols))
	for i, c := range cols {
		if d.opts.HasNullLiteral && !fs[i].quoted && fs[i].raw == d.opts.NullLiteral {
			continue // NULL
		}
		v, err := d.value(fs[i].s, fs[i].quoted, c.Type, c.Name)
		if err != nil {
			if d.opts.IgnoreParseErrors {
				continue
			}
			return row.Row{}, false, err
		}
		out[i] = v
	}
	return row.Row{Fields: out}, true, nil
}

func (d *Decoder) value(s string, quoted bool, t row.Type, path string) (row.Value, error) {
	if d.opts.HasNullLiteral && s == d.opts.NullLiteral && !quoted {
		return row.Value{}, nil
	}
	if s == "" && t.Root == row.TypeArray && d.opts.HasNullLiteral {
		return row.Array(nil), nil // NULL has its literal: this is []
	}
	if s == "" && !quoted && !t.IsString() && !(t.Root == row.TypeRow && d.opts.HasNullLiteral) {
		return row.Value{}, nil
	}
	fail := func(reason string) (row.Value, error) {
		return row.Value{}, &Error{Field: path, Reason: reason}
	}
	switch t.Root {
	case row.TypeArray, row.TypeRow:
		parts := strings.Split(s, d.opts.ArrayElementDelimiter)
		if t.Root == row.TypeArray {
			elems := make([]row.Value, len(parts))
			for i, p := range parts {
				v, err := d.value(p, false, *t.Elem, path+"["+strconv.Itoa(i)+"]")
				if err != nil {
					return row.Value{}, err
				}
				elems[i] = v
			}
			return row.Array(elems), nil
		}
		if len(parts) != len(t.Fields) {
			return fail(fmt.Sprintf("%d nested fields expected but was %d", len(t.Fields), len(parts)))
		}
		elems := make([]row.Value, len(parts))
		for i, p := range parts {
			v, err := d.value(p, false, t.Fields[i].Type, path+"."+t.Fields[i].Name)
			if err != nil {
				return row.Value{}, err
			}
			elems[i] = v
		}
		return row.Nested(elems), nil
	}
	v, err := parseScalar(s, t)
	if err != nil {
		return fail(err.Error())
	}
	return v, nil
}

func parseScalar(s string, t row.Type) (row.Value, error) {
	switch t.Root {
	case row.TypeBoolean:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return row.Bool(true), nil
		case "false":
			return row.Bool(false), nil
		}
		return row.Value{}, fmt.Errorf("%q is not a BOOLEAN", s)
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
		i, err := text.ParseInt(s, t)
		return row.Int(i), err
	case row.TypeIntervalYearMonth, row.TypeIntervalDayTime:
		i, err := text.ParseInt(s, row.BigInt())
		return row.Int(i), err
	case row.TypeFloat, row.TypeDouble:
		f, err := text.ParseFloat(s, t)
		return row.Float(f), err
	case row.TypeDecimal:
		v, ok, err := text.ParseDecimal(s, t)
		if err != nil || !ok {
			return row.Value{}, err
		}
		return v, nil
	case row.TypeChar, row.TypeVarChar:
		return row.Str(s), nil
	case row.TypeBinary, row.TypeVarBinary:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return row.Value{}, fmt.Errorf("not base64: %v", err)
		}
		return row.Bytes(b), nil
	case row.TypeDate:
		days, err := text.ParseDate(s)
		return row.Int(days), err
	case row.TypeTime:
		ns, err := text.ParseTime(s, min(t.Precision, 3))
		return row.Int(ns), err
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		return text.ParseTimestamp(s, text.SQL, t.Root == row.TypeTimestampLTZ, t.Precision)
	}
	return row.Value{}, fmt.Errorf("type %s is not supported", t)
}

// Encoder turns rows of a schema into CSV records.
type Encoder struct {
	schema row.Schema
	opts   Options
}

// NewEncoder returns an encoder for rows of schema s.
func NewEncoder(s row.Schema, o Options) (*Encoder, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	for _, c := range s.Columns {
		if err := checkType(c.Type, c.Name, false); err != nil {
			return nil, err
		}
	}
	return &Encoder{schema: s, opts: o}, nil
}

// Append appends the CSV record of r (without a line break) to dst.
func (e *Encoder) Append(dst []byte, r row.Row) ([]byte, error) {
	cols := e.schema.Columns
	if len(r.Fields) != len(cols) {
		return dst, &Error{Reason: fmt.Sprintf("the row has %d fields, the schema %d columns", len(r.Fields), len(cols))}
	}
	for i, c := range cols {
		if i > 0 {
			dst = append(dst, string(e.opts.FieldDelimiter)...)
		}
		v := r.Fields[i]
		if v.IsNull() {
			dst = append(dst, e.opts.NullLiteral...)
			continue
		}
		s, err := e.text(v, c.Type, c.Name)
		if err != nil {
			return dst, err
		}
		dst = e.appendField(dst, s, c.Type.IsString() || c.Type.IsBinary())
	}
	return dst, nil
}

func (e *Encoder) text(v row.Value, t row.Type, path string) (string, error) {
	if v.IsNull() {
		return e.opts.NullLiteral, nil
	}
	switch t.Root {
	case row.TypeArray, row.TypeRow:
		var parts []string
		for i, el := range v.Elems() {
			et := row.Type{}
			if t.Root == row.TypeArray {
				et = *t.Elem
			} else if i < len(t.Fields) {
				et = t.Fields[i].Type
			}
			s, err := e.text(el, et, path)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, e.opts.ArrayElementDelimiter), nil
	case row.TypeBoolean:
		return strconv.FormatBool(v.Bool()), nil
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt,
		row.TypeIntervalYearMonth, row.TypeIntervalDayTime:
		return strconv.FormatInt(v.Int(), 10), nil
	case row.TypeFloat:
		return row.JavaFloatString(v.Float(), 32), nil
	case row.TypeDouble:
		return row.JavaFloatString(v.Float(), 64), nil
	case row.TypeDecimal:
		if e.opts.DecimalScientific {
			return decimalScientific(row.DecimalUnscaled(v, t), t.Scale), nil
		}
		return row.DecimalString(v, t), nil
	case row.TypeChar, row.TypeVarChar:
		return v.Str(), nil
	case row.TypeBinary, row.TypeVarBinary:
		return base64.StdEncoding.EncodeToString([]byte(v.Str())), nil
	case row.TypeDate:
		return text.FormatDate(v.Int()), nil
	case row.TypeTime:
		return text.FormatTime(v.Int()), nil
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		return text.FormatTimestamp(v, text.SQL, t.Root == row.TypeTimestampLTZ), nil
	}
	return "", &Error{Field: path, Reason: fmt.Sprintf("type %s is not supported", t)}
}

// appendField writes s, quoted when it holds a special character (or is
// an empty string, or the null literal, so that it reads back as itself).
func (e *Encoder) appendField(dst []byte, s string, isString bool) []byte {
	o := &e.opts
	special := strings.ContainsRune(s, o.FieldDelimiter) || strings.ContainsAny(s, "\r\n") ||
		(!o.DisableQuoteCharacter && strings.ContainsRune(s, o.QuoteCharacter)) ||
		(o.EscapeCharacter != 0 && strings.ContainsRune(s, o.EscapeCharacter)) ||
		(o.AllowComments && strings.HasPrefix(s, "#")) ||
		(isString && (s == "" || (o.HasNullLiteral && s == o.NullLiteral)))
	if !special {
		return append(dst, s...)
	}
	if o.DisableQuoteCharacter {
		if o.EscapeCharacter == 0 {
			return append(dst, s...) // cannot be protected; written as is
		}
		for _, r := range s {
			if r == o.FieldDelimiter || r == o.EscapeCharacter || (o.AllowComments && r == '#') {
				dst = append(dst, string(o.EscapeCharacter)...)
			}
			dst = append(dst, string(r)...)
		}
		return dst
	}
	q := string(o.QuoteCharacter)
	dst = append(dst, q...)
	for _, r := range s {
		switch {
		case r == o.QuoteCharacter:
			dst = append(dst, q...)
		case o.EscapeCharacter != 0 && r == o.EscapeCharacter:
			dst = append(dst, string(o.EscapeCharacter)...)
		}
		dst = append(dst, string(r)...)
	}
	return append(dst, q...)
}

// decimalScientific prints unscaled×10^-scale as Java's
// BigDecimal.stripTrailingZeros().toString(): zero as "0", else the
// digits without trailing zeros, in scientific notation when the scale
// is then negative or the adjusted exponent below -6.
func decimalScientific(unscaled *big.Int, scale int) string {
	if unscaled.Sign() == 0 {
		return "0"
	}
	neg := unscaled.Sign() < 0
	digits := new(big.Int).Abs(unscaled).Text(10)
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		scale--
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	adjusted := len(digits) - 1 - scale
	switch {
	case scale == 0:
		b.WriteString(digits)
	case scale > 0 && adjusted >= -6:
		if len(digits) > scale {
			b.WriteString(digits[:len(digits)-scale])
			b.WriteByte('.')
			b.WriteString(digits[len(digits)-scale:])
		} else {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", scale-len(digits)))
			b.WriteString(digits)
		}
	default:
		b.WriteString(digits[:1])
		if len(digits) > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('E')
		if adjusted >= 0 {
			b.WriteByte('+')
		}
		b.WriteString(strconv.Itoa(adjusted))
	}
	return b.String()
}
