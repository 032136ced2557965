// Package testnet holds network helpers for connector tests: a TCP proxy
// between a client under test and a real server that a test can cut and
// restore, to make an outage without stopping a server that other test
// packages (run in parallel by go test) are using.
//
// It is for tests only. A Proxy's methods may be called from any goroutine.
package testnet

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections from its own address on 127.0.0.1 to a
// target address. Cut closes every open connection and refuses new ones
// (they are accepted and closed at once) until Restore.
type Proxy struct {
	target string
	ln     net.Listener
	wg     sync.WaitGroup

	mu struct {
		sync.Mutex
		cut    bool
		closed bool
		conns  map[net.Conn]struct{}
		// accepted counts connections accepted while not cut.
		accepted int
	}
}

// NewProxy starts a proxy to target (host:port) and stops it when the test
// ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testnet: listening: %v", err)
	}
	p := &Proxy{target: target, ln: ln}
	p.mu.conns = make(map[net.Conn]struct{})
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port, to give the client under test.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port is the proxy's port.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Accepted returns how many connections the proxy has forwarded so far
// (a reconnect after Restore raises it).
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.accepted
}

// Cut closes every forwarded connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.mu.cut = true
	conns := p.mu.conns
	p.mu.conns = make(map[net.Conn]struct{})
	p.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.mu.cut = false
	p.mu.Unlock()
}

// Close stops the proxy and closes its connections; it waits for its
// goroutines.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.mu.closed {
		p.mu.Unlock()
		return
	}
	p.mu.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.mu.cut || p.mu.closed {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.mu.Unlock()
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.mu.cut || p.mu.closed {
			p.mu.Unlock()
			c.Close()
			up.Close()
			continue
		}
		p.mu.conns[c] = struct{}{}
		p.mu.conns[up] = struct{}{}
		p.mu.accepted++
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// pipe copies src to dst; when either side ends, both close.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	// The copy ends with an error whenever a side closes: that is how a
	// forwarded connection ends, so it is not reported.
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.mu.conns, dst)
	delete(p.mu.conns, src)
	p.mu.Unlock()
}
