package mqtt

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/mqtt/internal/mqtt5"
)

// fakeBroker is a minimal MQTT 5 server for cases Mosquitto cannot be
// made to produce without reconfiguring it: it answers CONNECT with
// connack and each QoS 1 PUBLISH with a PUBACK carrying the reason code
// code(topic).
type fakeBroker struct {
	ln      net.Listener
	connack mqtt5.Connack
	code    func(topic string) (mqtt5.ReasonCode, string)
	silent  atomic.Bool // no PUBACKs while set
	wg      sync.WaitGroup
	mu      sync.Mutex
	got     []string
	conns   []net.Conn
}

func newFakeBroker(t *testing.T, connack mqtt5.Connack, code func(string) (mqtt5.ReasonCode, string)) *fakeBroker {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	b := &fakeBroker{ln: ln, connack: connack, code: code}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns = append(b.conns, c)
			b.mu.Unlock()
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				b.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for _, c := range b.conns {
			c.Close()
		}
		b.mu.Unlock()
		b.wg.Wait()
	})
	return b
}

func (b *fakeBroker) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	send := func(p mqtt5.Packet) bool {
		buf, err := mqtt5.Append(nil, p, 0)
		if err == nil {
			_, err = c.Write(buf)
		}
		return err == nil
	}
	for {
		p, err := mqtt5.ReadPacket(r, 0)
		if err != nil {
			return
		}
		switch p := p.(type) {
		case *mqtt5.Connect:
			ack := b.connack
			if !send(&ack) {
				return
			}
		case *mqtt5.Publish:
			b.mu.Lock()
			b.got = append(b.got, p.Topic+"="+string(p.Payload))
			b.mu.Unlock()
			if p.QoS == 1 && !b.silent.Load() {
				rc, reason := b.code(p.Topic)
				if !send(&mqtt5.Ack{Kind: mqtt5.PUBACK, PacketID: p.PacketID, ReasonCode: rc, Properties: mqtt5.Properties{ReasonString: reason}}) {
					return
				}
			}
		case *mqtt5.Pingreq:
			send(&mqtt5.Pingresp{})
		case *mqtt5.Disconnect:
			return
		}
	}
}

// cut closes the connections the broker accepted so far.
func (b *fakeBroker) cut() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		c.Close()
	}
	b.conns = nil
}

func (b *fakeBroker) url() string { return "tcp://" + b.ln.Addr().String() }

func (b *fakeBroker) received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.got...)
}

// TestV5SinkBrokerLimits: a record over the broker's Maximum Packet Size
// goes to the dead letters without being sent; a PUBACK 0x97 Quota
// exceeded (a broker-side refusal, not the record's) fails the job naming
// the topic, the payload and the reason string.
func TestV5SinkBrokerLimits(t *testing.T) {
	fb := newFakeBroker(t, mqtt5.Connack{Properties: mqtt5.Properties{MaximumPacketSize: 64, ReceiveMaximum: 3}},
		func(topic string) (mqtt5.ReasonCode, string) {
			if strings.HasSuffix(topic, "/quota") {
				return mqtt5.QuotaExceeded, "over quota"
			}
			return mqtt5.Success, ""
		})
	dl := &deadLetters{}
	opts := SinkOptions[string]{Connection: Connection{Broker: fb.url(), ClientID: "weir-mqtt5-fake", ProtocolVersion: 5},
		TopicOf:   func(v string) string { return "weir-mqtt5-fake/" + strings.Split(v, ":")[0] },
		Serialize: func(v string) ([]byte, error) { return []byte(v), nil }, DeadLetters: dl}
	s, err := NewSink(opts)
	must(t, err)
	env := weir.NewEnvironment(weir.Options{})
	big := "t:" + strings.Repeat("x", 100)
	weir.FromSlice(env, []string{big, "t:1", "t:2", big, "t:3", "t:4", "t:5"}).SinkTo(s)
	must(t, env.Execute(context.Background()))
	if len(dl.got) != 2 || !strings.Contains(dl.got[0].Reason, "maximum packet size") || string(dl.got[0].Raw) != big {
		t.Fatalf("dead letters %+v", dl.got)
	}
	// The big ones were not sent.
	if got := fb.received(); len(got) != 5 {
		t.Fatalf("broker received %v", got)
	}

	opts.DeadLetters = nil
	s, err = NewSink(opts)
	must(t, err)
	env = weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, []string{"t:1", "quota:payload-q"}).SinkTo(s)
	err = env.Execute(context.Background())
	if err == nil || errors.Is(err, weir.ErrBadRecord) || !strings.Contains(err.Error(), "weir-mqtt5-fake/quota") ||
		!strings.Contains(err.Error(), `"quota:payload-q"`) || !strings.Contains(err.Error(), "0x97 Quota exceeded (over quota)") {
		t.Fatalf("job error %v", err)
	}
}

// TestV5SinkLostAcks: publishes sent on a connection that ends before
// their PUBACKs are published again on the next connection, in order,
// and Flush returns once those are acknowledged.
func TestV5SinkLostAcks(t *testing.T) {
	fb := newFakeBroker(t, mqtt5.Connack{}, func(string) (mqtt5.ReasonCode, string) { return mqtt5.Success, "" })
	s, err := NewSink(SinkOptions[string]{Connection: Connection{Broker: fb.url(), ClientID: "weir-mqtt5-lost", ProtocolVersion: 5},
		Topic: "weir-mqtt5-lost/x", Serialize: func(v string) ([]byte, error) { return []byte(v), nil }})
	must(t, err)
	w, err := s.CreateWriter(weir.SinkContext{})
	must(t, err)
	defer w.Close()
	ctx := context.Background()
	fb.silent.Store(true)
	for _, v := range vals(0, 5) {
		must(t, w.Write(ctx, v, 0))
	}
	waitFor(t, "5 publishes at the broker", 10*time.Second, func() bool { return len(fb.received()) == 5 })
	fb.silent.Store(false)
	fb.cut()
	must(t, w.Flush(ctx, false))
	got := fb.received()
	want := []string{}
	for range 2 {
		for _, v := range vals(0, 5) {
			want = append(want, "weir-mqtt5-lost/x="+v)
		}
	}
	if !equalStrings(got, want) {
		t.Fatalf("broker received %v, want %v", got, want)
	}
	if testutil.ToFloat64(s.retries) != 5 || testutil.ToFloat64(s.published) != 5 {
		t.Fatalf("%v retries, %v published", testutil.ToFloat64(s.retries), testutil.ToFloat64(s.published))
	}
}
