package exec

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// rankArenaLog returns n rows (partition, price or NULL, name, id, text of
// 0..300 bytes) over parts partitions: NULL and tied order values, and
// rows of very different sizes, so that arenas are compacted with rows
// of every size in them.
func rankArenaLog(seed uint64, n, parts int) []row.Row {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	var log []row.Row
	for i := range n {
		price := row.Int(int64(rng.IntN(40)))
		if rng.IntN(10) == 0 {
			price = row.Null()
		}
		log = append(log, row.Of(
			row.Str(fmt.Sprintf("p%d", rng.IntN(parts))), price,
			row.Str(fmt.Sprintf("n%d", rng.IntN(5))), row.Int(int64(i)),
			row.Str(strings.Repeat("x", rng.IntN(300)))))
	}
	return log
}

// rankTopFixture is a savepoint (heap, parallelism 2) of the append-only
// Top-N of rankTopFixtureSpec after the first half of rankTopFixtureLog,
// written by main at e52cd41, before the arena form (rank_arena.go): the
// value state "rank-top" with each partition's rows, encoded from the
// decoded rows. Rewrite it only on purpose (it is what later code must
// keep restoring): copy this file into that commit's sql/exec and run
// WEIR_WRITE_RANK_TOP_FIXTURE=1 go test ./sql/exec/ -run TestRankTopFixture.
const rankTopFixture = "testdata/fixtures/rank-top-e52cd41"

// rankTopFixtureLog is the fixture job's input: 1,200 rows over 7
// partitions (the fixture holds the first 600).
func rankTopFixtureLog() []row.Row { return rankArenaLog(43, 1200, 7) }

// rankTopFixtureSpec is Top-6 by column 1 (descending, NULLs last) then
// column 2, with the row number and -U.
func rankTopFixtureSpec() RankSpec {
	return RankSpec{Types: []row.Type{row.String(), row.BigInt(), row.String(), row.BigInt(), row.String()},
		PartitionKeys: []int{0}, RankStart: 1, RankEnd: 6, OutputRankNumber: true, GenerateUpdateBefore: true,
		OrderBy: []OrderKey{{Col: 1, Desc: true, NullsLast: true}, {Col: 2}}}
}

// TestRankTopFixture writes rankTopFixture when asked to, and otherwise
// checks that it is there.
func TestRankTopFixture(t *testing.T) {
	if !writingFixture(t, "WEIR_WRITE_RANK_TOP_FIXTURE", rankTopFixture) {
		return
	}
	h := weirtest.New(fixtureOptions(t))
	in := weirtest.NewInput[row.Row](h)
	out, err := Rank(in.Stream(), rankTopFixtureSpec())
	if err != nil {
		t.Fatal(err)
	}
	weirtest.Capture(h, out.UID("op"))
	h.Start(t)
	log := rankTopFixtureLog()
	for _, r := range log[:len(log)/2] {
		if err := in.Push(r, 0); err != nil {
			t.Fatal(err)
		}
	}
	writeFixture(t, h, rankTopFixture)
}
