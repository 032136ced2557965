package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

var errNull = errors.New("null is not a record")

// jsonDecoder decodes one JSON value per line.
type jsonDecoder[T any] struct {
	strict bool
	r      bytes.Reader
}

// header is not used by JSON lines.
func (d *jsonDecoder[T]) header([]byte) (string, error) { return "", nil }

// decode decodes one line into v (the zero value) and on failure returns
// the field at fault, if known.
func (d *jsonDecoder[T]) decode(line []byte, v *T) (string, error) {
	if bytes.Equal(bytes.TrimSpace(line), []byte("null")) {
		// encoding/json would leave the zero value: a record nobody wrote.
		return "", errNull
	}
	if !d.strict {
		return jsonFault(json.Unmarshal(line, v))
	}
	d.r.Reset(line)
	dec := json.NewDecoder(&d.r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonFault(err)
	}
	if rest := bytes.TrimSpace(line[dec.InputOffset():]); len(rest) > 0 {
		return "", fmt.Errorf("invalid character %q after top-level value", rest[0])
	}
	return "", nil
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
