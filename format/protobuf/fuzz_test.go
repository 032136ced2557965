package protobuf_test

import (
	"testing"

	"github.com/weirstream/weir/format/protobuf"
	"github.com/weirstream/weir/row"
)

// FuzzProtobufDecode checks that no input makes the decoder panic, that
// what decodes is a row of the schema's width, and that a row that
// re-encodes decodes to itself.
func FuzzProtobufDecode(f *testing.F) {
	md := allMessage(f)
	dec, err := protobuf.NewDecoder(md, allSchema, protobuf.Options{})
	if err != nil {
		f.Fatal(err)
	}
	enc, err := protobuf.NewEncoder(md, allSchema, protobuf.Options{})
	if err != nil {
		f.Fatal(err)
	}
	full, err := enc.Append(nil, fullRow())
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range [][]byte{full, nil, {0}, {0x8a, 0x01, 3, 0x0a, 1, 0xff}, {5 << 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		full[:len(full)/2], {0xa2, 0x01, 2, 0x08, 1}, {0xaa, 0x01, 4, 0x08, 1, 0x12, 0}} {
		f.Add(b)
	}
	types := allSchema.Types()
	f.Fuzz(func(t *testing.T, b []byte) {
		r, ok, err := dec.Decode(b)
		if err != nil {
			return
		}
		if !ok || len(r.Fields) != allSchema.Len() {
			t.Fatalf("decoded %v, %d fields", ok, len(r.Fields))
		}
		b2, err := enc.Append(nil, r)
		if err != nil {
			return // e.g. an unknown enum number read as text
		}
		r2, _, err := dec.Decode(b2)
		if err != nil {
			t.Fatalf("re-encoded row does not decode: %v", err)
		}
		if !row.EqualRows(r, r2, types) {
			t.Fatalf("round trip\n%s\n%s", row.FormatRow(r, types), row.FormatRow(r2, types))
		}
	})
}
