package cep_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/cep"
	"github.com/weirstream/weir/weirtest"
)

func TestPatternErrors(t *testing.T) {
	a := func() *cep.Seq[ev] { return cep.Begin[ev]("a").Where(is("a")) }
	cases := []struct {
		name string
		p    *cep.Seq[ev]
		want string
	}{
		{"times zero", a().Times(0), "need 1 <= from <= to"},
		{"range reversed", a().TimesRange(3, 2), "need 1 <= from <= to"},
		{"two quantifiers", a().Times(2).OneOrMore(), "already has a quantifier"},
		{"empty name", a().Next(""), "needs a name"},
		{"duplicate name", a().Next("a").Where(is("b")), `duplicate pattern name "a"`},
		{"ends with notFollowedBy", a().NotFollowedBy("n"), "only with Within"},
		{"quantifier on negation", a().NotNext("n").Optional(), "Optional on negative pattern"},
		{"notFollowedBy before optional", a().NotFollowedBy("n").FollowedBy("b").Optional(), "before an optional pattern"},
		{"greedy single", a().Greedy(), "needs a looping or ranged quantifier"},
		{"until without loop", a().Until(is("x")), "needs a looping quantifier"},
		{"skip to unknown", a().FollowedBy("b").Skip(cep.SkipToLast("z")), "names no pattern"},
		{"within zero", a().Within(0), "positive duration"},
		{"nil condition", a().Where(nil), "nil condition"},
		{"reserved name", cep.Begin[ev]("$x"), "reserved"},
		{"until on group", cep.BeginGroup(a()).OneOrMore().Until(is("x")), "Until is not supported on group"},
		{"condition on group", cep.BeginGroup(a()).Where(is("x")), "group pattern takes no condition"},
		{"duplicate name in group", a().FollowedByGroup(a()), `duplicate pattern name "a"`},
		{"bad expression", a().FollowedBy("b").WhereExpr(`Val >`), `cep: expression "Val >": line 1, column 5: unexpected token EOF (step "b")`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestBadPatternFailsJobStart(t *testing.T) {
	h := weirtest.New(weir.Options{Parallelism: 1})
	in := weirtest.NewInput[ev](h)
	p := cep.Begin[ev]("a").Where(is("a")).FollowedBy("a").Where(is("b"))
	ps := cep.Pattern(weir.KeyBy(in.Stream(), func(e ev) string { return e.Key }), p)
	weirtest.Capture(h, cep.Select(ps, func(string, map[string][]ev) (int, error) { return 0, nil }))
	err := h.StartErr()
	if err == nil {
		err = in.Push(ev{Name: "a"}, 1)
	}
	if err == nil || !strings.Contains(err.Error(), "duplicate pattern name") {
		t.Fatalf("got %v, want the pattern's error", err)
	}
}

func TestExpr(t *testing.T) {
	big, err := cep.Expr[ev](`Name == "b" && Val > 1`)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*cep.Seq[ev]{
		cep.Begin[ev]("a").Where(is("a")).FollowedBy("b").WhereCond(big),
		cep.Begin[ev]("a").WhereExpr(`Name == "a"`).FollowedBy("b").WhereExpr(`Name == "x"`).OrExpr(`Name == "b" && Val > 1`),
	} {
		got := runWith(t, p, scriptCase{input: strings.Fields("a1 b1 b2 a2 b3")})["matches"]
		want := []string{"a1 b2", "a2 b3"}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	ok, err := big.Filter(ev{Name: "b", Val: 5}, nil)
	if err != nil || !ok {
		t.Fatalf("Filter = %v, %v", ok, err)
	}
}

func TestExprCompileError(t *testing.T) {
	cases := []struct {
		expr, want string
		pos        bool
	}{
		{`Name == "a" &&`, `cep: expression "Name == \"a\" &&": line 1, column`, true},
		{`Nope > 1`, `line 1, column 1: unknown name Nope`, true},
		{"Val > 1 &&\n  Name ==", `line 2, column`, true},
		{`Val + 1`, `expected bool`, false},
	}
	for _, tc := range cases {
		_, err := cep.Expr[ev](tc.expr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Expr(%q) error = %v, want it to contain %q", tc.expr, err, tc.want)
		}
		if err != nil && tc.pos && !strings.Contains(err.Error(), "column") {
			t.Errorf("Expr(%q) error %v has no position", tc.expr, err)
		}
	}
}

type failing struct{}

func (failing) Filter(ev, *cep.Context[ev]) (bool, error) { return false, errors.New("boom") }

func TestConditionErrorFailsJob(t *testing.T) {
	h := weirtest.New(weir.Options{Parallelism: 1})
	in := weirtest.NewInput[ev](h)
	p := cep.Begin[ev]("a").WhereCond(failing{})
	ps := cep.Pattern(weir.KeyBy(in.Stream(), func(e ev) string { return e.Key }), p).InProcessingTime()
	weirtest.Capture(h, cep.Select(ps, func(string, map[string][]ev) (int, error) { return 0, nil }))
	h.Start(t)
	err := in.Push(ev{Name: "a"}, 1)
	if err == nil || !strings.Contains(err.Error(), `pattern "a": condition: boom`) {
		t.Fatalf("got %v, want the condition's error", err)
	}
	var runtimeErr error
	expr := cep.MustExpr[ev](`int(Name) > 0`)
	_, runtimeErr = expr.Filter(ev{Name: "a"}, nil)
	if runtimeErr == nil || !strings.Contains(runtimeErr.Error(), "int(Name)") {
		t.Fatalf("runtime error = %v, want it to name the expression", runtimeErr)
	}
}

// An event-time pattern fails the job, naming the operator, on a record
// without a timestamp (it used to drop it silently), also when late data
// goes to a side output: such a record is not late, the job lacks a
// timestamp assigner. In processing time it is matched.
func TestNoTimestampFailsEventTimePattern(t *testing.T) {
	for _, late := range []bool{false, true} {
		h := weirtest.New(weir.Options{Parallelism: 1})
		in := weirtest.NewInput[ev](h)
		ps := cep.Pattern(weir.KeyBy(in.Stream(), func(e ev) string { return e.Key }), cep.Begin[ev]("a").Where(is("a")))
		if late {
			ps = ps.SideOutputLateData(weir.NewOutputTag[ev]("late"))
		}
		weirtest.Capture(h, cep.Select(ps, func(string, map[string][]ev) (int, error) { return 0, nil }).Name("match"))
		h.Start(t)
		err := in.Push(ev{Name: "a"}, weir.NoTimestamp)
		if err == nil || !strings.Contains(err.Error(), `operator "match"`) || !strings.Contains(err.Error(), "no event timestamp") {
			t.Fatalf("late output %v: got %v, want the operator's no-timestamp error", late, err)
		}
	}
	h := weirtest.New(weir.Options{Parallelism: 1})
	in := weirtest.NewInput[ev](h)
	ps := cep.Pattern(weir.KeyBy(in.Stream(), func(e ev) string { return e.Key }), cep.Begin[ev]("a").Where(is("a"))).InProcessingTime()
	out := weirtest.Capture(h, cep.Select(ps, func(_ string, m map[string][]ev) (string, error) { return m["a"][0].Name, nil }))
	h.Start(t)
	if err := in.Push(ev{Name: "a"}, weir.NoTimestamp); err != nil {
		t.Fatal(err)
	}
	if got := out.Values(); len(got) != 1 {
		t.Fatalf("processing time: got %v, want one match", got)
	}
}
