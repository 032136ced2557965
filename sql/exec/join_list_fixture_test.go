package exec

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// joinListFixture is a savepoint (heap backend, parallelism 2) of
// joinListFixtureJob after the first half of joinListFixtureSteps, written
// by e52cd41, whose list sides kept their rows in the list states
// "join-left-rows" / "join-right-rows". Rewrite it (only on purpose: it is
// the old layout that later code must keep restoring) with
// WEIR_WRITE_JOIN_LIST_FIXTURE=1 go test ./sql/exec/ -run TestJoinListFixture.
const joinListFixture = "testdata/fixtures/join-list-e52cd41"

// joinListFixtureTypes are the columns of both inputs: key, sequence
// number, payload.
var joinListFixtureTypes = []row.Type{row.BigInt(), row.BigInt(), row.String()}

// joinListFixtureCond is the residual condition: the pair's sequence
// numbers differ by less than 700 (about half the candidates).
func joinListFixtureCond(l, r []row.Value) (bool, error) {
	d := l[1].Int() - r[1].Int()
	return d > -700 && d < 700, nil
}

// joinListFixtureSpec is an inner join of two insert-only inputs on the
// key, with joinListFixtureCond: both sides are list sides.
func joinListFixtureSpec() JoinSpec {
	return JoinSpec{Type: InnerJoin, LeftTypes: joinListFixtureTypes, RightTypes: joinListFixtureTypes,
		LeftKeys: []int{0}, RightKeys: []int{0}, Condition: joinListFixtureCond,
		LeftAppendOnly: true, RightAppendOnly: true}
}

// joinListStep is a row of input in (0 left, 1 right).
type joinListStep struct {
	in int
	r  row.Row
}

// joinListFixtureSteps are 1600 rows of 12 keys (a few keys take most
// rows), on both inputs, with payloads of 0 to 300 bytes.
func joinListFixtureSteps() []joinListStep {
	rng := rand.New(rand.NewPCG(13, 9))
	steps := make([]joinListStep, 1600)
	for i := range steps {
		k := int64(rng.IntN(12))
		if rng.IntN(2) == 0 {
			k = int64(rng.IntN(3))
		}
		pay := fmt.Sprintf("p%d-", i) + strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(300))
		steps[i] = joinListStep{in: rng.IntN(2), r: row.Of(row.Int(k), row.Int(int64(i)), row.Str(pay))}
	}
	return steps
}

// TestJoinListFixture writes joinListFixture when asked to, and otherwise
// checks that it is there.
func TestJoinListFixture(t *testing.T) {
	if !writingFixture(t, "WEIR_WRITE_JOIN_LIST_FIXTURE", joinListFixture) {
		return
	}
	steps := joinListFixtureSteps()
	h := weirtest.New(fixtureOptions(t))
	l, r := weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
	out, err := RegularJoin(l.Stream(), r.Stream(), joinListFixtureSpec())
	if err != nil {
		t.Fatal(err)
	}
	weirtest.Capture(h, out.UID("join"))
	h.Start(t)
	ins := []*weirtest.Input[row.Row]{l, r}
	for _, st := range steps[:len(steps)/2] {
		if err := ins[st.in].Push(st.r, 0); err != nil {
			t.Fatal(err)
		}
	}
	writeFixture(t, h, joinListFixture)
}
