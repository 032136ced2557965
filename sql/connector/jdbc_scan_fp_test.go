package connector

import (
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// jdbcFPOneScan builds the scan of one query of a jdbc table as Produce
// does: schema columns id INT, v INT, w INT (plus x STRING if extra),
// primary key pk, and the filter "filterCol > lit" pushed down (none if
// filterCol < 0).
func jdbcFPOneScan(t *testing.T, url, table string, pk []int, filterCol int, lit string, extra bool) *jdbcScan {
	t.Helper()
	cols := []row.Field{row.Col("id", row.IntType()), row.Col("v", row.IntType()), row.Col("w", row.IntType())}
	if extra {
		cols = append(cols, row.Col("x", row.String()))
	}
	src, err := JDBC{}.CreateSource(Context{Table: "T", Schema: row.NewSchema(cols...), PrimaryKey: pk, Options: map[string]string{
		"connector": "jdbc", "url": url, "table-name": table,
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := src.(*jdbcSource)
	if filterCol >= 0 {
		l, err := expr.NumericLiteral(lit)
		if err != nil {
			t.Fatal(err)
		}
		acc, _ := s.ApplyFilters([]expr.Expr{expr.MustCall(">", expr.Ref(filterCol, row.IntType()), l)})
		if !acc[0] {
			t.Fatal("the filter was not pushed down")
		}
	}
	selectFrom, from, orderBy := s.scanClauses()
	conds, args := s.conditions()
	return s.newOneScan(selectFrom, from, orderBy, conds, args)
}

// jdbcFPOneItem snapshots s having emitted n rows.
func jdbcFPOneItem(t *testing.T, s *jdbcScan, n int64) []byte {
	t.Helper()
	r, err := s.CreateReader(weir.SourceContext{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	r.(*jdbcScanReader).emitted = n
	items, err := r.(*jdbcScanReader).SnapshotState(1)
	if err != nil || len(items) != 1 {
		t.Fatalf("snapshot %x, %v", items, err)
	}
	return items[0]
}

// TestJDBCScanRestoreFingerprint: the position of a scan of one query (the
// rows it emitted) is restored only into a scan whose query returns the
// same rows in the same order. A changed pushed-down filter (its column or
// its literal, or one added or dropped), ORDER BY (the primary key) or
// table is refused naming what changed; the same scan, and one reading
// more columns, restore. Without the check a restore after such a change
// skipped the first N rows of another sequence: rows lost or duplicated.
func TestJDBCScanRestoreFingerprint(t *testing.T) {
	for _, url := range []string{"jdbc:postgresql://127.0.0.1:5432/test", "jdbc:mysql://127.0.0.1:3306/test"} {
		base := func() *jdbcScan { return jdbcFPOneScan(t, url, "t", []int{0}, 1, "5", false) }
		for _, n := range []int64{0, 1, 127, 128, 300, 1 << 40} {
			item := jdbcFPOneItem(t, base(), n)
			if item[0] == 0 {
				t.Fatalf("item %x starts with the partitioned scan's marker", item)
			}
			for _, tc := range []struct {
				name string
				s    *jdbcScan
				err  string
			}{
				{"same", base(), ""},
				{"more columns", jdbcFPOneScan(t, url, "t", []int{0}, 1, "5", true), ""},
				{"filter literal", jdbcFPOneScan(t, url, "t", []int{0}, 1, "6", false), "the filters pushed down"},
				{"filter column", jdbcFPOneScan(t, url, "t", []int{0}, 2, "5", false), "the filters pushed down"},
				{"no filter", jdbcFPOneScan(t, url, "t", []int{0}, -1, "", false), "the filters pushed down"},
				{"order", jdbcFPOneScan(t, url, "t", []int{1}, 1, "5", false), "order (ORDER BY"},
				{"no primary key", jdbcFPOneScan(t, url, "t", nil, 1, "5", false), "order (ORDER BY"},
				{"table", jdbcFPOneScan(t, url, "u", []int{0}, 1, "5", false), "the option 'table-name'"},
			} {
				r, err := tc.s.CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{item}})
				switch {
				case tc.err == "" && err != nil:
					t.Errorf("%s: %d rows: %s: %v", url, n, tc.name, err)
				case tc.err == "" && r.(*jdbcScanReader).skip != n:
					t.Errorf("%s: %d rows: %s: restored skip %d", url, n, tc.name, r.(*jdbcScanReader).skip)
				case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "duplicate or lose rows")):
					t.Errorf("%s: %d rows: %s: error %v, want one with %q", url, n, tc.name, err, tc.err)
				}
			}
		}
	}
}

// TestJDBCScanRestoreVersion1: a position written before the fingerprint
// (version 1: the uvarint alone) restores as before, unchecked, even into
// a scan with another filter; the next snapshot writes the fingerprint,
// which then guards the following restore. Corrupt items are refused.
func TestJDBCScanRestoreVersion1(t *testing.T) {
	url := "jdbc:postgresql://127.0.0.1:5432/test"
	old := []byte{0xac, 0x02} // 300 rows emitted
	for _, s := range []*jdbcScan{
		jdbcFPOneScan(t, url, "t", []int{0}, 1, "5", false),
		jdbcFPOneScan(t, url, "t", nil, -1, "", false),
	} {
		r, err := s.CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{old}})
		if err != nil {
			t.Fatalf("version 1 item: %v", err)
		}
		if got := r.(*jdbcScanReader).skip; got != 300 {
			t.Fatalf("restored skip %d, want 300", got)
		}
	}
	s := jdbcFPOneScan(t, url, "t", []int{0}, 1, "5", false)
	r, err := s.CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{old}})
	if err != nil {
		t.Fatal(err)
	}
	r.(*jdbcScanReader).emitted = 300
	items, err := r.(*jdbcScanReader).SnapshotState(2)
	if err != nil {
		t.Fatal(err)
	}
	if len(items[0]) != 2+jdbcScanFPLen {
		t.Fatalf("the snapshot after a version 1 restore is %x, want the position and a fingerprint", items[0])
	}
	if _, err := jdbcFPOneScan(t, url, "t", []int{0}, 1, "6", false).CreateReader(weir.SourceContext{Parallelism: 1, Restored: items}); err == nil {
		t.Fatal("the fingerprint written after a version 1 restore does not guard the next restore")
	}
	part := &jdbcPartScan{t: s.t, part: &jdbcPartition{num: 2, lower: 1, upper: 10}, queries: make([]jdbcSplitQuery, 2)}
	if _, err := part.CreateReader(weir.SourceContext{Parallelism: 1, Restored: items}); err == nil || !strings.Contains(err.Error(), "was not partitioned") {
		t.Errorf("a one-query position (version 2) restored into a partitioned scan: %v", err)
	}
	for _, bad := range [][]byte{
		{},
		{0x80}, // a truncated uvarint
		append([]byte{0x05}, make([]byte, 23)...), // a fingerprint one byte short
		append([]byte{0x00}, make([]byte, 24)...), // position 0 in version 2 (emitted+1 is never 0)
	} {
		if _, err := s.CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{bad}}); err == nil || !strings.Contains(err.Error(), "corrupt") && !strings.Contains(err.Error(), "partitioned") {
			t.Errorf("item %x: %v, want an error", bad, err)
		}
	}

}

// TestJDBCScanSnapshotBeforeFirstPoll: a checkpoint taken after a restore
// and before the reader's first Poll records the restored position, for
// the scan of one query and for a partitioned scan. It used to record 0
// for the one query (the position was set when the query opened), so the
// restore after it emitted the table's first rows again:
// TestSQLJDBCScanCrash found rows 1..N committed twice when a run was
// killed soon after such a checkpoint.
func TestJDBCScanSnapshotBeforeFirstPoll(t *testing.T) {
	url := "jdbc:postgresql://127.0.0.1:5432/test"
	for _, n := range []int64{0, 1, 1024, 6144, 1 << 40} {
		s := jdbcFPOneScan(t, url, "t", []int{0}, 1, "5", false)
		item := jdbcFPOneItem(t, s, n)
		r, err := s.CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{item}})
		if err != nil {
			t.Fatal(err)
		}
		items, err := r.(*jdbcScanReader).SnapshotState(2)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := s.CreateReader(weir.SourceContext{Parallelism: 1, Restored: items})
		if err != nil {
			t.Fatal(err)
		}
		if got := r2.(*jdbcScanReader).skip; got != n {
			t.Errorf("one query: restored %d rows emitted, snapshot before the first poll, restored again: %d", n, got)
		}
	}
	s := jdbcFPOneScan(t, url, "t", []int{0}, 1, "5", false)
	part := &jdbcPartScan{t: s.t, part: &jdbcPartition{num: 3, lower: 1, upper: 30}, queries: make([]jdbcSplitQuery, 3)}
	restored := [][]byte{
		part.encode(0, jdbcSplitState{emitted: 7}),
		part.encode(1, jdbcSplitState{emitted: 1024}),
		part.encode(2, jdbcSplitState{emitted: 3, done: true}),
	}
	for p := 1; p <= 3; p++ {
		got := map[int]jdbcSplitState{}
		for sub := 0; sub < p; sub++ {
			r, err := part.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: p, Restored: restored})
			if err != nil {
				t.Fatal(err)
			}
			items, err := r.(*jdbcPartReader).SnapshotState(2)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				id, st, err := part.decode(it)
				if err != nil {
					t.Fatal(err)
				}
				got[id] = st
			}
		}
		want := map[int]jdbcSplitState{0: {emitted: 7}, 1: {emitted: 1024}, 2: {emitted: 3, done: true}}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("partitioned at parallelism %d: split %d snapshot before the first poll %+v, want %+v", p, id, got[id], w)
			}
		}
	}
}
