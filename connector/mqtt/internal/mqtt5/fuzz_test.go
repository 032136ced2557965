package mqtt5

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecodePacket decodes arbitrary bytes: it must not panic; an error
// names the packet type and field (a *DecodeError) unless the input ran
// out; a packet that decodes encodes again to a packet that decodes the
// same.
func FuzzDecodePacket(f *testing.F) {
	for _, p := range samples() {
		b, err := Append(nil, p, 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 1})
	f.Add([]byte{0x20, 6, 0, 0, 3, 0x21, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _, err := DecodePacket(b)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), "malformed "+de.Packet.String()+" packet: ") || de.Field == "" {
				t.Fatalf("error %v is not a DecodeError naming the packet and field", err)
			}
			return
		}
		enc, err := Append(nil, p, 0)
		if err != nil {
			t.Fatalf("decoded %#v but cannot encode it: %v", p, err)
		}
		q, _, err := DecodePacket(enc)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("re-encoded %#v decodes as %#v, %v", p, q, err)
		}
		// ReadPacket agrees with DecodePacket.
		r, err := ReadPacket(bufio.NewReader(bytes.NewReader(enc)), 0)
		if err != nil && err != io.ErrUnexpectedEOF || err == nil && !reflect.DeepEqual(r, p) {
			t.Fatalf("ReadPacket %#v, %v", r, err)
		}
	})
}
