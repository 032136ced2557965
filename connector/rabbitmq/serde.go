package rabbitmq

import (
	"bytes"
	"encoding/json"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Deserializer turns a delivery into a value of the source's type. An
// error sends the message to the source's ErrorPolicy.
type Deserializer[T any] interface {
	Deserialize(d *amqp.Delivery) (T, error)
}

// Serializer turns a value into a message body. It has the method set of
// kafka.Serializer, so the Kafka connector's serdes serve here too.
type Serializer[T any] interface {
	Serialize(v T) ([]byte, error)
}

// DeserializerFunc adapts a function to Deserializer.
type DeserializerFunc[T any] func(d *amqp.Delivery) (T, error)

// Deserialize calls f.
func (f DeserializerFunc[T]) Deserialize(d *amqp.Delivery) (T, error) { return f(d) }

// ValueDeserializer adapts a function of the body alone (for example a
// row decoder of package format/json) to Deserializer.
func ValueDeserializer[T any](f func(body []byte) (T, error)) Deserializer[T] {
	return DeserializerFunc[T](func(d *amqp.Delivery) (T, error) { return f(d.Body) })
}

// SerializerFunc adapts a function to Serializer.
type SerializerFunc[T any] func(v T) ([]byte, error)

// Serialize calls f.
func (f SerializerFunc[T]) Serialize(v T) ([]byte, error) { return f(v) }

// BytesSerde reads and writes bodies as raw bytes.
type BytesSerde struct{}

// Deserialize returns the body.
func (BytesSerde) Deserialize(d *amqp.Delivery) ([]byte, error) { return d.Body, nil }

// Serialize returns v.
func (BytesSerde) Serialize(v []byte) ([]byte, error) { return v, nil }

// StringSerde reads and writes bodies as strings.
type StringSerde struct{}

// Deserialize returns the body as a string.
func (StringSerde) Deserialize(d *amqp.Delivery) (string, error) { return string(d.Body), nil }

// Serialize returns v's bytes.
func (StringSerde) Serialize(v string) ([]byte, error) { return []byte(v), nil }

// JSONSerde reads and writes bodies as one JSON document of type T.
type JSONSerde[T any] struct {
	// DisallowUnknownFields rejects documents with fields T lacks.
	DisallowUnknownFields bool
}

// Deserialize decodes the body into a T.
func (s JSONSerde[T]) Deserialize(d *amqp.Delivery) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(d.Body))
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
