package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/weirstream/weir/internal/jsonfield"
)

var errNull = errors.New("null is not a record")

// jsonDecoder decodes one JSON value per line.
type jsonDecoder[T any] struct {
	strict   bool
	required []jsonField // with FailOnMissingField
	seen     []byte      // per required field: fieldMissing, fieldNull, fieldSet
	r        bytes.Reader
}

// header is not used by JSON lines.
func (d *jsonDecoder[T]) header([]byte) (string, error) { return "", nil }

// decode decodes one line into v (the zero value) and on failure returns
// the field at fault, if known.
func (d *jsonDecoder[T]) decode(line []byte, v *T) (string, error) {
	if bytes.Equal(trimJSONSpace(line), []byte("null")) {
		// encoding/json would leave the zero value: a record nobody wrote.
		return "", errNull
	}
	if !d.strict {
		if err := json.Unmarshal(line, v); err != nil {
			return jsonFault(err)
		}
		return d.checkRequired(line)
	}
	d.r.Reset(line)
	dec := json.NewDecoder(&d.r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonFault(err)
	}
	if rest := trimJSONSpace(line[dec.InputOffset():]); len(rest) > 0 {
		return "", fmt.Errorf("invalid character %q after top-level value", rest[0])
	}
	return d.checkRequired(line)
}

// jsonFault extracts the field named by a decoding error.
func jsonFault(err error) (string, error) {
	if err == nil {
		return "", nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field, err
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "", fmt.Errorf("%w (at byte %d)", err, se.Offset)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(name, `"`), err
	}
	return "", err
}

// jsonField is a field of T that FailOnMissingField requires.
type jsonField struct {
	name     string // its JSON key
	nullable bool   // its Go type can hold null (pointer, interface, map, slice)
}

// requiredJSONFields returns the fields of T (a struct, or a pointer to
// one) that encoding/json fills from an object: every exported field under
// its JSON name, embedded structs' fields promoted, except those tagged "-",
// omitempty or omitzero.
func requiredJSONFields[T any]() ([]jsonField, error) {
	t := reflect.TypeFor[T]()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("the record type %v is not a struct", reflect.TypeFor[T]())
	}
	var out []jsonField
	for _, f := range jsonfield.Of(t) {
		if !f.Optional {
			out = append(out, jsonField{name: f.Name, nullable: f.Nullable()})
		}
	}
	return out, nil
}

const (
	fieldMissing = iota
	fieldNull
	fieldSet
)

// checkRequired reports the first required field that line (one JSON
// object, already decoded without error) lacks or sets to null although
// its type cannot be nil.
func (d *jsonDecoder[T]) checkRequired(line []byte) (string, error) {
	if len(d.required) == 0 {
		return "", nil
	}
	if cap(d.seen) < len(d.required) {
		d.seen = make([]byte, len(d.required))
	}
	seen := d.seen[:len(d.required)]
	clear(seen)
	err := objectKeys(line, func(key []byte, null bool) {
		i := d.match(key)
		if i < 0 {
			return
		}
		if null {
			seen[i] = fieldNull
		} else {
			seen[i] = fieldSet
		}
	})
	if err != nil {
		return "", err
	}
	for i, f := range d.required {
		switch {
		case seen[i] == fieldMissing:
			return f.name, fmt.Errorf("missing field %q", f.name)
		case seen[i] == fieldNull && !f.nullable:
			return f.name, fmt.Errorf("field %q is null", f.name)
		}
	}
	return "", nil
}

// match returns the index of the required field key names, as
// encoding/json matches keys: exactly, or else without regard to case.
func (d *jsonDecoder[T]) match(key []byte) int {
	for i := range d.required {
		if d.required[i].name == string(key) {
			return i
		}
	}
	for i := range d.required {
		if strings.EqualFold(d.required[i].name, string(key)) {
			return i
		}
	}
	return -1
}

// objectKeys calls fn with every key of the top-level JSON object in b
// (valid JSON: encoding/json decoded it) and whether its value is null.
func objectKeys(b []byte, fn func(key []byte, null bool)) error {
	b = trimJSONSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	i := 1
	for {
		i = skipJSONSpace(b, i)
		if i >= len(b) || b[i] == '}' {
			return nil
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] != '"' {
			return fmt.Errorf("unexpected %q in object at byte %d", b[i], i)
		}
		end := stringEnd(b, i)
		if end < 0 {
			return errors.New("unterminated string")
		}
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			// Unescape, and replace invalid UTF-8 as encoding/json does.
			var s string
			if err := json.Unmarshal(b[i:end], &s); err != nil {
				return err
			}
			key = []byte(s)
		}
		i = skipJSONSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errors.New("missing colon after object key")
		}
		i = skipJSONSpace(b, i+1)
		null := bytes.HasPrefix(b[i:], []byte("null"))
		i = valueEnd(b, i)
		fn(key, null)
	}
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the index after the closing quote of the string that
// starts at b[i], or -1.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd returns the index after the JSON value that starts at b[i]:
// the next ',' or '}' outside strings, arrays and objects.
func valueEnd(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			if e := stringEnd(b, i); e > 0 {
				i = e
				continue
			}
			return len(b)
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}
