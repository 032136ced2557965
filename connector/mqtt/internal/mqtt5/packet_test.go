package mqtt5

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func u32p(v uint32) *uint32 { return &v }
func u16p(v uint16) *uint16 { return &v }
func bp(v byte) *byte       { return &v }

// samples are one packet of each kind, with most properties set.
func samples() []Packet {
	user := "u"
	return []Packet{
		&Connect{ClientID: "weir-mqtt5-c", CleanStart: false, KeepAlive: 30, Username: &user, Password: []byte("pw"),
			Properties: Properties{SessionExpiry: 0xFFFFFFFF, ReceiveMaximum: 100, MaximumPacketSize: 1 << 20,
				RequestProblemInfo: bp(1), User: []UserProperty{{"k", "v"}}},
			Will: &Will{Topic: "will/t", Payload: []byte("gone"), QoS: 1, Retain: true,
				Properties: Properties{WillDelay: 5, MessageExpiry: u32p(60)}}},
		&Connect{ClientID: "", CleanStart: true},
		&Connack{SessionPresent: true, ReasonCode: Success, Properties: Properties{ReceiveMaximum: 20,
			MaximumQoS: bp(1), RetainAvailable: bp(0), MaximumPacketSize: 1000, TopicAliasMaximum: 10,
			AssignedClientID: "auto-1", ServerKeepAlive: u16p(60), WildcardSubAvailable: bp(1),
			SubIDAvailable: bp(0), SharedSubAvailable: bp(1), ReasonString: "ok", ResponseInfo: "r",
			ServerReference: "other:1883"}},
		&Connack{ReasonCode: 0x87},
		&Publish{Topic: "a/b", QoS: 1, Dup: true, Retain: true, PacketID: 7, Payload: []byte("hello"),
			Properties: Properties{PayloadFormat: 1, MessageExpiry: u32p(10), ContentType: "text/plain",
				ResponseTopic: "resp", CorrelationData: []byte{1, 2}, SubscriptionIdentifier: []uint32{1, 268435455},
				User: []UserProperty{{"a", "1"}, {"a", "2"}, {"", ""}}}},
		&Publish{Topic: "q0", Payload: []byte{}},
		&Ack{Kind: PUBACK, PacketID: 9},
		&Ack{Kind: PUBACK, PacketID: 9, ReasonCode: PayloadFormatInvalid, Properties: Properties{ReasonString: "not utf-8"}},
		&Ack{Kind: PUBREL, PacketID: 3, ReasonCode: 0x92},
		&Subscribe{PacketID: 1, Properties: Properties{SubscriptionIdentifier: []uint32{5}},
			Subscriptions: []Subscription{{Filter: "$share/g/a/#", QoS: 1}, {Filter: "b/+", QoS: 0, NoLocal: true,
				RetainAsPublished: true, RetainHandling: 2}}},
		&Suback{PacketID: 1, ReasonCodes: []ReasonCode{GrantedQoS1, SharedSubNotSupported}},
		&Unsubscribe{PacketID: 2, Filters: []string{"a/#", "b"}},
		&Unsuback{PacketID: 2, ReasonCodes: []ReasonCode{0, 0x11}, Properties: Properties{User: []UserProperty{{"x", "y"}}}},
		&Pingreq{}, &Pingresp{},
		&Disconnect{},
		&Disconnect{ReasonCode: SessionTakenOver, Properties: Properties{ReasonString: "taken", SessionExpiry: 0}},
		&Auth{ReasonCode: 0x18, Properties: Properties{AuthMethod: "SCRAM", AuthData: []byte{0}}},
	}
}

// TestRoundTrip encodes each sample and decodes it back, through
// DecodePacket and through ReadPacket.
func TestRoundTrip(t *testing.T) {
	var all []byte
	for _, p := range samples() {
		b, err := Append(nil, p, 0)
		if err != nil {
			t.Fatalf("%s: %v", p.Type(), err)
		}
		all = append(all, b...)
		got, rest, err := DecodePacket(b)
		if err != nil || len(rest) != 0 {
			t.Fatalf("%s: decoding % x: %v (rest %d)", p.Type(), b, err, len(rest))
		}
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("%s: round trip\n got %#v\nwant %#v", p.Type(), got, p)
		}
	}
	r := bufio.NewReader(bytes.NewReader(all))
	for _, p := range samples() {
		got, err := ReadPacket(r, 0)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Fatalf("ReadPacket %s: %v %#v", p.Type(), err, got)
		}
	}
}

// TestVarint checks the variable byte integer's boundaries (spec 1.5.5).
func TestVarint(t *testing.T) {
	for _, c := range []struct {
		v   uint32
		enc []byte
	}{
		{0, []byte{0}}, {127, []byte{0x7f}}, {128, []byte{0x80, 1}}, {16383, []byte{0xff, 0x7f}},
		{16384, []byte{0x80, 0x80, 1}}, {2097151, []byte{0xff, 0xff, 0x7f}},
		{2097152, []byte{0x80, 0x80, 0x80, 1}}, {268435455, []byte{0xff, 0xff, 0xff, 0x7f}},
	} {
		if got := appendVarint(nil, c.v); !bytes.Equal(got, c.enc) {
			t.Errorf("encode %d: % x, want % x", c.v, got, c.enc)
		}
		d := decoder{b: c.enc}
		if got := d.varint("x"); got != c.v || d.err != nil || len(d.b) != 0 {
			t.Errorf("decode % x: %d %v", c.enc, got, d.err)
		}
	}
}

// TestDecodeErrors: malformed packets fail with an error naming the
// packet type and the field.
func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "fixed header"},
		{"long remaining length", []byte{0x30, 0xff, 0xff, 0xff, 0xff, 1}, "PUBLISH packet: remaining length"},
		{"short body", []byte{0x30, 5, 0, 1}, "PUBLISH packet: remaining length: 5 bytes announced"},
		{"topic truncated", []byte{0x30, 3, 0, 5, 'a'}, "PUBLISH packet: topic name: truncated"},
		{"QoS 3", []byte{0x36, 3, 0, 1, 'a'}, "PUBLISH packet: fixed header flags: QoS 3"},
		{"wildcard topic", []byte{0x30, 4, 0, 1, '#', 0}, "PUBLISH packet: topic name"},
		{"bad UTF-8", []byte{0x30, 5, 0, 2, 0xc3, 0x28, 0}, "PUBLISH packet: topic name: invalid UTF-8"},
		{"U+0000", []byte{0x30, 4, 0, 1, 0, 0}, "PUBLISH packet: topic name: holds U+0000"},
		{"packet id zero", []byte{0x32, 6, 0, 1, 'a', 0, 0, 0}, "PUBLISH packet: packet identifier: zero"},
		{"unknown property", []byte{0x30, 6, 0, 1, 'a', 2, 0x7f, 0}, "PUBLISH packet: property identifier: unknown property 0x7f"},
		{"repeated property", []byte{0x30, 8, 0, 1, 'a', 4, 1, 1, 1, 1}, "PUBLISH packet: payload format indicator: property repeated"},
		{"property range", []byte{0x30, 6, 0, 1, 'a', 2, 1, 2}, "PUBLISH packet: payload format indicator: 2, must be 0 or 1"},
		{"properties overrun", []byte{0x30, 5, 0, 1, 'a', 9, 1}, "PUBLISH packet: properties: truncated"},
		{"non-minimal varint", []byte{0x30, 6, 0, 1, 'a', 0x80, 0x00, 0}, "PUBLISH packet: property length: variable byte integer not in its shortest form"},
		{"puback flags", []byte{0x41, 2, 0, 1}, "PUBACK packet: fixed header flags"},
		{"puback truncated", []byte{0x40, 1, 0}, "PUBACK packet: packet identifier: truncated"},
		{"connack reserved", []byte{0x20, 3, 2, 0, 0}, "CONNACK packet: acknowledge flags: reserved bits"},
		{"connack trailing", []byte{0x20, 4, 0, 0, 0, 9}, "CONNACK packet: packet: 1 bytes after the last field"},
		{"receive maximum zero", []byte{0x20, 6, 0, 0, 3, 0x21, 0, 0}, "CONNACK packet: receive maximum: zero"},
		{"suback empty", []byte{0x90, 3, 0, 1, 0}, "SUBACK packet: payload: no reason code"},
		{"subscribe flags", []byte{0x80, 3, 0, 1, 0}, "SUBSCRIBE packet: fixed header flags"},
		{"subscribe options", []byte{0x82, 7, 0, 1, 0, 0, 1, 'a', 0xc0}, "SUBSCRIBE packet: subscription options"},
		{"connect version", []byte{0x10, 7, 0, 4, 'M', 'Q', 'T', 'T', 4}, "CONNECT packet: protocol version: 4, must be 5"},
		{"reserved type", []byte{0x00, 0}, "reserved(0) packet: packet type"},
		{"pingresp body", []byte{0xd0, 1, 0}, "PINGRESP packet: packet: 1 bytes after"},
	} {
		_, _, err := DecodePacket(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestEncodeErrors: packets that cannot be encoded, and the size limit.
func TestEncodeErrors(t *testing.T) {
	for _, c := range []struct {
		p    Packet
		want error
	}{
		{&Publish{Topic: "a/+", Payload: []byte("x")}, ErrInvalid},
		{&Publish{Topic: "a", QoS: 1}, ErrInvalid}, // packet id 0
		{&Publish{Topic: "a", Properties: Properties{User: []UserProperty{{"k", "\xff"}}}}, ErrInvalid},
		{&Publish{Topic: "a", Payload: make([]byte, 100)}, ErrTooLarge},
		{&Subscribe{PacketID: 1}, ErrInvalid},
	} {
		if _, err := Append(nil, c.p, 64); !errors.Is(err, c.want) {
			t.Errorf("%#v: %v, want %v", c.p, err, c.want)
		}
	}
	if _, err := ReadPacket(bufio.NewReader(bytes.NewReader([]byte{0x30, 100})), 50); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadPacket over the limit: %v", err)
	}
}
