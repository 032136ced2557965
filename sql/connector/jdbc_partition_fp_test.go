package connector

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// jdbcFPScan builds the partitioned scan of a jdbc table as Produce does:
// schema columns id INT, v INT, w INT (plus x STRING if extra), primary
// key pk, the scan.partition.* options over column col with 4 splits of
// [1, 100], and the filter "filterCol > lit" pushed down (none if
// filterCol < 0).
func jdbcFPScan(t *testing.T, url, table, col string, pk []int, filterCol int, lit string, extra bool) *jdbcPartScan {
	t.Helper()
	cols := []row.Field{row.Col("id", row.IntType()), row.Col("v", row.IntType()), row.Col("w", row.IntType())}
	if extra {
		cols = append(cols, row.Col("x", row.String()))
	}
	src, err := JDBC{}.CreateSource(Context{Table: "T", Schema: row.NewSchema(cols...), PrimaryKey: pk, Options: map[string]string{
		"connector": "jdbc", "url": url, "table-name": table,
		"scan.partition.column": col, "scan.partition.num": "4",
		"scan.partition.lower-bound": "1", "scan.partition.upper-bound": "100",
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
	return s.newPartScan(selectFrom, from, orderBy, conds, args)
}

// jdbcFPItems snapshots every split of ps at parallelism 1, split i
// having emitted 10*(i+1) rows.
func jdbcFPItems(t *testing.T, ps *jdbcPartScan) [][]byte {
	t.Helper()
	r, err := ps.CreateReader(weir.SourceContext{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	pr := r.(*jdbcPartReader)
	for _, id := range pr.own {
		pr.states[id].emitted = int64(10 * (id + 1))
	}
	items, err := pr.SnapshotState(1)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// TestJDBCPartitionRestoreFingerprint: a partitioned scan's positions
// (rows emitted per split) are restored only into a scan whose splits
// read the same rows in the same order. With the split count and bounds
// kept, a changed scan.partition.column, pushed-down filter (its column
// or its literal), ORDER BY (the primary key) or table is refused naming
// what changed; the same scan, and one reading more columns, restore.
func TestJDBCPartitionRestoreFingerprint(t *testing.T) {
	for _, url := range []string{"jdbc:postgresql://127.0.0.1:5432/test", "jdbc:mysql://127.0.0.1:3306/test"} {
		base := func() *jdbcPartScan { return jdbcFPScan(t, url, "t", "id", []int{0}, 1, "5", false) }
		items := jdbcFPItems(t, base())
		for _, tc := range []struct {
			name string
			ps   *jdbcPartScan
			err  string
		}{
			{"same", base(), ""},
			{"more columns", jdbcFPScan(t, url, "t", "id", []int{0}, 1, "5", true), ""},
			{"column", jdbcFPScan(t, url, "t", "w", []int{0}, 1, "5", false), `split on column "id", this one on "w": the option 'scan.partition.column' changed`},
			{"filter literal", jdbcFPScan(t, url, "t", "id", []int{0}, 1, "6", false), "the filters pushed down"},
			{"filter column", jdbcFPScan(t, url, "t", "id", []int{0}, 2, "5", false), "the filters pushed down"},
			{"no filter", jdbcFPScan(t, url, "t", "id", []int{0}, -1, "", false), "the filters pushed down"},
			{"order", jdbcFPScan(t, url, "t", "id", []int{1}, 1, "5", false), "order (ORDER BY"},
			{"table", jdbcFPScan(t, url, "u", "id", []int{0}, 1, "5", false), "the option 'table-name'"},
		} {
			r, err := tc.ps.CreateReader(weir.SourceContext{Subtask: 1, Parallelism: 2, Restored: items})
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("%s: %s: %v", url, tc.name, err)
			case tc.err == "" && fmt.Sprint(*r.(*jdbcPartReader).states[1], *r.(*jdbcPartReader).states[3]) != "{20 false} {40 false}":
				t.Errorf("%s: %s: restored %v", url, tc.name, r.(*jdbcPartReader).states)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "duplicate or lose rows")):
				t.Errorf("%s: %s: error %v, want one with %q", url, tc.name, err, tc.err)
			}
		}
	}
}

// TestJDBCPartitionRestoreVersion1: items written before the fingerprint
// (version 1: no fingerprint after the done flag) restore as before,
// unchecked, even into a scan on another column; the next snapshot writes
// the fingerprint.
func TestJDBCPartitionRestoreVersion1(t *testing.T) {
	v1 := func(id, emitted uint64, done byte) []byte {
		b := []byte{0, 1}
		b = binary.AppendUvarint(b, 4)  // splits
		b = binary.AppendVarint(b, 1)   // lower bound
		b = binary.AppendVarint(b, 100) // upper bound
		b = binary.AppendUvarint(b, id) // split
		b = binary.AppendUvarint(b, emitted)
		return append(b, done)
	}
	old := [][]byte{v1(0, 7, 0), v1(1, 25, 1), v1(2, 0, 0), v1(3, 300, 0)}
	for _, ps := range []*jdbcPartScan{
		jdbcFPScan(t, "jdbc:postgresql://127.0.0.1:5432/test", "t", "id", []int{0}, 1, "5", false),
		jdbcFPScan(t, "jdbc:postgresql://127.0.0.1:5432/test", "t", "w", nil, -1, "", false),
	} {
		r, err := ps.CreateReader(weir.SourceContext{Parallelism: 1, Restored: old})
		if err != nil {
			t.Fatalf("version 1 items: %v", err)
		}
		pr := r.(*jdbcPartReader)
		if got := fmt.Sprint(*pr.states[0], *pr.states[1], *pr.states[2], *pr.states[3]); got != "{7 false} {25 true} {0 false} {300 false}" {
			t.Fatalf("restored %s", got)
		}
		items, err := pr.SnapshotState(2)
		if err != nil {
			t.Fatal(err)
		}
		if items[0][1] != jdbcPartItemVersion || len(items[0]) <= len(old[0]) {
			t.Fatalf("the next snapshot wrote %x", items[0])
		}
		other := jdbcFPScan(t, "jdbc:postgresql://127.0.0.1:5432/test", "t", "v", nil, -1, "", false)
		if _, err := other.CreateReader(weir.SourceContext{Parallelism: 1, Restored: items}); err == nil || !strings.Contains(err.Error(), "'scan.partition.column' changed") {
			t.Fatalf("the rewritten items restored into a scan on another column: %v", err)
		}
	}
	// A version 1 item with bytes after the done flag is corrupt.
	ps := jdbcFPScan(t, "jdbc:postgresql://127.0.0.1:5432/test", "t", "id", []int{0}, 1, "5", false)
	if _, err := ps.CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{append(v1(0, 7, 0), 0)}}); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("a long version 1 item: %v", err)
	}
}
