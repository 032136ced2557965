package codec

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// selfInt encodes itself as a fixed 4-byte value plus a count of its
// encodings, which the reflection-based encoder could not (unexported
// fields).
type selfInt struct {
	v    int32
	note string
}

func (s selfInt) AppendState(dst []byte) []byte {
	return binary.LittleEndian.AppendUint32(dst, uint32(s.v))
}

func (s *selfInt) DecodeState(src []byte) (int, error) {
	if len(src) < 4 {
		return 0, ErrCorrupt
	}
	*s = selfInt{v: int32(binary.LittleEndian.Uint32(src)), note: "decoded"}
	return 4, nil
}

// selfNamed also states its schema.
type selfNamed struct{ selfInt }

func (selfNamed) StateSchema() string { return "struct{V int;}" }

type holder struct {
	A  selfInt
	S  []selfInt
	M  map[string]selfInt
	P  *selfInt
	Ar [2]selfInt
	N  selfNamed
}

func TestSelfEncoder(t *testing.T) {
	c, err := For[holder]()
	if err != nil {
		t.Fatal(err)
	}
	in := holder{A: selfInt{v: -7, note: "x"}, S: []selfInt{{v: 1}, {v: 2}}, M: map[string]selfInt{"k": {v: 3}},
		P: &selfInt{v: 4}, Ar: [2]selfInt{{v: 5}, {v: 6}}, N: selfNamed{selfInt{v: 8}}}
	enc := c.Append(nil, in)
	out, n, err := c.Decode(enc)
	if err != nil || n != len(enc) {
		t.Fatalf("decode: %v, %d of %d bytes", err, n, len(enc))
	}
	d := func(v int32) selfInt { return selfInt{v: v, note: "decoded"} }
	want := holder{A: d(-7), S: []selfInt{d(1), d(2)}, M: map[string]selfInt{"k": d(3)}, P: &selfInt{v: 4, note: "decoded"},
		Ar: [2]selfInt{d(5), d(6)}, N: selfNamed{d(8)}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("got %+v, want %+v", out, want)
	}
	if _, _, err := c.Decode(enc[:len(enc)-1]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated: %v, want ErrCorrupt", err)
	}
	// A self-encoding type alone: not the flat or fixed-width codecs.
	sc, err := For[selfInt]()
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.Append(nil, selfInt{v: 9}); len(got) != 4 || got[0] != 9 {
		t.Fatalf("selfInt encoded as %x", got)
	}
	if got, want := Schema[holder](), "struct{A self:codec.selfInt;S []self:codec.selfInt;M map[string]self:codec.selfInt;P *self:codec.selfInt;Ar [2]self:codec.selfInt;N struct{V int;};}"; got != want {
		t.Fatalf("schema %s, want %s", got, want)
	}
}
