package cdc

import (
	"errors"
	"reflect"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

func TestParseElems(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"enum('a','b')", []string{"a", "b"}},
		{"enum('it''s','x,y','')", []string{"it's", "x,y", ""}},
		{"set('x')", []string{"x"}},
		{"enum", nil},
	} {
		if got := parseElems(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseElems(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestComparePos(t *testing.T) {
	p := gomysql.Position{Name: "bin.000010", Pos: 100}
	for _, c := range []struct {
		file string
		pos  uint32
		want int
	}{
		{"bin.000010", 100, 0}, {"bin.000010", 99, -1}, {"bin.000010", 101, 1},
		{"bin.000009", 5000, -1}, {"bin.000011", 4, 1}, {"bin.1000000", 4, 1},
	} {
		if got := comparePos(c.file, c.pos, p); got != c.want {
			t.Errorf("comparePos(%s:%d) = %d, want %d", c.file, c.pos, got, c.want)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	for _, st := range []state{
		{Fresh: true, Tables: []string{"a.b"}},
		{File: "f.000001", Pos: 4, GTID: "0-1-5,1-2-7", Skip: 3, Table: 0, Bound: int64(-5), Tables: []string{"a.b", "a.c"}},
		{File: "f.000001", Pos: 400, Table: 1, Bound: uint64(1 << 63), Tables: []string{"a.b", "a.c"}},
		{File: "f.000002", Pos: 4, Table: 2, Tables: []string{"a.b", "a.c"}},
	} {
		b, err := st.encode()
		must(t, err)
		got, err := decodeState(b)
		must(t, err)
		if !reflect.DeepEqual(got, st) {
			t.Errorf("round trip of %+v gave %+v", st, got)
		}
	}
	for _, bad := range []string{"", "{", `{"v":3}`, `{"v":1,"tables":["a.b"],"xa":[{"xid":"1:ab:"}]}`, `{"v":2,"tables":["a.b"],"xa":[{"xid":"1:ab:","changes":[{"t":1,"r":0,"a":["i1"]}]}]}`, `{"v":2,"tables":["a.b"],"xa":[{"xid":"1:ab:","changes":[{"t":0,"r":0,"a":["x1"]}]}]}`, `{"v":1,"table":3,"tables":["a.b"]}`, `{"v":1,"bound":"x1","tables":[]}`, `{"v":1,"skip":-1}`} {
		if _, err := decodeState([]byte(bad)); err == nil {
			t.Errorf("decodeState(%q) accepted", bad)
		}
	}
}

func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"v":1,"file":"f.000001","pos":4,"gtid":"0-1-5","skip":3,"table":0,"bound":"i-5","tables":["a.b"]}`))
	f.Add([]byte(`{"v":1,"fresh":true,"table":0,"tables":["a.b"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b)
		if err != nil {
			return
		}
		enc, err := st.encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeState(enc)
		if err != nil || !reflect.DeepEqual(again, st) {
			t.Fatalf("re-decoding %s: %+v, %v; first %+v", enc, again, err, st)
		}
	})
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{
		{},
		{Tables: []string{"nodot"}},
		{Tables: []string{"a.b", "a.b"}},
		{Tables: []string{"a.b"}, Startup: SpecificOffset},
		{Tables: []string{"a.b"}, Startup: 7},
	} {
		_, err := o.withDefaults()
		if !errors.Is(err, ErrOptions) || !errors.Is(err, weir.ErrInvalidOption) {
			t.Errorf("options %+v: error %v", o, err)
		}
	}
	o, err := Options{Tables: []string{"a.b"}}.withDefaults()
	must(t, err)
	if o.Addr != DefaultAddr || o.ChunkSize != DefaultChunkSize || o.ServerID == 0 || o.ReadTimeout <= o.HeartbeatPeriod {
		t.Errorf("defaults %+v", o)
	}
	_, err = NewSource(Options{Tables: []string{"a.b"}}).CreateReader(weir.SourceContext{Parallelism: 2, Subtask: 1})
	if !errors.Is(err, ErrOptions) {
		t.Errorf("parallelism 2: %v", err)
	}
}

func TestKeyLE(t *testing.T) {
	if !keyLE(int64(-3), int64(-3)) || keyLE(int64(4), int64(3)) || !keyLE(uint64(1), uint64(1<<63)) || keyLE(uint64(1<<63+1), uint64(1<<63)) {
		t.Fatal("keyLE")
	}
}

func TestDebezium(t *testing.T) {
	tbl := &Table{Database: "shop", Name: "orders", Columns: []Column{{Name: "id"}, {Name: "qty"}}, Key: []int{0}}
	c := Change{Op: OpUpdate, Table: tbl, Before: []any{int64(1), int64(2)}, After: []any{int64(1), int64(3)},
		Time: time.UnixMilli(1700000000000), Position: Position{File: "bin.000001", Pos: 400, GTID: "0-1-9", Row: 2}}
	got := c.Debezium()
	want := map[string]any{
		"before": map[string]any{"id": int64(1), "qty": int64(2)},
		"after":  map[string]any{"id": int64(1), "qty": int64(3)},
		"op":     "u",
		"ts_ms":  int64(1700000000000),
		"source": map[string]any{"connector": "mysql", "db": "shop", "table": "orders", "file": "bin.000001",
			"pos": uint32(400), "row": 2, "gtid": "0-1-9", "snapshot": "false", "ts_ms": int64(1700000000000)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Debezium() =\n%#v\nwant\n%#v", got, want)
	}
	if k := c.Key(); !reflect.DeepEqual(k, []any{int64(1)}) {
		t.Fatalf("Key() = %v", k)
	}
	d := Change{Op: OpDelete, Table: tbl, Before: []any{int64(5), nil}}
	if k := d.Key(); !reflect.DeepEqual(k, []any{int64(5)}) || d.Debezium()["after"].(map[string]any) != nil {
		t.Fatalf("delete: key %v, envelope %v", k, d.Debezium())
	}
	if !reflect.DeepEqual(OpUpdate.RowKinds(), []row.Kind{row.UpdateBefore, row.UpdateAfter}) || !reflect.DeepEqual(OpRead.RowKinds(), []row.Kind{row.Insert}) {
		t.Fatal("row kinds")
	}
}
