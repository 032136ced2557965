package cdc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// errIdle cancels a session's binlog reads: the stream was positioned and
// no event (nor heartbeat) came for ReadTimeout.
var errIdle = errors.New("no binlog event nor heartbeat")

// watchdog applies ReadTimeout to a binlog stream once it is positioned.
//
// After (re)connecting, the server first seeks the start position: by
// GTID, MariaDB scans the binlog file from its start and sends nothing
// (no heartbeat either) until it reaches it, which on a big file takes
// longer than any sensible idle timeout. Until the first event past the
// file's header events (see positioning) only SeekTimeout, the binlog
// client's per-packet deadline, bounds the wait; from then on the server
// sends a heartbeat every HeartbeatPeriod while the binlog is quiet, and
// ReadTimeout without any event means a dead connection. Only the time
// spent waiting for an event counts: a reader blocked by backpressure is
// not idle.
type watchdog struct {
	ctx        context.Context // cancelled with errIdle
	cancel     context.CancelCauseFunc
	timeout    time.Duration
	positioned atomic.Bool
	waiting    atomic.Bool
	events     atomic.Uint64
	stop       chan struct{}
}

// newWatchdog starts a session's watchdog over ctx; close stops it.
func newWatchdog(ctx context.Context, timeout time.Duration) *watchdog {
	w := &watchdog{timeout: timeout, stop: make(chan struct{})}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	go w.watch()
	return w
}

func (w *watchdog) close() {
	close(w.stop)
	w.cancel(nil)
}

// watch checks every quarter of the timeout that an event came since, or
// the reader was not waiting: it fires after between 1 and 1.25 timeouts.
func (w *watchdog) watch() {
	tick := max(w.timeout/4, time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	var last uint64
	var idle time.Duration
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		n := w.events.Load()
		if n != last || !w.waiting.Load() || !w.positioned.Load() {
			last, idle = n, 0
			continue
		}
		if idle += tick; idle >= w.timeout {
			w.cancel(errIdle)
			return
		}
	}
}

// next returns the stream's next event, or an error (binlogError's) when
// the stream failed or the watchdog fired.
func (g *streamer) next(ctx context.Context, bs *replication.BinlogStreamer) (*replication.BinlogEvent, error) {
	w := g.wd
	w.waiting.Store(true)
	ev, err := bs.GetEvent(w.ctx)
	w.waiting.Store(false)
	if err != nil {
		if ctx.Err() == nil && errors.Is(context.Cause(w.ctx), errIdle) {
			// The SQL handle's idle connections likely went the same
			// way: close them rather than wait SeekTimeout on them.
			g.db.SetMaxIdleConns(0)
			g.db.SetMaxIdleConns(2)
			return nil, fmt.Errorf("mysql cdc: reading the binlog: %w for %v (ReadTimeout); reconnecting", errIdle, g.opts.ReadTimeout)
		}
		return nil, binlogError(err, g.cur)
	}
	w.events.Add(1)
	if !w.positioned.Load() && positioning(ev.Header.EventType) {
		return ev, nil
	}
	if !w.positioned.Load() {
		w.positioned.Store(true)
	}
	return ev, nil
}

// positioning says whether an event may come before the server reached the
// start position: the (fake) rotation to the file and the file's header
// events. Anything else, a heartbeat included, is sent from the start
// position on.
func positioning(t replication.EventType) bool {
	switch t {
	case replication.ROTATE_EVENT, replication.FORMAT_DESCRIPTION_EVENT,
		replication.MARIADB_GTID_LIST_EVENT, replication.MARIADB_BINLOG_CHECKPOINT_EVENT,
		replication.PREVIOUS_GTIDS_EVENT:
		return true
	}
	return false
}

// resumeByPosition says whether a session starts from cur's file and
// offset rather than its GTID position: where Options.ResumeByPosition
// says so, and on a reconnection to the server the file and offset were
// read from (same server_id, and server_uuid on MySQL). That is the
// cheap seek (by GTID, MariaDB scans the binlog file from its start);
// after a restore, or on another server, the GTID position is the one
// that means the same everywhere.
func (g *streamer) resumeByPosition() bool {
	if g.nextFile == "" {
		return false
	}
	return g.opts.ResumeByPosition || g.posServer != "" && g.posServer == g.server
}

// positionGone turns the server's refusal of a file and offset the source
// chose itself (a reconnection, see resumeByPosition) into a retry by
// GTID: the same server_id does not make the same binlog (RESET MASTER,
// a rebuilt server, Galera nodes sharing a server_id), and the GTID
// position may still be valid. A refusal of the GTID position, or of a
// file and offset Options.ResumeByPosition asked for, stays permanent.
func (g *streamer) positionGone(err error) error {
	if err == nil || g.startedBy != "position" || g.opts.ResumeByPosition || g.gset == nil || !errors.Is(err, errPermanent) {
		return err
	}
	var me *gomysql.MyError
	if !errors.As(err, &me) || me.Code != 1236 {
		if !strings.Contains(err.Error(), "ERROR 1236") {
			return err
		}
	}
	g.posServer = ""
	return fmt.Errorf("mysql cdc: the server refused the binlog file and offset %s:%d (%v); resuming by GTID %q", g.cur.File, g.cur.Pos, err, g.cur.GTID)
}

// checkStart checks, on MariaDB, the first transaction of a session that
// resumed by file and offset because the server has the identity of the
// one they were read from: it must start at the offset (a GTID event
// comes before any other event of a transaction) and be new (its GTID not
// in the GTID position). Otherwise the file and offset belong to another
// binlog than the one they were read from (another server with the same
// server_id, a binlog reset and written again): the session ends and the
// next one resumes by GTID, rather than re-emit or skip transactions.
func (g *streamer) checkStart(ev *replication.BinlogEvent) error {
	bad := ""
	switch e := ev.Event.(type) {
	case *replication.MariadbGTIDEvent:
		g.verifyStart = false
		if gs, ok := g.gset.(*gomysql.MariadbGTIDSet); ok {
			if old := gs.Sets[e.GTID.DomainID][e.GTID.ServerID]; old != nil && old.SequenceNumber >= e.GTID.SequenceNumber {
				bad = fmt.Sprintf("transaction %s, already in the GTID position", e.GTID.String())
			}
		}
	case *replication.QueryEvent, *replication.XIDEvent, *replication.TableMapEvent, *replication.RowsEvent:
		g.verifyStart = false
		bad = fmt.Sprintf("a %v event not after a GTID event", ev.Header.EventType)
	}
	if bad == "" {
		return nil
	}
	g.posServer = ""
	return fmt.Errorf("mysql cdc: the binlog at %s:%d starts with %s: not the binlog the position was read from; resuming by GTID %q", g.cur.File, g.cur.Pos, bad, g.cur.GTID)
}

// serverIdentity names the server the SQL handle is connected to.
func (g *streamer) serverIdentity(ctx context.Context) (string, error) {
	q := "SELECT CONCAT(@@server_id, '')"
	if !g.mariadb {
		q = "SELECT CONCAT(@@server_id, '/', @@server_uuid)"
	}
	// A quick query: bounded by the connect timeout, not SeekTimeout.
	qctx, cancel := context.WithTimeout(ctx, max(g.opts.ReadTimeout, 5*time.Second))
	defer cancel()
	var id string
	if err := g.db.QueryRowContext(qctx, q).Scan(&id); err != nil {
		return "", fmt.Errorf("mysql cdc: reading the server's identity: %w", err)
	}
	return id, nil
}
