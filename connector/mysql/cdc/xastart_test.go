package cdc

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
)

// XA transactions prepared before a fresh start's position (see
// xastart.go), against the real server: their rows are in the binlog
// before the position the source reads from, and not visible to the
// snapshot; the source must still emit a committed one's changes at its
// XA COMMIT, once, and nothing of a rolled back one.

// TestXAPreparedBeforeStart prepares two XA transactions before the source
// starts, then commits one and rolls the other back: with a snapshot
// (decided after a chunk's read, so that no chunk sees the committed rows:
// each algorithm), from the end of the binlog, from a specific offset,
// across a binlog rotation, and restored from the fresh position of a
// version 1 checkpoint (testdata/state-v1-0d98c66.jsonl). The committed
// changes come once, at the XA COMMIT, and replay to the table.
func TestXAPreparedBeforeStart(t *testing.T) {
	type start struct {
		name   string
		opts   Options
		rotate bool // FLUSH BINARY LOGS after the prepares
		v1     bool // restore the fixture's fresh position
	}
	starts := []start{
		{name: "initial-consistent", opts: Options{Startup: Initial, SnapshotAlgorithm: ConsistentSnapshot, ChunkSize: 4}},
		{name: "initial-watermark", opts: Options{Startup: Initial, SnapshotAlgorithm: WatermarkSnapshot, ChunkSize: 4}},
		{name: "latest", opts: Options{Startup: Latest}},
		{name: "specific-offset", opts: Options{Startup: SpecificOffset}},
		{name: "latest-rotated", opts: Options{Startup: Latest}, rotate: true},
		{name: "v1-fresh", opts: Options{ChunkSize: 4}, v1: true},
	}
	for _, s := range starts {
		t.Run(s.name, func(t *testing.T) {
			db := testDB(t)
			table := xaTable(t, db)
			fill(t, db, table, 10)
			p := xaPrepare(t, db, xidOf(table, "p"), "UPDATE "+table+" SET v = 100, u = 1 WHERE id = 1", "DELETE FROM "+table+" WHERE id = 2", "INSERT INTO "+table+" VALUES (20, 20, 0)")
			r := xaPrepare(t, db, xidOf(table, "r"), "UPDATE "+table+" SET v = 300 WHERE id = 3", "INSERT INTO "+table+" VALUES (21, 21, 0)")
			mustExec(t, db, "INSERT INTO "+table+" VALUES (10, 10, 0)")
			if s.rotate {
				mustExec(t, db, "FLUSH BINARY LOGS")
			}
			opts := s.opts
			opts.Addr, opts.Tables = addr, []string{table}
			if opts.Startup == SpecificOffset {
				opts.StartFile, opts.StartPos = masterPos(t, db)
			}
			var st *state
			if s.v1 {
				b, err := os.ReadFile(stateV1Fixture)
				must(t, err)
				var v1 map[string]any
				must(t, json.Unmarshal(bytes.SplitN(b, []byte("\n"), 2)[0], &v1))
				if v1["fresh"] != true {
					t.Fatalf("the fixture's first position is not a fresh one: %v", v1)
				}
				v1["tables"] = []string{table}
				enc, err := json.Marshal(v1)
				must(t, err)
				restored, err := decodeState(enc)
				must(t, err)
				st = &restored
			}
			m := newModel(t)
			snapshot := opts.Startup == Initial
			if !snapshot {
				m.rows = tableRows(t, db, table) // the prepared rows are not visible
			}
			// With a snapshot, the decisions come after the first
			// chunk's read, on the source's goroutine: errors, not
			// Fatal.
			var once sync.Once
			var decideErr error
			decide := func() {
				once.Do(func() {
					ctx := context.Background()
					if _, decideErr = p.c.ExecContext(ctx, "XA COMMIT "+p.xid); decideErr == nil {
						_, decideErr = r.c.ExecContext(ctx, "XA ROLLBACK "+r.xid)
					}
					p.done, r.done = true, true
				})
			}
			d := startDirectWith(t, opts, st, func(g *streamer) {
				if snapshot {
					g.chunkHook = func(afterSelect bool) {
						if afterSelect {
							decide()
						}
					}
					g.consistentHook = func(*chunk) { decide() }
				}
			})
			first := d.next()
			if len(first.entries) != 0 || len(first.st.XA) != 2 {
				t.Fatalf("the resolved start holds %d prepared transactions (and %d changes), want 2", len(first.st.XA), len(first.entries))
			}
			if !snapshot {
				decide()
			}
			var got []string
			collect := func(c Change) {
				m.apply(c)
				if c.Op != OpRead {
					got = append(got, opID(c))
				}
			}
			d.until(func(s state) bool { return s.Table == 1 }, collect)
			if decideErr != nil {
				t.Fatal(decideErr)
			}
			once.Do(func() {})
			if !p.done {
				t.Fatal("no decision")
			}
			mustExec(t, db, "INSERT INTO "+table+" VALUES (99, 99, 0)")
			file, pos := masterPos(t, db)
			end := d.until(reached(file, pos), collect)
			if len(end.XA) != 0 {
				t.Errorf("prepared transactions left after the decisions: %+v", end.XA)
			}
			m.check(db, table)
			if want := []string{"u1", "d2", "c20", "c99"}; !snapshot && !slices.Equal(got, want) {
				t.Errorf("emitted %v, want %v", got, want)
			}
		})
	}
}

// TestXAPreparedBeforeStartDecided: the binlog before the start decides
// which prepared transactions are held. An XID committed and prepared
// again before the start is held once, with its second prepare's changes;
// one rolled back before the start, and one of a table not captured, are
// not held; the held one's commit emits its changes only.
func TestXAPreparedBeforeStartDecided(t *testing.T) {
	db := testDB(t)
	table := xaTable(t, db)
	other := xaTable(t, db)
	x := xidOf(table, "x")
	xaPrepare(t, db, x, "INSERT INTO "+table+" VALUES (30, 30, 0)").commit()
	x2 := xaPrepare(t, db, x, "INSERT INTO "+table+" VALUES (31, 31, 0)")
	xaPrepare(t, db, xidOf(table, "y"), "INSERT INTO "+table+" VALUES (32, 32, 0)").rollback()
	z := xaPrepare(t, db, xidOf(other, "z"), "INSERT INTO "+other+" VALUES (33, 33, 0)")
	d := startDirect(t, Options{Addr: addr, Tables: []string{table}, Startup: Latest}, nil)
	first := d.next()
	if len(first.st.XA) != 1 || first.st.XA[0].XID != "1:"+hexOf(x)+":" || len(first.st.XA[0].Changes) != 1 || first.st.XA[0].Changes[0].After[0] != int64(31) {
		t.Fatalf("the resolved start holds %+v, want %s with the insert of 31", first.st.XA, x)
	}
	x2.commit()
	z.commit()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (99, 99, 0)")
	file, pos := masterPos(t, db)
	var got []string
	d.until(reached(file, pos), func(c Change) { got = append(got, opID(c)) })
	if want := []string{"c31", "c99"}; !slices.Equal(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
}

// hexOf is the hex of a quoted XID's gtrid ('abc' → 616263).
func hexOf(quoted string) string {
	var b []byte
	for _, c := range []byte(quoted[1 : len(quoted)-1]) {
		b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
	}
	return string(b)
}

// TestXAPreparedMetric: weir_mysql_cdc_xa_prepared is the number of
// prepared transactions in the position restored, then in the last one
// emitted.
func TestXAPreparedMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	tables := []string{"shop.orders"}
	restored := state{File: "mariadb-bin.000001", Pos: 4, Table: 1, Tables: tables, XA: []*xaTx{
		{XID: "1:61:", Changes: []xaChange{{After: []any{int64(1)}}}},
		{XID: "1:62:", Changes: []xaChange{{After: []any{int64(2)}}}},
	}}
	b, err := restored.encode()
	must(t, err)
	rd, err := NewSource(Options{Addr: "127.0.0.1:1", Tables: tables, MinBackoff: time.Hour, Registry: reg}).CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{b}})
	must(t, err)
	defer rd.Close()
	gauge := func() float64 {
		mfs, err := reg.Gather()
		must(t, err)
		for _, mf := range mfs {
			if mf.GetName() == "weir_mysql_cdc_xa_prepared" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no weir_mysql_cdc_xa_prepared")
		return 0
	}
	if v := gauge(); v != 2 {
		t.Errorf("after the restore: %v, want 2", v)
	}
	r := rd.(*reader)
	next := restored
	next.XA = restored.XA[1:]
	r.items <- item{st: next}
	if _, err := r.Poll(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if v := gauge(); v != 1 {
		t.Errorf("after a position with one: %v, want 1", v)
	}
}

// TestXAPreparedBeforeStartOldLayout: a prepare group read by the scan
// before the start, decided, of the table's layout before an ALTER TABLE
// does not fail the start; the transaction prepared after the ALTER is
// held and emitted at its commit.
func TestXAPreparedBeforeStartOldLayout(t *testing.T) {
	db := testDB(t)
	table := xaTable(t, db)
	xaPrepare(t, db, xidOf(table, "old"), "INSERT INTO "+table+" VALUES (1, 1, 0)").commit()
	mustExec(t, db, "ALTER TABLE "+table+" ADD COLUMN w BIGINT NOT NULL DEFAULT 0")
	p := xaPrepare(t, db, xidOf(table, "p"), "INSERT INTO "+table+" VALUES (2, 2, 0, 7)")
	d := startDirect(t, Options{Addr: addr, Tables: []string{table}, Startup: Latest}, nil)
	if first := d.next(); len(first.st.XA) != 1 {
		t.Fatalf("the resolved start holds %d prepared transactions, want 1", len(first.st.XA))
	}
	p.commit()
	mustExec(t, db, "INSERT INTO "+table+" VALUES (3, 3, 0, 0)")
	file, pos := masterPos(t, db)
	var got []string
	d.until(reached(file, pos), func(c Change) { got = append(got, opID(c)) })
	if want := []string{"c2", "c3"}; !slices.Equal(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
}
