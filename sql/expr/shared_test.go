package expr

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
)

func mustCall(t *testing.T, name string, args ...Expr) Expr {
	t.Helper()
	c, err := NewCall(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLowerEquals: =(LOWER(x), 'literal') compiled without lowering
// gives what LOWER then = give, for ASCII and non-ASCII input and NULL.
func TestLowerEquals(t *testing.T) {
	x := Ref(0, row.String())
	for _, lit := range []string{"apple", "k", "Apple", ""} {
		e := mustCall(t, "=", mustCall(t, "LOWER", x), Lit(row.Str(lit), row.String().NotNull()))
		fast, err := Compile(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := matchLowerEquals(e.(*Call)); !ok {
			t.Errorf("%s: matched %v", e, ok)
		}
		for _, in := range []row.Value{row.Str("Apple"), row.Str("APPLE"), row.Str("apple"), row.Str("appl"), row.Str("applE "),
			row.Str("\u212A"), row.Str("K"), row.Str("ÄPPLE"), row.Str(""), row.Null()} {
			got, err := fast(nil, []row.Value{in})
			if err != nil {
				t.Fatal(err)
			}
			var want row.Value
			if !in.IsNull() {
				want = row.Bool(strings.ToLower(in.Str()) == lit)
			}
			if got.IsNull() != want.IsNull() || (!got.IsNull() && got.Bool() != want.Bool()) {
				t.Errorf("%s on %q: %v, want %v", e, in.Str(), got, want)
			}
		}
	}
}

// TestShareCommon: a common call is computed once per row where it is
// first reached, not before; the values match unshared evaluation; a new
// row recomputes it.
func TestShareCommon(t *testing.T) {
	x := Ref(0, row.String())
	re := func() Expr {
		return mustCall(t, "REGEXP_EXTRACT", x, Lit(row.Str("(&|^)id=([^&]*)"), row.String().NotNull()), Lit(row.Int(2), row.IntType().NotNull()))
	}
	cond := mustCall(t, "IS NOT NULL", re())
	proj := &Case{Whens: []Expr{mustCall(t, "=", mustCall(t, "LOWER", Ref(1, row.String())), Lit(row.Str("a"), row.String().NotNull()))},
		Thens: []Expr{Lit(row.Str("0"), row.String().NotNull())}, Else: re(), T: row.String()}
	proj2 := mustCall(t, "=", mustCall(t, "LOWER", Ref(1, row.String())), Lit(row.Str("a"), row.String().NotNull()))
	exprs := []Expr{cond, proj, proj2}
	out, slots := ShareCommon(exprs)
	if slots != 2 {
		t.Fatalf("%d slots, want 2 (REGEXP_EXTRACT and =(LOWER, 'a')): %v", slots, out)
	}
	if _, ok := out[0].(*Call).Args[0].(*Shared); !ok {
		t.Fatalf("REGEXP_EXTRACT not shared: %v", out[0])
	}
	if _, ok := out[2].(*Shared); !ok {
		t.Fatalf("=(LOWER, 'a') not shared whole: %v", out[2])
	}
	var evs, plain []Evaluator
	for i := range exprs {
		e, err := Compile(out[i])
		if err != nil {
			t.Fatal(err)
		}
		p, err := Compile(exprs[i])
		if err != nil {
			t.Fatal(err)
		}
		evs, plain = append(evs, e), append(plain, p)
	}
	ctx := &EvalContext{}
	for _, in := range [][]row.Value{
		{row.Str("x=1&id=7"), row.Str("A")},
		{row.Str("id=9"), row.Str("b")},
		{row.Null(), row.Str("a")},
		{row.Str("none"), row.Null()},
	} {
		ctx.NextRow(slots)
		for i := range evs {
			got, err := evs[i](ctx, in)
			want, err2 := plain[i](&EvalContext{}, in)
			if (err != nil) != (err2 != nil) || !row.Equal(got, want, exprs[i].Type()) || got.IsNull() != want.IsNull() {
				t.Errorf("%s on %v: %v (%v), want %v (%v)", exprs[i], in, got, err, want, err2)
			}
		}
	}
	// Nothing in common: nothing changes.
	if _, n := ShareCommon([]Expr{cond, proj2}); n != 0 {
		t.Errorf("%d slots for expressions with nothing in common", n)
	}
}

// TestRefEqualsInt: =($0, k) over integers, compiled to one closure,
// gives what the general comparison gives (NULL for NULL).
func TestRefEqualsInt(t *testing.T) {
	for _, ty := range []row.Type{row.IntType(), row.BigInt()} {
		x := Ref(0, ty)
		for _, e := range []Expr{mustCall(t, "=", x, Lit(row.Int(2), ty.NotNull())), mustCall(t, "=", Lit(row.Int(-7), ty.NotNull()), x)} {
			if _, ok := compileRefEqualsInt(e.(*Call)); !ok {
				t.Fatalf("%s: no fast path", e)
			}
			fast, err := Compile(e)
			if err != nil {
				t.Fatal(err)
			}
			c := e.(*Call)
			s := &site{fn: c.Func, argExprs: c.Args, ret: c.T, args: make([]Evaluator, 2), argTypes: []row.Type{c.Args[0].Type(), c.Args[1].Type()}}
			for i, a := range c.Args {
				if s.args[i], err = Compile(a); err != nil {
					t.Fatal(err)
				}
			}
			general, err := c.Func.build(s)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range []row.Value{row.Int(2), row.Int(-7), row.Int(0), row.Null()} {
				got, err := fast(nil, []row.Value{in})
				want, err2 := general(nil, []row.Value{in})
				if err != nil || err2 != nil || got.IsNull() != want.IsNull() || (!got.IsNull() && got.Bool() != want.Bool()) {
					t.Errorf("%s on %v: %v %v, want %v %v", e, in, got, err, want, err2)
				}
			}
		}
	}
	if _, err := Compile(mustCall(t, "=", Ref(3, row.IntType()), Lit(row.Int(1), row.IntType()))); err != nil {
		t.Fatal(err)
	}
}
