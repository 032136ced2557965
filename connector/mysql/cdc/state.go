package cdc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/weirstream/weir/codec"
)

// state is the source's position: what a checkpoint stores and where the
// reading goroutine resumes after a restore or a reconnect.
//
// In the binlog: the next transaction to read (File, Pos and, where
// known, the GTID position of the transactions before it) and Skip, the
// row changes of that transaction already emitted. In the snapshot: Table
// is the index (in Options.Tables) of the table being read, len(Tables)
// once the snapshot is done, and Bound the largest primary key of its
// chunks emitted so far (nil before the first). XA holds the XA
// transactions prepared before the position whose decision comes after it,
// with their changes (see xa.go); the slice is never changed in place.
type state struct {
	Fresh  bool // nothing resolved yet: start as Options.Startup says
	File   string
	Pos    uint32
	GTID   string
	Skip   int
	Table  int
	Bound  any
	Tables []string
	XA     []*xaTx
}

// stateV1 is the checkpoint encoding (JSON, versioned). Version 2 added
// XA: version 1 (before it) restores with no prepared transactions, which
// is what it meant: the source emitted an XA transaction's changes at XA
// PREPARE then (see the XA section of docs/connectors.md).
type stateV1 struct {
	V      int        `json:"v"`
	Fresh  bool       `json:"fresh,omitempty"`
	File   string     `json:"file,omitempty"`
	Pos    uint32     `json:"pos,omitempty"`
	GTID   string     `json:"gtid,omitempty"`
	Skip   int        `json:"skip,omitempty"`
	Table  int        `json:"table"`
	Bound  string     `json:"bound,omitempty"` // "i<int64>" or "u<uint64>"
	Tables []string   `json:"tables"`
	XA     []xaTxJSON `json:"xa,omitempty"` // version 2
}

// stateVersion is the version encode writes.
const stateVersion = 2

func (s state) encode() ([]byte, error) { return s.encodeWith(nil) }

// encodeWith is encode taking the encodings of the prepared transactions
// from cache (by transaction: they do not change once in a state), and
// adding those it lacks, if cache is not nil. A prepared transaction stays
// in every checkpoint until its decision: encoding its changes again for
// each one took seconds of the reader's goroutine per million changes.
func (s state) encodeWith(cache map[*xaTx][]byte) ([]byte, error) {
	e := stateV1{V: stateVersion, Fresh: s.Fresh, File: s.File, Pos: s.Pos, GTID: s.GTID, Skip: s.Skip, Table: s.Table, Tables: s.Tables}
	switch b := s.Bound.(type) {
	case int64:
		e.Bound = "i" + strconv.FormatInt(b, 10)
	case uint64:
		e.Bound = "u" + strconv.FormatUint(b, 10)
	}
	b, err := json.Marshal(e)
	if err != nil || len(s.XA) == 0 {
		return b, err
	}
	// The object with "xa" last, as json.Marshal of e with e.XA set.
	txs := make([][]byte, len(s.XA))
	n := len(b) + 8
	for i, tx := range s.XA {
		enc, ok := cache[tx]
		if !ok {
			j, err := encodeXA([]*xaTx{tx})
			if err != nil {
				return nil, err
			}
			if enc, err = json.Marshal(j[0]); err != nil {
				return nil, err
			}
			if cache != nil {
				cache[tx] = enc
			}
		}
		txs[i] = enc
		n += len(enc) + 1
	}
	out := make([]byte, 0, n)
	out = append(out, b[:len(b)-1]...)
	out = append(out, `,"xa":[`...)
	for i, enc := range txs {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, enc...)
	}
	return append(out, "]}"...), nil
}

func decodeState(b []byte) (state, error) {
	var e stateV1
	if err := json.Unmarshal(b, &e); err != nil {
		return state{}, fmt.Errorf("mysql cdc: %w: checkpointed position: %v", codec.ErrCorrupt, err)
	}
	if e.V != 1 && e.V != 2 || e.V == 1 && e.XA != nil {
		return state{}, fmt.Errorf("mysql cdc: %w: checkpointed position of version %d", codec.ErrCorrupt, e.V)
	}
	s := state{Fresh: e.Fresh, File: e.File, Pos: e.Pos, GTID: e.GTID, Skip: e.Skip, Table: e.Table, Tables: e.Tables}
	if e.Skip < 0 || e.Table < 0 || e.Table > len(e.Tables) {
		return state{}, fmt.Errorf("mysql cdc: %w: checkpointed position %s", codec.ErrCorrupt, b)
	}
	if len(e.XA) > 0 {
		var err error
		if s.XA, err = decodeXA(e.XA, len(e.Tables)); err != nil {
			return state{}, fmt.Errorf("mysql cdc: %w: checkpointed position: %v", codec.ErrCorrupt, err)
		}
	}
	if e.Bound != "" {
		var err error
		switch e.Bound[0] {
		case 'i':
			s.Bound, err = strconv.ParseInt(e.Bound[1:], 10, 64)
		case 'u':
			s.Bound, err = strconv.ParseUint(e.Bound[1:], 10, 64)
		default:
			err = fmt.Errorf("bad bound %q", e.Bound)
		}
		if err != nil {
			return state{}, fmt.Errorf("mysql cdc: %w: checkpointed position: %v", codec.ErrCorrupt, err)
		}
	}
	return s, nil
}

// checkTables fails a restore whose checkpoint captured other tables: the
// snapshot progress would not mean the same.
func (s state) checkTables(tables []string) error {
	if s.Fresh || slices.Equal(s.Tables, tables) {
		return nil
	}
	return fmt.Errorf("mysql cdc: the checkpoint captured tables %v, the source now lists %v; changing the tables needs a fresh start", s.Tables, tables)
}
