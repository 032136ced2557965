package redis

import "testing"

// FuzzDecodePosition: any bytes decode to a position that encodes back
// to them, or to an error; never a panic.
func FuzzDecodePosition(f *testing.F) {
	f.Add(position{consumer: 2, stream: "s", id: streamID{1, 2}}.encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePosition(b)
		if err != nil {
			return
		}
		if q, err := decodePosition(p.encode()); err != nil || q != p {
			t.Fatalf("%+v re-decoded as %+v, %v", p, q, err)
		}
	})
}
