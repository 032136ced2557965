package weir_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/weirstream/weir"
)

type count struct {
	Word string
	N    int
}

func wordCount(t *testing.T, opts weir.Options, words []string) []count {
	t.Helper()
	env := weir.NewEnvironment(opts)
	src := weir.FromSlice(env, words).SetParallelism(opts.Parallelism)
	counts := weir.Reduce(weir.KeyBy(weir.Map(src, func(w string) count { return count{w, 1} }),
		func(c count) string { return c.Word }),
		func(a, b count) (count, error) { return count{a.Word, a.N + b.N}, nil })
	got := weir.Collect(counts)
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Keep the final count per word.
	final := map[string]int{}
	for _, c := range got.Values() {
		if c.N > final[c.Word] {
			final[c.Word] = c.N
		}
	}
	var out []count
	for w, n := range final {
		out = append(out, count{w, n})
	}
	slices.SortFunc(out, func(a, b count) int {
		if a.Word < b.Word {
			return -1
		}
		return 1
	})
	return out
}

func TestWordCountParallelism(t *testing.T) {
	var words []string
	want := map[string]int{}
	for i := 0; i < 10000; i++ {
		w := fmt.Sprintf("w%d", (i*7919)%97)
		words = append(words, w)
		want[w]++
	}
	for _, p := range []int{1, 2, 4} {
		for _, chain := range []bool{true, false} {
			got := wordCount(t, weir.Options{Parallelism: p, DisableChaining: !chain}, words)
			if len(got) != len(want) {
				t.Fatalf("p=%d chain=%v: %d words, want %d", p, chain, len(got), len(want))
			}
			for _, c := range got {
				if want[c.Word] != c.N {
					t.Fatalf("p=%d chain=%v: %s=%d, want %d", p, chain, c.Word, c.N, want[c.Word])
				}
			}
		}
	}
}
