package cdc

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/go-sql-driver/mysql"
)

// XA transactions prepared before a fresh start. The binlog has the rows of
// an XA transaction at its XA PREPARE; one prepared before the position a
// fresh start reads from (the snapshot's start, the end of the binlog, a
// specific offset) and decided after it has its rows behind the reader,
// and the snapshot does not see them either (not committed). So a fresh
// start asks the server which XA transactions are prepared (XA RECOVER)
// and, if any, reads the binlog backwards from the start position, file by
// file, for their prepare groups, until it has seen every one of them;
// the changes of those still undecided at the start position are held
// from the start, as if the source had read their XA PREPARE (the
// resolved position's XA), and take effect at their XA COMMIT. Nothing
// else of those files is emitted.
//
// XA RECOVER is asked before the start position is read, so that a
// transaction it lists was written to the binlog before the start position
// of Initial and Latest (MariaDB writes the prepare group before it marks
// the transaction prepared); one prepared after XA RECOVER answered has its
// group after the binlog's end read before XA RECOVER, a region the scan
// reads whole, and one written before that end but not marked prepared yet
// when XA RECOVER ran is listed when it is asked again after the start
// position was read. Which transactions are undecided at the start
// position is read from the binlog itself: their last prepare group before
// it, with no decision of the same XID after it. A transaction prepared
// before the start position and decided after it, before the source
// started (a specific offset in the past), is listed by neither XA
// RECOVER: the binlog from the start position to its end, read after the
// second XA RECOVER, names it (its first XA event there is its decision).

// prepStart is what a fresh start reads before its start position: the
// binlog's end and the XIDs prepared on the server (nil if XA RECOVER was
// refused).
type prepStart struct {
	endFile string
	endPos  uint32
	recover map[string]bool
	asked   bool
}

// xaRecover reads the binlog's end, then the XIDs XA RECOVER lists. A
// refusal of XA RECOVER (privileges) is logged and leaves asked false.
func (g *streamer) xaRecover(ctx context.Context) (prepStart, error) {
	var p prepStart
	var err error
	if p.endFile, p.endPos, _, err = g.binlogStatus(ctx); err != nil {
		return p, err
	}
	p.recover, err = g.recoverXIDs(ctx)
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		g.log.Warn("mysql cdc: XA RECOVER refused: XA transactions prepared before the start position cannot be looked for; the changes of one that changes the captured tables would not be emitted at its XA COMMIT (grant XA_RECOVER_ADMIN on MySQL 8)", "err", err)
		return p, nil
	}
	p.asked = err == nil
	return p, err
}

// recoverXIDs returns the XIDs XA RECOVER lists, as xidString writes them.
func (g *streamer) recoverXIDs(ctx context.Context) (map[string]bool, error) {
	rows, err := g.db.QueryContext(ctx, "XA RECOVER")
	if err != nil {
		return nil, fmt.Errorf("mysql cdc: XA RECOVER: %w", err)
	}
	defer rows.Close()
	xids := map[string]bool{}
	for rows.Next() {
		var format int64
		var gl, bl int
		var data []byte
		if err := rows.Scan(&format, &gl, &bl, &data); err != nil {
			return nil, fmt.Errorf("mysql cdc: XA RECOVER: %w", err)
		}
		if gl < 0 || bl < 0 || gl+bl > len(data) {
			return nil, fmt.Errorf("mysql cdc: XA RECOVER: XID of %d+%d bytes in %d", gl, bl, len(data))
		}
		xids[xidString(strconv.FormatInt(format, 10), hex.EncodeToString(data[:gl]), hex.EncodeToString(data[gl:gl+bl]))] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mysql cdc: XA RECOVER: %w", err)
	}
	return xids, nil
}

// preparedBefore returns the XA transactions changing the captured tables
// that are prepared before file:pos (the start position) and undecided
// there, with their changes, in prepare order: the binlog is read
// backwards from the start position, file by file, until every XID
// either XA RECOVER listed (unless prepared after the start position) or
// xaAfter found decided after it was seen, and the binlog's end read
// before XA RECOVER is behind. The XIDs looked for that the binlog does
// not have before the start position are logged: writing nothing to the
// binlog (read only; their search reads every file), or in purged files
// (their changes are lost at their XA COMMIT).
func (g *streamer) preparedBefore(ctx context.Context, p prepStart, file string, pos uint32) ([]*xaTx, error) {
	if !p.asked || file == "" {
		return nil, nil
	}
	// Asked again (after the start position was read): a transaction
	// written to the binlog before the end read first may not have been
	// listed yet (MariaDB marks it prepared after writing its group);
	// it is listed now unless decided, and then after the start position.
	again, err := g.recoverXIDs(ctx)
	if err != nil {
		return nil, err
	}
	files, err := g.binlogFiles(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.Index(files, file)
	if i < 0 {
		return nil, nil // the stream reports a file the server lacks
	}
	// The binlog from the start position to its end now: a transaction
	// prepared before the start position and decided after it (a specific
	// offset in the past; or one prepared before the end read first but
	// not listed yet by the first XA RECOVER, decided before the second)
	// is listed by neither; its decision is before this end.
	endFile, endPos, _, err := g.binlogStatus(ctx)
	if err != nil {
		return nil, err
	}
	decided, preparedAfter, err := g.xaAfter(ctx, file, pos, gomysql.Position{Name: endFile, Pos: endPos})
	if err != nil {
		return nil, err
	}
	// The XIDs to find before the start position: those listed, unless
	// prepared after it (their group is not before it: looking for it
	// would read the whole binlog), and those decided after it.
	want := map[string]bool{}
	for _, set := range []map[string]bool{p.recover, again, decided} {
		for x := range set {
			if !preparedAfter[x] {
				want[x] = true
			}
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	sc := &xaScan{g: g, seen: map[string]bool{}, found: map[string]*xaTx{}, bad: map[*xaTx]error{}}
	missing := func() []string {
		var out []string
		for x := range want {
			if !sc.seen[x] {
				out = append(out, x)
			}
		}
		slices.Sort(out)
		return out
	}
	for ; i >= 0; i-- {
		end := uint32(0)
		if files[i] == file {
			end = pos
		}
		if err := sc.file(ctx, files[i], end); err != nil {
			return nil, err
		}
		if len(missing()) == 0 && (p.endFile == "" || fileSeq(files[i]) <= fileSeq(p.endFile)) {
			break
		}
	}
	if m := missing(); len(m) > 0 {
		if fileSeq(files[0]) <= 1 {
			g.log.Info("mysql cdc: XA transactions prepared on the server are not in the binlog before the start position (read only, or prepared after it)", "xids", m)
		} else {
			g.log.Warn("mysql cdc: XA transactions prepared on the server are not in the binlog before the start position: read only, prepared after it, or prepared in a purged binlog file (then their changes are not emitted at their XA COMMIT)",
				"xids", m, "oldest_binlog", files[0])
		}
	}
	var out []*xaTx
	for x, tx := range sc.found {
		if p.recover[x] || again[x] || decided[x] || comparePos(tx.File, tx.Pos, gomysql.Position{Name: p.endFile, Pos: p.endPos}) >= 0 {
			if err := sc.bad[tx]; err != nil {
				return nil, fmt.Errorf("mysql cdc: XA transaction %s, prepared before the start position at %s:%d: %w", x, tx.File, tx.Pos, err)
			}
			out = append(out, tx)
		}
	}
	slices.SortFunc(out, func(a, b *xaTx) int { return comparePos(a.File, a.Pos, gomysql.Position{Name: b.File, Pos: b.Pos}) })
	return out, nil
}

// binlogFiles lists the server's binlog files, oldest first.
func (g *streamer) binlogFiles(ctx context.Context) ([]string, error) {
	rows, err := g.db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("mysql cdc: SHOW BINARY LOGS: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("mysql cdc: SHOW BINARY LOGS: %w", err)
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var files []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("mysql cdc: SHOW BINARY LOGS: %w", err)
		}
		files = append(files, string(vals[0]))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mysql cdc: SHOW BINARY LOGS: %w", err)
	}
	sortBinlogFiles(files)
	return files, nil
}

// sortBinlogFiles sorts binlog file names by their sequence number
// (fileSeq: mysql-bin.000009 before mysql-bin.000010, and the number may
// outgrow its six digits), keeping the server's order between equal ones.
func sortBinlogFiles(files []string) {
	slices.SortStableFunc(files, func(a, b string) int { return cmp.Compare(fileSeq(a), fileSeq(b)) })
}

// xaScan reads binlog files, newest first, for prepare groups: found holds
// for each XID its last prepare group (of the captured tables) undecided
// up to the start position, seen the XIDs of any XA event in the files
// read (an older prepare group of a seen XID was decided: an XID is
// prepared again only after its decision).
type xaScan struct {
	g     *streamer
	seen  map[string]bool
	found map[string]*xaTx
	// bad holds the error of a prepare group whose rows do not fit the
	// table (another column count): it fails the start only if the
	// transaction is held (an old group may be of an older layout).
	bad map[*xaTx]error
}

// file reads one binlog file from its start up to end (0: its end).
func (sc *xaScan) file(ctx context.Context, file string, end uint32) error {
	if end != 0 && end <= 4 {
		return nil
	}
	g := sc.g
	if g.xaFileHook != nil {
		g.xaFileHook(file)
	}
	syncer, err := g.newSyncer()
	if err != nil {
		return err
	}
	defer syncer.Close()
	bs, err := syncer.StartSync(gomysql.Position{Name: file, Pos: 4})
	if err != nil {
		return fmt.Errorf("mysql cdc: reading binlog file %s for prepared XA transactions: %w", file, err)
	}
	sctx, cancel := context.WithTimeout(ctx, g.opts.SeekTimeout)
	defer cancel()
	byID := map[uint64]*tmap{}
	cand := map[string]*xaTx{} // prepared in this file, undecided so far
	inFile := map[string]bool{}
	var cur *xaTx // the prepare group being read
	var grpPos uint32
	var grpGTID string
	rowIdx := 0
	for {
		ev, err := bs.GetEvent(sctx)
		if err != nil {
			return fmt.Errorf("mysql cdc: reading binlog file %s for prepared XA transactions: %w", file, err)
		}
		h := ev.Header
		artificial := h.Flags&replication.LOG_EVENT_ARTIFICIAL_F != 0 || h.LogPos == 0
		if r, ok := ev.Event.(*replication.RotateEvent); ok {
			if string(r.NextLogName) != file {
				break // the file's end
			}
			continue
		}
		if artificial || h.EventType == replication.HEARTBEAT_EVENT || h.EventType == replication.HEARTBEAT_LOG_EVENT_V2 {
			continue
		}
		if end != 0 && h.LogPos-h.EventSize >= end {
			break
		}
		start, last := h.LogPos-h.EventSize, end != 0 && h.LogPos >= end
		switch e := ev.Event.(type) {
		case *replication.MariadbGTIDEvent:
			cur, grpPos, grpGTID, rowIdx = nil, start, e.GTID.String(), 0
			if e.Flags&flPreparedXA != 0 {
				cur = &xaTx{File: file, Pos: start, GTID: grpGTID}
			}
		case *replication.GTIDEvent:
			cur, grpPos, grpGTID, rowIdx = nil, start, "", 0
			if next, err := e.GTIDNext(); err == nil {
				grpGTID = next.String()
			}
		case *replication.QueryEvent:
			verb, xid, onePhase, isXA := parseXAQuery(strings.TrimSpace(string(e.Query)))
			switch {
			case isXA && verb == "START": // MySQL's prepare group
				cur, rowIdx = &xaTx{File: file, Pos: grpPos, GTID: grpGTID}, 0
			case isXA && !onePhase && (verb == "COMMIT" || verb == "ROLLBACK"):
				inFile[xid] = true
				delete(cand, xid)
				cur = nil
			case isXA:
			default:
				cur = nil // BEGIN, DDL: not a prepare group
			}
		case *replication.TableMapEvent:
			if i, ok := g.byName[string(e.Schema)+"."+string(e.Table)]; ok {
				byID[e.TableID] = &tmap{t: g.tables[i], idx: i}
			} else {
				delete(byID, e.TableID)
			}
		case *replication.RowsEvent:
			if cur != nil {
				var err error
				if rowIdx, err = sc.rows(h, e, byID[e.TableID], cur, file, rowIdx); err != nil {
					sc.bad[cur] = err
				}
			}
		case *replication.GenericEvent:
			if h.EventType != replication.XA_PREPARE_LOG_EVENT {
				break
			}
			xid, onePhase, err := parseXAPrepare(e.Data)
			if err != nil {
				return permanent("mysql cdc: at %s:%d: %w", file, h.LogPos, err)
			}
			if cur != nil && !onePhase {
				cur.XID = xid
				inFile[xid] = true
				cand[xid] = cur
			}
			cur = nil
		}
		if last {
			break
		}
	}
	for xid, tx := range cand {
		if !sc.seen[xid] && (len(tx.Changes) > 0 || sc.bad[tx] != nil) {
			sc.found[xid] = tx
		}
	}
	for xid := range inFile {
		sc.seen[xid] = true
	}
	return nil
}

// rows adds the changes of a rows event of a prepare group to cur, tm its
// table (nil if not captured); rowIdx counts the group's row changes,
// captured or not (as streamer.rows does).
func (sc *xaScan) rows(h *replication.EventHeader, e *replication.RowsEvent, tm *tmap, cur *xaTx, file string, rowIdx int) (int, error) {
	n := len(e.Rows)
	if e.Type() == replication.EnumRowsEventTypeUpdate {
		n /= 2
	}
	if tm == nil {
		return rowIdx + n, nil
	}
	if err := checkRowsEvent(tm.t, e, file, h.LogPos); err != nil {
		return rowIdx, err
	}
	for i := 0; i < n; i++ {
		pos := Position{File: cur.File, Pos: cur.Pos, GTID: cur.GTID, Row: rowIdx}
		before, after, dead, err := sc.g.images(tm.t, h, e, i, pos)
		if err != nil {
			return rowIdx, permanent("mysql cdc: %w at %s:%d", err, file, h.LogPos)
		}
		cur.Changes = append(cur.Changes, xaChange{Table: tm.idx, Row: rowIdx, Before: before, After: after, Dead: dead})
		rowIdx++
	}
	return rowIdx, nil
}

// xaAfter reads the binlog from file:pos (the start position) up to end
// and returns the XIDs whose first XA event there is their XA COMMIT or
// XA ROLLBACK (decided: prepared before the start position, decided after
// it) and those whose first XA event there is their prepare (prepared
// after the start position: nothing of theirs before it is undecided).
func (g *streamer) xaAfter(ctx context.Context, file string, pos uint32, end gomysql.Position) (decided, prepared map[string]bool, err error) {
	decided, prepared = map[string]bool{}, map[string]bool{}
	if comparePos(file, pos, end) >= 0 {
		return decided, prepared, nil
	}
	syncer, err := g.newSyncer()
	if err != nil {
		return nil, nil, err
	}
	defer syncer.Close()
	bs, err := syncer.StartSync(gomysql.Position{Name: file, Pos: pos})
	if err != nil {
		return nil, nil, fmt.Errorf("mysql cdc: reading the binlog from %s:%d for XA decisions: %w", file, pos, err)
	}
	sctx, cancel := context.WithTimeout(ctx, g.opts.SeekTimeout)
	defer cancel()
	cur := file
	first := map[string]bool{} // XIDs with an XA event read
	for {
		ev, err := bs.GetEvent(sctx)
		if err != nil {
			return nil, nil, fmt.Errorf("mysql cdc: reading the binlog from %s:%d for XA decisions: %w", file, pos, err)
		}
		h := ev.Header
		if r, ok := ev.Event.(*replication.RotateEvent); ok {
			cur = string(r.NextLogName)
			continue
		}
		if h.Flags&replication.LOG_EVENT_ARTIFICIAL_F != 0 || h.LogPos == 0 || h.EventType == replication.HEARTBEAT_EVENT || h.EventType == replication.HEARTBEAT_LOG_EVENT_V2 {
			continue
		}
		switch e := ev.Event.(type) {
		case *replication.QueryEvent:
			verb, xid, onePhase, isXA := parseXAQuery(strings.TrimSpace(string(e.Query)))
			if isXA && !onePhase && (verb == "COMMIT" || verb == "ROLLBACK") {
				if !first[xid] {
					decided[xid] = true
				}
				first[xid] = true
			}
		case *replication.GenericEvent:
			if h.EventType == replication.XA_PREPARE_LOG_EVENT {
				xid, onePhase, err := parseXAPrepare(e.Data)
				if err != nil {
					return nil, nil, permanent("mysql cdc: at %s:%d: %w", cur, h.LogPos, err)
				}
				if !onePhase && !first[xid] {
					prepared[xid] = true
				}
				first[xid] = true
			}
		}
		if comparePos(cur, h.LogPos, end) >= 0 {
			return decided, prepared, nil
		}
	}
}
