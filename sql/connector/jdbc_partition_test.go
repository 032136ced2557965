package connector

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// TestJDBCPartitionSplits checks the split ranges against those of Flink's
// JdbcNumericBetweenParametersProvider.ofBatchNum (worked out by hand
// from its formula: batch size ceil(count/num), the first
// count-(size-1)*num batches of that size, the rest one smaller).
func TestJDBCPartitionSplits(t *testing.T) {
	for _, tc := range []struct {
		lower, upper, num int64
		want              string
	}{
		{1, 10, 3, "[{1 4} {5 7} {8 10}]"},
		{1, 10, 1, "[{1 10}]"},
		{0, 9, 5, "[{0 1} {2 3} {4 5} {6 7} {8 9}]"},
		{1, 3, 5, "[{1 1} {2 2} {3 3}]"}, // more splits than values
		{-5, 5, 4, "[{-5 -3} {-2 0} {1 3} {4 5}]"},
		{7, 7, 2, "[{7 7}]"},
		{0, 99, 7, "[{0 14} {15 29} {30 43} {44 57} {58 71} {72 85} {86 99}]"},
	} {
		p := &jdbcPartition{lower: tc.lower, upper: tc.upper, num: tc.num}
		if got := fmt.Sprint(p.splits()); got != tc.want {
			t.Errorf("[%d, %d] in %d: %s, want %s", tc.lower, tc.upper, tc.num, got, tc.want)
		}
	}
}

// TestJDBCPartitionOptions checks the validation of the scan.partition.*
// options, with Flink's messages where Flink has one.
func TestJDBCPartitionOptions(t *testing.T) {
	schema := row.NewSchema(row.Col("id", row.IntType()), row.Col("name", row.String()),
		row.Col("price", row.DecimalType(10, 2)), row.Col("d", row.DateType()), row.Col("ts", row.TimestampType(3)))
	base := func(kv ...string) map[string]string {
		m := map[string]string{"connector": "jdbc", "url": "jdbc:postgresql://127.0.0.1:5432/test", "table-name": "t"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	all := func(col, num, lo, hi string) map[string]string {
		return base("scan.partition.column", col, "scan.partition.num", num, "scan.partition.lower-bound", lo, "scan.partition.upper-bound", hi)
	}
	for _, tc := range []struct {
		opts map[string]string
		err  string
	}{
		{all("id", "3", "1", "10"), ""},
		{all("price", "3", "1", "10"), ""},
		{all("d", "3", "19000", "19010"), ""},
		{all("ts", "3", "0", "1000"), ""},
		{base("scan.partition.column", "id", "scan.partition.num", "2"), "Either all or none of the following options should be provided:\nscan.partition.column\nscan.partition.num\nscan.partition.lower-bound\nscan.partition.upper-bound"},
		{all("id", "3", "10", "1"), "'scan.partition.lower-bound'='10' must not be larger than 'scan.partition.upper-bound'='1'."},
		{all("id", "0", "1", "10"), "Invalid value for option 'scan.partition.num'"},
		{all("id", "2", "a", "10"), "Invalid value for option 'scan.partition.lower-bound'"},
		{all("nope", "2", "1", "10"), "option 'scan.partition.column' = \"nope\" is not a column of the table"},
		{all("name", "2", "1", "10"), "the partition column must be a numeric, DATE or TIMESTAMP column, not STRING"},
		{all("id", "2", "-9223372036854775808", "9223372036854775807"), "holds more than"},
	} {
		_, err := JDBC{}.CreateSource(Context{Table: "T", Schema: schema, Options: tc.opts})
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%v: %v", tc.opts, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: error %v, want %q", tc.opts, err, tc.err)
		}
	}
}

// TestJDBCPartitionQueries checks the split queries for both dialects:
// BETWEEN for integer and DATE columns, half-open ranges for the others,
// the pushed filters' parameters before the split's.
func TestJDBCPartitionQueries(t *testing.T) {
	schema := row.NewSchema(row.Col("id", row.IntType()), row.Col("price", row.DecimalType(10, 2)))
	for _, tc := range []struct {
		mysql bool
		col   int
		want  []string
	}{
		{false, 0, []string{
			`S WHERE ("id" > $1::int8) AND ("id" BETWEEN $2::int8 AND $3::int8) O [0 1 5]`,
			`S WHERE ("id" > $1::int8) AND ("id" BETWEEN $2::int8 AND $3::int8) O [0 6 10]`}},
		{false, 1, []string{
			`S WHERE ("id" > $1::int8) AND ("price" >= $2::numeric AND "price" < $3::numeric) O [0 1 6]`,
			`S WHERE ("id" > $1::int8) AND ("price" >= $2::numeric AND "price" <= $3::numeric) O [0 6 10]`}},
		{true, 0, []string{
			"S WHERE (`id` > ?) AND (`id` BETWEEN ? AND ?) O [0 1 5]",
			"S WHERE (`id` > ?) AND (`id` BETWEEN ? AND ?) O [0 6 10]"}},
		{true, 1, []string{
			"S WHERE (`id` > ?) AND (`price` >= CAST(? AS DECIMAL(20, 0)) AND `price` < CAST(? AS DECIMAL(20, 0))) O [0 1 6]",
			"S WHERE (`id` > ?) AND (`price` >= CAST(? AS DECIMAL(20, 0)) AND `price` <= CAST(? AS DECIMAL(20, 0))) O [0 6 10]"}},
	} {
		tb := &jdbcTable{table: "t", schema: schema, part: &jdbcPartition{col: tc.col, num: 2, lower: 1, upper: 10}}
		if tc.mysql {
			tb.mysql = mysql.NewConfig()
		}
		s := &jdbcSource{jdbcTable: tb}
		lit, err := expr.NumericLiteral("0")
		if err != nil {
			t.Fatal(err)
		}
		s.ApplyFilters([]expr.Expr{expr.MustCall(">", expr.Ref(0, row.IntType()), lit)})
		conds, args := s.conditions()
		qs := s.partitionQueries("S", " O", conds, args)
		if len(qs) != len(tc.want) {
			t.Fatalf("%d queries, want %d", len(qs), len(tc.want))
		}
		for i, q := range qs {
			if got := fmt.Sprint(q.sql, " ", q.args); got != tc.want[i] {
				t.Errorf("mysql %v col %d split %d:\n got %s\nwant %s", tc.mysql, tc.col, i, got, tc.want[i])
			}
		}
	}
}

// TestJDBCApplyFiltersMySQL checks which filters a MySQL/MariaDB scan
// takes and the SQL it sends (results: sql/testdata_lookup/jdbc_partition.txt).
func TestJDBCApplyFiltersMySQL(t *testing.T) {
	schema := row.NewSchema(
		row.Col("id", row.IntType()), row.Col("name", row.String()), row.Col("ok", row.Boolean()),
		row.Col("price", row.DecimalType(10, 2)), row.Col("d", row.DateType()), row.Col("f", row.Double()),
		row.Col("small", row.SmallInt()), row.Col("ts", row.TimestampType(3)))
	col := func(i int) expr.Expr { return expr.Ref(i, schema.Columns[i].Type) }
	lit := func(text string) expr.Expr {
		l, err := expr.NumericLiteral(text)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	date, err := expr.ParseDate("2026-01-02")
	if err != nil {
		t.Fatal(err)
	}
	call := func(name string, args ...expr.Expr) expr.Expr {
		e, err := expr.Fold(expr.MustCall(name, args...))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, tc := range []struct {
		e    expr.Expr
		sql  string // "" when refused
		args string
	}{
		{call("<", col(0), lit("9")), "(`id` < ?)", "[9]"},
		{call(">=", col(6), lit("5")), "(`small` >= ?)", "[5]"},
		{call(">", col(3), lit("1.5")), "(`price` > CAST(? AS DECIMAL(10, 2)))", "[1.50]"},
		{call("=", col(0), col(6)), "(`id` = `small`)", "[]"},
		{col(2), "(`ok` <> 0)", "[]"},
		{call("=", col(2), expr.BoolLiteral(false)), "((`ok` <> 0) = ?)", "[0]"},
		{call("IS NULL", col(5)), "(`f` IS NULL)", "[]"},
		{call("OR", call("IS NOT NULL", col(1)), call("<>", col(4), date)), "((`name` IS NOT NULL) OR (`d` <> CAST(? AS DATE)))", "[2026-01-02]"},
		{call("IS NULL", col(4)), "", ""},
		{call("IS NOT NULL", col(7)), "", ""},
		{call("=", col(1), expr.StringLiteral("a")), "", ""},
		{call("<", col(1), expr.StringLiteral("a")), "", ""},
		{call("LIKE", col(1), expr.StringLiteral("a%")), "", ""},
		{call("<", col(5), lit("2.0E0")), "", ""},
		{call("=", call("UPPER", col(1)), expr.StringLiteral("A")), "", ""},
		{call("AND", call("<", col(0), lit("1")), call("=", col(1), expr.StringLiteral("a"))), "", ""},
	} {
		t.Run(tc.e.String(), func(t *testing.T) {
			s := &jdbcSource{jdbcTable: &jdbcTable{table: "t", schema: schema, mysql: mysql.NewConfig()}}
			accepted, remaining := s.ApplyFilters([]expr.Expr{tc.e})
			if tc.sql == "" {
				if accepted[0] || !remaining[0] || len(s.filters) != 0 {
					t.Fatalf("taken: accepted %v remaining %v filters %v", accepted[0], remaining[0], s.filters)
				}
				return
			}
			if !accepted[0] || remaining[0] || len(s.filters) != 1 {
				t.Fatalf("accepted %v remaining %v, want accepted, not remaining", accepted[0], remaining[0])
			}
			if got := s.filters[0].sql; got != tc.sql {
				t.Errorf("sql %s, want %s", got, tc.sql)
			}
			if got := fmt.Sprint(s.filters[0].args); got != tc.args {
				t.Errorf("args %s, want %s", got, tc.args)
			}
		})
	}
}

// TestJDBCScanPositions checks the checkpoint items of both scans: the
// scan of one query keeps the layout it had before partitioned scans
// (one uvarint, the rows emitted) and restores it; a partitioned scan
// stores every split it owns, restores the splits a subtask owns at
// another parallelism, and each scan refuses the other's items.
func TestJDBCScanPositions(t *testing.T) {
	tb := &jdbcTable{table: "T", schema: row.NewSchema(row.Col("id", row.IntType()))}
	one := &jdbcScan{t: tb}
	// An item as the scan has always written it: 300 rows emitted.
	old := []byte{0xac, 0x02}
	r, err := one.CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{old}})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.(*jdbcScanReader).skip; got != 300 {
		t.Fatalf("restored skip %d, want 300", got)
	}
	r.(*jdbcScanReader).emitted = 300
	items, err := r.(*jdbcScanReader).SnapshotState(1)
	if err != nil || len(items) != 1 {
		t.Fatalf("snapshot %x, %v", items, err)
	}
	// Written with a fingerprint (jdbc_scan_fp.go): the same position.
	if n, err := one.decodeScanPosition(items[0]); err != nil || n != 300 {
		t.Fatalf("snapshot %x decodes to %d, %v; want 300", items[0], n, err)
	}

	part := &jdbcPartition{num: 5, lower: 1, upper: 100}
	ps := &jdbcPartScan{t: tb, part: part, queries: make([]jdbcSplitQuery, 5)}
	// Two subtasks at parallelism 2 own splits {0, 2, 4} and {1, 3}.
	var all [][]byte
	for sub := range 2 {
		r, err := ps.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: 2})
		if err != nil {
			t.Fatal(err)
		}
		pr := r.(*jdbcPartReader)
		for _, id := range pr.own {
			pr.states[id].emitted = int64(10 * (id + 1))
			pr.states[id].done = id == 2
		}
		items, err := pr.SnapshotState(1)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, items...)
	}
	if len(all) != 5 {
		t.Fatalf("%d items, want one per split", len(all))
	}
	// At parallelism 3 subtask 1 owns splits 1 and 4.
	r, err = ps.CreateReader(weir.SourceContext{Subtask: 1, Parallelism: 3, Restored: all})
	if err != nil {
		t.Fatal(err)
	}
	pr := r.(*jdbcPartReader)
	if got := fmt.Sprint(pr.own, *pr.states[1], *pr.states[4]); got != "[1 4] {20 false} {50 false}" {
		t.Errorf("restored %s", got)
	}
	r, err = ps.CreateReader(weir.SourceContext{Subtask: 2, Parallelism: 3, Restored: all})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(*r.(*jdbcPartReader).states[2]); got != "{30 true}" {
		t.Errorf("restored split 2: %s", got)
	}
	if _, err := ps.CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{old}}); err == nil || !strings.Contains(err.Error(), "was not partitioned") {
		t.Errorf("a one-query position restored into a partitioned scan: %v", err)
	}
	if _, err := one.CreateReader(weir.SourceContext{Parallelism: 1, Restored: all}); err == nil || !strings.Contains(err.Error(), "partitioned scan") {
		t.Errorf("split positions restored into a one-query scan: %v", err)
	}
	other := &jdbcPartScan{t: tb, part: &jdbcPartition{num: 4, lower: 1, upper: 100}, queries: make([]jdbcSplitQuery, 4)}
	if _, err := other.CreateReader(weir.SourceContext{Parallelism: 1, Restored: all}); err == nil || !strings.Contains(err.Error(), "options changed") {
		t.Errorf("positions of 5 splits restored into 4: %v", err)
	}
}
