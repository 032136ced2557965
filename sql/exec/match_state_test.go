package exec

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
)

// matchRow encodes itself in state when the state is snapshotted, not on
// entry. Its bytes and schema must stay those of the struct{Enc []byte} it
// replaced (Enc the row's encoding), so that snapshots taken before
// restore, and a row decoded from state must give back the row.
func TestMatchRowState(t *testing.T) {
	types := []row.Type{row.String(), row.BigInt(), row.TimestampType(3), row.Double()}
	rc := row.NewCodec(types)
	rows := []row.Row{
		{Fields: []row.Value{row.Str("a"), row.Int(1), row.Timestamp(1700000000123, 0), row.Float(1.5)}},
		{Fields: []row.Value{row.Str(string(bytes.Repeat([]byte("x"), 300))), row.Null(), row.Timestamp(5, 0), row.Null()}},
		{Fields: []row.Value{row.Null(), row.Int(-9), row.Null(), row.Float(-0.25)}},
	}
	type oldRow struct{ Enc []byte }
	type oldEntry struct {
		V  oldRow
		TS int64
	}
	type newEntry struct {
		V  matchRow
		TS int64
	}
	type oldState struct {
		Events []oldEntry
		Queue  []oldRow
	}
	type newState struct {
		Events []newEntry
		Queue  []matchRow
	}
	live := &matchRowSrc{c: rc}
	var olds oldState
	var news newState
	for i, r := range rows {
		olds.Events = append(olds.Events, oldEntry{V: oldRow{Enc: rc.Append(nil, r)}, TS: int64(i)})
		news.Events = append(news.Events, newEntry{V: matchRow{f: r.Fields, src: live, key: "k"}, TS: int64(i)})
	}
	// A freed slot holds the zero row.
	olds.Events = append(olds.Events, oldEntry{TS: 7})
	news.Events = append(news.Events, newEntry{TS: 7})
	olds.Queue = []oldRow{{Enc: rc.Append(nil, rows[1])}}
	news.Queue = []matchRow{{f: rows[1].Fields, src: live}}

	if got, want := codec.Schema[newState](), codec.Schema[oldState](); got != want {
		t.Fatalf("schema %s, want the old layout's %s", got, want)
	}
	oc, nc := codec.Must[oldState](), codec.Must[newState]()
	oldEnc := oc.Append([]byte("prefix"), olds)
	newEnc := nc.Append([]byte("prefix"), news)
	if !bytes.Equal(newEnc, oldEnc) {
		t.Fatalf("encoding differs from the old layout's:\n got %x\nwant %x", newEnc, oldEnc)
	}

	// Decoded from state (here from the old layout's bytes), rows keep
	// their encoding, decode to the rows, and encode to the same bytes.
	dec, n, err := nc.Decode(oldEnc[len("prefix"):])
	if err != nil || n != len(oldEnc)-len("prefix") {
		t.Fatalf("decode: %v (%d bytes)", err, n)
	}
	p := &matchProgram{codec: rc}
	for i, r := range rows {
		got, err := p.row(dec.Events[i].V)
		if err != nil {
			t.Fatal(err)
		}
		if !row.EqualRows(got, r, types) {
			t.Fatalf("row %d: got %v, want %v", i, got, r)
		}
	}
	if got, err := p.row(dec.Events[len(rows)].V); err != nil || got.Fields != nil {
		t.Fatalf("freed slot: %v, %v", got, err)
	}
	if got, err := p.row(dec.Queue[0]); err != nil || !row.EqualRows(got, rows[1], types) {
		t.Fatalf("queued row: %v, %v", got, err)
	}
	if again := nc.Append([]byte("prefix"), dec); !bytes.Equal(again, oldEnc) {
		t.Fatalf("re-encoding a decoded state:\n got %x\nwant %x", again, oldEnc)
	}
	if _, _, err := nc.Decode(oldEnc[len("prefix") : len(oldEnc)-3]); err == nil {
		t.Fatal("truncated state decoded")
	}
}

// matchRow is copied by value through the engine: keep it small.
func TestMatchRowSize(t *testing.T) {
	if n := unsafe.Sizeof(matchRow{}); n > 48 {
		t.Fatalf("matchRow is %d bytes, want at most 48", n)
	}
}
