package kafka

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

// AvroSerde reads and writes values of T as Avro binary in the Confluent
// wire format (a zero byte, the big-endian schema id, the encoded value),
// with schemas kept in a schema registry. Struct fields map to Avro fields
// by their `avro:"name"` tags (twmb/avro).
//
// Serialize writes with the serde's own schema. Deserialize reads records
// written with any schema of the registry: a writer schema other than its
// own is fetched once and resolved against its own by Avro's schema
// resolution (fields added with defaults, removed fields, promotions). A
// record without the wire-format header, with an unknown schema id, or
// that does not decode is an error (a dead letter under DeadLetterTo).
//
// An AvroSerde is safe for use by several subtasks at once.
type AvroSerde[T any] struct {
	cl     *sr.Client
	schema *avro.Schema
	id     int
	// readers caches, per writer schema id, the schema that decodes it
	// into T.
	readers sync.Map // int -> *avro.Schema
}

// NewAvroSerde parses schema, registers it under subject (registering a
// schema the subject has returns its existing id) and returns a serde for
// T. The schema registry must accept the schema under the subject's
// compatibility rules.
func NewAvroSerde[T any](ctx context.Context, cl *sr.Client, subject, schema string) (*AvroSerde[T], error) {
	s, err := avro.Parse(schema)
	if err != nil {
		return nil, fmt.Errorf("kafka: avro schema: %w", err)
	}
	ss, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: schema, Type: sr.TypeAvro})
	if err != nil {
		return nil, fmt.Errorf("kafka: registering avro schema under %s: %w", subject, err)
	}
	a := &AvroSerde[T]{cl: cl, schema: s, id: ss.ID}
	a.readers.Store(ss.ID, s)
	return a, nil
}

// ID returns the registry id of the serde's schema.
func (a *AvroSerde[T]) ID() int { return a.id }

// Serialize encodes v with the serde's schema after the wire-format header.
func (a *AvroSerde[T]) Serialize(v T) ([]byte, error) {
	b, _ := (&sr.ConfluentHeader{}).AppendEncode(make([]byte, 0, 64), a.id, nil)
	b, err := a.schema.AppendEncode(b, &v)
	if err != nil {
		return nil, fmt.Errorf("kafka: avro: %w", err)
	}
	return b, nil
}

// Deserialize decodes a record's value written with any registered schema.
func (a *AvroSerde[T]) Deserialize(r *kgo.Record) (T, error) {
	var v T
	id, body, err := (&sr.ConfluentHeader{}).DecodeID(r.Value)
	if err != nil {
		return v, fmt.Errorf("kafka: avro: %w", err)
	}
	s, err := a.reader(id)
	if err != nil {
		return v, err
	}
	rest, err := s.Decode(body, &v)
	if err != nil {
		return v, fmt.Errorf("kafka: avro (schema %d): %w", id, err)
	}
	if len(rest) > 0 {
		return v, fmt.Errorf("kafka: avro (schema %d): %d bytes after the value", id, len(rest))
	}
	return v, nil
}

// reader returns the schema decoding writer schema id into T, fetching
// and resolving it on first use.
func (a *AvroSerde[T]) reader(id int) (*avro.Schema, error) {
	if s, ok := a.readers.Load(id); ok {
		return s.(*avro.Schema), nil
	}
	ws, err := a.cl.SchemaByID(context.Background(), id)
	if err != nil {
		return nil, fmt.Errorf("kafka: avro: writer schema %d: %w", id, err)
	}
	if ws.Type != sr.TypeAvro {
		return nil, fmt.Errorf("kafka: avro: schema %d is %s, not Avro", id, ws.Type)
	}
	w, err := avro.Parse(ws.Schema)
	if err != nil {
		return nil, fmt.Errorf("kafka: avro: writer schema %d: %w", id, err)
	}
	s, err := avro.Resolve(w, a.schema)
	if err != nil {
		return nil, fmt.Errorf("kafka: avro: schema %d cannot be read as schema %d: %w", id, a.id, err)
	}
	a.readers.Store(id, s)
	return s, nil
}
