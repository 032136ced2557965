package mqtt5

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeServer is the server end of a loopback connection, driven step by step by a
// test.
type fakeServer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func (s *fakeServer) read() Packet {
	s.t.Helper()
	_ = s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := ReadPacket(s.r, 0)
	if err != nil {
		s.t.Fatalf("server reading: %v", err)
	}
	return p
}

func (s *fakeServer) send(p Packet) {
	s.t.Helper()
	b, err := Append(nil, p, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.conn.Write(b); err != nil {
		s.t.Fatalf("server writing: %v", err)
	}
}

// start connects a client to a fake server that answers the CONNECT
// with connack; the client's CONNECT is returned.
func start(t *testing.T, cfg Config, connack *Connack) (*Client, *fakeServer, *Connect, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, conn: sc, r: bufio.NewReader(sc)}
	t.Cleanup(func() { sc.Close() })
	got := make(chan *Connect, 1)
	go func() {
		p, err := ReadPacket(s.r, 0)
		if err != nil {
			got <- nil
			return
		}
		got <- p.(*Connect)
		b, _ := Append(nil, connack, 0)
		_, _ = sc.Write(b)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := NewClient(ctx, cc, cfg)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, s, <-got, err
}

// TestClientPublishAndServerDisconnect: the server's Receive Maximum
// holds back the third publish until a PUBACK; PUBACK reason codes reach
// the caller; a server DISCONNECT ends the client with its reason code
// and fails the publishes still waiting.
func TestClientPublishAndServerDisconnect(t *testing.T) {
	c, s, conn, err := start(t, Config{Connect: Connect{ClientID: "weir-mqtt5-unit", Properties: Properties{SessionExpiry: 60}}},
		&Connack{SessionPresent: true, Properties: Properties{ReceiveMaximum: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if conn.ClientID != "weir-mqtt5-unit" || conn.CleanStart || conn.Properties.SessionExpiry != 60 || !c.Connack().SessionPresent {
		t.Fatalf("CONNECT %+v, CONNACK %+v", conn, c.Connack())
	}
	ctx := context.Background()
	var hs []*Pending
	for _, topic := range []string{"a", "b"} {
		h, err := c.Publish(ctx, &Publish{Topic: topic, QoS: 1, Payload: []byte(topic)})
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
		if p := s.read().(*Publish); p.Topic != topic || p.PacketID == 0 {
			t.Fatalf("server got %+v", p)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if _, err := c.Publish(tctx, &Publish{Topic: "c", QoS: 1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third publish beyond receive maximum 2: %v", err)
	}
	cancel()
	s.send(&Ack{Kind: PUBACK, PacketID: hs[0].PacketID(), ReasonCode: QuotaExceeded, Properties: Properties{ReasonString: "full"}})
	<-hs[0].Done()
	if rc, reason, err := hs[0].Result(); rc != QuotaExceeded || reason != "full" || err != nil {
		t.Fatalf("result %v %q %v", rc, reason, err)
	}
	// The PUBACK freed a slot.
	done := make(chan error, 1)
	go func() {
		_, err := c.Publish(ctx, &Publish{Topic: "c", QoS: 1})
		done <- err
	}()
	if p := s.read().(*Publish); p.Topic != "c" {
		t.Fatalf("server got %+v", p)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.send(&Disconnect{ReasonCode: ServerShuttingDown, Properties: Properties{ReasonString: "bye"}})
	<-c.Done()
	var sd *ServerDisconnectError
	if !errors.As(c.Err(), &sd) || sd.Code != ServerShuttingDown || !strings.Contains(c.Err().Error(), "0x8b Server shutting down (bye)") {
		t.Fatalf("Err %v", c.Err())
	}
	<-hs[1].Done()
	if _, _, err := hs[1].Result(); !errors.As(err, &sd) {
		t.Fatalf("pending publish after the disconnect: %v", err)
	}
	if _, err := c.Publish(ctx, &Publish{Topic: "d", QoS: 1}); !errors.As(err, &sd) {
		t.Fatalf("publish after the disconnect: %v", err)
	}
}

// TestClientSubscribeReceiveAck: SUBSCRIBE with its options reaches the
// server, the SUBACK's codes come back, published messages reach
// OnPublish in order and Ack sends PUBACKs; UNSUBSCRIBE and UNSUBACK; a
// malformed packet ends the connection.
func TestClientSubscribeReceiveAck(t *testing.T) {
	got := make(chan *Publish, 4)
	c, s, _, err := start(t, Config{Connect: Connect{ClientID: "x"}, OnPublish: func(_ *Client, p *Publish) { got <- p }}, &Connack{})
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan *Suback, 1)
	go func() {
		a, err := c.Subscribe(context.Background(), &Subscribe{Subscriptions: []Subscription{{Filter: "$share/g/a/#", QoS: 1}, {Filter: "b", QoS: 1, NoLocal: true}}})
		if err != nil {
			t.Error(err)
		}
		res <- a
	}()
	sub := s.read().(*Subscribe)
	if len(sub.Subscriptions) != 2 || sub.Subscriptions[0].Filter != "$share/g/a/#" || !sub.Subscriptions[1].NoLocal {
		t.Fatalf("SUBSCRIBE %+v", sub)
	}
	s.send(&Suback{PacketID: sub.PacketID, ReasonCodes: []ReasonCode{GrantedQoS1, NotAuthorized}})
	if a := <-res; a == nil || a.ReasonCodes[1] != NotAuthorized {
		t.Fatalf("SUBACK %+v", a)
	}
	for i, topic := range []string{"a/1", "a/2"} {
		s.send(&Publish{Topic: topic, QoS: 1, PacketID: uint16(10 + i), Properties: Properties{User: []UserProperty{{"k", topic}}}})
	}
	for i := range 2 {
		p := <-got
		if p.PacketID != uint16(10+i) || p.Properties.User[0].Value != p.Topic {
			t.Fatalf("received %+v", p)
		}
		go func() { _ = c.Ack(p.PacketID, Success) }()
		if a := s.read().(*Ack); a.Kind != PUBACK || a.PacketID != p.PacketID {
			t.Fatalf("ack %+v", a)
		}
	}
	ures := make(chan *Unsuback, 1)
	go func() {
		a, err := c.Unsubscribe(context.Background(), &Unsubscribe{Filters: []string{"b"}})
		if err != nil {
			t.Error(err)
		}
		ures <- a
	}()
	uns := s.read().(*Unsubscribe)
	if len(uns.Filters) != 1 || uns.Filters[0] != "b" {
		t.Fatalf("UNSUBSCRIBE %+v", uns)
	}
	s.send(&Unsuback{PacketID: uns.PacketID, ReasonCodes: []ReasonCode{0x11}})
	if a := <-ures; a == nil || a.ReasonCodes[0] != 0x11 {
		t.Fatalf("UNSUBACK %+v", a)
	}
	// A malformed packet from the server ends the connection with a
	// DISCONNECT 0x81 and an error naming the packet and field.
	go func() { _, _ = s.conn.Write([]byte{0x30, 3, 0, 5, 'a'}) }()
	if d := s.read().(*Disconnect); d.ReasonCode != MalformedPacket {
		t.Fatalf("disconnect %+v", d)
	}
	<-c.Done()
	if !errors.Is(c.Err(), ErrMalformed) || !strings.Contains(c.Err().Error(), "PUBLISH packet: topic name") {
		t.Fatalf("Err %v", c.Err())
	}
}

// TestClientConnectRefused: a CONNACK with a failure code is a
// ConnectError.
func TestClientConnectRefused(t *testing.T) {
	_, _, _, err := start(t, Config{Connect: Connect{ClientID: "x"}}, &Connack{ReasonCode: 0x86})
	var ce *ConnectError
	if !errors.As(err, &ce) || ce.Code != 0x86 || !strings.Contains(err.Error(), "Bad User Name or Password") {
		t.Fatalf("%v", err)
	}
}

// TestClientKeepAlive: the client sends PINGREQs within the keep-alive
// (here the server's, 1s) and ends the connection when no PINGRESP comes.
func TestClientKeepAlive(t *testing.T) {
	ka := uint16(1)
	c, s, _, err := start(t, Config{Connect: Connect{ClientID: "x", KeepAlive: 60}}, &Connack{Properties: Properties{ServerKeepAlive: &ka}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.read().(*Pingreq); !ok {
		t.Fatal("no PINGREQ")
	}
	s.send(&Pingresp{})
	// No more answers: the client gives up.
	go func() {
		for {
			if _, err := ReadPacket(s.r, 0); err != nil {
				return
			}
		}
	}()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no keep-alive timeout")
	}
	if !strings.Contains(c.Err().Error(), "no PINGRESP") {
		t.Fatalf("Err %v", c.Err())
	}
}
