// Package mqtt reads and writes MQTT topics: a Source subscribing with
// QoS 1 in a persistent session, and a Sink publishing with QoS 1. MQTT
// 3.1.1 (the default) goes through github.com/eclipse/paho.mqtt.golang;
// MQTT 5.0 (Connection.ProtocolVersion 5) through Weir's own client in
// internal/mqtt5 (see "MQTT 5" below).
//
// # Source
//
// Subtask s connects as client id ClientID-s with clean session off, so
// the broker keeps its subscriptions and the QoS 1 messages for it while
// it is away, and subscribes to Topics (filters; + and # allowed) on every
// connect. At parallelism > 1 the subscriptions are shared
// ($share/SharedGroup/filter, which Mosquitto supports for 3.1.1
// clients): each message goes to one subtask. A Deserializer gets the
// Message with its topic, so one wildcard subscription can carry the
// device or sensor in the topic into the record. Messages it rejects go
// to the ErrorPolicy; a dead letter names "mqtt topic T message id N".
// paho's handler puts messages into a bounded buffer that Poll drains;
// while the buffer is full the handler blocks, which holds back the
// connection (backpressure).
//
// With AckAfterCheckpoint (the default) automatic acknowledgement is off
// (SetAutoAckDisabled) and a message's PUBACK is sent only after the
// checkpoint whose barrier followed it completed. Until then the broker
// keeps it in flight and sends it again, flagged duplicate and with the
// same packet id, when the client reconnects; Mosquitto does so for
// persistent sessions. Within a run the reader drops such a redelivery of
// a message it emitted and has not acknowledged (the broker does not
// reuse the packet id of a message in flight), and acknowledges through
// the newest delivery (paho drops an acknowledgement made through a
// delivery of an earlier connection).
//
// Guarantee: at-least-once, with duplicates possible. MQTT has no offsets
// to store in a checkpoint: the broker's session is the only position. A
// restarted job receives again every message not acknowledged: those
// emitted after the checkpoint it restores from (as it should) and also
// those of a completed checkpoint whose acknowledgements had not reached
// the broker (a crash between completion and the PUBACKs, or a connection
// lost while they were sent): those are duplicates, and packet ids cannot
// tell them apart from new messages. The same holds across a connection
// loss within a run for acknowledgements lost with the connection. Nothing
// acknowledged is lost, provided the session survives: the broker must
// persist sessions across its own restarts (Mosquitto: persistence true)
// and must not expire them (session expiry, or max_queued_messages
// dropping messages for a slow or stopped client). Restoring with a
// smaller parallelism leaves the sessions of the dropped client ids
// holding their unacknowledged messages: they are not read.
//
// Throughput: the broker sends at most its in-flight window of
// unacknowledged QoS 1 messages to a client (Mosquitto's
// max_inflight_messages, 20 by default), so with AckAfterCheckpoint a
// subtask receives at most that many messages per checkpoint interval.
// Raise the window on the broker (0 is unlimited) for high rates.
// AckOnReceive acknowledges each message when it is in the buffer: not
// throttled, but at-most-once across failures (what was received and not
// checkpointed is lost). The source keeps nothing in checkpoints.
//
// # Sink
//
// A Sink publishes each record to Topic, or to TopicOf(record), with QoS
// 1 (QoS0 for 0) and, with Retained, as the topic's retained message. At
// most MaxInFlight publishes are unacknowledged; Flush (every checkpoint
// barrier, and the end of input) waits until the broker acknowledged
// (PUBACK) all of them. Guarantee: at-least-once. After a failure the
// records since the last checkpoint are published again, and a publish
// that times out is sent again, so subscribers may see duplicates;
// retained messages converge to the last value of each topic. A record
// whose Serialize fails, or whose topic is empty or holds a wildcard,
// fails the job with a *weir.BadRecordError, or goes to DeadLetters.
//
// # Reconnects
//
// paho reconnects automatically with exponential backoff up to 5s. The
// source resubscribes and receives what the session kept; the sink's
// publishes made while disconnected are sent after the reconnect, and a
// publish not acknowledged within 10s is sent again (with the ones after
// it) with backoff, for up to MaxRetryTime before the job fails.
//
// # MQTT 5
//
// With ProtocolVersion 5 the source and sink use internal/mqtt5, an MQTT
// 5.0 client written for Weir from the OASIS specification (no code of
// other clients): the packet codec (every packet type, properties,
// reason codes; fuzzed) and a client over one net.Conn with an owned read
// goroutine, keep-alive (PINGREQ at 3/4 of the keep-alive, the
// connection ends without a PINGRESP), the server's Receive Maximum and
// Maximum Packet Size honoured on publishes, and a server DISCONNECT
// ending the connection with its reason code (logged by the connector;
// Mosquitto 2.0 closes a connection whose session another client takes
// over without sending one). The github.com/eclipse/
// paho.golang client is not used: only v0.23.0 is available here, not an
// approved release. Brokers: tcp://, mqtt://, ssl://, tls://, mqtts://
// (no websockets); Configure (paho's options) is an error with version 5.
// The connector reconnects itself, with backoff up to 5s.
//
// Source: each subtask connects with Clean Start off and a Session Expiry
// Interval (SessionExpiry; default: never expires), so the session, its
// subscriptions and its unacknowledged messages outlive a connection, a
// crash and a restart; it subscribes (QoS 1, $share/SharedGroup/filter
// when shared) on every connect, and a refused subscription (a SUBACK
// reason code >= 0x80) fails the job. With AckAfterCheckpoint the PUBACKs
// are sent after the checkpoint completed, in the order the messages came
// (the protocol lets a client acknowledge late; it requires only that
// PUBACKs follow the order of the PUBLISHes, spec 4.6). The Receive
// Maximum sent in CONNECT (ReceiveMaximum, default 1024) bounds the
// messages the broker has unacknowledged out to a subtask, so it bounds
// what a subtask reads per checkpoint interval. Measured with Mosquitto
// 2.0: it holds back messages beyond the Receive Maximum until a PUBACK
// comes, then sends up to Receive Maximum more even if only one was
// acknowledged: the first window is exact, later ones can exceed it. A
// PUBACK that cannot be sent (no connection) waits for the next
// connection; the broker resends those messages with their packet ids,
// and they are dropped as redeliveries. The Message carries the content
// type, user properties and payload format. The guarantee is the same as
// with 3.1.1: at-least-once with duplicates possible (a crash between a
// checkpoint's completion and its PUBACKs, a PUBACK lost with a
// connection), nothing acknowledged lost as long as the session has not
// expired and the broker kept its messages.
//
// Sink: each writer connects with Clean Start on (no session: what is not
// acknowledged the writer publishes again itself), publishes QoS 1 (QoS0
// for 0) with, optionally, user properties per record
// (UserPropertiesOf), a Message Expiry Interval, a Content Type and the
// UTF-8 payload format indicator. At most the broker's Receive Maximum
// are in flight per connection (Mosquitto: 20) and MaxInFlight per
// writer; Flush waits for every PUBACK. A PUBACK reason code >= 0x80
// names the topic and the payload: Not authorized (0x87), Topic Name
// invalid, Packet too large and Payload format invalid concern the record
// and send it to DeadLetters (without them the job fails with a
// *weir.BadRecordError); any other code fails the job. A record larger
// than the broker's Maximum Packet Size, or with a user property that is
// not valid UTF-8, is rejected before it is sent. After a connection loss
// the writer reconnects and publishes again, in order, what was not
// acknowledged; no PUBACK within 10s counts as a loss. Guarantee:
// at-least-once.
//
// # Metrics
//
// With a Registry: weir_mqtt_source_messages_total, _acked_total,
// _redeliveries_total, _dead_letters_total, _connection_lost_total;
// weir_mqtt_sink_published_total, _retries_total, _dead_letters_total.
//
// # Concurrency
//
// Readers and writers are used by their subtask's goroutine. A reader
// owns paho's client (whose goroutines call its handler) and an
// acknowledging goroutine; Close disconnects and waits for it. An MQTT 5
// reader owns a connection goroutine (connect, subscribe, reconnect) and
// an acknowledging goroutine, and the mqtt5 client's read and keep-alive
// goroutines call its handler; Close disconnects normally (keeping the
// session) and waits for all of them. An MQTT 5 writer has no goroutine
// of its own: the client's goroutines complete its publishes. Nothing is
// global.
package mqtt
