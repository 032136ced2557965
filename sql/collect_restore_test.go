package sql

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// collectQuery aggregates an aggregation with COLLECT: the inner GROUP BY
// updates each key's row, so the outer calls are retracted from one
// group and accumulated in another (a key's count moves it between
// groups g), and values come and go (a DISTINCT and a FILTER call too).
const collectQuery = `SELECT g, COUNT(*) AS c,
  COLLECT(k) AS ks,
  COLLECT(s % 5) AS m,
  COLLECT(DISTINCT s % 3) AS d,
  COLLECT(k) FILTER (WHERE n > 2) AS f
FROM (SELECT k, n, s, n % 3 AS g FROM
  (SELECT k, COUNT(*) AS n, SUM(v) AS s FROM T GROUP BY k))
GROUP BY g;`

func collectJob(t *testing.T, h *weirtest.Harness, table map[string]string) *weirtest.Input[row.Row] {
	t.Helper()
	return tableJob(t, h, `CREATE TABLE T (k STRING, v BIGINT) WITH ('connector' = 'datagen');`+collectQuery, table)
}

// TestCollectSavepointRestore takes a savepoint in the middle of the
// GROUP BY whose accumulators are COLLECT's (values with counts, under
// DISTINCT and FILTER), restores it into a new job and finishes the
// input: the final table is the uninterrupted run's.
func TestCollectSavepointRestore(t *testing.T) {
	var rows []row.Row
	for i := range 300 {
		rows = append(rows, row.Of(row.Str(fmt.Sprintf("k%d", i*i%37%19)), row.Int(int64(i*7%61))))
	}
	run := func(h *weirtest.Harness, table map[string]string, rows []row.Row) {
		in := collectJob(t, h, table)
		for _, r := range rows {
			if err := in.Push(r, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
		if err := h.Err(); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{}
	run(weirtest.New(weir.Options{}), want, rows)
	all := strings.Join(sortedValues(want), "\n")
	if len(want) < 2 || !strings.Contains(all, "=2") || !strings.Contains(all, "k1") {
		t.Fatalf("result table too plain to tell:\n%s", all)
	}
	for _, cut := range []int{len(rows) / 3, len(rows)/2 + 7} {
		t.Run(fmt.Sprintf("at-%d", cut), func(t *testing.T) {
			opts := weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			table := map[string]string{}
			h := weirtest.New(opts)
			in := collectJob(t, h, table)
			for _, r := range rows[:cut] {
				if err := in.Push(r, weir.NoTimestamp); err != nil {
					t.Fatal(err)
				}
			}
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			run(weirtest.Restore(opts, snap), table, rows[cut:])
			if got, exp := sortedValues(table), sortedValues(want); !slices.Equal(got, exp) {
				t.Fatalf("final table\n%q\nwant\n%q", got, exp)
			}
		})
	}
}
