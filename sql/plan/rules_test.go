package plan

import (
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// pair is a node this file does not know, with its inputs in fields, as a
// join node is: Optimize must optimize below it through reflection.
type pair struct {
	Left, Right Rel
	Note        string
}

func (p *pair) Columns() []Column            { return append(p.Left.Columns(), p.Right.Columns()...) }
func (p *pair) Inputs() []Rel                { return []Rel{p.Left, p.Right} }
func (p *pair) Mode() Mode                   { return InsertOnly }
func (p *pair) describe() (string, []string) { return "Pair", nil }

// TestOptimizeUnknownNode: the Calcs under an unknown node merge, the node
// is copied (not modified) with its other fields, and its columns stay.
func TestOptimizeUnknownNode(t *testing.T) {
	bigint := row.BigInt()
	vals := &Values{Rows: [][]expr.Expr{{expr.Lit(row.Int(1), bigint), expr.Lit(row.Int(2), bigint)}},
		Cols: []Column{{"a", bigint}, {"b", bigint}}}
	lower := &Calc{In: vals, Projects: []expr.Expr{expr.Ref(1, bigint), expr.Ref(0, bigint)}, Cols: []Column{{"b", bigint}, {"a", bigint}}}
	upper := &Calc{In: lower, Projects: []expr.Expr{expr.Ref(1, bigint)}, Cols: []Column{{"a2", bigint}}}
	p := &pair{Left: upper, Right: vals, Note: "kept"}
	got, ok := Optimize(p).(*pair)
	if !ok {
		t.Fatalf("Optimize returned %T", Optimize(p))
	}
	if got == p || p.Left != upper {
		t.Fatal("Optimize modified its input")
	}
	if got.Note != "kept" || got.Right != vals {
		t.Errorf("fields not copied: %+v", got)
	}
	c, ok := got.Left.(*Calc)
	if !ok || c.In != vals || len(c.Projects) != 1 {
		t.Fatalf("Calcs not merged:\n%s", Explain(got.Left))
	}
	if r, ok := c.Projects[0].(*expr.InputRef); !ok || r.Index != 0 || c.Cols[0].Name != "a2" {
		t.Errorf("merged Calc is %s", Explain(c))
	}
}

// TestMergeCalcsRefusals: Calcs do not merge over a non-deterministic
// lower expression, nor when a non-trivial one is referenced twice.
func TestMergeCalcsRefusals(t *testing.T) {
	bigint, dbl := row.BigInt(), row.Double()
	vals := &Values{Rows: [][]expr.Expr{{expr.Lit(row.Int(1), bigint)}}, Cols: []Column{{"a", bigint}}}
	rnd, err := expr.NewCall("RAND")
	if err != nil {
		t.Fatal(err)
	}
	plus, err := expr.NewCall("+", expr.Ref(0, bigint), expr.Lit(row.Int(1), bigint))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		lower expr.Expr
		refs  int
		merge bool
	}{
		{"volatile once", rnd, 1, false},
		{"call once", plus, 1, true},
		{"call twice", plus, 2, false},
		{"ref twice", expr.Ref(0, bigint), 2, true},
	} {
		lower := &Calc{In: vals, Projects: []expr.Expr{tc.lower}, Cols: []Column{{"x", tc.lower.Type()}}}
		up := &Calc{In: lower}
		for i := range tc.refs {
			up.Projects = append(up.Projects, expr.Ref(0, tc.lower.Type()))
			up.Cols = append(up.Cols, Column{string(rune('p' + i)), dbl})
		}
		_, merged := mergeCalcs(up, lower)
		if merged != tc.merge {
			t.Errorf("%s: merged %v, want %v", tc.name, merged, tc.merge)
		}
	}
}
