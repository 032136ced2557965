package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/go-sql-driver/mysql"
)

// streamer is the reading goroutine: it connects, reads the snapshot
// chunks, follows the binlog and hands items to the reader. All its
// fields are owned by that goroutine.
type streamer struct {
	opts  Options
	cur   state // position after the last item handed over
	m     *metrics
	log   *slog.Logger
	items chan<- item
	avail chan struct{}
	// resolved, if set, receives a fresh start's resolved position before
	// it is handed over: the reader's checkpoints hold it even before
	// Poll took it.
	resolved *atomic.Pointer[state]

	db      *sql.DB
	seekDB  *sql.DB // for queries that scan the binlog (see setup)
	mariadb bool
	tables  []*Table         // as Options.Tables
	byName  map[string]int   // "db.table" → index in tables
	byID    map[uint64]*tmap // binlog table id → table
	sent    bool             // an item was handed over in this session

	// Snapshot: the algorithm resolved at setup (true: watermarks), the
	// chunk being corrected by the binlog (watermark algorithm), the
	// query of the binlog position (SHOW MASTER STATUS, or SHOW BINARY
	// LOG STATUS where MySQL removed it), and a hook tests use to change
	// the table after a chunk's low watermark, before its SELECT
	// (afterSelect false) and before its high watermark (true).
	watermark   bool
	window      *window
	pending     map[int]*pendingTable // by table index: the last change of rows above the bound (see remember)
	statusQuery string
	chunkHook   func(afterSelect bool)
	// consistentHook, if set (tests), sees a consistent chunk's rows
	// as read, before the binlog up to its position is.
	consistentHook func(ch *chunk)
	// startHook, if set (tests), runs once a fresh start's position is
	// read, before XA RECOVER is asked again; xaFileHook sees each binlog
	// file the scan for prepared XA transactions reads (see xastart.go).
	startHook  func()
	xaFileHook func(file string)

	// Binlog position while reading (see handle).
	nextFile     string
	nextPos      uint32
	gset         gomysql.GTIDSet // nil if GTIDs are not tracked
	gsetStr      string
	inTx         bool
	txFile       string
	txPos        uint32
	txGTID       string
	txStandalone bool
	rowIdx       int
	skip         int
	mariaGTID    gomysql.MariadbGTID
	// XA (see xa.go): the prepared transactions whose decision was not
	// read yet (handed over in each state: never changed in place), and
	// the prepared transaction being read (nil outside one).
	xa    []*xaTx
	xaCur *xaTx
	wd    *watchdog // the session's (see next)

	// Resuming (see resumeByPosition): the identity of the server of
	// this session and of the server cur's file and offset were read
	// from ("" if unknown: restored from a checkpoint), and how the last
	// session started ("gtid" or "position", for tests).
	server, posServer string
	startedBy         string
	verifyStart       bool // check the first transaction of a reconnection by position (see checkStart)
}

// tmap is a binlog table id's table: nil entries are tables not captured.
type tmap struct {
	t   *Table
	idx int
}

// run connects and reads until ctx ends, reconnecting with exponential
// backoff after errors; errors retrying cannot fix go to the reader.
func (g *streamer) run(ctx context.Context) {
	defer func() {
		if g.db != nil {
			g.db.Close()
			g.seekDB.Close()
		}
	}()
	backoff := g.opts.MinBackoff
	for {
		g.sent = false
		err := g.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errPermanent) {
			g.send(ctx, item{err: err})
			return
		}
		if g.sent {
			backoff = g.opts.MinBackoff
		}
		g.m.reconnects.Inc()
		g.log.Warn("mysql cdc: connection failed, reconnecting", "addr", g.opts.Addr, "backoff", backoff, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, g.opts.MaxBackoff)
	}
}

// send hands it to the reader (blocking while the buffer is full: that
// is the backpressure) and records its position as the goroutine's own.
func (g *streamer) send(ctx context.Context, it item) bool {
	select {
	case g.items <- it:
	case <-ctx.Done():
		return false
	}
	select {
	case g.avail <- struct{}{}:
	default:
	}
	if it.err == nil {
		g.cur = it.st
		g.sent = true
		g.posServer = g.server
	}
	return true
}

// setup opens the database handle, reads the schemas and resolves a
// fresh start's position. It is done once; a failure is retried.
func (g *streamer) setup(ctx context.Context) error {
	if g.db == nil {
		// The snapshot's queries wait at most ReadTimeout for any one
		// packet: a dead connection fails the chunk, which is retried
		// on a new one. Only BINLOG_GTID_POS, which scans the binlog
		// file from its start, gets SeekTimeout (seekDB).
		db, err := g.openDB(g.opts.ReadTimeout)
		if err != nil {
			return err
		}
		seekDB, err := g.openDB(g.opts.SeekTimeout)
		if err != nil {
			db.Close()
			return err
		}
		seekDB.SetMaxIdleConns(0)
		g.db, g.seekDB = db, seekDB
		g.db.SetMaxIdleConns(2)
		g.db.SetConnMaxIdleTime(time.Minute)
	}
	if g.tables == nil {
		var version string
		if err := g.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
			return fmt.Errorf("mysql cdc: connecting to %s: %w", g.opts.Addr, err)
		}
		g.mariadb = strings.Contains(strings.ToLower(version), "mariadb")
		var tables []*Table
		byName := map[string]int{}
		for i, id := range g.opts.Tables {
			db, name, _ := strings.Cut(id, ".")
			t, err := loadTable(ctx, g.db, db, name)
			if err != nil {
				return err
			}
			tables = append(tables, t)
			byName[id] = i
		}
		g.tables, g.byName = tables, byName
		if err := g.chooseAlgorithm(ctx); err != nil {
			return err
		}
	}
	if !g.cur.Fresh {
		return nil
	}
	st := state{Tables: g.opts.Tables, Table: len(g.tables)}
	// The XA transactions prepared on the server, asked before the start
	// position is read (see xastart.go).
	prep, err := g.xaRecover(ctx)
	if err != nil {
		return err
	}
	switch g.opts.Startup {
	case Initial:
		st.Table = 0
		fallthrough
	case Latest:
		file, pos, gtid, err := g.masterStatus(ctx)
		if err != nil {
			return err
		}
		st.File, st.Pos, st.GTID = file, pos, gtid
	case SpecificOffset:
		st.File, st.Pos, st.GTID = g.opts.StartFile, g.opts.StartPos, g.opts.StartGTID
		if st.GTID != "" && st.File == "" {
			if _, err := gomysql.ParseGTIDSet(g.flavor(), st.GTID); err != nil {
				return permanent("mysql cdc: option StartGTID: %w", err)
			}
			if len(prep.recover) > 0 {
				g.log.Warn("mysql cdc: XA transactions are prepared on the server and the start position is a GTID position only: those prepared before it are not looked for, and the changes of one that changes the captured tables would not be emitted at its XA COMMIT (give StartFile and StartPos)",
					"prepared", len(prep.recover))
			}
		}
	}
	if g.startHook != nil {
		g.startHook()
	}
	if st.XA, err = g.preparedBefore(ctx, prep, st.File, st.Pos); err != nil {
		return err
	}
	if len(st.XA) > 0 {
		xids := make([]string, len(st.XA))
		for i, tx := range st.XA {
			xids[i] = tx.XID
		}
		g.log.Info("mysql cdc: XA transactions prepared before the start position are held until their decision", "xids", xids)
	}
	// Hand the resolved position over before anything else, so that a
	// checkpoint taken now restarts from it.
	if g.resolved != nil {
		g.resolved.Store(&st)
	}
	if !g.send(ctx, item{st: st}) {
		return ctx.Err()
	}
	return nil
}

// openDB opens a SQL handle on the server whose reads and writes wait at
// most timeout for any one packet.
func (g *streamer) openDB(timeout time.Duration) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = g.opts.User, g.opts.Password, "tcp", g.opts.Addr
	cfg.InterpolateParams = true
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	cfg.Timeout = 5 * time.Second
	cfg.ReadTimeout = timeout
	cfg.WriteTimeout = timeout
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, permanent("mysql cdc: %w", err)
	}
	return sql.OpenDB(conn), nil
}

func (g *streamer) flavor() string {
	if g.mariadb {
		return gomysql.MariaDBFlavor
	}
	return gomysql.MySQLFlavor
}

// chooseAlgorithm resolves Options.SnapshotAlgorithm: auto takes the
// consistent snapshot where the server reports its binlog position
// (MariaDB), the watermarks otherwise.
func (g *streamer) chooseAlgorithm(ctx context.Context) error {
	switch g.opts.SnapshotAlgorithm {
	case WatermarkSnapshot:
		g.watermark = true
	case ConsistentSnapshot:
		g.watermark = false
	default:
		var k, v string
		err := g.db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'binlog_snapshot_file'").Scan(&k, &v)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			g.watermark = true
		case err != nil:
			return fmt.Errorf("mysql cdc: reading binlog_snapshot_file: %w", err)
		default:
			g.watermark = v == ""
		}
	}
	if g.cur.Fresh && g.opts.Startup == Initial || !g.cur.Fresh && g.cur.Table < len(g.tables) {
		alg := ConsistentSnapshot
		if g.watermark {
			alg = WatermarkSnapshot
		}
		g.log.Info("mysql cdc: snapshot algorithm", "algorithm", alg.String(), "option", g.opts.SnapshotAlgorithm.String())
	}
	return nil
}

// masterStatus returns the server's current binlog position and its GTID
// position.
func (g *streamer) masterStatus(ctx context.Context) (file string, pos uint32, gtid string, err error) {
	file, pos, gtid, err = g.binlogStatus(ctx)
	if err == nil && g.mariadb {
		gtid, err = g.gtidAt(ctx, g.seekDB, file, pos)
	}
	return file, pos, gtid, err
}

// binlogStatus returns the server's current binlog file and offset and, on
// MySQL, its Executed_Gtid_Set of the same instant (empty without
// gtid_mode ON). MySQL 8.4 has only SHOW BINARY LOG STATUS, older servers
// and MariaDB only SHOW MASTER STATUS: the first one the server refuses
// as a syntax error is not asked again.
func (g *streamer) binlogStatus(ctx context.Context) (file string, pos uint32, gtidSet string, err error) {
	if g.statusQuery == "" {
		g.statusQuery = "SHOW MASTER STATUS"
	}
	rows, err := g.db.QueryContext(ctx, g.statusQuery)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1064 && g.statusQuery == "SHOW MASTER STATUS" {
		g.statusQuery = "SHOW BINARY LOG STATUS"
		rows, err = g.db.QueryContext(ctx, g.statusQuery)
	}
	if err != nil {
		return "", 0, "", fmt.Errorf("mysql cdc: reading the binlog position: %w", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return "", 0, "", fmt.Errorf("mysql cdc: reading the binlog position: %w", err)
		}
		return "", 0, "", permanent("mysql cdc: the server at %s has no binary log (enable log_bin with binlog_format ROW)", g.opts.Addr)
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", 0, "", fmt.Errorf("mysql cdc: reading the binlog position: %w", err)
	}
	file = string(vals[0])
	p, err := strconv.ParseUint(string(vals[1]), 10, 32)
	if err != nil {
		return "", 0, "", fmt.Errorf("mysql cdc: binlog position %q: %w", vals[1], err)
	}
	if !g.mariadb && len(vals) >= 5 {
		gtidSet = strings.ReplaceAll(string(vals[4]), "\n", "")
	}
	return file, uint32(p), gtidSet, rows.Close()
}

// gtidAt returns MariaDB's GTID position at a binlog position ("" if the
// server does not know it).
func (g *streamer) gtidAt(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, file string, pos uint32) (string, error) {
	var gtid sql.NullString
	if err := q.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, ?)", file, pos).Scan(&gtid); err != nil {
		return "", fmt.Errorf("mysql cdc: reading the GTID position of %s:%d: %w", file, pos, err)
	}
	return gtid.String, nil
}

// session reads from g.cur until an error.
func (g *streamer) session(ctx context.Context) (err error) {
	g.server = ""
	defer func() { err = g.positionGone(err) }()
	if err := g.setup(ctx); err != nil {
		return err
	}
	g.startedBy = ""
	id, err := g.serverIdentity(ctx)
	if err != nil {
		return err
	}
	g.server = id
	if g.sent { // setup resolved a fresh start on this server
		g.posServer = id
	}
	syncer, err := g.newSyncer()
	if err != nil {
		return err
	}
	defer syncer.Close()
	g.wd = newWatchdog(ctx, g.opts.ReadTimeout)
	defer g.wd.close()

	// Start where the position says: by GTID where known.
	g.nextFile, g.nextPos, g.skip, g.inTx = g.cur.File, g.cur.Pos, g.cur.Skip, false
	g.xa, g.xaCur = g.cur.XA, nil
	g.gset, g.gsetStr = nil, g.cur.GTID
	g.verifyStart = false
	g.byID = map[uint64]*tmap{}
	if g.cur.GTID != "" {
		if g.gset, err = gomysql.ParseGTIDSet(g.flavor(), g.cur.GTID); err != nil {
			return permanent("mysql cdc: GTID position %q: %w", g.cur.GTID, err)
		}
	}
	var bs *replication.BinlogStreamer
	if g.gset != nil && !g.resumeByPosition() {
		g.startedBy = "gtid"
		bs, err = syncer.StartSyncGTID(g.gset.Clone())
	} else {
		g.startedBy = "position"
		g.verifyStart = !g.opts.ResumeByPosition && g.mariadb && g.gset != nil
		bs, err = syncer.StartSync(gomysql.Position{Name: g.nextFile, Pos: g.nextPos})
	}
	if err != nil {
		return fmt.Errorf("mysql cdc: starting the binlog stream at %s:%d (gtid %q): %w", g.nextFile, g.nextPos, g.cur.GTID, err)
	}

	for g.cur.Table < len(g.tables) {
		if err := g.snapshotChunk(ctx, bs); err != nil {
			return err
		}
	}
	for {
		ev, err := g.next(ctx, bs)
		if err != nil {
			return err
		}
		if err := g.handle(ctx, ev); err != nil {
			return err
		}
	}
}

// newSyncer returns a binlog client of the server (Options.ServerID: one
// at a time).
func (g *streamer) newSyncer() (*replication.BinlogSyncer, error) {
	host, port, err := net.SplitHostPort(g.opts.Addr)
	if err != nil {
		return nil, permanent("mysql cdc: option Addr %q: %w", g.opts.Addr, err)
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, permanent("mysql cdc: option Addr %q: bad port", g.opts.Addr)
	}
	return replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID:         g.opts.ServerID,
		Flavor:           g.flavor(),
		Host:             host,
		Port:             uint16(pn),
		User:             g.opts.User,
		Password:         g.opts.Password,
		ParseTime:        true,
		HeartbeatPeriod:  g.opts.HeartbeatPeriod,
		ReadTimeout:      g.opts.SeekTimeout, // ReadTimeout: the watchdog's, once positioned
		DisableRetrySync: true,
		Logger:           discard(),
	}), nil
}

// binlogError wraps an error of the binlog stream; the server's refusal to
// send the binlog from the position (error 1236: purged, or a file or GTID
// it does not have) is permanent: retrying cannot bring the binlog back.
func binlogError(err error, from state) error {
	var me *gomysql.MyError
	if errors.As(err, &me) && me.Code == 1236 || strings.Contains(err.Error(), "ERROR 1236") {
		return permanent("mysql cdc: the server cannot send the binlog from %s:%d (gtid %q): %w; the position was purged or never existed: restart the job without its checkpoint (new snapshot)",
			from.File, from.Pos, from.GTID, err)
	}
	return fmt.Errorf("mysql cdc: reading the binlog: %w", err)
}

// rawRow joins a row's text values for a dead letter.
func rawRow(raw []sql.RawBytes) []byte {
	var b []byte
	for i, v := range raw {
		if i > 0 {
			b = append(b, '\t')
		}
		if v == nil {
			b = append(b, `\N`...)
		} else {
			b = append(b, v...)
		}
	}
	return b
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// comparePos orders binlog positions: by the file's sequence number, then
// the offset.
func comparePos(file string, pos uint32, p gomysql.Position) int {
	if file != p.Name {
		a, b := fileSeq(file), fileSeq(p.Name)
		if a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	switch {
	case pos < p.Pos:
		return -1
	case pos > p.Pos:
		return 1
	}
	return 0
}

func fileSeq(name string) uint64 {
	i := strings.LastIndexByte(name, '.')
	n, _ := strconv.ParseUint(name[i+1:], 10, 64)
	return n
}

// position is the state at the current point of the binlog: inside a
// transaction its start and the rows of it handed over (or skipped).
func (g *streamer) position() state {
	st := state{Tables: g.cur.Tables, Table: g.cur.Table, Bound: g.cur.Bound, GTID: g.gsetStr, XA: g.xa}
	if g.inTx {
		st.File, st.Pos, st.Skip = g.txFile, g.txPos, g.rowIdx
	} else {
		st.File, st.Pos = g.nextFile, g.nextPos
	}
	return st
}

// handle processes one binlog event.
func (g *streamer) handle(ctx context.Context, ev *replication.BinlogEvent) error {
	h := ev.Header
	if h.EventType == replication.HEARTBEAT_EVENT || h.EventType == replication.HEARTBEAT_LOG_EVENT_V2 {
		return nil
	}
	artificial := h.Flags&replication.LOG_EVENT_ARTIFICIAL_F != 0 || h.LogPos == 0
	start := h.LogPos - h.EventSize
	commit := false
	var entries []entry // changes the end of the transaction makes (XA COMMIT)
	if g.verifyStart {
		if err := g.checkStart(ev); err != nil {
			return err
		}
	}
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		name := string(e.NextLogName)
		if !artificial || name != g.nextFile {
			g.nextFile, g.nextPos = name, uint32(e.Position)
		}
		return nil
	case *replication.MariadbGTIDEvent:
		// The GTID event opens the transaction (MariaDB sends no
		// BEGIN); its GTID joins the set when the transaction ends.
		g.begin(start)
		g.txGTID, g.mariaGTID = e.GTID.String(), e.GTID
		g.txStandalone = e.IsStandalone()
		if e.Flags&flPreparedXA != 0 {
			g.xaCur = &xaTx{File: g.txFile, Pos: g.txPos, GTID: g.txGTID}
		}
		g.advance(h, artificial)
		return nil
	case *replication.GTIDEvent:
		g.begin(start)
		if next, err := e.GTIDNext(); err == nil {
			g.txGTID = next.String()
		}
		g.txStandalone = true // a DDL follows without BEGIN; BEGIN clears it
		g.advance(h, artificial)
		return nil
	case *replication.QueryEvent:
		q := strings.TrimSpace(string(e.Query))
		verb, xid, onePhase, isXA := parseXAQuery(q)
		switch {
		case isXA && verb == "START": // MySQL: a prepared group's BEGIN
			if !g.inTx {
				g.begin(start)
			}
			g.txStandalone = false
			g.xaCur = &xaTx{File: g.txFile, Pos: g.txPos, GTID: g.txGTID}
		case isXA && verb == "END": // the prepared group goes on to its XA_PREPARE_LOG_EVENT
		case isXA && !onePhase && (verb == "COMMIT" || verb == "ROLLBACK"):
			var err error
			if entries, err = g.xaDecided(h, xid, verb == "COMMIT"); err != nil {
				return err
			}
			commit = true
		case strings.EqualFold(q, "BEGIN"):
			if !g.inTx {
				g.begin(start)
			}
			g.txStandalone = false
		case strings.EqualFold(q, "COMMIT"):
			commit = true
		default:
			commit = !g.inTx || g.txStandalone
		}
	case *replication.XIDEvent:
		commit = true
	case *replication.GenericEvent:
		if h.EventType == replication.XA_PREPARE_LOG_EVENT {
			var err error
			if entries, commit, err = g.xaPrepared(h, e.Data); err != nil {
				return err
			}
		}
	case *replication.TableMapEvent:
		id := string(e.Schema) + "." + string(e.Table)
		if i, ok := g.byName[id]; ok {
			g.byID[e.TableID] = &tmap{t: g.tables[i], idx: i}
		} else {
			delete(g.byID, e.TableID)
		}
	case *replication.RowsEvent:
		if err := g.rows(ctx, h, e); err != nil {
			return err
		}
	}
	g.advance(h, artificial)
	if commit {
		g.end()
		if !g.send(ctx, item{entries: entries, st: g.position()}) {
			return ctx.Err()
		}
	}
	return nil
}

// advance moves the next position past the event (never backwards: a
// stream started mid-file begins with the file's format description).
func (g *streamer) advance(h *replication.EventHeader, artificial bool) {
	if !artificial && h.LogPos > g.nextPos {
		g.nextPos = h.LogPos
	}
}

func (g *streamer) begin(start uint32) {
	g.inTx, g.txFile, g.txPos, g.rowIdx, g.txGTID = true, g.nextFile, start, 0, ""
	g.xaCur = nil
}

// end closes the transaction: its GTID joins the set, the rows to skip
// (after a restore inside it) are behind.
func (g *streamer) end() {
	if g.gset != nil {
		switch {
		case g.mariadb && g.txGTID != "":
			gt := g.mariaGTID
			if err := g.gset.(*gomysql.MariadbGTIDSet).AddSet(&gt); err == nil {
				g.gsetStr = g.gset.String()
			}
		case !g.mariadb && g.txGTID != "":
			if err := g.gset.Update(g.txGTID); err == nil {
				g.gsetStr = g.gset.String()
			}
		}
	}
	g.inTx, g.skip, g.rowIdx, g.txGTID = false, 0, 0, ""
	g.xaCur = nil
}
