package nexmark

import (
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// TestProjectedRows: the rows of a pushed-down projection hold, per path,
// the value the path reads from the full event row (NULL under a NULL
// ROW), whole ROWs included.
func TestProjectedRows(t *testing.T) {
	paths := [][]int{{0}, {1, 6}, {2}, {3, 0}, {3, 5}, {3, 6}, {2, 9}, {1}, {3}, {0}, {3, 0}, {1, 0}}
	s := &tableSource{}
	if err := s.ApplyNestedProjection(paths); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]int{{}, {4}, {0, 1}, {3, 7}, {1, 0, 0}} {
		if err := s.ApplyNestedProjection([][]int{bad}); err == nil {
			t.Errorf("path %v accepted", bad)
		}
	}
	g, err := NewGenerator(DefaultConfig(500, 0))
	if err != nil {
		t.Fatal(err)
	}
	schema := Schema()
	a := newProjectArena(paths)
	for n := range int64(500) {
		e := g.Event(n)
		full, got := EventRow(e), a.row(e)
		for i, p := range paths {
			want, ty := full.Fields[p[0]], schema.Columns[p[0]].Type
			for _, f := range p[1:] {
				if !want.IsNull() {
					want = want.Elems()[f]
				}
				ty = ty.Fields[f].Type
			}
			if !row.Equal(got.Fields[i], want, ty) || got.Fields[i].IsNull() != want.IsNull() {
				t.Fatalf("event %d path %v: %v, want %v", n, p, got.Fields[i], want)
			}
		}
	}
}

// TestApplyRowtime: the source takes over the reference's rowtime CASE
// (in any branch order) and nothing that differs from the event's
// dateTime for some event type.
func TestApplyRowtime(t *testing.T) {
	schema := Schema()
	ts := row.TimestampType(3)
	et := expr.Ref(0, row.IntType())
	dt := func(col int) expr.Expr {
		rt := schema.Columns[col].Type
		for i, f := range rt.Fields {
			if f.Name == "dateTime" {
				return &expr.FieldAccess{Arg: expr.Ref(col, rt), Index: i, T: ts}
			}
		}
		t.Fatal("no dateTime")
		return nil
	}
	is := func(k int64) expr.Expr {
		c, err := expr.NewCall("=", et, expr.Lit(row.Int(k), row.IntType()))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cs := func(whens []int64, thens []int, els int) expr.Expr {
		c := &expr.Case{T: ts}
		for i := range whens {
			c.Whens, c.Thens = append(c.Whens, is(whens[i])), append(c.Thens, dt(thens[i]))
		}
		if els > 0 {
			c.Else = dt(els)
		}
		return c
	}
	s := &tableSource{}
	for _, tc := range []struct {
		e    expr.Expr
		want bool
	}{
		{cs([]int64{0, 1}, []int{1, 2}, 3), true},
		{cs([]int64{2, 0}, []int{3, 1}, 2), true},
		{cs([]int64{0, 1, 2}, []int{1, 2, 3}, 1), true},
		{cs([]int64{0, 1}, []int{2, 1}, 3), false},
		{cs([]int64{0}, []int{1}, 3), false},
		{cs([]int64{0, 1}, []int{1, 2}, 0), false},
		{cs([]int64{0, 0, 1}, []int{1, 3, 2}, 3), true},
		{dt(3), false},
	} {
		if got := s.ApplyRowtime(tc.e); got != tc.want {
			t.Errorf("ApplyRowtime(%s) = %v, want %v", tc.e, got, tc.want)
		}
	}
}

// TestReserveFields: the source takes connector.SpareFields only with a
// projection pushed down; its rows then have the projection's fields
// (the same values as without) and a capacity of the width asked, the
// spare fields NULL and each row's own.
func TestReserveFields(t *testing.T) {
	paths := [][]int{{0}, {3, 0}, {3, 2}, {3, 5}}
	s := &tableSource{}
	if s.ReserveFields(6) {
		t.Error("spare fields taken without a projection")
	}
	if err := s.ApplyNestedProjection(paths); err != nil {
		t.Fatal(err)
	}
	if !s.ReserveFields(6) || s.spare != 6 {
		t.Fatalf("spare fields not taken (%d)", s.spare)
	}
	g1, err := NewGenerator(DefaultConfig(300, 0))
	if err != nil {
		t.Fatal(err)
	}
	g2, err := NewGenerator(DefaultConfig(300, 0))
	if err != nil {
		t.Fatal(err)
	}
	plain, spare := newProjectArena(paths), newProjectArena(paths)
	spare.width = 6
	var prev []row.Value
	for n := range int64(300) {
		want, got := plain.row(g1.Event(n)), spare.row(g2.Event(n))
		if len(got.Fields) != len(paths) || cap(got.Fields) != 6 {
			t.Fatalf("event %d: %d fields, capacity %d", n, len(got.Fields), cap(got.Fields))
		}
		for i := range paths {
			if got.Fields[i] != want.Fields[i] {
				t.Fatalf("event %d field %d: %v, want %v", n, i, got.Fields[i], want.Fields[i])
			}
		}
		all := got.Fields[:6]
		if !all[4].IsNull() || !all[5].IsNull() {
			t.Fatalf("event %d: spare fields %v", n, all[4:])
		}
		// Writing the previous row's spare fields leaves this row alone.
		if prev != nil {
			prev[4], prev[5] = row.Int(1), row.Int(2)
			for i := range paths {
				if got.Fields[i] != want.Fields[i] {
					t.Fatalf("event %d: the previous row's spare fields are this row's field %d", n, i)
				}
			}
		}
		prev = all
	}
}
