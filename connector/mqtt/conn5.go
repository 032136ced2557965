package mqtt

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/weirstream/weir/connector/mqtt/internal/mqtt5"
)

// keepAlive5 is the keep-alive the MQTT 5 client asks for.
const keepAlive5 = 30 * time.Second

// address parses Broker for the MQTT 5 client: the host:port to dial and
// whether to use TLS.
func (c Connection) address() (string, bool, error) {
	u, err := url.Parse(c.Broker)
	if err != nil {
		return "", false, fmt.Errorf("mqtt: option Broker: %w", err)
	}
	var tlsOn bool
	port := "1883"
	switch u.Scheme {
	case "tcp", "mqtt":
	case "ssl", "tls", "mqtts":
		tlsOn, port = true, "8883"
	default:
		return "", false, fmt.Errorf("mqtt: option Broker: scheme %q is not supported with MQTT 5 (tcp://, mqtt://, ssl://, tls://, mqtts://)", u.Scheme)
	}
	if u.Host == "" {
		return "", false, fmt.Errorf("mqtt: option Broker: %q has no host", c.Broker)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), port)
	}
	return host, tlsOn, nil
}

// connect5 dials the broker and connects an MQTT 5 client as subtask's
// client id, with the given session settings.
func (c Connection) connect5(ctx context.Context, subtask int, cleanStart bool, props mqtt5.Properties,
	onPublish func(*mqtt5.Client, *mqtt5.Publish)) (*mqtt5.Client, error) {
	addr, tlsOn, err := c.address()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var conn net.Conn
	if tlsOn {
		cfg := c.TLS
		if cfg == nil {
			cfg = &tls.Config{}
		}
		conn, err = (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("mqtt: connecting to %s: %w", c.Broker, err)
	}
	cp := mqtt5.Connect{ClientID: fmt.Sprintf("%s-%d", c.ClientID, subtask), CleanStart: cleanStart,
		KeepAlive: uint16(keepAlive5 / time.Second), Properties: props}
	if c.Username != "" {
		u := c.Username
		cp.Username = &u
		cp.Password = []byte(c.Password)
	}
	cl, err := mqtt5.NewClient(ctx, conn, mqtt5.Config{Connect: cp, OnPublish: onPublish})
	if err != nil {
		return nil, fmt.Errorf("mqtt: connecting to %s as %s: %w", c.Broker, cp.ClientID, err)
	}
	return cl, nil
}
