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

// jsonAggQuery aggregates an aggregation with JSON_OBJECTAGG,
// JSON_ARRAYAGG and PERCENTILE: the inner GROUP BY updates each key's
// row, so the outer calls are retracted from one group and accumulated in
// another (a key's count moves it between groups g), and NULL values come
// and go.
const jsonAggQuery = `SELECT g, COUNT(*) AS c,
  JSON_OBJECTAGG(KEY k VALUE m) AS o1,
  JSON_OBJECTAGG(KEY k VALUE JSON_ARRAY(n, m) ABSENT ON NULL) AS o2,
  JSON_ARRAYAGG(m NULL ON NULL) AS a1,
  JSON_ARRAYAGG(m) AS a2,
  PERCENTILE(s, 0.5) AS p1,
  PERCENTILE(s, ARRAY[0.25, 0.75], n) AS p2
FROM (SELECT k, n, s, m, n % 3 AS g FROM
  (SELECT k, COUNT(*) AS n, SUM(v) AS s, NULLIF(SUM(v) % 4, 0) AS m FROM T GROUP BY k))
GROUP BY g;`

// jsonAggJob plans jsonAggQuery on a harness whose input stands for T;
// the result table (by the first column) is kept in table.
func jsonAggJob(t *testing.T, h *weirtest.Harness, table map[string]string) *weirtest.Input[row.Row] {
	t.Helper()
	return tableJob(t, h, `CREATE TABLE T (k STRING, v BIGINT) WITH ('connector' = 'datagen');`+jsonAggQuery, table)
}

// TestJSONAggSavepointRestore takes a savepoint in the middle of the
// GROUP BY whose accumulators are JSON_OBJECTAGG's (entries and pending
// retractions), JSON_ARRAYAGG's (items) and PERCENTILE's (percentages and
// value counts), restores it into a new job and finishes the input: the
// final table is the uninterrupted run's.
func TestJSONAggSavepointRestore(t *testing.T) {
	var rows []row.Row
	for i := range 300 {
		rows = append(rows, row.Of(row.Str(fmt.Sprintf("k%d", i*i%37%19)), row.Int(int64(i*7%61))))
	}
	want := map[string]string{}
	{
		h := weirtest.New(weir.Options{})
		in := jsonAggJob(t, h, want)
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
	all := strings.Join(sortedValues(want), "\n")
	if len(want) < 2 || !strings.Contains(all, "null") || !strings.Contains(all, `"k`) {
		t.Fatalf("result table too plain to tell:\n%s", all)
	}
	for _, cut := range []int{len(rows) / 3, len(rows)/2 + 7} {
		t.Run(fmt.Sprintf("at-%d", cut), func(t *testing.T) {
			opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			table := map[string]string{}
			h := weirtest.New(opts)
			in := jsonAggJob(t, h, table)
			for _, r := range rows[:cut] {
				if err := in.Push(r, weir.NoTimestamp); err != nil {
					t.Fatal(err)
				}
			}
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			h2 := weirtest.Restore(opts, snap)
			in2 := jsonAggJob(t, h2, table)
			for _, r := range rows[cut:] {
				if err := in2.Push(r, weir.NoTimestamp); err != nil {
					t.Fatal(err)
				}
			}
			if err := in2.End(); err != nil {
				t.Fatal(err)
			}
			if err := h2.Err(); err != nil {
				t.Fatal(err)
			}
			if got, exp := sortedValues(table), sortedValues(want); !slices.Equal(got, exp) {
				t.Fatalf("final table\n%q\nwant\n%q", got, exp)
			}
		})
	}
}
