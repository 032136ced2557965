package mqtt5

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Client.
type Config struct {
	// Connect is the CONNECT packet sent first.
	Connect Connect
	// OnPublish is called by the read goroutine for each PUBLISH, in the
	// order received. It may block: the connection is then not read
	// (backpressure; keep-alive is suspended meanwhile). It must not call
	// the client's blocking methods other than Ack.
	OnPublish func(c *Client, p *Publish)
	// MaxPacketSize is the largest packet the client accepts; it is sent
	// as the CONNECT's Maximum Packet Size unless that is set (0: none).
	MaxPacketSize uint32
}

// ServerDisconnectError is a DISCONNECT the server sent.
type ServerDisconnectError struct {
	Code   ReasonCode
	Reason string // the reason string, if any
}

func (e *ServerDisconnectError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("mqtt5: the server disconnected: %s (%s)", e.Code, e.Reason)
	}
	return fmt.Sprintf("mqtt5: the server disconnected: %s", e.Code)
}

// ConnectError is a CONNACK with a failure reason code.
type ConnectError struct {
	Code   ReasonCode
	Reason string
}

func (e *ConnectError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("mqtt5: connection refused: %s (%s)", e.Code, e.Reason)
	}
	return fmt.Sprintf("mqtt5: connection refused: %s", e.Code)
}

// writeTimeout bounds a write to the connection: a server that reads
// nothing for that long is taken as gone.
const writeTimeout = 30 * time.Second

// ErrClosed is the error of a client closed by Close or Disconnect.
var ErrClosed = errors.New("mqtt5: client closed")

// Client is one MQTT 5 connection. Its read goroutine (started by
// Connect, stopped by Close) dispatches incoming packets; a keep-alive
// goroutine sends PINGREQs. Methods are safe for concurrent use. A
// Client does not reconnect: when the connection ends, Done is closed and
// Err says why, and the caller connects a new Client.
type Client struct {
	conn    net.Conn
	cfg     Config
	connack *Connack
	// server limits, from the CONNACK
	maxPacket uint32
	sendQuota chan struct{} // Receive Maximum: a token per QoS 1 publish in flight

	wmu  sync.Mutex // serializes writes
	wbuf []byte

	mu struct {
		sync.Mutex
		nextID  uint16
		waiting map[uint16]func(Packet) // by packet id: PUBACK, SUBACK, UNSUBACK; nil when the connection ended
		err     error
	}
	done      chan struct{}
	wg        sync.WaitGroup
	lastRead  atomic.Int64 // unix nanos of the last packet read
	inHandler atomic.Bool
	pingOut   atomic.Int64 // unix nanos of the unanswered PINGREQ, 0 if none
}

// NewClient sends cfg.Connect over conn and waits for the CONNACK (until
// ctx is done). It takes ownership of conn: on failure conn is closed.
func NewClient(ctx context.Context, conn net.Conn, cfg Config) (*Client, error) {
	c := &Client{conn: conn, cfg: cfg, done: make(chan struct{})}
	c.mu.waiting = map[uint16]func(Packet){}
	if cfg.MaxPacketSize != 0 && c.cfg.Connect.Properties.MaximumPacketSize == 0 {
		c.cfg.Connect.Properties.MaximumPacketSize = cfg.MaxPacketSize
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	r := bufio.NewReader(conn)
	ack, err := c.handshake(r)
	if !stop() || ctx.Err() != nil {
		conn.Close()
		return nil, fmt.Errorf("mqtt5: connecting: %w", ctx.Err())
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	c.connack = ack
	c.maxPacket = ack.Properties.MaximumPacketSize
	rm := ack.Properties.ReceiveMaximum
	if rm == 0 {
		rm = 65535
	}
	c.sendQuota = make(chan struct{}, rm)
	c.lastRead.Store(time.Now().UnixNano())
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.readLoop(r)
	}()
	ka := c.cfg.Connect.KeepAlive
	if ack.Properties.ServerKeepAlive != nil {
		ka = *ack.Properties.ServerKeepAlive
	}
	if ka > 0 {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.keepAlive(time.Duration(ka) * time.Second)
		}()
	}
	return c, nil
}

func (c *Client) handshake(r *bufio.Reader) (*Connack, error) {
	if err := c.write(&c.cfg.Connect); err != nil {
		return nil, err
	}
	p, err := ReadPacket(r, c.cfg.Connect.Properties.MaximumPacketSize)
	if err != nil {
		return nil, fmt.Errorf("mqtt5: reading CONNACK: %w", err)
	}
	ack, ok := p.(*Connack)
	if !ok {
		if d, ok := p.(*Disconnect); ok {
			return nil, &ServerDisconnectError{d.ReasonCode, d.Properties.ReasonString}
		}
		return nil, fmt.Errorf("mqtt5: expected CONNACK, got %s", p.Type())
	}
	if ack.ReasonCode.Failed() {
		return nil, &ConnectError{ack.ReasonCode, ack.Properties.ReasonString}
	}
	return ack, nil
}

// Connack is the server's CONNACK.
func (c *Client) Connack() *Connack { return c.connack }

// Done is closed when the connection ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (nil while it is up).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.err
}

// end records err as the reason the connection ended (the first one
// wins), closes the connection and fails every waiter.
func (c *Client) end(err error) {
	c.mu.Lock()
	if c.mu.err != nil {
		c.mu.Unlock()
		return
	}
	c.mu.err = err
	waiting := c.mu.waiting
	c.mu.waiting = nil
	c.mu.Unlock()
	c.conn.Close()
	close(c.done)
	for _, f := range waiting {
		f(nil)
	}
}

func (c *Client) write(p Packet) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b, err := Append(c.wbuf[:0], p, c.maxPacket)
	if err != nil {
		return err
	}
	c.wbuf = b[:0]
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := c.conn.Write(b); err != nil {
		err = fmt.Errorf("mqtt5: writing %s: %w", p.Type(), err)
		c.end(err)
		return err
	}
	return nil
}

func (c *Client) readLoop(r *bufio.Reader) {
	for {
		p, err := ReadPacket(r, c.cfg.Connect.Properties.MaximumPacketSize)
		if err != nil {
			if errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) {
				code := MalformedPacket
				if errors.Is(err, ErrTooLarge) {
					code = PacketTooLarge
				}
				_ = c.write(&Disconnect{ReasonCode: code})
			}
			c.end(fmt.Errorf("mqtt5: reading: %w", err))
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		switch p := p.(type) {
		case *Publish:
			if p.QoS == 2 {
				// Never subscribed with QoS 2: a protocol error.
				_ = c.write(&Disconnect{ReasonCode: ProtocolError})
				c.end(errors.New("mqtt5: the server sent a QoS 2 PUBLISH"))
				return
			}
			if p.Topic == "" {
				// No Topic Alias Maximum was sent, so aliases are not allowed.
				_ = c.write(&Disconnect{ReasonCode: 0x94})
				c.end(errors.New("mqtt5: the server sent a topic alias"))
				return
			}
			if c.cfg.OnPublish != nil {
				c.inHandler.Store(true)
				c.cfg.OnPublish(c, p)
				c.inHandler.Store(false)
				c.lastRead.Store(time.Now().UnixNano())
			}
		case *Ack:
			if p.Kind != PUBACK {
				_ = c.write(&Disconnect{ReasonCode: ProtocolError})
				c.end(fmt.Errorf("mqtt5: unexpected %s (QoS 2 is not used)", p.Kind))
				return
			}
			c.deliver(p.PacketID, p)
		case *Suback:
			c.deliver(p.PacketID, p)
		case *Unsuback:
			c.deliver(p.PacketID, p)
		case *Pingresp:
			c.pingOut.Store(0)
		case *Disconnect:
			c.end(&ServerDisconnectError{p.ReasonCode, p.Properties.ReasonString})
			return
		default:
			_ = c.write(&Disconnect{ReasonCode: ProtocolError})
			c.end(fmt.Errorf("mqtt5: unexpected %s from the server", p.Type()))
			return
		}
	}
}

// deliver hands a response to the request waiting for its packet id.
func (c *Client) deliver(id uint16, p Packet) {
	c.mu.Lock()
	f := c.mu.waiting[id]
	delete(c.mu.waiting, id)
	c.mu.Unlock()
	if f != nil {
		f(p)
	}
}

func (c *Client) keepAlive(ka time.Duration) {
	t := time.NewTicker(ka * 3 / 4)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		if out := c.pingOut.Load(); out != 0 && !c.inHandler.Load() && time.Since(time.Unix(0, out)) > ka {
			if time.Since(time.Unix(0, c.lastRead.Load())) > ka {
				c.end(fmt.Errorf("mqtt5: no PINGRESP within the keep-alive of %v", ka))
				return
			}
		}
		if c.pingOut.Load() == 0 {
			c.pingOut.Store(time.Now().UnixNano())
		}
		if err := c.write(&Pingreq{}); err != nil {
			return
		}
	}
}

// request registers f, called with the response (or nil if the
// connection ends first), under a fresh packet id.
func (c *Client) request(f func(Packet)) (uint16, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.err != nil {
		return 0, c.mu.err
	}
	for range 65536 {
		c.mu.nextID++
		if c.mu.nextID == 0 {
			c.mu.nextID = 1
		}
		if _, ok := c.mu.waiting[c.mu.nextID]; !ok {
			c.mu.waiting[c.mu.nextID] = f
			return c.mu.nextID, nil
		}
	}
	return 0, errors.New("mqtt5: every packet identifier is in use")
}

// forget drops the waiter of id, reporting whether it was there (not if
// the response came or the connection ended).
func (c *Client) forget(id uint16) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.mu.waiting[id]
	delete(c.mu.waiting, id)
	return ok
}

// roundTrip sends p with a fresh packet id and waits for its response.
func (c *Client) roundTrip(ctx context.Context, p Packet, setID func(uint16)) (Packet, error) {
	ch := make(chan Packet, 1)
	id, err := c.request(func(r Packet) { ch <- r })
	if err != nil {
		return nil, err
	}
	setID(id)
	if err := c.write(p); err != nil {
		c.forget(id)
		return nil, err
	}
	select {
	case r := <-ch:
		if r == nil {
			return nil, c.Err()
		}
		return r, nil
	case <-ctx.Done():
		c.forget(id)
		return nil, ctx.Err()
	}
}

// Subscribe sends s (its packet id is assigned) and waits for the SUBACK.
func (c *Client) Subscribe(ctx context.Context, s *Subscribe) (*Suback, error) {
	r, err := c.roundTrip(ctx, s, func(id uint16) { s.PacketID = id })
	if err != nil {
		return nil, err
	}
	return r.(*Suback), nil
}

// Unsubscribe sends u and waits for the UNSUBACK.
func (c *Client) Unsubscribe(ctx context.Context, u *Unsubscribe) (*Unsuback, error) {
	r, err := c.roundTrip(ctx, u, func(id uint16) { u.PacketID = id })
	if err != nil {
		return nil, err
	}
	return r.(*Unsuback), nil
}

// Pending is a QoS 1 publish awaiting its PUBACK.
type Pending struct {
	c  *Client
	id uint16
	// Ack is the PUBACK once Done is closed, nil if the connection ended
	// first.
	ack  *Ack
	done chan struct{}
}

// PacketID is the publish's packet identifier.
func (p *Pending) PacketID() uint16 { return p.id }

// Done is closed when the PUBACK arrived or the connection ended.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Result is the PUBACK's reason code, or the error that ended the
// connection before it came. Call it after Done is closed.
func (p *Pending) Result() (ReasonCode, string, error) {
	if p.ack == nil {
		return 0, "", p.c.Err()
	}
	return p.ack.ReasonCode, p.ack.Properties.ReasonString, nil
}

// Publish sends p. At QoS 0 it returns nil once written. At QoS 1 it
// assigns the packet id and returns a Pending for the PUBACK; while the
// server's Receive Maximum of publishes is in flight it waits (until ctx
// is done). A packet over the server's Maximum Packet Size fails with
// ErrTooLarge without being sent.
func (c *Client) Publish(ctx context.Context, p *Publish) (*Pending, error) {
	if p.QoS == 0 {
		return nil, c.write(p)
	}
	if p.QoS != 1 {
		return nil, fmt.Errorf("mqtt5: publishing with QoS %d: only 0 and 1 are supported", p.QoS)
	}
	select {
	case c.sendQuota <- struct{}{}:
	case <-c.done:
		return nil, c.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	pd := &Pending{c: c, done: make(chan struct{})}
	id, err := c.request(func(r Packet) {
		if r != nil {
			pd.ack = r.(*Ack)
		}
		<-c.sendQuota
		close(pd.done)
	})
	if err != nil {
		<-c.sendQuota
		return nil, err
	}
	p.PacketID, pd.id = id, id
	if err := c.write(p); err != nil {
		if c.forget(id) { // else the connection ended and released the quota
			<-c.sendQuota
		}
		return nil, err
	}
	return pd, nil
}

// Ack sends the PUBACK of a received QoS 1 message with reason code rc.
func (c *Client) Ack(id uint16, rc ReasonCode) error {
	return c.write(&Ack{Kind: PUBACK, PacketID: id, ReasonCode: rc})
}

// Disconnect sends a DISCONNECT with reason code rc (and, if not nil, the
// session expiry interval to set) and closes the client.
func (c *Client) Disconnect(rc ReasonCode, sessionExpiry *uint32) error {
	d := &Disconnect{ReasonCode: rc}
	if sessionExpiry != nil {
		d.Properties.SessionExpiry = *sessionExpiry
	}
	err := c.write(d)
	c.end(ErrClosed)
	c.wg.Wait()
	return err
}

// Close closes the connection without a DISCONNECT (the server publishes
// the will, if any) and waits for the client's goroutines.
func (c *Client) Close() error {
	c.end(ErrClosed)
	c.wg.Wait()
	return nil
}
