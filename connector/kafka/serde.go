package kafka

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/internal/jsonfield"
)

// Deserializer turns a Kafka record into a value of the source's type. An
// error sends the record to the source's ErrorPolicy (fail the job, or a
// dead letter naming topic, partition and offset).
type Deserializer[T any] interface {
	Deserialize(r *kgo.Record) (T, error)
}

// Serializer turns a value into a record value for the sink.
type Serializer[T any] interface {
	Serialize(v T) ([]byte, error)
}

// DeserializerFunc adapts a function to Deserializer.
type DeserializerFunc[T any] func(r *kgo.Record) (T, error)

// Deserialize calls f.
func (f DeserializerFunc[T]) Deserialize(r *kgo.Record) (T, error) { return f(r) }

// SerializerFunc adapts a function to Serializer.
type SerializerFunc[T any] func(v T) ([]byte, error)

// Serialize calls f.
func (f SerializerFunc[T]) Serialize(v T) ([]byte, error) { return f(v) }

// BytesSerde reads and writes record values as raw bytes. The bytes a
// source emits are the record's own (franz-go does not reuse them).
type BytesSerde struct{}

// Deserialize returns the record's value.
func (BytesSerde) Deserialize(r *kgo.Record) ([]byte, error) { return r.Value, nil }

// Serialize returns v.
func (BytesSerde) Serialize(v []byte) ([]byte, error) { return v, nil }

// StringSerde reads and writes record values as strings.
type StringSerde struct{}

// Deserialize returns the record's value as a string.
func (StringSerde) Deserialize(r *kgo.Record) (string, error) { return string(r.Value), nil }

// Serialize returns v's bytes.
func (StringSerde) Serialize(v string) ([]byte, error) { return []byte(v), nil }

// DecodeError is the error of a record a Deserializer rejects: its
// format, the field at fault if known, and why. The source puts the field
// and the reason into the record's weir.DeadLetter.
type DecodeError struct {
	// Format is the serde's format: "json".
	Format string
	// Field is the path of the field at fault ("user.id"), or "".
	Field string
	// Reason says what is wrong, without the format or field.
	Reason string
	// Err is the decoder's error, if any.
	Err error
}

// Error reads "format: field "f": reason".
func (e *DecodeError) Error() string {
	if e.Field == "" {
		return e.Format + ": " + e.Reason
	}
	return fmt.Sprintf("%s: field %q: %s", e.Format, e.Field, e.Reason)
}

// Unwrap returns the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// JSONSerde reads and writes record values as JSON documents of type T.
// A record value must hold exactly one JSON value, with nothing but JSON
// whitespace (space, tab, line feed, carriage return) around it; a value
// that is null (or empty) is a bad record unless T is a pointer or an
// interface type. Bad records go to the source's ErrorPolicy with a
// DecodeError.
type JSONSerde[T any] struct {
	// DisallowUnknownFields rejects documents with fields T lacks.
	DisallowUnknownFields bool
	// FailOnMissingField rejects documents that lack a field of T (and of
	// the structs T's fields hold), naming the field, as Flink's JSON
	// format does with json.fail-on-missing-field. A field is present if
	// its key is, even with the value null. Fields tagged json:"-" are
	// not required, nor are fields tagged omitempty or omitzero, which
	// may be left out.
	FailOnMissingField bool
}

// Deserialize decodes the record's value into a T.
func (s JSONSerde[T]) Deserialize(r *kgo.Record) (T, error) {
	var v T
	data := r.Value
	body := bytes.Trim(data, jsonSpace)
	if len(body) == 0 {
		return v, &DecodeError{Format: "json", Reason: "empty record value"}
	}
	if bytes.Equal(body, []byte("null")) && !nullable(reflect.TypeFor[T]()) {
		return v, &DecodeError{Format: "json", Reason: "the value is null"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if s.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(&v); err != nil {
		return v, jsonError(err)
	}
	// Exactly one value: only whitespace may follow.
	if rest := bytes.Trim(data[dec.InputOffset():], jsonSpace); len(rest) > 0 {
		return v, &DecodeError{Format: "json", Reason: fmt.Sprintf("%d bytes after the value, starting %q", len(rest), clip(rest, 16))}
	}
	if s.FailOnMissingField {
		if field := missingField(reflect.TypeFor[T](), body, ""); field != "" {
			return v, &DecodeError{Format: "json", Field: field, Reason: "missing"}
		}
	}
	return v, nil
}

// jsonSpace is the whitespace JSON allows around values (RFC 8259).
const jsonSpace = " \t\n\r"

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// nullable reports whether a JSON null is a value of t.
func nullable(t reflect.Type) bool {
	return t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface
}

// jsonError turns an encoding/json error into a DecodeError without the
// package's "json: " prefix, with the field of a type mismatch.
func jsonError(err error) *DecodeError {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return &DecodeError{Format: "json", Field: ute.Field, Err: err,
			Reason: fmt.Sprintf("cannot decode a JSON %s into %s (byte %d)", ute.Value, ute.Type, ute.Offset)}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &DecodeError{Format: "json", Err: err, Reason: fmt.Sprintf("%s (byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &DecodeError{Format: "json", Err: err, Reason: "unexpected end of the value"}
	}
	return &DecodeError{Format: "json", Err: err, Reason: strings.TrimPrefix(err.Error(), "json: ")}
}

// missingField returns the path of the first field of t (a struct, or a
// pointer to one) that the JSON object raw lacks, looking into the
// objects of struct-typed fields too; "" if none is missing. Keys match
// field names as encoding/json matches them: exactly, else ignoring case.
func missingField(t reflect.Type, raw []byte, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return "" // null, or not an object: the decoder judged it
	}
	for _, f := range jsonfield.Of(t) {
		val, ok := obj[f.Name]
		if !ok {
			for k, v := range obj {
				if strings.EqualFold(k, f.Name) {
					val, ok = v, true
					break
				}
			}
		}
		p := f.Name
		if path != "" {
			p = path + "." + f.Name
		}
		if !ok {
			if f.Optional {
				continue
			}
			return p
		}
		if m := missingField(f.Type, val, p); m != "" {
			return m
		}
	}
	return ""
}

// Serialize encodes v as JSON.
func (JSONSerde[T]) Serialize(v T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err) // encoding/json's errors start "json: "
	}
	return b, nil
}

// Record is a Kafka record with everything the broker stores about it,
// for jobs that need keys, headers or positions; RecordDeserializer emits it.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   []kgo.RecordHeader
	// Timestamp is the record's timestamp in milliseconds since the epoch.
	Timestamp int64
}

// RecordDeserializer emits whole records.
type RecordDeserializer struct{}

// Deserialize copies r's fields into a Record.
func (RecordDeserializer) Deserialize(r *kgo.Record) (Record, error) {
	return Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value,
		Headers: r.Headers, Timestamp: r.Timestamp.UnixMilli()}, nil
}
