package codec_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir/codec"
)

type zeroSize struct {
	Marks []struct{}
	Empty [][0]int
	Set   map[string]struct{}
	N     int
}

// FuzzDecodeZeroSize decodes arbitrary bytes as a value with slices of
// zero-size elements, whose count no byte length bounds: a claimed count
// of 2^60 or 2^64-1 must fail or decode at once, not loop or panic; what
// decodes round-trips.
func FuzzDecodeZeroSize(f *testing.F) {
	c := codec.Must[zeroSize]()
	f.Add(c.Append(nil, zeroSize{Marks: make([]struct{}, 3), Empty: make([][0]int, 2), Set: map[string]struct{}{"a": {}}, N: 7}))
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := c.Decode(b)
		if err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if n > len(b) {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
		again, _, err := c.Decode(c.Append(nil, v))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v, again); diff != "" {
			t.Fatalf("(-first +second):\n%s", diff)
		}
	})
}
