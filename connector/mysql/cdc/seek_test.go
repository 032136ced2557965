package cdc

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// seekBallast is how much of the current binlog file TestGTIDSeekSlowerThanReadTimeout
// wants before its start position: MariaDB scans that much to find a GTID.
const seekBallast = 64 << 20

// TestGTIDSeekSlowerThanReadTimeout resumes by GTID with a ReadTimeout far
// shorter than MariaDB's scan of the binlog file to the GTID (the server
// sends nothing meanwhile): the source must not take the quiet seek for a
// dead connection (it reconnected forever, restarting the scan, and never
// progressed), and must still read the change after the position without
// any reconnection. A restore resumes by GTID (the checkpoint does not say
// which server its file and offset are of).
func TestGTIDSeekSlowerThanReadTimeout(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	if _, pos := masterPos(t, db); pos < seekBallast {
		// Make the seek long: 1 MiB rows up to seekBallast into the file.
		ballast := newTablePrefix(t, db, "gtid", "id BIGINT PRIMARY KEY, b LONGBLOB NOT NULL")
		mustExec(t, db, "INSERT INTO "+ballast+" SELECT seq, REPEAT('x', 1 << 20) FROM seq_1_to_64")
	}
	file, pos := masterPos(t, db)
	opts := Options{Addr: addr, Tables: []string{table}, Startup: Latest, HeartbeatPeriod: 5 * time.Millisecond, ReadTimeout: 50 * time.Millisecond, Buffer: 1, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	d := startDirect(t, opts, nil)
	start := d.next().st
	if start.GTID == "" {
		t.Fatal("no GTID position on MariaDB")
	}
	d.stop()
	t.Logf("resuming from gtid %q (%s:%d, %d MB into the file)", start.GTID, start.File, start.Pos, start.Pos>>20)
	if start.File != file || start.Pos < pos {
		t.Logf("the binlog rotated meanwhile: the seek may be short")
	}
	mustExec(t, db, "INSERT INTO "+table+" VALUES (1, 1, 0)")
	file, pos = masterPos(t, db)

	m := newModel(t)
	begin := time.Now()
	d2 := startDirect(t, opts, &start)
	d2.until(reached(file, pos), m.apply)
	took := time.Since(begin)
	m.check(db, table)
	if m.n != 1 {
		t.Fatalf("%d changes, want 1", m.n)
	}
	if n := testutil.ToFloat64(d2.g.m.reconnects); n != 0 {
		t.Fatalf("%v reconnections during the seek", n)
	}
	d2.stop()
	if d2.g.startedBy != "gtid" {
		t.Fatalf("the restore resumed by %s, want gtid", d2.g.startedBy)
	}
	t.Logf("seek and first change after %v (ReadTimeout %v)", took, opts.ReadTimeout)
	if took < opts.ReadTimeout {
		t.Logf("the seek was shorter than ReadTimeout: this run did not exercise it")
	}
}

// TestReadTimeoutOncePositioned freezes the connection of a positioned
// stream (a proxy stops forwarding what the server sends, heartbeats
// included): after ReadTimeout the source abandons it and reconnects,
// and the change written meanwhile arrives. The reconnection to the same
// server resumes from the file and offset, without MariaDB's GTID scan. SeekTimeout, the binlog
// client's own deadline, is far longer than the test.
func TestReadTimeoutOncePositioned(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	p := newFreezeProxy(t, addr)
	opts := Options{Addr: p.addr(), Tables: []string{table}, Startup: Latest, HeartbeatPeriod: 20 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, MinBackoff: time.Millisecond}
	t0 := time.Now()
	d := startDirect(t, opts, nil)
	d.next()
	t.Logf("start after %v", time.Since(t0))
	m := newModel(t)
	mustExec(t, db, "INSERT INTO "+table+" VALUES (1, 1, 0)")
	file, pos := masterPos(t, db)
	t0 = time.Now()
	d.until(reached(file, pos), m.apply) // positioned
	t.Logf("first change after %v", time.Since(t0))
	p.freeze()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (2, 2, 0)")
	file, pos = masterPos(t, db)
	t0 = time.Now()
	d.until(reached(file, pos), m.apply)
	t.Logf("second change after %v", time.Since(t0))
	m.check(db, table)
	if n := testutil.ToFloat64(d.g.m.reconnects); n < 1 {
		t.Fatalf("%v reconnections, want at least 1", n)
	}
	d.stop()
	if d.g.startedBy != "position" {
		t.Fatalf("the reconnection to the same server resumed by %s, want position (no binlog scan)", d.g.startedBy)
	}
}

// freezeProxy forwards TCP connections to a server; freeze makes the
// connections open at the time stop forwarding the server's bytes (new
// ones forward normally).
type freezeProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	frozen []*atomic.Bool
	conns  []net.Conn
	done   chan struct{}
}

func newFreezeProxy(t *testing.T, target string) *freezeProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{ln: ln, done: make(chan struct{})}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			f := new(atomic.Bool)
			p.mu.Lock()
			p.frozen = append(p.frozen, f)
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := s.Read(buf)
					if f.Load() {
						<-p.done
						return
					}
					if n > 0 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		close(p.done)
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	return p
}

func (p *freezeProxy) addr() string { return p.ln.Addr().String() }

func (p *freezeProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.frozen {
		f.Store(true)
	}
}

// testWriter writes a source's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
