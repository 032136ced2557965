package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/prometheus/client_golang/prometheus"
)

// Connection is what a source or sink needs to reach the broker.
type Connection struct {
	// Broker is the broker's URL: tcp://host:1883, ssl://host:8883,
	// ws://... (required).
	Broker string
	// ClientID prefixes the client ids: subtask s connects as
	// ClientID-s (required). It must be unique to the source or sink (a
	// broker disconnects a client when another connects with its id) and
	// stable across restarts: a source's persistent sessions are found
	// again by these ids.
	ClientID string
	// Username and Password authenticate, if set.
	Username, Password string
	// TLS configures ssl:// and wss:// connections.
	TLS *tls.Config
	// Configure, if set, is called last on the paho options, for
	// settings not listed here (keep-alive, websocket options, ...). MQTT
	// 3.1.1 only: with ProtocolVersion 5 it is an error.
	Configure func(o *paho.ClientOptions)
	// ProtocolVersion is 4 (MQTT 3.1.1, through paho; the default, also
	// for 0) or 5 (MQTT 5.0, through Weir's own client in
	// internal/mqtt5; tcp://, mqtt://, ssl://, tls:// and mqtts://
	// brokers).
	ProtocolVersion int
}

// Backoff bounds of reconnects and retries.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// clientOptions returns paho options for subtask s with automatic
// reconnects (backoff up to maxBackoff).
func (c Connection) clientOptions(subtask int) *paho.ClientOptions {
	o := paho.NewClientOptions().AddBroker(c.Broker).SetClientID(fmt.Sprintf("%s-%d", c.ClientID, subtask))
	o.SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(minBackoff).SetMaxReconnectInterval(maxBackoff)
	o.SetConnectTimeout(10 * time.Second).SetKeepAlive(30 * time.Second).SetProtocolVersion(4) // MQTT 3.1.1
	if c.Username != "" {
		o.SetUsername(c.Username).SetPassword(c.Password)
	}
	if c.TLS != nil {
		o.SetTLSConfig(c.TLS)
	}
	return o
}

func (c Connection) check() error {
	switch {
	case c.Broker == "":
		return errors.New("mqtt: option Broker: must be set")
	case c.ClientID == "":
		return errors.New("mqtt: option ClientID: must be set")
	case c.ProtocolVersion != 0 && c.ProtocolVersion != 4 && c.ProtocolVersion != 5:
		return fmt.Errorf("mqtt: option ProtocolVersion: %d; 4 (MQTT 3.1.1) or 5 (MQTT 5.0)", c.ProtocolVersion)
	case c.ProtocolVersion == 5 && c.Configure != nil:
		return errors.New("mqtt: option Configure: configures paho, which is used for MQTT 3.1.1 only, not with ProtocolVersion 5")
	case c.ProtocolVersion == 5:
		if _, _, err := c.address(); err != nil {
			return err
		}
	}
	return nil
}

// wait waits for a paho token until ctx is done.
func wait(ctx context.Context, t paho.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// counter registers a counter with reg, or shares the one registered
// before under the same name; a nil reg gives an unregistered counter.
func counter(reg prometheus.Registerer, subsystem, name, help string) (prometheus.Counter, error) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "weir", Subsystem: subsystem, Name: name, Help: help})
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if ex, ok := are.ExistingCollector.(prometheus.Counter); ok {
			return ex, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("mqtt: registering metric %s: %w", name, err)
	}
	return c, nil
}

// backoff is an exponential delay between attempts.
type backoff struct{ cur time.Duration }

func (b *backoff) wait(ctx context.Context) error {
	b.cur = min(max(2*b.cur, minBackoff), maxBackoff)
	t := time.NewTimer(b.cur)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// copyingStore is paho's memory store, except that it keeps and hands out
// copies of PUBLISH packets. paho v1.5.1 stores the packet it queues for
// sending, and after a reconnect its resume sets the DUP flag on the
// stored packet while the new connection may be writing that same packet
// (a data race inside paho, seen by the race detector in the sink's outage
// test). With copies, resume flags a packet of its own; what goes on the
// wire is unchanged (a resent publish, flagged DUP).
type copyingStore struct{ *paho.MemoryStore }

func (s copyingStore) Put(key string, m packets.ControlPacket) {
	s.MemoryStore.Put(key, copyPublish(m))
}

func (s copyingStore) Get(key string) packets.ControlPacket {
	return copyPublish(s.MemoryStore.Get(key))
}

func copyPublish(m packets.ControlPacket) packets.ControlPacket {
	if p, ok := m.(*packets.PublishPacket); ok && p != nil {
		c := *p
		return &c
	}
	return m
}
