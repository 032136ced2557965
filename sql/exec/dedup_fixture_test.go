package exec

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// dedupRowFixture is a savepoint (heap backend, parallelism 2) of
// dedupFixtureJob after the first half of dedupFixtureSteps, written by
// fc3f498, whose event-time deduplication without -U kept each key's whole
// row (its encoding, value state "dedup-row"). Rewrite it (only on
// purpose: it is the old layout that later code must keep restoring) with
// WEIR_WRITE_DEDUP_ROW_FIXTURE=1 go test ./sql/exec/ -run TestDedupRowFixture.
const dedupRowFixture = "testdata/fixtures/dedup-row-fc3f498"

// dedupFixtureTypes are the columns of dedupFixtureSteps: key, payload,
// rowtime.
var dedupFixtureTypes = []row.Type{row.BigInt(), row.String(), row.TimestampType(6)}

// dedupFixtureSpec is an event-time deduplication of dedupFixtureSteps
// that emits no -U (keep-last or keep-first).
func dedupFixtureSpec(keepLast bool) DedupSpec {
	return DedupSpec{Types: dedupFixtureTypes, Keys: []int{0}, KeepLast: keepLast, RowTime: true, TimeCol: 2,
		GenerateInsert: true}
}

// dedupFixtureJob deduplicates its input twice, keeping the last and the
// first row of each key.
func dedupFixtureJob(in weir.Stream[row.Row], last, first DedupSpec) (weir.Stream[row.Row], weir.Stream[row.Row], error) {
	l, err := Deduplicate(in, last)
	if err != nil {
		return weir.Stream[row.Row]{}, weir.Stream[row.Row]{}, err
	}
	f, err := Deduplicate(in, first)
	return l, f, err
}

// dedupFixtureSteps are 800 rows of 40 keys whose rowtimes rise, tie (same
// millisecond, and same millisecond with other nanoseconds), go back and
// are sometimes NULL, with a payload string.
func dedupFixtureSteps() []step {
	rng := rand.New(rand.NewPCG(21, 4))
	var steps []step
	ms := int64(1_700_000_000_000)
	for i := range 800 {
		ms += int64(rng.IntN(5)) - 1
		tv := row.Timestamp(ms, int32(rng.IntN(3))*1000)
		if rng.IntN(50) == 0 {
			tv = row.Null()
		}
		r := row.Of(row.Int(int64(rng.IntN(40))), row.Str(fmt.Sprintf("payload-%d-%d", i, rng.IntN(1000))), tv)
		steps = append(steps, step{r: r, ts: ms})
	}
	return steps
}

// TestDedupRowFixture writes dedupRowFixture when asked to, and otherwise
// checks that it is there.
func TestDedupRowFixture(t *testing.T) {
	if os.Getenv("WEIR_WRITE_DEDUP_ROW_FIXTURE") == "" {
		if _, err := os.Stat(dedupRowFixture); err != nil {
			t.Fatalf("fixture %s missing: %v", dedupRowFixture, err)
		}
		return
	}
	steps := dedupFixtureSteps()
	h := weirtest.New(weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}})
	in := weirtest.NewInput[row.Row](h)
	l, f, err := dedupFixtureJob(in.Stream(), dedupFixtureSpec(true), dedupFixtureSpec(false))
	if err != nil {
		t.Fatal(err)
	}
	weirtest.Capture(h, l)
	weirtest.Capture(h, f)
	h.Start(t)
	for _, st := range steps[:len(steps)/2] {
		if err := in.Push(st.r, st.ts); err != nil {
			t.Fatal(err)
		}
	}
	path, err := h.Stepper().TriggerSavepoint(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dedupRowFixture); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dedupRowFixture, os.DirFS(path)); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s from %s", dedupRowFixture, path)
}
