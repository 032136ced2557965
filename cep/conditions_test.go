package cep_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir/cep"
)

func TestConditionCombinators(t *testing.T) {
	val := func(n int) func(ev) bool { return func(e ev) bool { return e.Val == n } }
	cases := []struct {
		name  string
		p     *cep.Seq[ev]
		input string
		want  []string
	}{
		{
			// (a AND val 1) OR b
			name:  "where and or",
			p:     cep.Begin[ev]("x").Where(is("a")).Where(val(1)).Or(is("b")),
			input: "a1 a2 b3",
			want:  []string{"a1/x", "b3/x"},
		},
		{
			// ((a OR b) AND val 2)
			name:  "or then where",
			p:     cep.Begin[ev]("x").Where(is("a")).Or(is("b")).Where(val(2)),
			input: "a1 a2 b2 c2",
			want:  []string{"a2/x", "b2/x"},
		},
		{
			name: "iterative: sum of accepted values stays below 10",
			p: cep.Begin[ev]("s").Where(is("s")).FollowedBy("x").WhereCtx(func(e ev, c *cep.Context[ev]) bool {
				sum := e.Val
				for _, p := range c.Events("x") {
					sum += p.Val
				}
				return e.Name == "x" && sum < 10
			}).OneOrMore().Consecutive().Next("e").Where(is("e")),
			input: "s x3 x4 e x2 e",
			want:  []string{"s x3 x4 e"},
		},
		{
			name: "OrCtx sees the earlier steps",
			p: cep.Begin[ev]("a").Where(is("a")).FollowedBy("b").Where(is("b")).OrCtx(func(e ev, c *cep.Context[ev]) bool {
				return len(c.Events("a")) == 1 && c.Events("a")[0].Val == e.Val
			}),
			input: "a7 c7",
			want:  []string{"a7 c7/b"},
		},
		{
			name: "UntilCtx",
			p: cep.Begin[ev]("a").Where(is("a")).FollowedBy("b").Where(is("b")).OneOrMore().Consecutive().
				UntilCtx(func(e ev, c *cep.Context[ev]) bool { return len(c.Events("b")) == 2 }),
			input: "a b1 b2 b3",
			want:  []string{"a b1", "a b1 b2"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := runWith(t, tc.p, scriptCase{input: strings.Fields(tc.input)})["matches"]
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzExpr(f *testing.F) {
	for _, s := range []string{`Name == "a"`, `Val > 1 && Name in ["a", "b"]`, `Name ==`, `(`, `Val / 0 > 1`, `int(Name) > 0`, "Val >\n 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := cep.Expr[ev](s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cep: expression ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			return
		}
		_, _ = c.Filter(ev{Name: "a", Val: 1}, nil) // must not panic
	})
}
