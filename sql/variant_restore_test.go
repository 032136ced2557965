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

// variantQuery keeps VARIANTs in state: group keys (a variant field),
// LAST_VALUE and FIRST_VALUE accumulators holding whole variants, and a
// COUNT(DISTINCT) over variants, under a join whose state holds rows with
// a VARIANT column.
const variantQuery = `CREATE TABLE T (s STRING) WITH ('connector' = 'datagen');
SELECT a.v['kind'] AS kind, COUNT(*) AS c, LAST_VALUE(a.v) AS lv, FIRST_VALUE(b.v['n']) AS fv,
  COUNT(DISTINCT a.v['n']) AS dn
FROM (SELECT PARSE_JSON(s) AS v FROM T) a
JOIN (SELECT PARSE_JSON(s) AS v FROM T) b ON a.v['kind'] = b.v['kind']
GROUP BY a.v['kind'];`

// TestVariantSavepointRestore takes a savepoint while VARIANT values sit
// in join and aggregate state, restores it into a new job and finishes
// the input: the final table is the uninterrupted run's.
func TestVariantSavepointRestore(t *testing.T) {
	var rows []row.Row
	for i := range 120 {
		rows = append(rows, row.Of(row.Str(fmt.Sprintf(`{"kind": {"k": %d}, "n": [%d, "x%d", %d.5, null], "i": %d}`,
			i*i%7, i%5, i%3, i%4, i))))
	}
	job := func(h *weirtest.Harness, table map[string]string) *weirtest.Input[row.Row] {
		return tableJob(t, h, variantQuery, table)
	}
	want := map[string]string{}
	{
		h := weirtest.New(weir.Options{})
		in := job(h, want)
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
	if len(want) < 3 || !strings.Contains(all, `{"k":`) || !strings.Contains(all, `.5,null]`) {
		t.Fatalf("result table too plain to tell:\n%s", all)
	}
	for _, cut := range []int{len(rows) / 3, len(rows)/2 + 7} {
		t.Run(fmt.Sprintf("at-%d", cut), func(t *testing.T) {
			opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			table := map[string]string{}
			h := weirtest.New(opts)
			in := job(h, table)
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
			in2 := job(h2, table)
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
