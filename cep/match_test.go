package cep_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/cep"
	"github.com/weirstream/weir/weirtest"
)

// SelectMatch sees the same matches as Select, including steps whose
// events interleave with another step's (a repeated group) and names a
// match lacks; both run in event time on out-of-order input.
func TestSelectMatchAgreesWithSelect(t *testing.T) {
	group := cep.Begin[ev]("x").Where(is("x")).Next("y").Where(is("y"))
	for _, tc := range []struct {
		name string
		p    *cep.Seq[ev]
	}{
		{"sequence", abc()},
		{"loop", cep.Begin[ev]("a").Where(is("a")).FollowedBy("b").Where(is("b")).OneOrMore().FollowedBy("c").Where(is("c"))},
		{"optional", cep.Begin[ev]("a").Where(is("a")).FollowedBy("b").Where(is("b")).Optional().FollowedBy("c").Where(is("c"))},
		{"group", cep.Begin[ev]("s").Where(is("s")).FollowedByGroup(group).Times(2).FollowedBy("c").Where(is("c"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := weirtest.New(weir.Options{Parallelism: 1})
			in := weirtest.NewInput[ev](h)
			ps := cep.Pattern(weir.KeyBy(in.Stream(), func(e ev) string { return e.Key }), tc.p)
			names := []string{"a", "b", "c", "s", "x", "y", "none"}
			viaMap := weirtest.Capture(h, cep.Select(ps, func(k string, m map[string][]ev) (string, error) {
				var sb strings.Builder
				sb.WriteString(k)
				for _, n := range names {
					fmt.Fprintf(&sb, " %s=%v", n, ids(m[n]))
				}
				return sb.String(), nil
			}))
			viaView := weirtest.Capture(h, cep.SelectMatch(ps, func(k string, m *cep.Match[ev]) (string, error) {
				var sb strings.Builder
				sb.WriteString(k)
				all := 0
				for _, n := range names {
					fmt.Fprintf(&sb, " %s=%v", n, ids(m.Get(n)))
					all += len(m.Get(n))
				}
				if all != len(m.Events()) {
					return "", fmt.Errorf("%d events by name, %d in all", all, len(m.Events()))
				}
				return sb.String(), nil
			}))
			h.Start(t)
			// Two keys, events pushed in reverse order within each block of
			// four timestamps (out of order, within the watermark's bound).
			seq := strings.Fields("s a x y b x y b c a x b y c x y c")
			for blk := 0; blk < len(seq); blk += 4 {
				for i := min(blk+3, len(seq)-1); i >= blk; i-- {
					for _, key := range []string{"k1", "k2"} {
						e := ev{Key: key, ID: fmt.Sprintf("%s%d", seq[i], i), Name: seq[i]}
						if err := in.Push(e, int64(100+i)); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := in.Watermark(int64(100 + blk - 1)); err != nil {
					t.Fatal(err)
				}
			}
			if err := in.End(); err != nil {
				t.Fatal(err)
			}
			a, b := viaMap.Values(), viaView.Values()
			slices.Sort(a)
			slices.Sort(b)
			if len(a) == 0 || !slices.Equal(a, b) {
				t.Fatalf("Select: %q\nSelectMatch: %q", a, b)
			}
			t.Logf("%d matches, e.g. %s", len(a), a[0])
		})
	}
}

func ids(es []ev) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}
