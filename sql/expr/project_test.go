package expr

import (
	"testing"

	"github.com/weirstream/weir/row"
)

func TestPredicateAndProjection(t *testing.T) {
	types, vals := testInput(t)
	parse := func(s string) Expr {
		e, err := parseTestExpr(s, types)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for src, want := range map[string]bool{"=($0, 42)": true, "=($0, 1)": false, "=($4, 1)": false, "$9": false, "$8": true} {
		p, err := CompilePredicate(parse(src))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := p(&EvalContext{}, vals); err != nil || got != want {
			t.Errorf("%s passes = %v (%v), want %v", src, got, err, want)
		}
	}
	if _, err := CompilePredicate(parse("$0")); err == nil {
		t.Error("INT condition accepted")
	}
	p, err := CompileProjection([]Expr{parse("+($0, 1)"), parse("UPPER($3)"), parse("$4")})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]row.Value, 3)
	if err := p.Eval(&EvalContext{}, vals, out); err != nil {
		t.Fatal(err)
	}
	got := row.FormatRow(row.Of(out...), p.Types())
	if got != "+I[43, HELLO WORLD, NULL]" {
		t.Errorf("projection = %s", got)
	}
	if err := p.Eval(&EvalContext{}, vals, out[:2]); err == nil {
		t.Error("short output accepted")
	}
	bad, _ := CompileProjection([]Expr{parse("/($0, 0)")})
	if err := bad.Eval(&EvalContext{}, vals, out[:1]); err == nil {
		t.Error("division by zero not reported")
	}
}
