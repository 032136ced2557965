package weir_test

import (
	"encoding/json"
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

// Plan gives the same plan as a structure: vertex IDs, operators with
// their uids, and inputs by producing vertex; it marshals to JSON.
func TestPlan(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	src := weir.FromSlice(env, []int{1, 2, 3}).UID("src")
	m := weir.Map(src, func(i int) int { return i }).Name("double").UID("double")
	late := weir.NewOutputTag[int]("late")
	p := weir.Process(m, weir.ProcessFunc[int, int](func(ctx *weir.Context[int], v int) error {
		weir.Output(ctx, late, v)
		return nil
	})).Name("split").DisableChaining()
	weir.Collect(weir.Reduce(weir.KeyBy(weir.SideOutput(p, late), func(i int) int { return i }), func(a, b int) (int, error) { return a + b, nil }))
	got := env.Plan()
	want := weir.JobPlan{Vertices: []weir.PlanVertex{
		{ID: 0, Name: "Source: Collection", Parallelism: 1, Operators: []weir.PlanOperator{{Name: "Source: Collection", UID: "src"}}},
		{ID: 1, Name: "double", Parallelism: 2, Operators: []weir.PlanOperator{{Name: "double", UID: "double"}},
			Inputs: []weir.PlanInput{{From: 0, Operator: "Source: Collection", Partitioning: "REBALANCE"}}},
		{ID: 2, Name: "split", Parallelism: 2, Operators: []weir.PlanOperator{{Name: "split"}},
			Inputs: []weir.PlanInput{{From: 1, Operator: "double", Partitioning: "FORWARD"}}},
		{ID: 3, Name: "Reduce -> Collect", Parallelism: 2, Operators: []weir.PlanOperator{{Name: "Reduce"}, {Name: "Collect"}},
			Inputs: []weir.PlanInput{{From: 2, Operator: "split", Partitioning: "HASH", SideOutput: "late"}}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"partitioning":"HASH","sideOutput":"late"`) {
		t.Fatalf("JSON %s", b)
	}
}
