package kafka

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/weirstream/weir/format/protobuf"
)

// The schema of protobuf's own generated Timestamp, as the second message
// of its file so that its message index is [1].
const tsSchema = `syntax = "proto3";
package google.protobuf;
message Duration { int64 seconds = 1; int32 nanos = 2; }
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
`

// rawRecord writes fields of the message at index of source with
// protobuf's reflection, after the wire-format header for id.
func rawRecord(t *testing.T, source string, id int, index []int, fields map[string]any) *kgo.Record {
	t.Helper()
	fd, err := protobuf.Parse(source)
	must(t, err)
	md, err := protobuf.MessageAt(fd, index)
	must(t, err)
	m := dynamicpb.NewMessage(md)
	for k, v := range fields {
		m.Set(md.Fields().ByName(protoreflect.Name(k)), protoreflect.ValueOf(v))
	}
	body, err := proto.Marshal(m)
	must(t, err)
	b, _ := (&sr.ConfluentHeader{}).AppendEncode(nil, id, index)
	return &kgo.Record{Value: append(b, body...)}
}

// TestProtoSerde round-trips a generated type through the wire format,
// reads records of other versions of its schema by field number, and
// rejects records of other messages, without the header, with unknown
// schema ids, or that do not decode.
func TestProtoSerde(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	must(t, err)
	ctx := context.Background()
	s, err := NewProtoSerde[*timestamppb.Timestamp](ctx, cl, "ts-value", tsSchema)
	must(t, err)
	in := &timestamppb.Timestamp{Seconds: 1_700_000_000, Nanos: 5}
	b, err := s.Serialize(in)
	must(t, err)
	body, _ := proto.Marshal(in)
	want := append([]byte{0, 0, 0, 0, byte(s.ID()), 2, 2}, body...) // index [1]: count 1, index 1, zig-zag
	if !bytes.Equal(b, want) {
		t.Fatalf("wire format % x, want % x", b, want)
	}
	got, err := s.Deserialize(&kgo.Record{Value: b})
	must(t, err)
	if !proto.Equal(got, in) {
		t.Fatalf("round trip: %v", got)
	}

	// Another version without nanos, and one with a new field.
	v2 := strings.Replace(tsSchema, "message Timestamp { int64 seconds = 1; int32 nanos = 2; }", "message Timestamp { int64 seconds = 1; }", 1)
	v3 := strings.Replace(tsSchema, "int32 nanos = 2; }\n", "int32 nanos = 2; string zone = 3; }\n", 2)
	ss2, err := cl.CreateSchema(ctx, "ts-value", sr.Schema{Schema: v2, Type: sr.TypeProtobuf})
	must(t, err)
	ss3, err := cl.CreateSchema(ctx, "ts-value", sr.Schema{Schema: v3, Type: sr.TypeProtobuf})
	must(t, err)
	got, err = s.Deserialize(rawRecord(t, v2, ss2.ID, []int{1}, map[string]any{"seconds": int64(9)}))
	must(t, err)
	if got.Seconds != 9 || got.Nanos != 0 {
		t.Errorf("v2: %v", got)
	}
	got, err = s.Deserialize(rawRecord(t, v3, ss3.ID, []int{1}, map[string]any{"seconds": int64(8), "nanos": int32(1), "zone": "UTC"}))
	must(t, err)
	if got.Seconds != 8 || got.Nanos != 1 {
		t.Errorf("v3: %v", got)
	}

	for _, c := range []struct {
		name, field, reason string
		rec                 *kgo.Record
	}{
		{"another message", "", "is google.protobuf.Duration, not google.protobuf.Timestamp", rawRecord(t, tsSchema, s.ID(), []int{0}, nil)},
		{"no header", "", "header", &kgo.Record{Value: []byte("x")}},
		{"unknown schema", "", "unknown schema id 77", rawRecord(t, tsSchema, 77, []int{1}, nil)},
		{"truncated", "seconds", "bad value", &kgo.Record{Value: append(b[:7:7], 0x08, 0xff)}},
	} {
		_, err := s.Deserialize(c.rec)
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%s: %v, want a DecodeError", c.name, err)
			continue
		}
		if de.Field != c.field || !strings.Contains(de.Reason, c.reason) {
			t.Errorf("%s: field %q reason %q; want %q, %q", c.name, de.Field, de.Reason, c.field, c.reason)
		}
	}

	if _, err := NewProtoSerde[*timestamppb.Timestamp](ctx, cl, "x-value", `syntax = "proto3"; message Other { int32 a = 1; }`); err == nil {
		t.Error("a schema without T's message was accepted")
	}
}
