package cdc

import (
	"encoding/hex"
	"reflect"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// TestXAParse decodes the XA events as MariaDB 10.11 writes them (bytes
// and queries read from its binlog).
func TestXAParse(t *testing.T) {
	for _, c := range []struct{ data, xid string }{
		{"0007000000020000000200000070316231", "7:7031:6231"}, // XA PREPARE 'p1','b1',7
		{"000100000002000000000000007032", "1:7032:"},         // XA PREPARE 'p2'
	} {
		b, _ := hex.DecodeString(c.data)
		xid, one, err := parseXAPrepare(b)
		if err != nil || xid != c.xid || one {
			t.Errorf("parseXAPrepare(%s) = %q, %v, %v, want %q", c.data, xid, one, err, c.xid)
		}
	}
	if _, _, err := parseXAPrepare([]byte{0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 'a'}); err == nil {
		t.Error("short XA_PREPARE_LOG_EVENT accepted")
	}
	for _, c := range []struct{ q, verb, xid string }{
		{"XA COMMIT X'7031',X'6231',7", "COMMIT", "7:7031:6231"},
		{"XA ROLLBACK X'7032',X'',1", "ROLLBACK", "1:7032:"},
		{"XA END X'7032',X'',1", "END", "1:7032:"},
		{"XA START X'4A4b',X'',1", "START", "1:4a4b:"},
	} {
		verb, xid, one, ok := parseXAQuery(c.q)
		if !ok || verb != c.verb || xid != c.xid || one {
			t.Errorf("parseXAQuery(%q) = %q, %q, %v, %v", c.q, verb, xid, one, ok)
		}
	}
	if _, _, one, ok := parseXAQuery("XA COMMIT X'01',X'',1 ONE PHASE"); !ok || !one {
		t.Error("ONE PHASE not seen")
	}
	for _, q := range []string{"BEGIN", "COMMIT", "XA RECOVER", "INSERT INTO t VALUES ('XA COMMIT X''01'',X'''',1')"} {
		if _, _, _, ok := parseXAQuery(q); ok {
			t.Errorf("parseXAQuery(%q) took it for an XA query", q)
		}
	}
}

// TestXAStateRoundTrip: prepared transactions, with values of every type
// a change holds, survive the checkpoint encoding.
func TestXAStateRoundTrip(t *testing.T) {
	vals := []any{int64(-7), uint64(1 << 63), 1.5, "text é", string([]byte{0xff, 'a'}), []byte{0, 1, 2},
		time.Date(1001, 2, 3, 4, 5, 6, 789, time.UTC), time.Unix(-5, 3).UTC(), nil, "", []byte{}}
	st := state{File: "f.000003", Pos: 99, GTID: "0-1-5", Table: 1, Bound: int64(10), Tables: []string{"a.b", "a.c"},
		XA: []*xaTx{
			{XID: "1:7031:", File: "f.000003", Pos: 50, GTID: "0-1-4", Changes: []xaChange{
				{Table: 0, Row: 0, After: vals},
				{Table: 1, Row: 1, Before: vals, After: vals},
				{Table: 1, Row: 3, Before: []any{int64(1)}},
				{Table: 0, Row: 4, Dead: &weir.DeadLetter{Source: "s", Field: "f", Reason: "r", Raw: []byte{1, 2}}},
			}},
			{XID: "7:00:ff"},
		}}
	b, err := st.encode()
	must(t, err)
	got, err := decodeState(b)
	must(t, err)
	if !reflect.DeepEqual(got, st) {
		t.Errorf("round trip of %+v gave %+v (%s)", st, got, b)
	}
}
