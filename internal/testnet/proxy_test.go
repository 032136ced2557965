package testnet

import (
	"bufio"
	"net"
	"testing"
)

// echoServer answers each line with the same line.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					c.Write([]byte(l))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(c net.Conn, s string) (string, error) {
	if _, err := c.Write([]byte(s + "\n")); err != nil {
		return "", err
	}
	l, err := bufio.NewReader(c).ReadString('\n')
	return l, err
}

func TestProxyCutRestore(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(c, "a"); err != nil || got != "a\n" {
		t.Fatalf("through the proxy: %q %v", got, err)
	}
	p.Cut()
	if _, err := roundTrip(c, "b"); err == nil {
		t.Fatal("a cut connection still answered")
	}
	c2, err := net.Dial("tcp", p.Addr())
	if err == nil {
		if _, err := roundTrip(c2, "c"); err == nil {
			t.Fatal("a new connection during the cut answered")
		}
		c2.Close()
	}
	p.Restore()
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if got, err := roundTrip(c3, "d"); err != nil || got != "d\n" {
		t.Fatalf("after restore: %q %v", got, err)
	}
	if n := p.Accepted(); n != 2 {
		t.Fatalf("accepted %d connections, want 2", n)
	}
}
