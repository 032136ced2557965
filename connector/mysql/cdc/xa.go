package cdc

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/weirstream/weir"
)

// XA transactions. MariaDB writes an XA transaction's row changes to the
// binlog at XA PREPARE, as an event group of their own: a GTID event
// flagged FL_PREPARED_XA, the rows, the query "XA END X'..',X'..',n" and
// an XA_PREPARE_LOG_EVENT. The decision is a later group: a GTID event
// flagged FL_COMPLETED_XA and the query "XA COMMIT X'..',X'..',n" or "XA
// ROLLBACK X'..',X'..',n". XA COMMIT ... ONE PHASE is written as an
// ordinary transaction (BEGIN ... XID). MySQL writes the prepared group as
// "XA START X'..'" (a query, after the GTID event), the rows, "XA END" and
// the XA_PREPARE_LOG_EVENT, whose one_phase flag is set for XA COMMIT ...
// ONE PHASE; its decisions are the same queries.
//
// The reader keeps the changes of a prepared group to the captured tables
// aside (groups without any are not kept), in the position it hands over
// (state.XA), so that checkpoints hold them: they take effect where the XA COMMIT is in the binlog, as
// the changes of an ordinary transaction committed there (emitted if
// their rows are snapshotted already, applied to the chunk being read,
// kept for later chunks: see commitChanges), and are dropped at XA
// ROLLBACK.

// MariaDB's GTID event flags of XA groups (log_event.h).
const (
	flPreparedXA  = 64
	flCompletedXA = 128
)

// xaTx is a transaction prepared (XA PREPARE read), its decision not read
// yet. It is immutable once in a state.
type xaTx struct {
	XID     string // formatID:gtrid:bqual, both in hex
	File    string // the prepared group's start, for logs
	Pos     uint32
	GTID    string
	Changes []xaChange
}

// xaChange is a row change of a prepared transaction: its table (index in
// Options.Tables), its index among the transaction's row changes, and the
// row before (nil for an insert) and after it (nil for a delete), or the
// dead letter of a row that did not decode.
type xaChange struct {
	Table         int
	Row           int
	Before, After []any
	Dead          *weir.DeadLetter
}

// xaStmt matches the binlog's XA queries: XA START, END, COMMIT or ROLLBACK
// of an XID written X'gtrid',X'bqual',formatID, and ONE PHASE.
var xaStmt = regexp.MustCompile(`(?i)^XA\s+(START|BEGIN|END|COMMIT|ROLLBACK)\s+X'([0-9a-f]*)'\s*,\s*X'([0-9a-f]*)'\s*,\s*(\d+)\s*(ONE\s+PHASE)?`)

// parseXAQuery returns the verb (upper case) and XID of an XA query of the
// binlog, ok false for any other query.
func parseXAQuery(q string) (verb, xid string, onePhase, ok bool) {
	m := xaStmt.FindStringSubmatch(q)
	if m == nil {
		return "", "", false, false
	}
	verb = strings.ToUpper(m[1])
	if verb == "BEGIN" {
		verb = "START"
	}
	return verb, xidString(m[4], strings.ToLower(m[2]), strings.ToLower(m[3])), m[5] != "", true
}

func xidString(format, gtrid, bqual string) string { return format + ":" + gtrid + ":" + bqual }

// parseXAPrepare decodes an XA_PREPARE_LOG_EVENT: one_phase (1 byte),
// formatID (4), gtrid length (4), bqual length (4), gtrid, bqual.
func parseXAPrepare(data []byte) (xid string, onePhase bool, err error) {
	if len(data) < 13 {
		return "", false, fmt.Errorf("XA_PREPARE_LOG_EVENT of %d bytes", len(data))
	}
	format := int32(binary.LittleEndian.Uint32(data[1:]))
	gl, bl := binary.LittleEndian.Uint32(data[5:]), binary.LittleEndian.Uint32(data[9:])
	if uint64(len(data)) < 13+uint64(gl)+uint64(bl) {
		return "", false, fmt.Errorf("XA_PREPARE_LOG_EVENT of %d bytes, XID of %d+%d", len(data), gl, bl)
	}
	g, b := data[13:13+gl], data[13+gl:13+gl+bl]
	return xidString(strconv.FormatInt(int64(format), 10), hex.EncodeToString(g), hex.EncodeToString(b)), data[0] != 0, nil
}

// withXA returns the prepared set with tx added (set is not changed).
func withXA(set []*xaTx, tx *xaTx) []*xaTx {
	out := make([]*xaTx, 0, len(set)+1)
	for _, p := range set {
		if p.XID != tx.XID {
			out = append(out, p)
		}
	}
	return append(out, tx)
}

// withoutXA returns the prepared set without xid and the transaction
// removed (nil if it was not there).
func withoutXA(set []*xaTx, xid string) ([]*xaTx, *xaTx) {
	i := slices.IndexFunc(set, func(p *xaTx) bool { return p.XID == xid })
	if i < 0 {
		return set, nil
	}
	out := make([]*xaTx, 0, len(set)-1)
	out = append(out, set[:i]...)
	return append(out, set[i+1:]...), set[i]
}

// xaPrepared handles the end of a prepared group (XA_PREPARE_LOG_EVENT):
// the transaction joins the prepared set. It returns the changes a one
// phase commit makes, and whether the event ends the transaction (the
// event group): it does.
func (g *streamer) xaPrepared(h *replication.EventHeader, data []byte) ([]entry, bool, error) {
	xid, onePhase, err := parseXAPrepare(data)
	if err != nil {
		return nil, false, permanent("mysql cdc: at %s:%d: %w", g.nextFile, h.LogPos, err)
	}
	tx := g.xaCur
	g.xaCur = nil
	if tx == nil {
		// Not read as an XA group (its start was not seen as one):
		// its changes went the ordinary way.
		return nil, true, nil
	}
	tx.XID = xid
	if onePhase { // MySQL's XA COMMIT ... ONE PHASE: committed here
		entries, err := g.commitChanges(h, tx)
		return entries, true, err
	}
	if len(tx.Changes) == 0 {
		return nil, true, nil // of tables not captured: nothing to wait for
	}
	g.xa = withXA(g.xa, tx)
	g.log.Debug("mysql cdc: XA transaction prepared, its changes wait for its XA COMMIT", "xid", xid, "file", tx.File, "pos", tx.Pos, "gtid", tx.GTID, "changes", len(tx.Changes))
	return nil, true, nil
}

// xaDecided applies an XA COMMIT (commit true) or XA ROLLBACK of xid.
func (g *streamer) xaDecided(h *replication.EventHeader, xid string, commit bool) ([]entry, error) {
	set, tx := withoutXA(g.xa, xid)
	if tx == nil {
		// Prepared with no change of the captured tables, or before
		// the position the source started from and not found by
		// preparedBefore (see xastart.go).
		g.log.Debug("mysql cdc: XA decision of a transaction not held", "xid", xid, "commit", commit, "file", g.nextFile, "pos", h.LogPos)
		return nil, nil
	}
	g.xa = set
	if !commit {
		return nil, nil
	}
	return g.commitChanges(h, tx)
}

// commitChanges makes a prepared transaction's changes take effect at the
// decision being read (the transaction the reader is in), as rows does
// for an ordinary transaction's; the changes carry that transaction's
// position and their index in the prepared one.
func (g *streamer) commitChanges(h *replication.EventHeader, tx *xaTx) ([]entry, error) {
	at := time.Unix(int64(h.Timestamp), 0).UTC()
	var entries []entry
	for _, ch := range tx.Changes {
		pos := Position{File: g.txFile, Pos: g.txPos, GTID: g.txGTID, Row: ch.Row}
		if ch.Dead != nil {
			d := *ch.Dead
			entries = append(entries, entry{dead: &d})
			continue
		}
		if ch.Table < 0 || ch.Table >= len(g.tables) {
			continue // decodeState checks it
		}
		tm := &tmap{t: g.tables[ch.Table], idx: ch.Table}
		if n := len(tm.t.Columns); ch.Before != nil && len(ch.Before) != n || ch.After != nil && len(ch.After) != n {
			// Read with the table's columns: a restored position
			// of another table layout.
			return nil, permanent("mysql cdc: XA transaction %s (prepared at %s:%d): a change of table %s has other columns than the table; restart the job without its checkpoint (new snapshot)",
				tx.XID, tx.File, tx.Pos, tm.t.ID())
		}
		if e, ok := g.change(tm, ch.Before, ch.After, at, pos); ok {
			entries = append(entries, e)
		}
	}
	return entries, nil
}

// Checkpoint encoding of the prepared transactions (state v2).

type xaTxJSON struct {
	XID     string         `json:"xid"`
	File    string         `json:"file,omitempty"`
	Pos     uint32         `json:"pos,omitempty"`
	GTID    string         `json:"gtid,omitempty"`
	Changes []xaChangeJSON `json:"changes,omitempty"`
}

type xaChangeJSON struct {
	Table  int       `json:"t"`
	Row    int       `json:"r"`
	Before []*string `json:"b,omitempty"`
	After  []*string `json:"a,omitempty"`
	Dead   *deadJSON `json:"dead,omitempty"`
}

type deadJSON struct {
	Source string `json:"source"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
	Raw    []byte `json:"raw,omitempty"`
}

func encodeXA(set []*xaTx) ([]xaTxJSON, error) {
	out := make([]xaTxJSON, 0, len(set))
	for _, tx := range set {
		j := xaTxJSON{XID: tx.XID, File: tx.File, Pos: tx.Pos, GTID: tx.GTID}
		for _, c := range tx.Changes {
			cj := xaChangeJSON{Table: c.Table, Row: c.Row}
			if c.Dead != nil {
				cj.Dead = &deadJSON{Source: c.Dead.Source, Field: c.Dead.Field, Reason: c.Dead.Reason, Raw: c.Dead.Raw}
			}
			var err error
			if cj.Before, err = encodeVals(c.Before); err != nil {
				return nil, err
			}
			if cj.After, err = encodeVals(c.After); err != nil {
				return nil, err
			}
			j.Changes = append(j.Changes, cj)
		}
		out = append(out, j)
	}
	return out, nil
}

func decodeXA(js []xaTxJSON, tables int) ([]*xaTx, error) {
	var set []*xaTx
	for _, j := range js {
		if j.XID == "" {
			return nil, fmt.Errorf("prepared XA transaction without XID")
		}
		tx := &xaTx{XID: j.XID, File: j.File, Pos: j.Pos, GTID: j.GTID}
		for _, cj := range j.Changes {
			if cj.Table < 0 || cj.Table >= tables || cj.Row < 0 {
				return nil, fmt.Errorf("XA transaction %s: change of table %d, row %d", j.XID, cj.Table, cj.Row)
			}
			c := xaChange{Table: cj.Table, Row: cj.Row}
			if cj.Dead != nil {
				c.Dead = &weir.DeadLetter{Source: cj.Dead.Source, Field: cj.Dead.Field, Reason: cj.Dead.Reason, Raw: cj.Dead.Raw}
			}
			var err error
			if c.Before, err = decodeVals(cj.Before); err != nil {
				return nil, fmt.Errorf("XA transaction %s: %v", j.XID, err)
			}
			if c.After, err = decodeVals(cj.After); err != nil {
				return nil, fmt.Errorf("XA transaction %s: %v", j.XID, err)
			}
			if c.Dead == nil && c.Before == nil && c.After == nil {
				return nil, fmt.Errorf("XA transaction %s: empty change", j.XID)
			}
			tx.Changes = append(tx.Changes, c)
		}
		set = withXA(set, tx)
	}
	return set, nil
}

// encodeVals encodes a row's values (the types of Change's doc), each
// tagged with its type: i int64, u uint64, f float64, s string, b []byte
// (base64), S string not valid UTF-8 (base64), t time.Time (UTC, seconds.nanoseconds); NULL is null.
func encodeVals(vals []any) ([]*string, error) {
	if vals == nil {
		return nil, nil
	}
	out := make([]*string, len(vals))
	for i, v := range vals {
		var s string
		switch x := v.(type) {
		case nil:
			continue
		case int64:
			s = "i" + strconv.FormatInt(x, 10)
		case uint64:
			s = "u" + strconv.FormatUint(x, 10)
		case float64:
			s = "f" + strconv.FormatFloat(x, 'g', -1, 64)
		case string:
			if utf8.ValidString(x) {
				s = "s" + x
			} else { // JSON would replace the invalid bytes
				s = "S" + base64.StdEncoding.EncodeToString([]byte(x))
			}
		case []byte:
			s = "b" + base64.StdEncoding.EncodeToString(x)
		case time.Time:
			s = fmt.Sprintf("t%d.%09d", x.Unix(), x.Nanosecond())
		default:
			return nil, fmt.Errorf("mysql cdc: value of type %T in a prepared XA transaction", v)
		}
		out[i] = &s
	}
	return out, nil
}

func decodeVals(enc []*string) ([]any, error) {
	if enc == nil {
		return nil, nil
	}
	vals := make([]any, len(enc))
	for i, p := range enc {
		if p == nil {
			continue
		}
		s := *p
		if s == "" {
			return nil, fmt.Errorf("empty value")
		}
		var err error
		switch body := s[1:]; s[0] {
		case 'i':
			vals[i], err = strconv.ParseInt(body, 10, 64)
		case 'u':
			vals[i], err = strconv.ParseUint(body, 10, 64)
		case 'f':
			var f float64
			if f, err = strconv.ParseFloat(body, 64); err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
				err = fmt.Errorf("bad value %q", s) // MySQL stores no NaN or infinity
			}
			vals[i] = f
		case 's':
			vals[i] = body
		case 'S':
			var b []byte
			b, err = base64.StdEncoding.DecodeString(body)
			vals[i] = string(b)
		case 'b':
			vals[i], err = base64.StdEncoding.DecodeString(body)
		case 't':
			sec, ns, ok := strings.Cut(body, ".")
			var a, b int64
			a, err = strconv.ParseInt(sec, 10, 64)
			if err == nil && ok {
				b, err = strconv.ParseInt(ns, 10, 64)
			}
			vals[i] = time.Unix(a, b).UTC()
		default:
			err = fmt.Errorf("bad value %q", s)
		}
		if err != nil {
			return nil, err
		}
	}
	return vals, nil
}
