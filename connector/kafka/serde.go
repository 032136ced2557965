package kafka

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kgo"
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

// JSONSerde reads and writes record values as JSON documents of type T.
type JSONSerde[T any] struct {
	// DisallowUnknownFields rejects documents with fields T lacks.
	DisallowUnknownFields bool
}

// Deserialize decodes the record's value into a T.
func (s JSONSerde[T]) Deserialize(r *kgo.Record) (T, error) {
	var v T
	if !s.DisallowUnknownFields {
		if err := json.Unmarshal(r.Value, &v); err != nil {
			return v, fmt.Errorf("kafka: json: %w", err)
		}
		return v, nil
	}
	dec := json.NewDecoder(bytes.NewReader(r.Value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, fmt.Errorf("kafka: json: %w", err)
	}
	// As json.Unmarshal does: one value, nothing after it.
	if _, err := dec.Token(); err != io.EOF {
		return v, fmt.Errorf("kafka: json: data after the top-level value")
	}
	return v, nil
}

// Serialize encodes v as JSON.
func (JSONSerde[T]) Serialize(v T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("kafka: json: %w", err)
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
