package exec

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

func twoPhase(spec GroupAggSpec) func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
	return func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
		local := spec
		local.UID = ""
		l, err := LocalGroupAggregate(s, local)
		if err != nil {
			return l, err
		}
		return GlobalGroupAggregate(l, spec)
	}
}

// TestGroupAggTwoPhaseSameAnswer runs the random changelog of
// TestGroupAggSameAnswer (retractions, NULLs, MAX, COUNT(DISTINCT))
// through LocalGroupAggregate and GlobalGroupAggregate under every
// configuration (restores from checkpoints taken while rows are held
// included), with -U rows, without (upsert) and with a state TTL: the
// final table is the one-phase one. (Restores across one and two phases
// are TestTwoPhaseSavepointCompatibility's, in package sql: here the
// capture sink's state is named by its position, which the local
// aggregate moves.)
func TestGroupAggTwoPhaseSameAnswer(t *testing.T) {
	base, steps, outTypes, want := groupAggRandomChangelog(t)
	for _, variant := range []struct {
		name string
		edit func(*GroupAggSpec)
	}{
		{"retract", func(*GroupAggSpec) {}},
		{"upsert", func(s *GroupAggSpec) { s.GenerateUpdateBefore = false }},
		{"ttl", func(s *GroupAggSpec) { s.StateTTL = time.Hour }},
	} {
		plain := base
		variant.edit(&plain)
		for _, size := range []int64{1, 7, 1000} {
			mini := miniBatchOf(plain, size)
			configs := sameAnswerConfigs
			if variant.name != "retract" {
				configs = []config{sameAnswerConfigs[0], sameAnswerConfigs[5]}
			}
			for _, c := range configs {
				t.Run(fmt.Sprintf("%s/size%d/%s", variant.name, size, c), func(t *testing.T) {
					log := runSteps(t, c, steps, twoPhase(mini))
					if diff := cmp.Diff(want, materializeUpsert(t, log, outTypes, 1, plain.GenerateUpdateBefore)); diff != "" {
						t.Fatalf("final table (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

// TestGroupAggTwoPhaseFlush: the local aggregate emits its batch when it
// is full, at the interval's end in processing time, on the final
// watermark (not on others) and at the end of input; the global one
// batches accumulator rows by the same size.
func TestGroupAggTwoPhaseFlush(t *testing.T) {
	h := weirtest.New(weir.Options{})
	in := weirtest.NewInput[row.Row](h)
	spec := GroupAggSpec{InputTypes: []row.Type{row.String(), row.BigInt()}, GroupKeys: []int{0}, UID: "agg", GenerateUpdateBefore: true,
		Aggs:      []AggCall{{Func: CountStar, Filter: NoFilter}, {Func: Sum, Args: []int{1}, Filter: NoFilter}},
		MiniBatch: MiniBatch{Interval: time.Second, Size: 1}}
	s, err := twoPhase(spec)(in.Stream())
	if err != nil {
		t.Fatal(err)
	}
	out := weirtest.Capture(h, s)
	h.Start(t)
	// Size 1: each row is a batch, locally and globally.
	push(t, in, kv(row.Insert, "a", 1), kv(row.Insert, "a", 2))
	checkRows(t, "size 1", out.Take(), "+I[a, 1, 1]\n-U[a, 1, 1]\n+U[a, 2, 3]\n")

	h2 := weirtest.New(weir.Options{})
	in2 := weirtest.NewInput[row.Row](h2)
	spec.MiniBatch.Size = 1000
	s2, err := twoPhase(spec)(in2.Stream())
	if err != nil {
		t.Fatal(err)
	}
	out2 := weirtest.Capture(h2, s2)
	h2.Start(t)
	if err := h2.SetProcessingTime(10_400); err != nil {
		t.Fatal(err)
	}
	push(t, in2, kv(row.Insert, "a", 1), kv(row.Insert, "a", 2))
	if err := h2.SetProcessingTime(10_999); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "before the interval's end", out2.Take(), "")
	if err := h2.SetProcessingTime(11_000); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "at the interval's end", out2.Take(), "+I[a, 2, 3]\n")
	push(t, in2, kv(row.Insert, "b", 1), kv(row.Delete, "a", 1))
	if err := in2.Watermark(5); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "after a watermark", out2.Take(), "")
	if err := in2.Watermark(weir.MaxWatermark); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "after the final watermark", sortRows(out2.Take()), "+I[b, 1, 1]\n-U[a, 2, 3]\n+U[a, 1, 2]\n")
	push(t, in2, kv(row.Delete, "a", 2), kv(row.Insert, "c", 4))
	if err := in2.End(); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "at the end of input (a's count goes to 0)", sortRows(out2.Take()), "+I[c, 1, 4]\n-D[a, 1, 2]\n")
}
