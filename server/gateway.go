package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir/sql"
)

// The SQL Gateway API (Flink's SQL Gateway REST API, v2 shapes): clients
// open sessions, run one statement per call in a session and fetch each
// statement's result in pages. A session holds its own catalog (sql.Session)
// and the text of the statements that built it, so that an INSERT becomes
// a durable job whose script carries that DDL. A SELECT runs as a preview
// job in the server process whose rows go into a bounded buffer
// (resultBuffer): when the client does not fetch, the job backpressures.
//
// Locks: gateway.mu, then a session's mu, then an operation's or a
// buffer's; never the other way round.

// SQLGatewayOptions configure the SQL Gateway API.
type SQLGatewayOptions struct {
	// SessionIdleTimeout closes a session no call named for this long
	// and cancels its operations (default 10 min, as Flink's
	// sql-gateway.session.idle-timeout). Clients keep a session with
	// POST /sessions/{sessionHandle}/heartbeat or any other call on it.
	SessionIdleTimeout time.Duration
	// MaxSessions bounds the open sessions (default 100); more are
	// refused with 503.
	MaxSessions int
	// MaxQueries bounds the SELECT preview jobs running at once over all
	// sessions (default 10); more are refused with 503.
	MaxQueries int
	// ResultBuffer is how many rows a SELECT buffers for its client
	// before its job blocks (default 10000). Besides them the server
	// keeps the last page fetched (for a retry), so a query holds at
	// most twice as many rows.
	ResultBuffer int
	// MaxOperations bounds the operations one session keeps until they
	// are closed (default 1000); more are refused with 503.
	MaxOperations int
}

func (o *SQLGatewayOptions) fill() {
	if o.SessionIdleTimeout <= 0 {
		o.SessionIdleTimeout = 10 * time.Minute
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 100
	}
	if o.MaxQueries <= 0 {
		o.MaxQueries = 10
	}
	if o.ResultBuffer <= 0 {
		o.ResultBuffer = 10000
	}
	if o.MaxOperations <= 0 {
		o.MaxOperations = 1000
	}
}

// errUnavailable marks a request refused for a server-wide limit (HTTP
// 503); errNotFound an unknown session or operation (HTTP 404).
var (
	errUnavailable = errors.New("unavailable")
	errNotFound    = errors.New("not found")
)

// gateway holds the SQL sessions of a Server.
type gateway struct {
	s    *Server
	opts SQLGatewayOptions
	mu   struct {
		sync.Mutex
		sessions map[string]*gwSession
		// queries counts the preview jobs that have not ended.
		queries int
		closed  bool
		// stopReaper is closed to stop the goroutine that expires idle
		// sessions; nil until the first session opens.
		stopReaper chan struct{}
	}
}

func newGateway(s *Server) *gateway {
	g := &gateway{s: s, opts: s.opts.SQL}
	g.mu.sessions = map[string]*gwSession{}
	return g
}

// gwSession is one SQL session.
type gwSession struct {
	id, name string
	// lastUsed is the time (UnixNano) of the last call naming the session.
	lastUsed atomic.Int64
	// ctx ends (cancel) when the session closes, before close takes mu:
	// a statement that waits under mu (STOP JOB) gives up then.
	ctx    context.Context
	cancel context.CancelCauseFunc
	mu     struct {
		sync.Mutex
		sess *sql.Session
		// script holds the statements that changed the session (DDL,
		// SET, RESET), in order: the prefix of an INSERT's job.
		script []string
		ops    map[string]*gwOp
		closed bool
	}
}

func (ss *gwSession) touch() { ss.lastUsed.Store(time.Now().UnixNano()) }

// openSession opens a session with the given options (SET before any
// statement).
func (g *gateway) openSession(name string, props map[string]string) (*gwSession, error) {
	ss := &gwSession{id: newUUID(), name: name}
	ss.ctx, ss.cancel = context.WithCancelCause(context.Background())
	sess, err := g.s.newSQLSession(sql.SessionOptions{Logger: g.s.log.With("sql-session", ss.id)})
	if err != nil {
		ss.cancel(nil)
		return nil, err
	}
	sess.SetJobManager(gatewayJobs{s: g.s, session: ss.ctx}) // gateway_jobs.go
	ss.mu.sess = sess
	ss.mu.ops = map[string]*gwOp{}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := ss.mu.sess.Config().Set(k, props[k]); err != nil {
			ss.cancel(nil)
			return nil, fmt.Errorf("%w: property %q: %w", errBadRequest, k, err)
		}
		ss.mu.script = append(ss.mu.script, setStatement(k, props[k]))
	}
	ss.touch()
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.mu.closed || g.s.isClosing():
		ss.cancel(nil)
		return nil, fmt.Errorf("%w: the server is shutting down", errConflict)
	case len(g.mu.sessions) >= g.opts.MaxSessions:
		ss.cancel(nil)
		return nil, fmt.Errorf("%w: the server has %d open SQL sessions, its maximum: close one (DELETE /sessions/{sessionHandle}) or wait until idle ones expire (after %v)",
			errUnavailable, len(g.mu.sessions), g.opts.SessionIdleTimeout)
	}
	if g.mu.stopReaper == nil {
		stop := make(chan struct{})
		g.mu.stopReaper = stop
		g.s.wg.Add(1)
		go func() {
			defer g.s.wg.Done()
			g.reap(stop)
		}()
	}
	g.mu.sessions[ss.id] = ss
	g.s.log.Info("server: SQL session opened", "session", ss.id, "name", name)
	return ss, nil
}

// session returns the session id and marks it used, or an errNotFound.
func (g *gateway) session(id string) (*gwSession, error) {
	g.mu.Lock()
	ss := g.mu.sessions[id]
	g.mu.Unlock()
	if ss == nil {
		return nil, fmt.Errorf("%w: Session '%s' does not exist", errNotFound, id)
	}
	ss.touch()
	return ss, nil
}

// closeSession closes the session id and cancels its operations.
func (g *gateway) closeSession(id, why string) bool {
	g.mu.Lock()
	ss := g.mu.sessions[id]
	delete(g.mu.sessions, id)
	g.mu.Unlock()
	if ss == nil {
		return false
	}
	ss.cancel(fmt.Errorf("%w (%s)", errSessionClosed, why))
	ss.close()
	g.s.log.Info("server: SQL session closed", "session", id, "why", why)
	return true
}

// errSessionClosed is the cause of a session's context once it closed.
var errSessionClosed = errors.New("the SQL session closed")

// close marks the session closed and closes its operations.
func (ss *gwSession) close() {
	ss.mu.Lock()
	ss.mu.closed = true
	ops := ss.mu.ops
	ss.mu.ops = map[string]*gwOp{}
	ss.mu.Unlock()
	for _, op := range ops {
		op.end(opClosed)
	}
}

// reap closes the sessions idle for longer than the timeout until stop
// is closed.
func (g *gateway) reap(stop chan struct{}) {
	every := min(max(g.opts.SessionIdleTimeout/4, 10*time.Millisecond), time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			var idle []string
			g.mu.Lock()
			for id, ss := range g.mu.sessions {
				if now.Sub(time.Unix(0, ss.lastUsed.Load())) > g.opts.SessionIdleTimeout {
					idle = append(idle, id)
				}
			}
			g.mu.Unlock()
			for _, id := range idle {
				g.closeSession(id, fmt.Sprintf("idle for more than %v", g.opts.SessionIdleTimeout))
			}
		}
	}
}

// close closes every session (canceling their preview jobs) and stops
// the reaper; new sessions are refused. The goroutines end on their own;
// the server's WaitGroup waits for them.
func (g *gateway) close() {
	g.mu.Lock()
	g.mu.closed = true
	if g.mu.stopReaper != nil {
		select {
		case <-g.mu.stopReaper:
		default:
			close(g.mu.stopReaper)
		}
	}
	ids := make([]string, 0, len(g.mu.sessions))
	for id := range g.mu.sessions {
		ids = append(ids, id)
	}
	g.mu.Unlock()
	for _, id := range ids {
		g.closeSession(id, "server shutdown")
	}
}

// sessionCount returns the number of open sessions.
func (g *gateway) sessionCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.mu.sessions)
}

// reserveQuery takes a slot for a preview job, or returns errUnavailable.
func (g *gateway) reserveQuery() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.queries >= g.opts.MaxQueries {
		return fmt.Errorf("%w: %d SELECT queries are running, the server's maximum: close or cancel one (DELETE /sessions/{sessionHandle}/operations/{operationHandle}/close) and retry",
			errUnavailable, g.mu.queries)
	}
	g.mu.queries++
	return nil
}

func (g *gateway) releaseQuery() {
	g.mu.Lock()
	g.mu.queries--
	g.mu.Unlock()
}

// runningQueries returns the number of preview jobs not ended.
func (g *gateway) runningQueries() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.queries
}

// setStatement returns SET 'key' = 'value'; with the quotes escaped.
func setStatement(k, v string) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	return "SET " + q(k) + " = " + q(v)
}

// newUUID returns a random (version 4) UUID, Flink's session and
// operation handles.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
