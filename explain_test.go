package weir_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
)

// The plan chains forward edges of equal parallelism, breaks chains at key
// partitioning, parallelism changes, unions and DisableChaining.
func TestExplainChaining(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{Parallelism: 4})
	src := weir.FromSlice(env, []int{1, 2, 3}).SetParallelism(4)
	m := weir.Map(src, func(i int) int { return i }).Name("double").Filter(func(int) bool { return true }).Name("keep")
	k := weir.Reduce(weir.KeyBy(m, func(i int) int { return i }), func(a, b int) (int, error) { return a + b, nil })
	narrow := weir.Map(k, func(i int) int { return i }).Name("narrow").SetParallelism(2)
	solo := weir.Map(narrow, func(i int) int { return i }).Name("solo").SetParallelism(2).DisableChaining()
	weir.Collect(weir.Union(solo, m))
	got := strings.Split(strings.TrimSpace(env.Explain()), "\n")
	want := []string{
		`Source: Collection -> double -> keep [parallelism 4]`,
		`Reduce [parallelism 4] <- HASH from "keep"`,
		`narrow [parallelism 2] <- REBALANCE from "Reduce"`,
		`solo [parallelism 2] <- FORWARD from "narrow"`,
		`Union -> Collect [parallelism 4] <- REBALANCE from "solo" <- FORWARD from "keep"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}
