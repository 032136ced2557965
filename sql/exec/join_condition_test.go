package exec

import (
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/result"
)

// unsharedCond is a residual condition that, like a compiled SQL
// evaluator with its row buffer, must be called by one goroutine only: it
// writes the values it reads into a buffer of its own and counts calls
// made while another call of it was in progress (subtasks running on
// goroutines of their own and sharing one would overlap; under -race that
// is also a reported data race on buf and busy).
type unsharedCond struct {
	buf      []row.Value
	busy     bool
	overlaps *atomic.Int64
}

func (c *unsharedCond) eval(l, r []row.Value) (bool, error) {
	if c.busy {
		c.overlaps.Add(1)
	}
	c.busy = true
	c.buf = append(c.buf[:0], l[1], r[1])
	ok := c.buf[0].Int() <= c.buf[1].Int()+5
	c.busy = false
	return ok, nil
}

// TestRegularJoinNewConditionPerSubtask: with JoinSpec.NewCondition, every
// subtask of a regular join (in each of the jobs of the restore paths of
// TestRegularJoinSameAnswer: heap and Pebble, parallelism 1 and 4) calls it
// once in Open and uses its own condition, and the join ends in the batch
// answer: INNER over list sides (insert-only inputs), FULL and SEMI over
// the map layout. Fails if the condition is not used (every pair would
// join), if one condition is made for the whole join and shared by its
// subtasks, or if one is made per record (the call count: checked to fail
// with a condition made once in RegularJoin and handed to every subtask).
func TestRegularJoinNewConditionPerSubtask(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 13))
	types := []row.Type{row.BigInt(), row.BigInt()}
	mk := func() row.Row {
		return row.Of(row.Int(int64(rng.IntN(8))), row.Int(int64(rng.IntN(20))))
	}
	// Insert-only inputs: the INNER join keeps both sides as lists, the
	// FULL join (outer sides) as maps.
	var lrows, rrows []row.Row
	var steps []joinFeedStep
	for i := range 300 {
		l, r := mk(), mk()
		lrows, rrows = append(lrows, l), append(rrows, r)
		steps = append(steps, joinFeedStep{input: 0, r: &lrows[i]}, joinFeedStep{input: 1, r: &rrows[i]})
	}
	joins := func(l, r row.Row) bool {
		return l.Fields[0].Int() == r.Fields[0].Int() && l.Fields[1].Int() <= r.Fields[1].Int()+5
	}
	outTypes := append(slices.Clone(types), types...)
	var inner, full, semi []row.Row
	rMatched := make([]bool, len(rrows))
	for _, l := range lrows {
		matched := false
		for j, r := range rrows {
			if joins(l, r) {
				inner = append(inner, joinRows(row.Insert, l.Fields, r.Fields))
				matched, rMatched[j] = true, true
			}
		}
		if matched {
			semi = append(semi, l)
		} else {
			full = append(full, joinRows(row.Insert, l.Fields, make([]row.Value, 2)))
		}
	}
	full = append(full, inner...)
	for j, r := range rrows {
		if !rMatched[j] {
			full = append(full, joinRows(row.Insert, make([]row.Value, 2), r.Fields))
		}
	}
	for _, tc := range []struct {
		jt       JoinType
		types    []row.Type
		want     []row.Row
		appendOn bool
	}{
		{InnerJoin, outTypes, inner, true},
		{FullJoin, outTypes, full, true},
		{SemiJoin, types, semi, false},
	} {
		t.Run(tc.jt.String(), func(t *testing.T) {
			var made, overlaps atomic.Int64
			spec := JoinSpec{Type: tc.jt, LeftTypes: types, RightTypes: types, LeftKeys: []int{0}, RightKeys: []int{0},
				LeftAppendOnly: tc.appendOn, RightAppendOnly: tc.appendOn,
				NewCondition: func() JoinCondition {
					made.Add(1)
					return (&unsharedCond{overlaps: &overlaps}).eval
				}}
			if tc.jt == InnerJoin && (!spec.listSide(true) || !spec.listSide(false)) {
				t.Fatal("the INNER join's sides are not list sides")
			}
			checkJoinSameAnswer(t, formatSortedRows(tc.want, tc.types), func(c joinSameAnswerConfig) *result.Table {
				made.Store(0)
				tab := joinSameAnswerRun(t, 2, tc.types, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
					return RegularJoin(s[0], s[1], spec)
				}, steps, c.p1, c.b1, c.p2, c.b2)
				if n := made.Load(); n != int64(c.p1+c.p2) {
					t.Errorf("p=%d %s -> p=%d %s: NewCondition called %d times, want once per subtask (%d)", c.p1, c.b1, c.p2, c.b2, n, c.p1+c.p2)
				}
				return tab
			})
			if n := overlaps.Load(); n != 0 {
				t.Errorf("a condition was called while another call of it was in progress (%d times)", n)
			}
		})
	}
	// Both set: refused.
	bad := JoinSpec{Type: InnerJoin, LeftTypes: types, RightTypes: types, LeftKeys: []int{0}, RightKeys: []int{0},
		Condition:    func(l, r []row.Value) (bool, error) { return true, nil },
		NewCondition: func() JoinCondition { return nil }}
	if err := bad.check(); err == nil {
		t.Error("a spec with both Condition and NewCondition was accepted")
	}
}
