package cep_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir/cep"
)

func is(name string) func(ev) bool { return func(e ev) bool { return e.Name == name } }

// Group patterns are built in Go (the script language has no groups).
func TestGroups(t *testing.T) {
	ab := func() *cep.Seq[ev] { return cep.Begin[ev]("a").Where(is("a")).Next("b").Where(is("b")) }
	cases := []struct {
		name  string
		p     *cep.Seq[ev]
		input string
		want  []string
	}{
		{
			name:  "group then step",
			p:     cep.BeginGroup(ab()).FollowedBy("c").Where(is("c")),
			input: "a1 b1 x c1 a2 x b2 c2",
			want:  []string{"a1 b1 c1"},
		},
		{
			name:  "step then group",
			p:     cep.Begin[ev]("s").Where(is("s")).FollowedByGroup(ab()),
			input: "s x a1 b1",
			want:  []string{"s a1 b1"},
		},
		{
			name:  "relaxed group start is the first a",
			p:     cep.Begin[ev]("s").Where(is("s")).FollowedByGroup(ab()),
			input: "s a1 x a2 b2",
			want:  nil,
		},
		{
			name:  "non-deterministic group start",
			p:     cep.Begin[ev]("s").Where(is("s")).FollowedByAnyGroup(ab()),
			input: "s a1 x a2 b2",
			want:  []string{"s a2 b2"},
		},
		{
			name:  "group repeated twice",
			p:     cep.Begin[ev]("s").Where(is("s")).NextGroup(ab()).Times(2).FollowedBy("c").Where(is("c")),
			input: "s a1 b1 x a2 b2 c",
			want:  []string{"s a1 b1 a2 b2 c"},
		},
		{
			name:  "group one or more",
			p:     cep.Begin[ev]("s").Where(is("s")).NextGroup(ab()).OneOrMore().Next("c").Where(is("c")),
			input: "s a1 b1 a2 b2 c",
			want:  []string{"s a1 b1 a2 b2 c"},
		},
		{
			name:  "group one or more relaxed",
			p:     cep.Begin[ev]("s").Where(is("s")).NextGroup(ab()).OneOrMore().FollowedBy("c").Where(is("c")),
			input: "s a1 b1 x a2 b2 c",
			want:  []string{"s a1 b1 c", "s a1 b1 a2 b2 c"},
		},
		{
			name:  "optional group",
			p:     cep.Begin[ev]("s").Where(is("s")).FollowedByGroup(ab()).Optional().FollowedBy("c").Where(is("c")),
			input: "s1 a1 b1 c1 s2 c2",
			want:  []string{"s1 a1 b1 c1", "s1 c1", "s2 c2"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Validate(); err != nil {
				t.Fatal(err)
			}
			got := runWith(t, tc.p, scriptCase{input: strings.Fields(tc.input)})["matches"]
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
