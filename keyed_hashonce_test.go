package weir_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/weirstream/weir"
)

type keyedRec struct {
	Key   string
	Value int64
}

// A keyed operator behind a keyed exchange takes the key hash the writer
// sent with each record: per-key results at parallelism 2 and 3 are those
// of a plain loop, for a string key and a struct key.
func TestKeyedExchangeHashOnce(t *testing.T) {
	var in []keyedRec
	want := map[string]int64{}
	for i := range 5000 {
		r := keyedRec{Key: "k" + string(rune('a'+i%23)) + string(rune('a'+i%7)), Value: int64(i)}
		in = append(in, r)
		want[r.Key] += r.Value
	}
	type structKey struct {
		S string
		N int8
	}
	for _, p := range []int{2, 3} {
		for _, byStruct := range []bool{false, true} {
			env := weir.NewEnvironment(weir.Options{Parallelism: p})
			src := weir.FromSlice(env, in)
			sum := func(a, b keyedRec) (keyedRec, error) { return keyedRec{a.Key, a.Value + b.Value}, nil }
			var out *weir.Collected[keyedRec]
			if byStruct {
				out = weir.Collect(weir.Reduce(weir.KeyBy(src, func(r keyedRec) structKey { return structKey{r.Key, int8(len(r.Key))} }), sum))
			} else {
				out = weir.Collect(weir.Reduce(weir.KeyBy(src, func(r keyedRec) string { return r.Key }), sum))
			}
			if err := env.Execute(context.Background()); err != nil {
				t.Fatalf("p=%d struct=%v: %v", p, byStruct, err)
			}
			got := map[string]int64{}
			for _, r := range out.Values() {
				got[r.Key] = r.Value // a key's records stay in order: the last is the total
			}
			if len(got) != len(want) {
				t.Fatalf("p=%d struct=%v: %d keys, want %d", p, byStruct, len(got), len(want))
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("p=%d struct=%v: key %s sums to %d, want %d", p, byStruct, k, got[k], v)
				}
			}
		}
	}
}

// A key selector that returns another key for the same record on the
// keyed operator's side than on the exchange's fails the job, though the
// operator does not hash every key it is given.
func TestKeyedExchangeNonDeterministicKey(t *testing.T) {
	var calls atomic.Int64
	in := make([]int64, 5000)
	for i := range in {
		in[i] = int64(i)
	}
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	keyed := weir.KeyBy(weir.FromSlice(env, in), func(v int64) int64 { return v + calls.Add(1) })
	weir.Collect(weir.Reduce(keyed, func(a, b int64) (int64, error) { return a + b, nil }))
	err := env.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "same key for the same record") {
		t.Fatalf("Execute = %v, want the key selector named", err)
	}
}
