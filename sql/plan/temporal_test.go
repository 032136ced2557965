package plan

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

func temporalTables() (left, right *Scan) {
	rt := row.TimestampType(3).NotNull()
	rt.TimeAttr = row.Rowtime
	left = &Scan{Table: &Table{Name: "o", Rowtime: 0, Kinds: []ColumnKind{Physical, Physical},
		Columns: []Column{{Name: "ts", Type: rt}, {Name: "k", Type: row.IntType()}}}}
	right = &Scan{Table: &Table{Name: "r", Rowtime: 2, Kinds: []ColumnKind{Physical, Physical, Physical}, PrimaryKey: []int{0}, SourceMode: Updating,
		Columns: []Column{{Name: "k", Type: row.BigInt().NotNull()}, {Name: "v", Type: row.BigInt()}, {Name: "ts", Type: rt}}}}
	return left, right
}

// TestMakeTemporalJoin: an INT left key is cast to the BIGINT primary key
// in a computed column dropped again after the join; the output keeps the
// left rowtime and not the right one.
func TestMakeTemporalJoin(t *testing.T) {
	l, r := temporalTables()
	at := &ast.Join{}
	eq := expr.MustCall("=", expr.Ref(1, row.IntType()), expr.Ref(2, row.BigInt().NotNull()))
	other := expr.MustCall(">", expr.Ref(3, row.BigInt()), expr.Lit(row.Int(5), row.BigInt().NotNull()))
	out, err := makeTemporalJoin(at, LeftJoin, l, r, 0, []expr.Expr{eq, other})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := out.(*Calc)
	if !ok {
		t.Fatalf("got %T, want a Calc dropping the cast key", out)
	}
	tj := c.In.(*TemporalJoin)
	if len(tj.LeftKeys) != 1 || tj.LeftKeys[0] != 2 || tj.RightKeys[0] != 0 || tj.LeftTime != 0 || tj.RightTime != 2 {
		t.Errorf("keys %v %v times %d %d", tj.LeftKeys, tj.RightKeys, tj.LeftTime, tj.RightTime)
	}
	if got := Types(tj.Left)[2]; got.Root != row.TypeBigInt {
		t.Errorf("the computed left key is %s, want BIGINT", got)
	}
	// The residual reads v (right column 1) after the computed column.
	if s := withNames(tj.Residual, tj.Cols); s != ">(v, 5:BIGINT)" {
		t.Errorf("residual %s", s)
	}
	cols := c.Columns()
	if len(cols) != 5 || cols[0].Type.TimeAttr != row.Rowtime || cols[4].Type.TimeAttr != row.NoTimeAttr || !cols[3].Type.Nullable {
		t.Errorf("columns %v", cols)
	}
	if out.Mode() != InsertOnly {
		t.Errorf("mode %s, want the left input's", out.Mode())
	}
}

func TestMakeTemporalJoinRefusals(t *testing.T) {
	l, r := temporalTables()
	at := &ast.Join{}
	keyEq := expr.MustCall("=", expr.Ref(1, row.IntType()), expr.Ref(2, row.BigInt().NotNull()))
	vEq := expr.MustCall("=", expr.Ref(1, row.IntType()), expr.Ref(3, row.BigInt()))
	noPK := &Scan{Table: &Table{Name: "r2", Rowtime: r.Table.Rowtime, Kinds: r.Table.Kinds, Columns: r.Table.Columns}}
	plain := *r.Table
	plain.Columns = append([]Column(nil), r.Table.Columns...)
	plain.Columns[2].Type.TimeAttr = row.NoTimeAttr
	ltz := *r.Table
	ltz.Columns = append([]Column(nil), r.Table.Columns...)
	ltz.Columns[2].Type = row.TimestampLTZType(3)
	ltz.Columns[2].Type.TimeAttr = row.Rowtime
	for _, tc := range []struct {
		r     Rel
		conds []expr.Expr
		want  string
	}{
		{r, []expr.Expr{vEq}, "Temporal table's primary key [k0] must be included in the equivalence condition of temporal join, but current temporal join condition is [CAST(k AS BIGINT)=v]."},
		{r, nil, "Currently the join key in Temporal Table Join can not be empty."},
		{noPK, []expr.Expr{keyEq}, "Temporal Table Join requires primary key in versioned table"},
		{&Scan{Table: &plain}, []expr.Expr{keyEq}, "requires both primary key and row time attribute in versioned table, but no row time attribute can be found."},
		{&Scan{Table: &ltz}, []expr.Expr{keyEq}, "requires same rowtime type in left table and versioned table, but the rowtime types are TIMESTAMP(3) *ROWTIME* and TIMESTAMP_LTZ(3) *ROWTIME*."},
	} {
		_, err := makeTemporalJoin(at, InnerJoin, l, tc.r, 0, tc.conds)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

// TestUpsertKeys: keys pass through Calcs that keep their columns, and
// come from primary keys, deduplication and grouping.
func TestUpsertKeys(t *testing.T) {
	_, r := temporalTables()
	keep := &Calc{In: r, Projects: []expr.Expr{expr.Ref(2, r.Table.Columns[2].Type), expr.Ref(0, row.BigInt().NotNull())},
		Cols: []Column{r.Table.Columns[2], r.Table.Columns[0]}}
	drop := &Calc{In: r, Projects: []expr.Expr{expr.Ref(1, row.BigInt())}, Cols: []Column{r.Table.Columns[1]}}
	dedup := &Rank{In: drop, PartitionKeys: []int{0}, Strategy: Dedup, Cols: drop.Cols}
	agg := &Aggregate{In: r, Keys: []int{1}, Cols: []Column{r.Table.Columns[1]}}
	for _, tc := range []struct {
		r    Rel
		want []int
	}{
		{r, []int{0}}, {keep, []int{1}}, {drop, nil}, {dedup, []int{0}}, {agg, []int{0}},
	} {
		if got := upsertKey(tc.r); !slicesEqual(got, tc.want) {
			t.Errorf("%s: key %v, want %v", Explain(tc.r), got, tc.want)
		}
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
