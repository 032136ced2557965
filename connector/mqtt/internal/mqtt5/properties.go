package mqtt5

import (
	"fmt"
)

// Property identifiers (spec 2.2.2.2).
const (
	propPayloadFormat          = 0x01
	propMessageExpiry          = 0x02
	propContentType            = 0x03
	propResponseTopic          = 0x08
	propCorrelationData        = 0x09
	propSubscriptionIdentifier = 0x0b
	propSessionExpiry          = 0x11
	propAssignedClientID       = 0x12
	propServerKeepAlive        = 0x13
	propAuthMethod             = 0x15
	propAuthData               = 0x16
	propRequestProblemInfo     = 0x17
	propWillDelay              = 0x18
	propRequestResponseInfo    = 0x19
	propResponseInfo           = 0x1a
	propServerReference        = 0x1c
	propReasonString           = 0x1f
	propReceiveMaximum         = 0x21
	propTopicAliasMaximum      = 0x22
	propTopicAlias             = 0x23
	propMaximumQoS             = 0x24
	propRetainAvailable        = 0x25
	propUserProperty           = 0x26
	propMaximumPacketSize      = 0x27
	propWildcardSubAvailable   = 0x28
	propSubIDAvailable         = 0x29
	propSharedSubAvailable     = 0x2a
)

// UserProperty is a name-value pair (property 0x26); a packet may carry
// several with the same name, in order.
type UserProperty struct {
	Key, Value string
}

// Properties are a packet's properties. A zero field is absent, except
// the pointer fields, whose zero value means something else than the
// property's absence (spec 3.x "if absent" defaults).
type Properties struct {
	PayloadFormat          byte    // 0x01: 1 = UTF-8 payload
	MessageExpiry          *uint32 // 0x02: seconds
	ContentType            string  // 0x03
	ResponseTopic          string  // 0x08
	CorrelationData        []byte  // 0x09
	SubscriptionIdentifier []uint32
	SessionExpiry          uint32  // 0x11: seconds; 0xFFFFFFFF never expires
	AssignedClientID       string  // 0x12
	ServerKeepAlive        *uint16 // 0x13
	AuthMethod             string  // 0x15
	AuthData               []byte  // 0x16
	RequestProblemInfo     *byte   // 0x17
	WillDelay              uint32  // 0x18
	RequestResponseInfo    byte    // 0x19
	ResponseInfo           string  // 0x1a
	ServerReference        string  // 0x1c
	ReasonString           string  // 0x1f
	ReceiveMaximum         uint16  // 0x21: absent = 65535
	TopicAliasMaximum      uint16  // 0x22
	TopicAlias             uint16  // 0x23
	MaximumQoS             *byte   // 0x24: absent = 2
	RetainAvailable        *byte   // 0x25: absent = 1
	User                   []UserProperty
	MaximumPacketSize      uint32 // 0x27: absent = no limit but the protocol's
	WildcardSubAvailable   *byte  // 0x28: absent = 1
	SubIDAvailable         *byte  // 0x29: absent = 1
	SharedSubAvailable     *byte  // 0x2a: absent = 1
}

func (p *Properties) empty() bool {
	b, _ := p.append(nil)
	return len(b) == 1
}

// append appends the property length and the properties, in identifier
// order.
func (p *Properties) append(dst []byte) ([]byte, error) {
	var b []byte
	var err error
	u8 := func(id, v byte) { b = append(b, id, v) }
	u16 := func(id byte, v uint16) { b = appendU16(append(b, id), v) }
	u32 := func(id byte, v uint32) { b = appendU32(append(b, id), v) }
	str := func(id byte, field, v string) {
		if err == nil {
			b, err = appendStr(append(b, id), field, v)
		}
	}
	bin := func(id byte, field string, v []byte) {
		if err == nil {
			b, err = appendBin(append(b, id), field, v)
		}
	}
	if p.PayloadFormat != 0 {
		u8(propPayloadFormat, p.PayloadFormat)
	}
	if p.MessageExpiry != nil {
		u32(propMessageExpiry, *p.MessageExpiry)
	}
	if p.ContentType != "" {
		str(propContentType, "content type", p.ContentType)
	}
	if p.ResponseTopic != "" {
		str(propResponseTopic, "response topic", p.ResponseTopic)
	}
	if p.CorrelationData != nil {
		bin(propCorrelationData, "correlation data", p.CorrelationData)
	}
	for _, id := range p.SubscriptionIdentifier {
		if id == 0 || id > MaxRemainingLength {
			return dst, fmt.Errorf("subscription identifier %d out of range", id)
		}
		b = appendVarint(append(b, propSubscriptionIdentifier), id)
	}
	if p.SessionExpiry != 0 {
		u32(propSessionExpiry, p.SessionExpiry)
	}
	if p.AssignedClientID != "" {
		str(propAssignedClientID, "assigned client identifier", p.AssignedClientID)
	}
	if p.ServerKeepAlive != nil {
		u16(propServerKeepAlive, *p.ServerKeepAlive)
	}
	if p.AuthMethod != "" {
		str(propAuthMethod, "authentication method", p.AuthMethod)
	}
	if p.AuthData != nil {
		bin(propAuthData, "authentication data", p.AuthData)
	}
	if p.RequestProblemInfo != nil {
		u8(propRequestProblemInfo, *p.RequestProblemInfo)
	}
	if p.WillDelay != 0 {
		u32(propWillDelay, p.WillDelay)
	}
	if p.RequestResponseInfo != 0 {
		u8(propRequestResponseInfo, p.RequestResponseInfo)
	}
	if p.ResponseInfo != "" {
		str(propResponseInfo, "response information", p.ResponseInfo)
	}
	if p.ServerReference != "" {
		str(propServerReference, "server reference", p.ServerReference)
	}
	if p.ReasonString != "" {
		str(propReasonString, "reason string", p.ReasonString)
	}
	if p.ReceiveMaximum != 0 {
		u16(propReceiveMaximum, p.ReceiveMaximum)
	}
	if p.TopicAliasMaximum != 0 {
		u16(propTopicAliasMaximum, p.TopicAliasMaximum)
	}
	if p.TopicAlias != 0 {
		u16(propTopicAlias, p.TopicAlias)
	}
	if p.MaximumQoS != nil {
		u8(propMaximumQoS, *p.MaximumQoS)
	}
	if p.RetainAvailable != nil {
		u8(propRetainAvailable, *p.RetainAvailable)
	}
	for _, u := range p.User {
		str(propUserProperty, "user property name", u.Key)
		if err == nil {
			b, err = appendStr(b, "user property value", u.Value)
		}
	}
	if p.MaximumPacketSize != 0 {
		u32(propMaximumPacketSize, p.MaximumPacketSize)
	}
	if p.WildcardSubAvailable != nil {
		u8(propWildcardSubAvailable, *p.WildcardSubAvailable)
	}
	if p.SubIDAvailable != nil {
		u8(propSubIDAvailable, *p.SubIDAvailable)
	}
	if p.SharedSubAvailable != nil {
		u8(propSharedSubAvailable, *p.SharedSubAvailable)
	}
	if err != nil {
		return dst, err
	}
	dst = appendVarint(dst, uint32(len(b)))
	return append(dst, b...), nil
}

// props reads a property length and the properties. A property that
// is unknown, repeated (but for user properties and subscription
// identifiers) or out of its range is malformed.
func (d *decoder) props() Properties {
	var p Properties
	n := d.varint("property length")
	if !d.need("properties", int(n)) {
		return p
	}
	sub := decoder{b: d.b[:n], pkt: d.pkt}
	d.b = d.b[n:]
	var seen [2]uint64
	for sub.err == nil && len(sub.b) > 0 {
		id := sub.varint("property identifier")
		if sub.err != nil {
			break
		}
		name := propName(id)
		if id < 128 && id != propUserProperty && id != propSubscriptionIdentifier {
			w, bit := id/64, uint64(1)<<(id%64)
			if seen[w]&bit != 0 {
				sub.fail(name, "property repeated")
				break
			}
			seen[w] |= bit
		}
		flag := func(f string) *byte {
			v := sub.u8(f)
			if sub.err == nil && v > 1 {
				sub.fail(f, fmt.Sprintf("%d, must be 0 or 1", v))
			}
			return &v
		}
		switch id {
		case propPayloadFormat:
			p.PayloadFormat = *flag(name)
		case propMessageExpiry:
			v := sub.u32(name)
			p.MessageExpiry = &v
		case propContentType:
			p.ContentType = sub.str(name)
		case propResponseTopic:
			p.ResponseTopic = sub.str(name)
		case propCorrelationData:
			p.CorrelationData = sub.bin(name)
		case propSubscriptionIdentifier:
			v := sub.varint(name)
			if sub.err == nil && v == 0 {
				sub.fail(name, "zero")
			}
			p.SubscriptionIdentifier = append(p.SubscriptionIdentifier, v)
		case propSessionExpiry:
			p.SessionExpiry = sub.u32(name)
		case propAssignedClientID:
			p.AssignedClientID = sub.str(name)
		case propServerKeepAlive:
			v := sub.u16(name)
			p.ServerKeepAlive = &v
		case propAuthMethod:
			p.AuthMethod = sub.str(name)
		case propAuthData:
			p.AuthData = sub.bin(name)
		case propRequestProblemInfo:
			p.RequestProblemInfo = flag(name)
		case propWillDelay:
			p.WillDelay = sub.u32(name)
		case propRequestResponseInfo:
			p.RequestResponseInfo = *flag(name)
		case propResponseInfo:
			p.ResponseInfo = sub.str(name)
		case propServerReference:
			p.ServerReference = sub.str(name)
		case propReasonString:
			p.ReasonString = sub.str(name)
		case propReceiveMaximum:
			p.ReceiveMaximum = sub.u16(name)
			if sub.err == nil && p.ReceiveMaximum == 0 {
				sub.fail(name, "zero")
			}
		case propTopicAliasMaximum:
			p.TopicAliasMaximum = sub.u16(name)
		case propTopicAlias:
			p.TopicAlias = sub.u16(name)
			if sub.err == nil && p.TopicAlias == 0 {
				sub.fail(name, "zero")
			}
		case propMaximumQoS:
			p.MaximumQoS = flag(name)
		case propRetainAvailable:
			p.RetainAvailable = flag(name)
		case propUserProperty:
			k := sub.str("user property name")
			v := sub.str("user property value")
			p.User = append(p.User, UserProperty{k, v})
		case propMaximumPacketSize:
			p.MaximumPacketSize = sub.u32(name)
			if sub.err == nil && p.MaximumPacketSize == 0 {
				sub.fail(name, "zero")
			}
		case propWildcardSubAvailable:
			p.WildcardSubAvailable = flag(name)
		case propSubIDAvailable:
			p.SubIDAvailable = flag(name)
		case propSharedSubAvailable:
			p.SharedSubAvailable = flag(name)
		default:
			sub.fail("property identifier", fmt.Sprintf("unknown property %#x", id))
		}
	}
	if sub.err != nil && d.err == nil {
		d.err = sub.err
	}
	return p
}

func propName(id uint32) string {
	switch id {
	case propPayloadFormat:
		return "payload format indicator"
	case propMessageExpiry:
		return "message expiry interval"
	case propContentType:
		return "content type"
	case propResponseTopic:
		return "response topic"
	case propCorrelationData:
		return "correlation data"
	case propSubscriptionIdentifier:
		return "subscription identifier"
	case propSessionExpiry:
		return "session expiry interval"
	case propAssignedClientID:
		return "assigned client identifier"
	case propServerKeepAlive:
		return "server keep alive"
	case propAuthMethod:
		return "authentication method"
	case propAuthData:
		return "authentication data"
	case propRequestProblemInfo:
		return "request problem information"
	case propWillDelay:
		return "will delay interval"
	case propRequestResponseInfo:
		return "request response information"
	case propResponseInfo:
		return "response information"
	case propServerReference:
		return "server reference"
	case propReasonString:
		return "reason string"
	case propReceiveMaximum:
		return "receive maximum"
	case propTopicAliasMaximum:
		return "topic alias maximum"
	case propTopicAlias:
		return "topic alias"
	case propMaximumQoS:
		return "maximum QoS"
	case propRetainAvailable:
		return "retain available"
	case propUserProperty:
		return "user property"
	case propMaximumPacketSize:
		return "maximum packet size"
	case propWildcardSubAvailable:
		return "wildcard subscription available"
	case propSubIDAvailable:
		return "subscription identifiers available"
	case propSharedSubAvailable:
		return "shared subscription available"
	}
	return fmt.Sprintf("property %#x", id)
}
