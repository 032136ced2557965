// Package mqtt reads and writes MQTT 3.1.1 topics with
// github.com/eclipse/paho.mqtt.golang: a Source subscribing with QoS 1 in
// a persistent session, and a Sink publishing with QoS 1.
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
// Only MQTT 3.1.1 is implemented. MQTT 5's client for Go,
// github.com/eclipse/paho.golang, is available here only as v0.23.0, served
// from an earlier copy and not an approved release; MQTT 5's session
// expiry and receive maximum would make the session and the in-flight
// window explicit, but the guarantee would stay at-least-once.
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
// acknowledging goroutine; Close disconnects and waits for it. Nothing is
// global.
package mqtt
