package protobuf_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/weirstream/weir/format/protobuf"
	"github.com/weirstream/weir/row"
)

const allProto = `
syntax = "proto3";
package weir.test;

message All {
  enum Color { RED = 0; GREEN = 1; BLUE = 2; }
  message Inner { string a = 1; optional int32 b = 2; }
  bool b = 1;
  int32 i32 = 2;
  int64 i64 = 3;
  uint32 u32 = 4;
  uint64 u64 = 5;
  sint32 s32 = 6;
  sint64 s64 = 7;
  fixed32 f32 = 8;
  fixed64 f64 = 9;
  sfixed32 sf32 = 10;
  sfixed64 sf64 = 11;
  float fl = 12;
  double db = 13;
  string s = 14;
  bytes by = 15;
  Color color = 16;
  Inner inner = 17;
  repeated int64 nums = 18;
  repeated Inner inners = 19;
  map<string, int32> counts = 20;
  map<int64, Inner> byid = 21;
  oneof choice { string name = 22; int64 code = 23; }
  optional string opt = 24;
  repeated string tags = 25;
  repeated Color colors = 26;
  int32 ignored = 27;
}
`

var innerType = row.RowType(row.Col("a", row.String()), row.Col("b", row.IntType()))

// allSchema maps every field of All but 'ignored'; color is read both as
// a name and (colorn) not at all: the columns pick the fields by name.
var allSchema = row.NewSchema(
	row.Col("b", row.Boolean()),
	row.Col("i32", row.IntType()),
	row.Col("i64", row.BigInt()),
	row.Col("u32", row.BigInt()),
	row.Col("u64", row.BigInt()),
	row.Col("s32", row.IntType()),
	row.Col("s64", row.BigInt()),
	row.Col("f32", row.BigInt()),
	row.Col("f64", row.BigInt()),
	row.Col("sf32", row.IntType()),
	row.Col("sf64", row.BigInt()),
	row.Col("fl", row.FloatType()),
	row.Col("db", row.Double()),
	row.Col("s", row.String()),
	row.Col("by", row.BytesType()),
	row.Col("color", row.String()),
	row.Col("inner", innerType),
	row.Col("nums", row.ArrayType(row.BigInt())),
	row.Col("inners", row.ArrayType(innerType)),
	row.Col("counts", row.MapType(row.String(), row.IntType())),
	row.Col("byid", row.MapType(row.BigInt(), innerType)),
	row.Col("name", row.String()),
	row.Col("code", row.BigInt()),
	row.Col("opt", row.String()),
	row.Col("tags", row.ArrayType(row.String())),
	row.Col("colors", row.ArrayType(row.IntType())),
)

func allMessage(t testing.TB) protoreflect.MessageDescriptor {
	t.Helper()
	fd, err := protobuf.Parse(allProto)
	if err != nil {
		t.Fatal(err)
	}
	md, err := protobuf.FindMessage(fd, "All")
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func inner(a string, b row.Value) row.Value { return row.Nested([]row.Value{row.Str(a), b}) }

func fullRow() row.Row {
	return row.Of(
		row.Bool(true),
		row.Int(math.MinInt32),
		row.Int(math.MaxInt64),
		row.Int(math.MaxUint32),
		row.Int(math.MaxInt64),
		row.Int(-7),
		row.Int(math.MinInt64),
		row.Int(4_000_000_000),
		row.Int(1<<62),
		row.Int(-8),
		row.Int(-9),
		row.Float(float64(float32(1.5))),
		row.Float(-2.25e300),
		row.Str("héllo"),
		row.Bytes([]byte{0, 1, 255}),
		row.Str("BLUE"),
		inner("x", row.Int(3)),
		row.Array([]row.Value{row.Int(1), row.Int(-1), row.Int(1 << 40)}),
		row.Array([]row.Value{inner("p", row.Null()), inner("", row.Int(0))}),
		row.Map([]row.Value{row.Str("a"), row.Str("b")}, []row.Value{row.Int(1), row.Int(2)}),
		row.Map([]row.Value{row.Int(-5), row.Int(9)}, []row.Value{inner("m", row.Int(1)), inner("n", row.Null())}),
		row.Null(),
		row.Int(42),
		row.Str(""),
		row.Array([]row.Value{row.Str("t1"), row.Str("t2")}),
		row.Array([]row.Value{row.Int(2), row.Int(0)}),
	)
}

func mustEqual(t *testing.T, got, want row.Row, s row.Schema) {
	t.Helper()
	if !row.EqualRows(got, want, s.Types()) {
		t.Fatalf("got  %s\nwant %s", row.FormatRow(got, s.Types()), row.FormatRow(want, s.Types()))
	}
}

// TestRoundTripAllTypes encodes a row of every kind, checks the message
// field by field with protobuf's own reflection, and decodes it back.
func TestRoundTripAllTypes(t *testing.T) {
	md := allMessage(t)
	enc, err := protobuf.NewEncoder(md, allSchema, protobuf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := protobuf.NewDecoder(md, allSchema, protobuf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := fullRow()
	b, err := enc.Append(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	// Check the encoding independently of the decoder.
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(b, m); err != nil {
		t.Fatal(err)
	}
	get := func(name string) protoreflect.Value { return m.Get(md.Fields().ByName(protoreflect.Name(name))) }
	checks := []struct {
		name      string
		got, want any
	}{
		{"b", get("b").Bool(), true},
		{"i32", get("i32").Int(), int64(math.MinInt32)},
		{"u32", get("u32").Uint(), uint64(math.MaxUint32)},
		{"u64", get("u64").Uint(), uint64(math.MaxInt64)},
		{"s32", get("s32").Int(), int64(-7)},
		{"f32", get("f32").Uint(), uint64(4_000_000_000)},
		{"fl", get("fl").Float(), 1.5},
		{"s", get("s").String(), "héllo"},
		{"by", string(get("by").Bytes()), "\x00\x01\xff"},
		{"color", get("color").Enum(), protoreflect.EnumNumber(2)},
		{"inner.a", get("inner").Message().Get(md.Fields().ByName("inner").Message().Fields().ByName("a")).String(), "x"},
		{"nums", get("nums").List().Len(), 3},
		{"counts[b]", get("counts").Map().Get(protoreflect.ValueOfString("b").MapKey()).Int(), int64(2)},
		{"code", get("code").Int(), int64(42)},
		{"has name", m.Has(md.Fields().ByName("name")), false},
		{"has opt", m.Has(md.Fields().ByName("opt")), true},
		{"colors[0]", get("colors").List().Get(0).Enum(), protoreflect.EnumNumber(2)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	got, ok, err := dec.Decode(b)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	mustEqual(t, got, want, allSchema)
}

// TestNullsAndDefaults: a NULL column leaves its field unset; unset
// fields with presence read as NULL, or as their defaults under
// ReadDefaultValues; proto3 scalars without presence read as zero.
func TestNullsAndDefaults(t *testing.T) {
	md := allMessage(t)
	enc, err := protobuf.NewEncoder(md, allSchema, protobuf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := enc.Append(nil, row.New(allSchema.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 0 {
		t.Fatalf("an all-NULL row encodes to % x, want nothing", b)
	}
	empty := []row.Value{}
	zero := func(rd bool) row.Row {
		innerV, opt := row.Null(), row.Null()
		if rd {
			innerV, opt = inner("", row.Int(0)), row.Str("")
		}
		name, code := row.Null(), row.Null()
		if rd {
			name, code = row.Str(""), row.Int(0)
		}
		return row.Of(row.Bool(false), row.Int(0), row.Int(0), row.Int(0), row.Int(0), row.Int(0), row.Int(0),
			row.Int(0), row.Int(0), row.Int(0), row.Int(0), row.Float(0), row.Float(0), row.Str(""),
			row.Bytes(nil), row.Str("RED"), innerV, row.Array(empty), row.Array(empty),
			row.Map(nil, nil), row.Map(nil, nil), name, code, opt, row.Array(empty), row.Array(empty))
	}
	for _, rd := range []bool{false, true} {
		dec, err := protobuf.NewDecoder(md, allSchema, protobuf.Options{ReadDefaultValues: rd})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := dec.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, got, zero(rd), allSchema)
	}
}

const p2Proto = `
syntax = "proto2";
message P2 {
  enum E { A = 1; B = 2; }
  optional int32 a = 1 [default = 10];
  optional string s = 2 [default = "x"];
  optional E e = 3 [default = B];
  required int64 id = 4;
  repeated string l = 5;
  map<string, string> m = 6;
}
`

// TestProto2Defaults reads declared defaults under ReadDefaultValues, and
// writes NULL list elements and map values as defaults
// (WriteNullStringLiteral for strings).
func TestProto2Defaults(t *testing.T) {
	fd, err := protobuf.Parse(p2Proto)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := protobuf.FindMessage(fd, "")
	s := row.NewSchema(row.Col("a", row.IntType()), row.Col("s", row.String()), row.Col("e", row.String()),
		row.Col("id", row.BigInt()), row.Col("l", row.ArrayType(row.String())),
		row.Col("m", row.MapType(row.String(), row.String())))
	enc, err := protobuf.NewEncoder(md, s, protobuf.Options{WriteNullStringLiteral: "null"})
	if err != nil {
		t.Fatal(err)
	}
	in := row.Of(row.Null(), row.Null(), row.Null(), row.Int(5),
		row.Array([]row.Value{row.Str("a"), row.Null()}),
		row.Map([]row.Value{row.Str("k")}, []row.Value{row.Null()}))
	b, err := enc.Append(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rd   bool
		want row.Row
	}{
		{false, row.Of(row.Null(), row.Null(), row.Null(), row.Int(5),
			row.Array([]row.Value{row.Str("a"), row.Str("null")}),
			row.Map([]row.Value{row.Str("k")}, []row.Value{row.Str("null")}))},
		{true, row.Of(row.Int(10), row.Str("x"), row.Str("B"), row.Int(5),
			row.Array([]row.Value{row.Str("a"), row.Str("null")}),
			row.Map([]row.Value{row.Str("k")}, []row.Value{row.Str("null")}))},
	} {
		dec, err := protobuf.NewDecoder(md, s, protobuf.Options{ReadDefaultValues: c.rd})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := dec.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, got, c.want, s)
	}
	// A required field left NULL does not encode.
	if _, err := enc.Append(nil, row.New(s.Len())); err == nil || !strings.Contains(err.Error(), "id") {
		t.Errorf("missing required field: %v", err)
	}
	// A closed enum refuses unknown numbers; names must exist.
	se := row.NewSchema(row.Col("e", row.IntType()), row.Col("id", row.BigInt()))
	ie, _ := protobuf.NewEncoder(md, se, protobuf.Options{})
	if _, err := ie.Append(nil, row.Of(row.Int(7), row.Int(1))); err == nil {
		t.Error("enum number 7 of a closed enum encoded")
	}
	if _, err := enc.Append(nil, row.Of(row.Null(), row.Null(), row.Str("C"), row.Int(1), row.Null(), row.Null())); fieldOf(err) != "e" {
		t.Errorf("unknown enum name: %v", err)
	}
}

// TestOneof: columns of one oneof are set in order, the last non-NULL
// wins, and the other member reads as NULL.
func TestOneof(t *testing.T) {
	md := allMessage(t)
	s := row.NewSchema(row.Col("name", row.String()), row.Col("code", row.BigInt()))
	enc, _ := protobuf.NewEncoder(md, s, protobuf.Options{})
	dec, _ := protobuf.NewDecoder(md, s, protobuf.Options{})
	for _, c := range []struct{ in, want row.Row }{
		{row.Of(row.Str("n"), row.Int(3)), row.Of(row.Null(), row.Int(3))},
		{row.Of(row.Str("n"), row.Null()), row.Of(row.Str("n"), row.Null())},
		{row.Of(row.Str(""), row.Null()), row.Of(row.Str(""), row.Null())},
	} {
		b, err := enc.Append(nil, c.in)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := dec.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, got, c.want, s)
	}
}

func fieldOf(err error) string {
	var e *protobuf.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return "<not a protobuf.Error: " + errString(err) + ">"
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// TestBadRecords: records that do not decode are errors naming the field.
func TestBadRecords(t *testing.T) {
	md := allMessage(t)
	dec, err := protobuf.NewDecoder(md, allSchema, protobuf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := protobuf.NewEncoder(md, allSchema, protobuf.Options{})
	good, err := enc.Append(nil, fullRow())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := dec.Decode(good[:len(good)-1]); err == nil {
		t.Error("a truncated record decoded")
	}
	for _, c := range []struct {
		name  string
		b     []byte
		field string
	}{
		{"truncated", []byte{0x8a, 0x01, 5, 0x0a, 3, 'a'}, "inner"},
		{"truncated nested", []byte{0x8a, 0x01, 4, 0x0a, 3, 'a', 'b'}, "inner.a"},
		{"bad utf-8", []byte{14<<3 | 2, 2, 0xff, 0xfe}, "s"},
		{"bad utf-8 nested", []byte{0x8a, 0x01, 3, 0x0a, 1, 0xff}, "inner.a"},
		{"bad tag", []byte{0}, ""},
		{"map key with a wrong wire type", []byte{0xaa, 0x01, 4, 0x08, 0x01, 0x0a, 0x00}, "byid.key"},
		{"truncated length", []byte{15<<3 | 2, 9, 1}, "by"},
		{"uint64 too big", []byte{5 << 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "u64"},
	} {
		_, _, err := dec.Decode(c.b)
		if err == nil {
			t.Errorf("%s: decoded", c.name)
			continue
		}
		if got := fieldOf(err); got != c.field {
			t.Errorf("%s: field %q, want %q (%v)", c.name, got, c.field, err)
		}
	}
	// Encoding: a value the field cannot hold names the field.
	s := row.NewSchema(row.Col("inner", row.RowType(row.Col("b", row.BigInt()))))
	e1, _ := protobuf.NewEncoder(md, s, protobuf.Options{})
	if _, err := e1.Append(nil, row.Of(row.Nested([]row.Value{row.Int(1 << 40)}))); fieldOf(err) != "inner.b" {
		t.Errorf("2^40 into int32: %v", err)
	}
	if _, err := e1.Append(nil, row.Of(row.Nested([]row.Value{row.Int(-1 << 31)}))); err != nil {
		t.Errorf("-2^31 into int32: %v", err)
	}
	s = row.NewSchema(row.Col("u32", row.BigInt()))
	e2, _ := protobuf.NewEncoder(md, s, protobuf.Options{})
	if _, err := e2.Append(nil, row.Of(row.Int(-1))); fieldOf(err) != "u32" {
		t.Errorf("-1 into uint32: %v", err)
	}
}

// TestSchemaChecks: columns must name fields of mappable types.
func TestSchemaChecks(t *testing.T) {
	md := allMessage(t)
	for _, c := range []struct {
		col   row.Field
		field string
	}{
		{row.Col("missing", row.IntType()), "missing"},
		{row.Col("s", row.IntType()), "s"},
		{row.Col("i64", row.IntType()), "i64"},
		{row.Col("nums", row.BigInt()), "nums"},
		{row.Col("inner", row.String()), "inner"},
		{row.Col("counts", row.MapType(row.String(), row.String())), "counts.value"},
		{row.Col("inners", row.ArrayType(row.RowType(row.Col("zz", row.IntType())))), "inners[].zz"},
	} {
		_, err := protobuf.NewDecoder(md, row.NewSchema(c.col), protobuf.Options{})
		if got := fieldOf(err); got != c.field {
			t.Errorf("%s %s: field %q, want %q (%v)", c.col.Name, c.col.Type, got, c.field, err)
		}
	}
}

// TestSourceAndRowType: the .proto written for a table schema compiles,
// and its message's row type is the schema's (all nullable).
func TestSourceAndRowType(t *testing.T) {
	s := row.NewSchema(
		row.Col("id", row.BigInt().NotNull()),
		row.Col("ok", row.Boolean()),
		row.Col("n", row.IntType()),
		row.Col("f", row.FloatType()),
		row.Col("d", row.Double()),
		row.Col("name", row.String()),
		row.Col("raw", row.BytesType()),
		row.Col("tags", row.ArrayType(row.String())),
		row.Col("attrs", row.MapType(row.String(), row.Double())),
		row.Col("addr", row.RowType(row.Col("city", row.String()), row.Col("geo", row.RowType(row.Col("lat", row.Double()))))),
		row.Col("items", row.ArrayType(row.RowType(row.Col("sku", row.String())))),
	)
	src, err := protobuf.Source("Order", s)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := protobuf.Parse(src)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	md, err := protobuf.FindMessage(fd, "Order")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := protobuf.RowType(md)
	if err != nil {
		t.Fatal(err)
	}
	want := row.RowType(s.Columns...)
	want.Fields[0].Type = row.BigInt()
	if rt.String() != want.String() {
		t.Errorf("row type\n%s\nwant\n%s\n%s", rt, want, src)
	}
	// NULL vs default survives for nullable scalars (proto3 optional).
	enc, _ := protobuf.NewEncoder(md, s, protobuf.Options{})
	dec, _ := protobuf.NewDecoder(md, s, protobuf.Options{})
	in := row.New(s.Len())
	in.Fields[0] = row.Int(0)
	in.Fields[2] = row.Int(0)
	b, err := enc.Append(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := dec.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want2 := row.New(s.Len())
	want2.Fields[0], want2.Fields[2] = row.Int(0), row.Int(0)
	want2.Fields[7], want2.Fields[8], want2.Fields[10] = row.Array(nil), row.Map(nil, nil), row.Array(nil)
	mustEqual(t, got, want2, s)

	for _, bad := range []row.Field{
		row.Col("x", row.DecimalType(10, 2)),
		row.Col("x", row.ArrayType(row.ArrayType(row.IntType()))),
		row.Col("x", row.MapType(row.Double(), row.IntType())),
		row.Col("x y", row.IntType()),
	} {
		if _, err := protobuf.Source("M", row.NewSchema(bad)); err == nil {
			t.Errorf("%s %s: no error", bad.Name, bad.Type)
		}
	}
	if _, err := protobuf.RowType(recursive(t)); err == nil {
		t.Error("recursive message has a row type")
	}
}

func recursive(t *testing.T) protoreflect.MessageDescriptor {
	fd, err := protobuf.Parse(`syntax = "proto3"; message Node { Node next = 1; }`)
	if err != nil {
		t.Fatal(err)
	}
	return fd.Messages().Get(0)
}

// TestMapOrder: map entries read sorted by key.
func TestMapOrder(t *testing.T) {
	md := allMessage(t)
	s := row.NewSchema(row.Col("counts", row.MapType(row.String(), row.IntType())))
	m := dynamicpb.NewMessage(md)
	mp := m.Mutable(md.Fields().ByName("counts")).Map()
	for i, k := range []string{"z", "a", "m", "b"} {
		mp.Set(protoreflect.ValueOfString(k).MapKey(), protoreflect.ValueOfInt32(int32(i)))
	}
	b, _ := proto.Marshal(m)
	dec, _ := protobuf.NewDecoder(md, s, protobuf.Options{})
	got, _, err := dec.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := row.Of(row.Map([]row.Value{row.Str("a"), row.Str("b"), row.Str("m"), row.Str("z")},
		[]row.Value{row.Int(1), row.Int(3), row.Int(2), row.Int(0)}))
	mustEqual(t, got, want, s)
}
