package cdc

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"

	"github.com/jackc/pglogrepl"

	"github.com/weirstream/weir/codec"
)

// Phases of a source.
const (
	phaseSnapshot = "snapshot"
	phaseStream   = "stream"
)

// boundary starts a region of the snapshot read from a later snapshot
// than the slot's: the rows of table Table with a key above After (every
// row if After is nil) and the rows of every later table, up to the next
// boundary, were read from a snapshot consistent with LSN. Changes to
// those rows committed at or before LSN are in what was read and are not
// emitted again; later ones are.
type boundary struct {
	Table int           `json:"table"`
	After []string      `json:"after,omitempty"`
	LSN   pglogrepl.LSN `json:"lsn"`
}

// position is a source's progress, stored in every checkpoint (one item,
// JSON): where the snapshot is, and where the stream is.
type position struct {
	Version int    `json:"v"`
	Phase   string `json:"phase"`
	// Start is the slot's consistent point: the LSN the initial snapshot
	// is consistent with and the stream starts after.
	Start pglogrepl.LSN `json:"start"`
	// Tables are the captured tables (schema.name) in snapshot order.
	Tables []string `json:"tables"`
	// Table and LastKey: the snapshot emitted the rows of the tables
	// before Table and those of Table up to key LastKey (text form of the
	// key columns; nil: none yet).
	Table   int      `json:"table"`
	LastKey []string `json:"last_key,omitempty"`
	// Bounds are the regions read from later snapshots after a restore or
	// a reconnection during the snapshot.
	Bounds []boundary `json:"bounds,omitempty"`
	// Done: every transaction committed before it was emitted (the end
	// LSN of the last one emitted, or a keepalive's WAL end with no
	// transaction open). It is what a completed checkpoint confirms to the
	// slot.
	Done pglogrepl.LSN `json:"done"`
	// PartCommit and PartN: of the transaction with commit LSN PartCommit
	// the first PartN changes were emitted (a checkpoint within a
	// transaction).
	PartCommit pglogrepl.LSN `json:"part_commit,omitempty"`
	PartN      int           `json:"part_n,omitempty"`
}

const positionVersion = 1

func (p *position) encode() []byte {
	p.Version = positionVersion
	b, _ := json.Marshal(p) // plain fields: cannot fail
	return b
}

func decodePosition(b []byte) (position, error) {
	var p position
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("cdc: %w: position: %v", codec.ErrCorrupt, err)
	}
	if p.Version != positionVersion || (p.Phase != phaseSnapshot && p.Phase != phaseStream) ||
		p.Table < 0 || p.Table > len(p.Tables) || p.PartN < 0 {
		return p, fmt.Errorf("cdc: %w: position %s", codec.ErrCorrupt, b)
	}
	for _, bd := range p.Bounds {
		if bd.Table < 0 || bd.Table > len(p.Tables) {
			return p, fmt.Errorf("cdc: %w: position %s", codec.ErrCorrupt, b)
		}
	}
	return p, nil
}

// keyComparable reports whether a primary key column of type oid orders
// in PostgreSQL (with COLLATE "C" for strings) as compareKeyPart orders
// its text form: the source needs that to resume a snapshot.
func keyComparable(oid uint32) bool {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidNumeric, oidBool, oidDate, oidTimestamp, oidTimestampTZ,
		25 /* text */, 1043 /* varchar */, 2950 /* uuid */, 19 /* name */ :
		return true
	}
	return false
}

// isString reports whether a key column of type oid is ordered with
// COLLATE "C".
func isString(oid uint32) bool { return oid == 25 || oid == 1043 || oid == 19 }

// compareKeyPart compares the text forms of two values of type oid in
// PostgreSQL's order. Timestamps are in UTC and ISO form, so their text
// orders as they do (for years 1 to 9999).
func compareKeyPart(oid uint32, a, b string) int {
	switch oid {
	case oidInt2, oidInt4, oidInt8:
		x, err1 := strconv.ParseInt(a, 10, 64)
		y, err2 := strconv.ParseInt(b, 10, 64)
		if err1 == nil && err2 == nil {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	case oidNumeric:
		// NaN sorts above every number in PostgreSQL.
		switch {
		case a == "NaN" && b == "NaN":
			return 0
		case a == "NaN":
			return 1
		case b == "NaN":
			return -1
		}
		x, ok1 := new(big.Rat).SetString(a)
		y, ok2 := new(big.Rat).SetString(b)
		if ok1 && ok2 {
			return x.Cmp(y)
		}
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareKey compares two keys of table t (text forms, in key order).
func compareKey(t *Table, a, b []string) int {
	for i, ci := range t.Key {
		if i >= len(a) || i >= len(b) {
			return len(a) - len(b)
		}
		if c := compareKeyPart(t.Columns[ci].OID, a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// readAt returns the LSN the snapshot read the row with key of table
// index ti at, given the slot's consistent point start and the bounds: a
// change to the row is already in the snapshot if inSnapshot(its commit,
// that LSN).
func readAt(start pglogrepl.LSN, bounds []boundary, t *Table, ti int, key []string) pglogrepl.LSN {
	at := start
	for _, b := range bounds {
		if ti > b.Table || (ti == b.Table && (b.After == nil || compareKey(t, key, b.After) > 0)) {
			at = b.LSN
		}
	}
	return at
}

// inSnapshot reports whether a transaction whose commit record starts at
// commit (pgoutput's Begin FinalLSN, Commit CommitLSN) is visible to the
// snapshot a slot exported at consistent point at. The consistent point is
// the end of the WAL record at which the slot's snapshot builder became
// consistent; the exported snapshot holds the transactions whose commits
// the builder decoded before it, all of which start before at, and the
// slot decodes (streams) every transaction whose commit record starts at
// or after it (PostgreSQL's SnapBuildXactNeedsSkip: commit < start of
// decoding is skipped). A commit record can start exactly at at (the
// record right after the consistent one): it is streamed and not in the
// snapshot, so the comparison is strict, as for pos.Done.
func inSnapshot(commit, at pglogrepl.LSN) bool { return commit < at }
