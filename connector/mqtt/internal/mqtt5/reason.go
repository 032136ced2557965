package mqtt5

import "fmt"

// ReasonCode is a reason code (spec 2.4): below 0x80 success, from 0x80 a
// failure.
type ReasonCode byte

// Reason codes the client acts on or names.
const (
	Success                     ReasonCode = 0x00 // also Normal disconnection, Granted QoS 0
	GrantedQoS1                 ReasonCode = 0x01
	GrantedQoS2                 ReasonCode = 0x02
	DisconnectWithWill          ReasonCode = 0x04
	NoMatchingSubscribers       ReasonCode = 0x10
	UnspecifiedError            ReasonCode = 0x80
	MalformedPacket             ReasonCode = 0x81
	ProtocolError               ReasonCode = 0x82
	ImplementationSpecificError ReasonCode = 0x83
	NotAuthorized               ReasonCode = 0x87
	ServerBusy                  ReasonCode = 0x89
	ServerShuttingDown          ReasonCode = 0x8b
	KeepAliveTimeout            ReasonCode = 0x8d
	SessionTakenOver            ReasonCode = 0x8e
	TopicFilterInvalid          ReasonCode = 0x8f
	TopicNameInvalid            ReasonCode = 0x90
	PacketIdentifierInUse       ReasonCode = 0x91
	ReceiveMaximumExceeded      ReasonCode = 0x93
	PacketTooLarge              ReasonCode = 0x95
	QuotaExceeded               ReasonCode = 0x97
	PayloadFormatInvalid        ReasonCode = 0x99
	QoSNotSupported             ReasonCode = 0x9b
	SharedSubNotSupported       ReasonCode = 0x9e
)

var reasonNames = map[ReasonCode]string{
	0x00: "Success", 0x01: "Granted QoS 1", 0x02: "Granted QoS 2", 0x04: "Disconnect with Will Message",
	0x10: "No matching subscribers", 0x11: "No subscription existed", 0x18: "Continue authentication",
	0x19: "Re-authenticate", 0x80: "Unspecified error", 0x81: "Malformed Packet", 0x82: "Protocol Error",
	0x83: "Implementation specific error", 0x84: "Unsupported Protocol Version", 0x85: "Client Identifier not valid",
	0x86: "Bad User Name or Password", 0x87: "Not authorized", 0x88: "Server unavailable", 0x89: "Server busy",
	0x8a: "Banned", 0x8b: "Server shutting down", 0x8c: "Bad authentication method", 0x8d: "Keep Alive timeout",
	0x8e: "Session taken over", 0x8f: "Topic Filter invalid", 0x90: "Topic Name invalid",
	0x91: "Packet Identifier in use", 0x92: "Packet Identifier not found", 0x93: "Receive Maximum exceeded",
	0x94: "Topic Alias invalid", 0x95: "Packet too large", 0x96: "Message rate too high", 0x97: "Quota exceeded",
	0x98: "Administrative action", 0x99: "Payload format invalid", 0x9a: "Retain not supported",
	0x9b: "QoS not supported", 0x9c: "Use another server", 0x9d: "Server moved",
	0x9e: "Shared Subscriptions not supported", 0x9f: "Connection rate exceeded", 0xa0: "Maximum connect time",
	0xa1: "Subscription Identifiers not supported", 0xa2: "Wildcard Subscriptions not supported",
}

func (c ReasonCode) String() string {
	if n, ok := reasonNames[c]; ok {
		return fmt.Sprintf("%#02x %s", byte(c), n)
	}
	return fmt.Sprintf("%#02x", byte(c))
}

// Failed reports whether c is a failure (>= 0x80).
func (c ReasonCode) Failed() bool { return c >= 0x80 }
