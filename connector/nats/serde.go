package nats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// Message is a JetStream message as a Deserializer sees it. Data and
// Header belong to the message; a deserializer may keep them.
type Message struct {
	Subject string
	Data    []byte
	Header  natsgo.Header
	// Stream and Sequence are the message's stream and stream sequence.
	Stream   string
	Sequence uint64
	// Timestamp is when the stream stored the message.
	Timestamp time.Time
	// NumDelivered counts the deliveries of the message, this one
	// included.
	NumDelivered uint64
}

// Deserializer turns a message into a value of the source's type. An
// error sends the message to the source's ErrorPolicy (fail the job, or a
// dead letter naming the stream and sequence).
type Deserializer[T any] interface {
	Deserialize(m *Message) (T, error)
}

// Serializer turns a value into a message payload. It has the method set
// of kafka.Serializer, so the Kafka connector's serdes (kafka.JSONSerde,
// kafka.StringSerde, ...) serve here too.
type Serializer[T any] interface {
	Serialize(v T) ([]byte, error)
}

// DeserializerFunc adapts a function to Deserializer.
type DeserializerFunc[T any] func(m *Message) (T, error)

// Deserialize calls f.
func (f DeserializerFunc[T]) Deserialize(m *Message) (T, error) { return f(m) }

// ValueDeserializer adapts a function of the payload alone (for example a
// row decoder of package format/json) to Deserializer.
func ValueDeserializer[T any](f func(data []byte) (T, error)) Deserializer[T] {
	return DeserializerFunc[T](func(m *Message) (T, error) { return f(m.Data) })
}

// SerializerFunc adapts a function to Serializer.
type SerializerFunc[T any] func(v T) ([]byte, error)

// Serialize calls f.
func (f SerializerFunc[T]) Serialize(v T) ([]byte, error) { return f(v) }

// BytesSerde reads and writes payloads as raw bytes.
type BytesSerde struct{}

// Deserialize returns the payload.
func (BytesSerde) Deserialize(m *Message) ([]byte, error) { return m.Data, nil }

// Serialize returns v.
func (BytesSerde) Serialize(v []byte) ([]byte, error) { return v, nil }

// StringSerde reads and writes payloads as strings.
type StringSerde struct{}

// Deserialize returns the payload as a string.
func (StringSerde) Deserialize(m *Message) (string, error) { return string(m.Data), nil }

// Serialize returns v's bytes.
func (StringSerde) Serialize(v string) ([]byte, error) { return []byte(v), nil }

// JSONSerde reads and writes payloads as one JSON document of type T. An
// empty payload, or one with anything after the document, is a bad record.
type JSONSerde[T any] struct {
	// DisallowUnknownFields rejects documents with fields T lacks.
	DisallowUnknownFields bool
}

// Deserialize decodes the payload into a T.
func (s JSONSerde[T]) Deserialize(m *Message) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(m.Data))
	if s.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(&v); err != nil {
		return v, fmt.Errorf("json: %w", err)
	}
	if dec.More() {
		return v, fmt.Errorf("json: data after the value at byte %d", dec.InputOffset())
	}
	return v, nil
}

// Serialize encodes v as JSON.
func (JSONSerde[T]) Serialize(v T) ([]byte, error) { return json.Marshal(v) }
