package mqtt5

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// PacketType is a control packet's type, the high nibble of its first
// byte (spec 2.1.2).
type PacketType byte

// The control packet types.
const (
	CONNECT     PacketType = 1
	CONNACK     PacketType = 2
	PUBLISH     PacketType = 3
	PUBACK      PacketType = 4
	PUBREC      PacketType = 5
	PUBREL      PacketType = 6
	PUBCOMP     PacketType = 7
	SUBSCRIBE   PacketType = 8
	SUBACK      PacketType = 9
	UNSUBSCRIBE PacketType = 10
	UNSUBACK    PacketType = 11
	PINGREQ     PacketType = 12
	PINGRESP    PacketType = 13
	DISCONNECT  PacketType = 14
	AUTH        PacketType = 15
)

var typeNames = [...]string{"reserved(0)", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL",
	"PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

func (t PacketType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", byte(t))
}

// MaxRemainingLength is the largest remaining length a variable byte
// integer of four bytes holds (spec 1.5.5).
const MaxRemainingLength = 268435455

// Packet is a control packet.
type Packet interface {
	// Type is the packet's type.
	Type() PacketType
	// appendBody appends the variable header and payload and returns the
	// fixed header's flags.
	appendBody(b []byte) ([]byte, byte, error)
}

// DecodeError is a malformed packet: it names the packet type and the
// field that could not be decoded.
type DecodeError struct {
	Packet PacketType
	Field  string
	Reason string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("mqtt5: malformed %s packet: %s: %s", e.Packet, e.Field, e.Reason)
}

// ErrMalformed is matched by every *DecodeError (errors.Is).
var ErrMalformed = errors.New("mqtt5: malformed packet")

// Is makes errors.Is(err, ErrMalformed) hold.
func (e *DecodeError) Is(target error) bool { return target == ErrMalformed }

// ErrInvalid is matched by the errors of packets that cannot be encoded
// (a field out of range, a string that is not valid UTF-8).
var ErrInvalid = errors.New("mqtt5: cannot encode")

// ErrTooLarge is returned for a packet larger than a maximum packet size.
var ErrTooLarge = errors.New("mqtt5: packet exceeds the maximum packet size")

// Connect is a CONNECT packet (spec 3.1). Protocol name "MQTT" and level 5
// are implied.
type Connect struct {
	ClientID   string
	CleanStart bool
	KeepAlive  uint16 // seconds; 0 turns keep-alive off
	Username   *string
	Password   []byte // sent if not nil
	Properties Properties
	Will       *Will
}

// Will is a CONNECT's will message.
type Will struct {
	Topic      string
	Payload    []byte
	QoS        byte
	Retain     bool
	Properties Properties
}

// Connack is a CONNACK packet (spec 3.2).
type Connack struct {
	SessionPresent bool
	ReasonCode     ReasonCode
	Properties     Properties
}

// Publish is a PUBLISH packet (spec 3.3).
type Publish struct {
	Topic      string
	QoS        byte
	Retain     bool
	Dup        bool
	PacketID   uint16 // QoS > 0 only
	Properties Properties
	Payload    []byte
}

// Ack is a PUBACK, PUBREC, PUBREL or PUBCOMP packet (spec 3.4-3.7).
type Ack struct {
	Kind       PacketType
	PacketID   uint16
	ReasonCode ReasonCode
	Properties Properties
}

// Subscription is one topic filter of a SUBSCRIBE with its options (spec
// 3.8.3.1).
type Subscription struct {
	Filter            string
	QoS               byte
	NoLocal           bool
	RetainAsPublished bool
	RetainHandling    byte // 0 send retained, 1 only for new subscriptions, 2 never
}

// Subscribe is a SUBSCRIBE packet (spec 3.8).
type Subscribe struct {
	PacketID      uint16
	Properties    Properties
	Subscriptions []Subscription
}

// Suback is a SUBACK packet (spec 3.9): a reason code per subscription.
type Suback struct {
	PacketID    uint16
	Properties  Properties
	ReasonCodes []ReasonCode
}

// Unsubscribe is an UNSUBSCRIBE packet (spec 3.10).
type Unsubscribe struct {
	PacketID   uint16
	Properties Properties
	Filters    []string
}

// Unsuback is an UNSUBACK packet (spec 3.11).
type Unsuback struct {
	PacketID    uint16
	Properties  Properties
	ReasonCodes []ReasonCode
}

// Pingreq is a PINGREQ packet.
type Pingreq struct{}

// Pingresp is a PINGRESP packet.
type Pingresp struct{}

// Disconnect is a DISCONNECT packet (spec 3.14).
type Disconnect struct {
	ReasonCode ReasonCode
	Properties Properties
}

// Auth is an AUTH packet (spec 3.15); decoded, never sent by the client.
type Auth struct {
	ReasonCode ReasonCode
	Properties Properties
}

func (*Connect) Type() PacketType     { return CONNECT }
func (*Connack) Type() PacketType     { return CONNACK }
func (*Publish) Type() PacketType     { return PUBLISH }
func (a *Ack) Type() PacketType       { return a.Kind }
func (*Subscribe) Type() PacketType   { return SUBSCRIBE }
func (*Suback) Type() PacketType      { return SUBACK }
func (*Unsubscribe) Type() PacketType { return UNSUBSCRIBE }
func (*Unsuback) Type() PacketType    { return UNSUBACK }
func (*Pingreq) Type() PacketType     { return PINGREQ }
func (*Pingresp) Type() PacketType    { return PINGRESP }
func (*Disconnect) Type() PacketType  { return DISCONNECT }
func (*Auth) Type() PacketType        { return AUTH }

// Append appends the encoding of p to dst. It fails if a field cannot be
// encoded (a string too long, invalid UTF-8, a QoS out of range) or if
// the packet exceeds maxSize (0: only the protocol's limit), with
// ErrTooLarge.
func Append(dst []byte, p Packet, maxSize uint32) ([]byte, error) {
	body, flags, err := p.appendBody(nil)
	if err != nil {
		return dst, fmt.Errorf("%w: %s: %w", ErrInvalid, p.Type(), err)
	}
	if len(body) > MaxRemainingLength {
		return dst, fmt.Errorf("mqtt5: encoding %s: %w (%d bytes)", p.Type(), ErrTooLarge, len(body))
	}
	n := len(dst)
	dst = append(dst, byte(p.Type())<<4|flags)
	dst = appendVarint(dst, uint32(len(body)))
	dst = append(dst, body...)
	if maxSize > 0 && uint32(len(dst)-n) > maxSize {
		return dst[:n], fmt.Errorf("mqtt5: encoding %s: %w: %d bytes, the server accepts %d", p.Type(), ErrTooLarge, len(dst)-n, maxSize)
	}
	return dst, nil
}

// ByteReader is what ReadPacket reads from (a *bufio.Reader).
type ByteReader interface {
	io.Reader
	io.ByteReader
}

// ReadPacket reads one packet from r. A packet larger than maxSize (0:
// the protocol's limit) is an ErrTooLarge error, and its body is not read.
func ReadPacket(r ByteReader, maxSize uint32) (Packet, error) {
	first, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	t := PacketType(first >> 4)
	var n uint32
	var hdr int
	for shift := 0; ; shift += 7 {
		if shift == 28 {
			return nil, &DecodeError{t, "remaining length", "more than 4 bytes"}
		}
		b, err := r.ReadByte()
		if err != nil {
			return nil, noEOF(err)
		}
		hdr++
		n |= uint32(b&0x7f) << shift
		if b&0x80 == 0 {
			break
		}
	}
	if maxSize > 0 && uint64(1+hdr)+uint64(n) > uint64(maxSize) {
		return nil, fmt.Errorf("mqtt5: reading %s: %w: %d bytes, the limit is %d", t, ErrTooLarge, 1+hdr+int(n), maxSize)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, noEOF(err)
	}
	return Decode(first, b)
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// DecodePacket decodes one whole packet, fixed header included, and
// returns the bytes after it.
func DecodePacket(b []byte) (Packet, []byte, error) {
	if len(b) == 0 {
		return nil, b, &DecodeError{0, "fixed header", "empty input"}
	}
	t := PacketType(b[0] >> 4)
	d := decoder{b: b[1:], pkt: t}
	n := d.varint("remaining length")
	if d.err != nil {
		return nil, b, d.err
	}
	if uint64(n) > uint64(len(d.b)) {
		return nil, b, &DecodeError{t, "remaining length", fmt.Sprintf("%d bytes announced, %d present", n, len(d.b))}
	}
	p, err := Decode(b[0], d.b[:n])
	return p, d.b[n:], err
}

// Decode decodes the packet whose first byte is first and whose variable
// header and payload are body. body is not retained: byte fields are
// copied.
func Decode(first byte, body []byte) (Packet, error) {
	t := PacketType(first >> 4)
	flags := first & 0x0f
	d := &decoder{b: body, pkt: t}
	want := byte(0)
	if t == PUBREL || t == SUBSCRIBE || t == UNSUBSCRIBE {
		want = 2
	}
	if t != PUBLISH && flags != want {
		return nil, &DecodeError{t, "fixed header flags", fmt.Sprintf("%#x, must be %#x", flags, want)}
	}
	var p Packet
	switch t {
	case CONNECT:
		p = d.connect()
	case CONNACK:
		c := &Connack{}
		ack := d.u8("acknowledge flags")
		if ack&^1 != 0 && d.err == nil {
			d.fail("acknowledge flags", fmt.Sprintf("reserved bits set (%#x)", ack))
		}
		c.SessionPresent = ack&1 == 1
		c.ReasonCode = ReasonCode(d.u8("reason code"))
		c.Properties = d.props()
		p = c
	case PUBLISH:
		p = d.publish(flags)
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		a := &Ack{Kind: t, PacketID: d.packetID()}
		// Reason code and properties may be omitted (spec 3.4.2.1).
		if len(d.b) > 0 {
			a.ReasonCode = ReasonCode(d.u8("reason code"))
			if len(d.b) > 0 {
				a.Properties = d.props()
			}
		}
		p = a
	case SUBSCRIBE:
		s := &Subscribe{PacketID: d.packetID(), Properties: d.props()}
		for d.err == nil && len(d.b) > 0 {
			f := d.str("topic filter")
			o := d.u8("subscription options")
			if d.err == nil && (o&0xc0 != 0 || o&3 == 3 || o>>4&3 == 3) {
				d.fail("subscription options", fmt.Sprintf("invalid value %#x", o))
			}
			s.Subscriptions = append(s.Subscriptions, Subscription{Filter: f, QoS: o & 3, NoLocal: o&4 != 0,
				RetainAsPublished: o&8 != 0, RetainHandling: o >> 4 & 3})
		}
		if d.err == nil && len(s.Subscriptions) == 0 {
			d.fail("payload", "no topic filter")
		}
		p = s
	case SUBACK, UNSUBACK:
		id := d.packetID()
		props := d.props()
		var codes []ReasonCode
		for _, c := range d.rest() {
			codes = append(codes, ReasonCode(c))
		}
		if d.err == nil && len(codes) == 0 {
			d.fail("payload", "no reason code")
		}
		if t == SUBACK {
			p = &Suback{PacketID: id, Properties: props, ReasonCodes: codes}
		} else {
			p = &Unsuback{PacketID: id, Properties: props, ReasonCodes: codes}
		}
	case UNSUBSCRIBE:
		u := &Unsubscribe{PacketID: d.packetID(), Properties: d.props()}
		for d.err == nil && len(d.b) > 0 {
			u.Filters = append(u.Filters, d.str("topic filter"))
		}
		if d.err == nil && len(u.Filters) == 0 {
			d.fail("payload", "no topic filter")
		}
		p = u
	case PINGREQ:
		p = &Pingreq{}
	case PINGRESP:
		p = &Pingresp{}
	case DISCONNECT, AUTH:
		var rc ReasonCode
		var props Properties
		if len(d.b) > 0 { // omitted: 0x00 and no properties
			rc = ReasonCode(d.u8("reason code"))
			if len(d.b) > 0 {
				props = d.props()
			}
		}
		if t == DISCONNECT {
			p = &Disconnect{ReasonCode: rc, Properties: props}
		} else {
			p = &Auth{ReasonCode: rc, Properties: props}
		}
	default:
		return nil, &DecodeError{t, "packet type", "reserved"}
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail("packet", fmt.Sprintf("%d bytes after the last field", len(d.b)))
	}
	if d.err != nil {
		return nil, d.err
	}
	return p, nil
}

func (d *decoder) connect() *Connect {
	c := &Connect{}
	if name := d.str("protocol name"); d.err == nil && name != "MQTT" {
		d.fail("protocol name", fmt.Sprintf("%q, must be \"MQTT\"", name))
	}
	if v := d.u8("protocol version"); d.err == nil && v != 5 {
		d.fail("protocol version", fmt.Sprintf("%d, must be 5", v))
	}
	f := d.u8("connect flags")
	if d.err == nil && (f&1 != 0 || f>>3&3 == 3 || (f&4 == 0 && f&0x38 != 0)) {
		d.fail("connect flags", fmt.Sprintf("invalid value %#x", f))
	}
	c.CleanStart = f&2 != 0
	c.KeepAlive = d.u16("keep alive")
	c.Properties = d.props()
	c.ClientID = d.str("client identifier")
	if f&4 != 0 {
		w := &Will{QoS: f >> 3 & 3, Retain: f&0x20 != 0}
		w.Properties = d.props()
		w.Topic = d.str("will topic")
		w.Payload = d.bin("will payload")
		c.Will = w
	}
	if f&0x80 != 0 {
		u := d.str("user name")
		c.Username = &u
	}
	if f&0x40 != 0 {
		c.Password = d.bin("password")
		if c.Password == nil {
			c.Password = []byte{}
		}
	}
	return c
}

func (d *decoder) publish(flags byte) *Publish {
	p := &Publish{Dup: flags&8 != 0, QoS: flags >> 1 & 3, Retain: flags&1 != 0}
	if p.QoS == 3 {
		d.fail("fixed header flags", "QoS 3")
		return p
	}
	if p.QoS == 0 && p.Dup {
		d.fail("fixed header flags", "DUP set at QoS 0")
		return p
	}
	p.Topic = d.str("topic name")
	if d.err == nil && !ValidTopic(p.Topic) && p.Topic != "" {
		d.fail("topic name", fmt.Sprintf("%q holds a wildcard", p.Topic))
	}
	if p.QoS > 0 {
		p.PacketID = d.packetID()
	}
	p.Properties = d.props()
	if d.err == nil && p.Topic == "" && p.Properties.TopicAlias == 0 {
		d.fail("topic name", "empty without a topic alias")
	}
	if d.err == nil {
		p.Payload = append([]byte{}, d.b...)
		d.b = nil
	}
	return p
}

// ValidTopic reports whether name is a topic name a PUBLISH may carry: not
// empty, no wildcard, no U+0000, valid UTF-8, at most 65535 bytes.
func ValidTopic(name string) bool {
	if name == "" || len(name) > 0xffff || !utf8.ValidString(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '+', '#', 0:
			return false
		}
	}
	return true
}

// decoder reads fields of one packet's body; the first failure sticks.
type decoder struct {
	b   []byte
	pkt PacketType
	err error
}

func (d *decoder) fail(field, reason string) {
	if d.err == nil {
		d.err = &DecodeError{d.pkt, field, reason}
	}
}

func (d *decoder) need(field string, n int) bool {
	if d.err != nil {
		return false
	}
	if len(d.b) < n {
		d.fail(field, fmt.Sprintf("truncated: %d bytes needed, %d left", n, len(d.b)))
		return false
	}
	return true
}

func (d *decoder) u8(field string) byte {
	if !d.need(field, 1) {
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u16(field string) uint16 {
	if !d.need(field, 2) {
		return 0
	}
	v := uint16(d.b[0])<<8 | uint16(d.b[1])
	d.b = d.b[2:]
	return v
}

func (d *decoder) u32(field string) uint32 {
	if !d.need(field, 4) {
		return 0
	}
	v := uint32(d.b[0])<<24 | uint32(d.b[1])<<16 | uint32(d.b[2])<<8 | uint32(d.b[3])
	d.b = d.b[4:]
	return v
}

func (d *decoder) packetID() uint16 {
	v := d.u16("packet identifier")
	if d.err == nil && v == 0 {
		d.fail("packet identifier", "zero")
	}
	return v
}

// varint reads a variable byte integer (spec 1.5.5).
func (d *decoder) varint(field string) uint32 {
	var v uint32
	for i := 0; i < 4; i++ {
		if !d.need(field, 1) {
			return 0
		}
		b := d.b[0]
		d.b = d.b[1:]
		v |= uint32(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			if i > 0 && b == 0 {
				d.fail(field, "variable byte integer not in its shortest form")
			}
			return v
		}
	}
	d.fail(field, "variable byte integer longer than 4 bytes")
	return 0
}

func (d *decoder) bin(field string) []byte {
	n := int(d.u16(field + " length"))
	if !d.need(field, n) {
		return nil
	}
	v := append([]byte{}, d.b[:n]...)
	d.b = d.b[n:]
	return v
}

// str reads a UTF-8 encoded string (spec 1.5.4): valid UTF-8, no U+0000.
func (d *decoder) str(field string) string {
	n := int(d.u16(field + " length"))
	if !d.need(field, n) {
		return ""
	}
	s := d.b[:n]
	d.b = d.b[n:]
	if !utf8.Valid(s) {
		d.fail(field, "invalid UTF-8")
		return ""
	}
	for _, c := range s {
		if c == 0 {
			d.fail(field, "holds U+0000")
			return ""
		}
	}
	return string(s)
}

func (d *decoder) rest() []byte {
	if d.err != nil {
		return nil
	}
	v := d.b
	d.b = nil
	return v
}

func appendVarint(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v > 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

func appendU16(b []byte, v uint16) []byte { return append(b, byte(v>>8), byte(v)) }

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func appendStr(b []byte, field, s string) ([]byte, error) {
	if len(s) > 0xffff {
		return b, fmt.Errorf("%s: %d bytes, at most 65535", field, len(s))
	}
	if !utf8.ValidString(s) {
		return b, fmt.Errorf("%s: invalid UTF-8", field)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return b, fmt.Errorf("%s: holds U+0000", field)
		}
	}
	return append(appendU16(b, uint16(len(s))), s...), nil
}

func appendBin(b []byte, field string, v []byte) ([]byte, error) {
	if len(v) > 0xffff {
		return b, fmt.Errorf("%s: %d bytes, at most 65535", field, len(v))
	}
	return append(appendU16(b, uint16(len(v))), v...), nil
}

func (c *Connect) appendBody(b []byte) ([]byte, byte, error) {
	b = append(appendU16(b, 4), "MQTT"...)
	b = append(b, 5)
	var f byte
	if c.CleanStart {
		f |= 2
	}
	if w := c.Will; w != nil {
		if w.QoS > 2 {
			return b, 0, fmt.Errorf("will QoS %d", w.QoS)
		}
		f |= 4 | w.QoS<<3
		if w.Retain {
			f |= 0x20
		}
	}
	if c.Password != nil {
		f |= 0x40
	}
	if c.Username != nil {
		f |= 0x80
	}
	b = appendU16(append(b, f), c.KeepAlive)
	var err error
	if b, err = c.Properties.append(b); err != nil {
		return b, 0, err
	}
	if b, err = appendStr(b, "client identifier", c.ClientID); err != nil {
		return b, 0, err
	}
	if w := c.Will; w != nil {
		if b, err = w.Properties.append(b); err != nil {
			return b, 0, err
		}
		if b, err = appendStr(b, "will topic", w.Topic); err != nil {
			return b, 0, err
		}
		if b, err = appendBin(b, "will payload", w.Payload); err != nil {
			return b, 0, err
		}
	}
	if c.Username != nil {
		if b, err = appendStr(b, "user name", *c.Username); err != nil {
			return b, 0, err
		}
	}
	if c.Password != nil {
		if b, err = appendBin(b, "password", c.Password); err != nil {
			return b, 0, err
		}
	}
	return b, 0, nil
}

func (c *Connack) appendBody(b []byte) ([]byte, byte, error) {
	var f byte
	if c.SessionPresent {
		f = 1
	}
	b, err := c.Properties.append(append(b, f, byte(c.ReasonCode)))
	return b, 0, err
}

func (p *Publish) appendBody(b []byte) ([]byte, byte, error) {
	if p.QoS > 2 {
		return b, 0, fmt.Errorf("QoS %d", p.QoS)
	}
	if p.Topic != "" && !ValidTopic(p.Topic) || p.Topic == "" && p.Properties.TopicAlias == 0 {
		return b, 0, fmt.Errorf("topic name %q cannot be published to", p.Topic)
	}
	flags := p.QoS << 1
	if p.Dup {
		flags |= 8
	}
	if p.Retain {
		flags |= 1
	}
	b, err := appendStr(b, "topic name", p.Topic)
	if err != nil {
		return b, 0, err
	}
	if p.QoS > 0 {
		if p.PacketID == 0 {
			return b, 0, errors.New("packet identifier: zero at QoS > 0")
		}
		b = appendU16(b, p.PacketID)
	}
	if b, err = p.Properties.append(b); err != nil {
		return b, 0, err
	}
	return append(b, p.Payload...), flags, nil
}

func (a *Ack) appendBody(b []byte) ([]byte, byte, error) {
	if a.Kind < PUBACK || a.Kind > PUBCOMP {
		return b, 0, fmt.Errorf("ack of kind %s", a.Kind)
	}
	var flags byte
	if a.Kind == PUBREL {
		flags = 2
	}
	b = appendU16(b, a.PacketID)
	if a.ReasonCode == 0 && a.Properties.empty() {
		return b, flags, nil // the short form (spec 3.4.2.1)
	}
	b, err := a.Properties.append(append(b, byte(a.ReasonCode)))
	return b, flags, err
}

func (s *Subscribe) appendBody(b []byte) ([]byte, byte, error) {
	if len(s.Subscriptions) == 0 {
		return b, 0, errors.New("no subscription")
	}
	b, err := s.Properties.append(appendU16(b, s.PacketID))
	if err != nil {
		return b, 0, err
	}
	for _, sub := range s.Subscriptions {
		if sub.QoS > 2 || sub.RetainHandling > 2 {
			return b, 0, fmt.Errorf("subscription %q: QoS %d, retain handling %d", sub.Filter, sub.QoS, sub.RetainHandling)
		}
		if b, err = appendStr(b, "topic filter", sub.Filter); err != nil {
			return b, 0, err
		}
		o := sub.QoS | sub.RetainHandling<<4
		if sub.NoLocal {
			o |= 4
		}
		if sub.RetainAsPublished {
			o |= 8
		}
		b = append(b, o)
	}
	return b, 2, nil
}

func appendCodes(b []byte, codes []ReasonCode) []byte {
	for _, c := range codes {
		b = append(b, byte(c))
	}
	return b
}

func (s *Suback) appendBody(b []byte) ([]byte, byte, error) {
	b, err := s.Properties.append(appendU16(b, s.PacketID))
	return appendCodes(b, s.ReasonCodes), 0, err
}

func (u *Unsubscribe) appendBody(b []byte) ([]byte, byte, error) {
	if len(u.Filters) == 0 {
		return b, 0, errors.New("no topic filter")
	}
	b, err := u.Properties.append(appendU16(b, u.PacketID))
	if err != nil {
		return b, 0, err
	}
	for _, f := range u.Filters {
		if b, err = appendStr(b, "topic filter", f); err != nil {
			return b, 0, err
		}
	}
	return b, 2, nil
}

func (u *Unsuback) appendBody(b []byte) ([]byte, byte, error) {
	b, err := u.Properties.append(appendU16(b, u.PacketID))
	return appendCodes(b, u.ReasonCodes), 0, err
}

func (*Pingreq) appendBody(b []byte) ([]byte, byte, error)  { return b, 0, nil }
func (*Pingresp) appendBody(b []byte) ([]byte, byte, error) { return b, 0, nil }

func (d *Disconnect) appendBody(b []byte) ([]byte, byte, error) {
	if d.ReasonCode == 0 && d.Properties.empty() {
		return b, 0, nil
	}
	b, err := d.Properties.append(append(b, byte(d.ReasonCode)))
	return b, 0, err
}

func (a *Auth) appendBody(b []byte) ([]byte, byte, error) {
	if a.ReasonCode == 0 && a.Properties.empty() {
		return b, 0, nil
	}
	b, err := a.Properties.append(append(b, byte(a.ReasonCode)))
	return b, 0, err
}
