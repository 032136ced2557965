// Package mqtt5 is an MQTT 5.0 client for Weir's MQTT connector, written
// from the OASIS MQTT Version 5.0 specification (no code of other
// clients).
//
// The codec (packet.go, properties.go) encodes and decodes every control
// packet: the fixed header with its remaining length as a variable byte
// integer (at most four bytes, shortest form required), UTF-8 strings
// (valid UTF-8, no U+0000), binary data, all properties of spec 2.2.2.2
// (unknown or repeated ones are malformed, except user properties and
// subscription identifiers, which repeat) and reason codes. Decoding
// never panics on any input (FuzzDecodePacket) and fails with a
// *DecodeError naming the packet type and the field. Decode copies what
// it keeps: the caller may reuse the buffer.
//
// The client (client.go) runs one connection: NewClient sends CONNECT
// over a net.Conn and waits for the CONNACK, then starts a read goroutine
// (dispatching PUBLISH to Config.OnPublish in order, PUBACK/SUBACK/
// UNSUBACK to the waiting request by packet id, PINGRESP, and a server
// DISCONNECT, which ends the client with a *ServerDisconnectError) and a
// keep-alive goroutine. Publish honours the server's Receive Maximum
// (blocking until a PUBACK frees a slot) and Maximum Packet Size; a
// Pending reports the PUBACK's reason code. QoS 2 and topic aliases are
// not used (the client never asks for them; a server that sends them
// gets a DISCONNECT). The client does not reconnect and keeps no session
// state: the connector reconnects and decides what to acknowledge or
// publish again.
//
// Concurrency: a Client's methods are safe for concurrent use; writes are
// serialized by a mutex, and each blocking method takes a context. Close
// and Disconnect wait for the client's goroutines. OnPublish may block
// (the connection is not read meanwhile: backpressure, keep-alive checks
// suspended) but must not wait for anything other than Ack.
package mqtt5
