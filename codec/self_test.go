package codec

import (
	"bytes"
	"testing"
)

type selfVal struct {
	raw []byte
	n   int // not encoded by the reflective codec (unexported)
}

func (v *selfVal) AppendState(dst []byte) []byte { return append(dst, v.raw...) }
func (v *selfVal) DecodeState(src []byte) error  { v.raw = bytes.Clone(src); return nil }

type holdsSelf struct {
	A int64
	S *selfVal
	B string
}

func TestSelfCodec(t *testing.T) {
	c, err := For[*selfVal]()
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range [][]byte{nil, {1}, bytes.Repeat([]byte{7}, 300)} {
		enc := c.Append([]byte("prefix"), &selfVal{raw: raw, n: 3})
		got, n, err := c.Decode(append(enc[len("prefix"):], 9, 9))
		if err != nil || n != len(enc)-len("prefix") || !bytes.Equal(got.raw, raw) {
			t.Fatalf("%d bytes: got %v (%d, %v)", len(raw), got.raw, n, err)
		}
	}
	if _, _, err := c.Decode([]byte{5, 1}); err == nil {
		t.Fatal("truncated value decoded")
	}
	h, err := For[holdsSelf]()
	if err != nil {
		t.Fatal(err)
	}
	enc := h.Append(nil, holdsSelf{A: -4, S: &selfVal{raw: []byte("xyz")}, B: "b"})
	got, _, err := h.Decode(enc)
	if err != nil || got.A != -4 || got.B != "b" || string(got.S.raw) != "xyz" {
		t.Fatalf("struct: got %+v, %v", got, err)
	}
	if s := Schema[*selfVal](); s != "self(*codec.selfVal)" {
		t.Fatalf("schema %q", s)
	}
}
