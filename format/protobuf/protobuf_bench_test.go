package protobuf_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/weirstream/weir/format/protobuf"
	"github.com/weirstream/weir/row"
)

// The benchmarks use protobuf's own generated FieldDescriptorProto (ten
// fields: five strings, two int32s, two enums, a bool) so that the row
// format can be compared with proto.Unmarshal and proto.Marshal of a
// generated type, and of dynamicpb (which the row format builds on), in
// the same run.

var benchSchema = row.NewSchema(
	row.Col("name", row.String()), row.Col("extendee", row.String()), row.Col("number", row.IntType()),
	row.Col("label", row.String()), row.Col("type", row.String()), row.Col("type_name", row.String()),
	row.Col("default_value", row.String()), row.Col("oneof_index", row.IntType()),
	row.Col("json_name", row.String()), row.Col("proto3_optional", row.Boolean()))

func benchMessage() *descriptorpb.FieldDescriptorProto {
	return &descriptorpb.FieldDescriptorProto{
		Name: proto.String("customer_id"), Extendee: proto.String(".shop.Base"), Number: proto.Int32(17),
		Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(),
		TypeName: proto.String(".shop.Customer.Id"), DefaultValue: proto.String("none"), OneofIndex: proto.Int32(2),
		JsonName: proto.String("customerId"), Proto3Optional: proto.Bool(true),
	}
}

func benchBytes(b *testing.B) []byte {
	p, err := proto.MarshalOptions{Deterministic: true}.Marshal(benchMessage())
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkDecode(b *testing.B) {
	md := benchMessage().ProtoReflect().Descriptor()
	p := benchBytes(b)
	b.Run("weir-row", func(b *testing.B) {
		dec, err := protobuf.NewDecoder(md, benchSchema, protobuf.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			if _, _, err := dec.Decode(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto-generated", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			if err := proto.Unmarshal(p, &descriptorpb.FieldDescriptorProto{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto-dynamicpb", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			if err := proto.Unmarshal(p, dynamicpb.NewMessage(md)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("weir-confluent", func(b *testing.B) {
		reg := srfake.New()
		defer reg.Close()
		cl, err := sr.NewClient(sr.URLs(reg.URL()))
		if err != nil {
			b.Fatal(err)
		}
		src, err := protobuf.Source("Row", benchSchema)
		if err != nil {
			b.Fatal(err)
		}
		c, err := protobuf.NewConfluent(cl, "bench-value", src, "", benchSchema, protobuf.Options{})
		if err != nil {
			b.Fatal(err)
		}
		dec, _ := protobuf.NewDecoder(md, benchSchema, protobuf.Options{})
		r, _, _ := dec.Decode(p)
		rec, err := c.Append(nil, r)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Register(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(rec)))
		for b.Loop() {
			if _, _, err := c.Decode(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	md := benchMessage().ProtoReflect().Descriptor()
	p := benchBytes(b)
	buf := make([]byte, 0, 256)
	b.Run("weir-row", func(b *testing.B) {
		dec, _ := protobuf.NewDecoder(md, benchSchema, protobuf.Options{})
		r, _, err := dec.Decode(p)
		if err != nil {
			b.Fatal(err)
		}
		enc, err := protobuf.NewEncoder(md, benchSchema, protobuf.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			if buf, err = enc.Append(buf[:0], r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto-generated", func(b *testing.B) {
		m := benchMessage()
		var err error
		b.ReportAllocs()
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			if buf, err = (proto.MarshalOptions{Deterministic: true}).MarshalAppend(buf[:0], m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
