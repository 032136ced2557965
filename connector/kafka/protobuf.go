package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/weirstream/weir/format/protobuf"
)

// ProtoSerde reads and writes values of a generated protobuf type T (a
// pointer such as *orderpb.Order) in the schema registry's wire format:
// a zero byte, the big-endian schema id, the message index of T in its
// schema (zig-zag varints), then the message.
//
// Serialize writes with the serde's schema. Deserialize reads records
// written with any schema of the registry whose message at the record's
// index is T's message (by full name): protobuf's own field numbers carry
// the evolution (added fields are unknown fields, removed ones keep their
// zero value), as Confluent's specific deserializer does. A writer schema
// other than the serde's is fetched once by id. A record without the
// header, with an unknown schema id, naming another message, or that does
// not decode is a *DecodeError (a dead letter under DeadLetterTo) naming
// the field at fault when it can.
//
// A ProtoSerde is safe for use by several subtasks at once.
type ProtoSerde[T proto.Message] struct {
	cl    *sr.Client
	mt    protoreflect.MessageType
	id    int
	index []int
	// writers caches, per writer schema id and index, nil when the
	// message is T's or the error that rejects its records.
	writers sync.Map // protoWriter -> error
}

type protoWriter struct {
	id    int
	index string
}

// NewProtoSerde compiles schema, the .proto source of T's file (imports
// other than google/protobuf/*.proto are not resolved), registers it
// under subject (registering a schema the subject has returns its id)
// and returns a serde for T. The schema must define T's message.
func NewProtoSerde[T proto.Message](ctx context.Context, cl *sr.Client, subject, schema string) (*ProtoSerde[T], error) {
	var zero T
	mt := zero.ProtoReflect().Type()
	fd, err := protobuf.Parse(schema)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	md, err := protobuf.FindMessage(fd, string(mt.Descriptor().FullName()))
	if err != nil || md.FullName() != mt.Descriptor().FullName() {
		return nil, fmt.Errorf("kafka: protobuf schema does not define %s", mt.Descriptor().FullName())
	}
	ss, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: schema, Type: sr.TypeProtobuf})
	if err != nil {
		return nil, fmt.Errorf("kafka: registering protobuf schema under %s: %w", subject, err)
	}
	p := &ProtoSerde[T]{cl: cl, mt: mt, id: ss.ID, index: protobuf.MessageIndex(md)}
	p.writers.Store(protoWriter{ss.ID, fmt.Sprint(p.index)}, nil)
	return p, nil
}

// ID returns the registry id of the serde's schema.
func (p *ProtoSerde[T]) ID() int { return p.id }

// Serialize encodes v after the wire-format header.
func (p *ProtoSerde[T]) Serialize(v T) ([]byte, error) {
	b, _ := (&sr.ConfluentHeader{}).AppendEncode(make([]byte, 0, 64), p.id, p.index)
	b, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(b, v)
	if err != nil {
		return nil, fmt.Errorf("kafka: protobuf: %w", err)
	}
	return b, nil
}

// Deserialize decodes a record's value written with any registered schema
// of T's message.
func (p *ProtoSerde[T]) Deserialize(r *kgo.Record) (T, error) {
	var zero T
	var h sr.ConfluentHeader
	id, body, err := h.DecodeID(r.Value)
	if err != nil {
		return zero, &DecodeError{Format: "protobuf", Reason: "no Confluent wire-format header (magic byte 0 and a 4-byte schema id)", Err: err}
	}
	index, body, err := h.DecodeIndex(body, 64)
	if err != nil {
		return zero, &DecodeError{Format: "protobuf", Reason: fmt.Sprintf("schema %d: bad message index", id), Err: err}
	}
	if err := p.writer(id, index); err != nil {
		return zero, err
	}
	v := p.mt.New().Interface().(T)
	if err := proto.Unmarshal(body, v); err != nil {
		return zero, protoDecodeError(id, protobuf.Explain(p.mt.Descriptor(), body, err))
	}
	return v, nil
}

// writer checks, once per schema id and index, that the record's message
// is T's.
func (p *ProtoSerde[T]) writer(id int, index []int) error {
	k := protoWriter{id, fmt.Sprint(index)}
	if e, ok := p.writers.Load(k); ok {
		if e == nil {
			return nil
		}
		return e.(error)
	}
	ctx, cancel := context.WithTimeout(context.Background(), protobuf.RegistryTimeout)
	defer cancel()
	fd, err := protobuf.FetchSchema(ctx, p.cl, id)
	if err != nil {
		var pe *protobuf.Error
		if !errors.As(err, &pe) {
			return fmt.Errorf("kafka: %w", err) // the registry failed: not cached
		}
		err = protoDecodeError(id, err)
		p.writers.Store(k, err)
		return err
	}
	md, err := protobuf.MessageAt(fd, index)
	switch {
	case err != nil:
		err = protoDecodeError(id, err)
	case md.FullName() != p.mt.Descriptor().FullName():
		err = &DecodeError{Format: "protobuf", Reason: fmt.Sprintf("schema %d message %v is %s, not %s", id, index, md.FullName(), p.mt.Descriptor().FullName())}
	}
	if err != nil {
		p.writers.Store(k, err)
		return err
	}
	p.writers.Store(k, nil)
	return nil
}

func protoDecodeError(id int, err error) error {
	d := &DecodeError{Format: "protobuf", Reason: fmt.Sprintf("schema %d: %v", id, err), Err: err}
	var pe *protobuf.Error
	if errors.As(err, &pe) {
		d.Field, d.Reason = pe.Field, fmt.Sprintf("schema %d: %s", id, pe.Reason)
	}
	return d
}
