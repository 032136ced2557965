package protobuf_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/weirstream/weir/format/protobuf"
	"github.com/weirstream/weir/row"
)

const (
	orderV1 = `syntax = "proto3";
package shop;
message Order { int64 id = 1; string item = 2; }
`
	// v2 removes item, adds qty and note.
	orderV2 = `syntax = "proto3";
package shop;
message Order { int64 id = 1; int32 qty = 3; optional string note = 4; }
`
	// v3 changes the type of id.
	orderV3 = `syntax = "proto3";
package shop;
message Order { string id = 1; }
`
	// nested names a message that is not the file's first.
	nested = `syntax = "proto3";
package shop;
message Other { int32 x = 1; }
message Outer {
  message Order { int64 id = 1; string item = 2; }
}
`
)

var orderSchema = row.NewSchema(row.Col("id", row.BigInt()), row.Col("item", row.String()), row.Col("qty", row.IntType()))

func registry(t *testing.T) *sr.Client {
	t.Helper()
	reg := srfake.New()
	t.Cleanup(reg.Close)
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// writeWith encodes fields (name -> value) as a message of the schema's
// first message, with the wire-format header for id, by protobuf's own
// reflection: independent of the format's encoder.
func writeWith(t *testing.T, source string, id int, index []int, fields map[string]any) []byte {
	t.Helper()
	fd, err := protobuf.Parse(source)
	if err != nil {
		t.Fatal(err)
	}
	md, err := protobuf.MessageAt(fd, index)
	if err != nil {
		t.Fatal(err)
	}
	m := dynamicpb.NewMessage(md)
	// In field order, so that the bytes are comparable with the
	// encoder's.
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		if v, ok := fields[string(fd.Name())]; ok {
			m.Set(fd, protoreflect.ValueOf(v))
		}
	}
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(id))
	if len(index) == 1 && index[0] == 0 {
		b = append(b, 0)
	} else {
		b = binary.AppendVarint(b, int64(len(index)))
		for _, i := range index {
			b = binary.AppendVarint(b, int64(i))
		}
	}
	return append(b, body...)
}

func register(t *testing.T, cl *sr.Client, subject, source string) int {
	t.Helper()
	ss, err := cl.CreateSchema(context.Background(), subject, sr.Schema{Schema: source, Type: sr.TypeProtobuf})
	if err != nil {
		t.Fatal(err)
	}
	return ss.ID
}

// TestConfluentEvolution writes with the format's schema (registered on
// first use), reads records of other versions by field name, and rejects
// records without the header, with unknown ids, or of a schema whose
// field types changed.
func TestConfluentEvolution(t *testing.T) {
	cl := registry(t)
	schema := strings.Replace(orderV1, "}", "int32 qty = 3; }", 1)
	c, err := protobuf.NewConfluent(cl, "orders-value", schema, "shop.Order", orderSchema, protobuf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := row.Of(row.Int(7), row.Str("tea"), row.Int(2))
	b, err := c.Append(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Register(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := writeWith(t, schema, id, []int{0}, map[string]any{"id": int64(7), "item": "tea", "qty": int32(2)})
	if !bytes.Equal(b, want) {
		t.Fatalf("wire format\n% x\nwant\n% x", b, want)
	}
	got, _, err := c.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got, in, orderSchema)

	// Other versions of the subject, written by another producer.
	v1 := register(t, cl, "orders-value", orderV1)
	v2 := register(t, cl, "orders-value", orderV2)
	for _, c2 := range []struct {
		name string
		b    []byte
		want row.Row
	}{
		{"v1 lacks qty", writeWith(t, orderV1, v1, []int{0}, map[string]any{"id": int64(1), "item": "cake"}),
			row.Of(row.Int(1), row.Str("cake"), row.Null())},
		{"v2 lacks item", writeWith(t, orderV2, v2, []int{0}, map[string]any{"id": int64(2), "qty": int32(5), "note": "n"}),
			row.Of(row.Int(2), row.Null(), row.Int(5))},
	} {
		got, _, err := c.Decode(c2.b)
		if err != nil {
			t.Fatalf("%s: %v", c2.name, err)
		}
		mustEqual(t, got, c2.want, orderSchema)
	}

	v3 := register(t, cl, "orders-v3-value", orderV3)
	for _, bad := range []struct {
		name, field, reason string
		b                   []byte
	}{
		{"no header", "", "header", []byte("tea")},
		{"unknown schema", "", "unknown schema id 999", writeWith(t, orderV1, 999, []int{0}, nil)},
		{"changed type", "id", "schema " + strconv.Itoa(v3), writeWith(t, orderV3, v3, []int{0}, map[string]any{"id": "x"})},
		{"bad index", "", "message index", append(writeWith(t, orderV1, v1, []int{0}, nil)[:5], 2, 6)},
		{"bad body", "item", "schema " + strconv.Itoa(v1), append(writeWith(t, orderV1, v1, []int{0}, nil), 2<<3|2, 5, 'a')},
	} {
		_, _, err := c.Decode(bad.b)
		if err == nil {
			t.Errorf("%s: decoded", bad.name)
			continue
		}
		if f := fieldOf(err); f != bad.field || !strings.Contains(err.Error(), bad.reason) {
			t.Errorf("%s: field %q, error %v; want field %q, %q", bad.name, f, err, bad.field, bad.reason)
		}
	}
}

// TestConfluentNestedIndex: a nested message is written with its index
// path, and read back.
func TestConfluentNestedIndex(t *testing.T) {
	cl := registry(t)
	s := row.NewSchema(row.Col("id", row.BigInt()), row.Col("item", row.String()))
	c, err := protobuf.NewConfluent(cl, "n-value", nested, "Outer.Order", s, protobuf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Append(nil, row.Of(row.Int(3), row.Str("x")))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := c.Register(context.Background())
	want := writeWith(t, nested, id, []int{1, 0}, map[string]any{"id": int64(3), "item": "x"})
	if !bytes.Equal(b, want) {
		t.Fatalf("wire format\n% x\nwant\n% x", b, want)
	}
	// A fresh reader (no registration) fetches the schema by id.
	r, _ := protobuf.NewConfluent(cl, "n-value", nested, "shop.Outer.Order", s, protobuf.Options{})
	got, _, err := r.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got, row.Of(row.Int(3), row.Str("x")), s)
}

// TestConfluentReferences reads a writer schema that imports another
// subject's schema.
func TestConfluentReferences(t *testing.T) {
	cl := registry(t)
	ctx := context.Background()
	money := "syntax = \"proto3\";\npackage common;\nmessage Money { int64 cents = 1; string currency = 2; }\n"
	if _, err := cl.CreateSchema(ctx, "money", sr.Schema{Schema: money, Type: sr.TypeProtobuf}); err != nil {
		t.Fatal(err)
	}
	order := "syntax = \"proto3\";\nimport \"common/money.proto\";\nmessage Order { int64 id = 1; common.Money price = 2; }\n"
	ss, err := cl.CreateSchema(ctx, "orders-value", sr.Schema{Schema: order, Type: sr.TypeProtobuf,
		References: []sr.SchemaReference{{Name: "common/money.proto", Subject: "money", Version: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	fd, err := protobuf.Compile(ctx, map[string]string{"common/money.proto": money, "o.proto": order}, "o.proto")
	if err != nil {
		t.Fatal(err)
	}
	md := fd.Messages().Get(0)
	m := dynamicpb.NewMessage(md)
	m.Set(md.Fields().ByName("id"), protoreflect.ValueOfInt64(9))
	price := m.Mutable(md.Fields().ByName("price")).Message()
	price.Set(price.Descriptor().Fields().ByName("cents"), protoreflect.ValueOfInt64(250))
	price.Set(price.Descriptor().Fields().ByName("currency"), protoreflect.ValueOfString("EUR"))
	body, _ := proto.Marshal(m)
	b, _ := (&sr.ConfluentHeader{}).AppendEncode(nil, ss.ID, []int{0})
	b = append(b, body...)

	s := row.NewSchema(row.Col("id", row.BigInt()), row.Col("price", row.RowType(row.Col("cents", row.BigInt()))))
	reader, err := protobuf.Source("Order", s)
	if err != nil {
		t.Fatal(err)
	}
	c, err := protobuf.NewConfluent(cl, "orders-value", reader, "Order", s, protobuf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got, row.Of(row.Int(9), row.Nested([]row.Value{row.Int(250)})), s)
}
