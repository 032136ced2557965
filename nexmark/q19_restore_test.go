package nexmark

import (
	"testing"

	"github.com/weirstream/weir"
)

// q19Fixture is a savepoint of q19 (heap backend, parallelism 2) after
// the first half of topJoinEvents, written by main at f1c338f: q19's state
// on the heap was then the value state "topref" (*q19Ranks: ten *Bid, best
// first) per auction. Rewrite it (only on purpose: it is the old layout
// that later code must keep restoring) with
// WEIR_WRITE_Q19_FIXTURE=1 go test ./nexmark/ -run TestQ19Fixture.
const q19Fixture = "testdata/q19-f1c338f"

// TestQ19Fixture writes q19Fixture when asked to, and otherwise checks
// that it is there.
func TestQ19Fixture(t *testing.T) {
	writeOrCheckFixture(t, q19Fixture, "WEIR_WRITE_Q19_FIXTURE", weir.Options{Parallelism: 2, StateBackend: weir.StateHeap}, topJoinEvents, queryJob("q19"))
}

// TestQ19RestoresOldLayout restores q19Fixture (the heap state "topref"
// of f1c338f) on both backends at parallelism 1 and 3, runs the second
// half of the events, and requires the final table to be the batch
// reference's over all events once the restored job's rows are applied,
// as upserts, over the reference's table of the first half: the top-10
// buffers restored from the old layout go on from where they were. A
// snapshot of the restored job (keys in the current layout, and those no
// record touched still in the old one) then restores at parallelism 2 on
// the other backend and finishes the same way.
func TestQ19RestoresOldLayout(t *testing.T) {
	events := topJoinEvents(t)
	half := len(events) / 2
	q19, _ := Lookup("q19")
	oldLayoutRestore[*Result]{
		fixture: q19Fixture,
		attach:  queryJob("q19"),
		rest:    events[half:],
		mid:     (len(events) - half) / 2,
		check: func(t *testing.T, r *Result) {
			checkUpserted(t, q19, events, half, r, "auction", "rank_number")
		},
		checkSnapshot: func(t *testing.T, ra, rb *Result) {
			checkUpserted(t, q19, events, half, ra, "auction", "rank_number", rb)
		},
	}.run(t)
}
