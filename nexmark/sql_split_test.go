package nexmark_test

import (
	"bytes"
	"testing"

	"github.com/weirstream/weir"
)

// TestSQLSplitDistinctSameAnswer runs Nexmark q15 and q16 (group
// aggregations with COUNT(DISTINCT ...) FILTER, and q16's MAX) with
// table.optimizer.distinct-agg.split.enabled and checks that the final
// tables equal the unsplit query's: parallelism 1 and 4, heap and Pebble,
// the default 1024 buckets and 4, mini-batch off and on (Flink's nexmark
// settings but small batches).
func TestSQLSplitDistinctSameAnswer(t *testing.T) {
	split := "table.optimizer.distinct-agg.split.enabled=true"
	miniBatch := []string{"table.exec.mini-batch.enabled=true", "table.exec.mini-batch.allow-latency=2s", "table.exec.mini-batch.size=500"}
	for _, name := range []string{"q15", "q16"} {
		t.Run(name, func(t *testing.T) {
			// q16's split partial groups (channel x day x bucket) made its
			// Pebble run a minute of CI under -race at 10,000 events.
			events := int64(10000)
			if name == "q16" {
				events = 4000
			}
			want := sqlFinal(t, name, events, 1, weir.StateHeap)
			if len(want) == 0 {
				t.Fatal("the unsplit result is empty: the comparison proves nothing")
			}
			runs := []struct {
				par     int
				backend string
				set     []string
			}{
				{1, weir.StateHeap, []string{split}},
				{4, weir.StatePebble, []string{split}},
				{4, weir.StateHeap, []string{split, "table.optimizer.distinct-agg.split.bucket-num=4"}},
				{4, weir.StateHeap, append([]string{split}, miniBatch...)},
			}
			for _, run := range runs {
				got := sqlFinal(t, name, events, run.par, run.backend, run.set...)
				if len(got) != len(want) {
					t.Errorf("%v, parallelism %d, %s: %d rows, unsplit %d", run.set, run.par, run.backend, len(got), len(want))
				}
				for i := 0; i < len(got) && i < len(want); i++ {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("%v, parallelism %d, %s: row %d differs:\nsplit:   %s\nunsplit: %s", run.set, run.par, run.backend, i, got[i], want[i])
					}
				}
			}
		})
	}
}
