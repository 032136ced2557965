package sql

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// rowtimeDedupJob plans an event-time deduplication of T (keep-last with
// order DESC, keep-first with ASC) with mini-batch off, on, or on with
// compact changes (mode "off", "on", "compact"), on a harness whose input
// stands for T; the result table (by the key) is kept in table.
func rowtimeDedupJob(t *testing.T, h *weirtest.Harness, order, mode string, table map[string]string) *weirtest.Input[row.Row] {
	t.Helper()
	script := `CREATE TABLE T (k STRING, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' MINUTE) WITH ('connector' = 'datagen');
SET 'table.exec.mini-batch.enabled' = '` + fmt.Sprint(mode != "off") + `';
SET 'table.exec.mini-batch.allow-latency' = '1 h';
SET 'table.exec.mini-batch.size' = '50';
SET 'table.exec.deduplicate.mini-batch.compact-changes-enabled' = '` + fmt.Sprint(mode == "compact") + `';
SELECT k, v, ts FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts ` + order + `) AS rn FROM T) WHERE rn = 1;`
	return tableJob(t, h, script, table)
}

// pushRowtime pushes rows (k, v, ts) with their rowtime as timestamp and
// a watermark (the rowtime seen so far - 1 min) after every 40 rows.
func pushRowtime(t *testing.T, in *weirtest.Input[row.Row], rows []row.Row, maxTS *int64) {
	t.Helper()
	for i, r := range rows {
		ts := r.Fields[2].Millis()
		if err := in.Push(r, ts); err != nil {
			t.Fatal(err)
		}
		*maxTS = max(*maxTS, ts)
		if i%40 == 39 {
			if err := in.Watermark(*maxTS - 60_000); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestMiniBatchRowtimeDedupSavepointCompatibility takes a checkpoint of an
// event-time deduplication (keep-last and keep-first) planned with
// mini-batch off, on, or on with compact changes, and restores it in each
// other mode, with rows held in a batch when the checkpoint is taken (the
// batch is flushed before the barrier) and rows out of order. The final
// table is the uninterrupted run's without mini-batch: the operator keeps
// its uid, state names and encoding.
func TestMiniBatchRowtimeDedupSavepointCompatibility(t *testing.T) {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var rows []row.Row
	for i := range 400 {
		ts := base + int64(i*37%500)*1000
		rows = append(rows, row.Of(row.Str(fmt.Sprintf("k%d", i*7%23)), row.Int(int64(i)), row.Timestamp(ts, 0)))
	}
	modes := []string{"off", "on", "compact"}
	for _, order := range []string{"DESC", "ASC"} {
		want := map[string]string{}
		{
			h := weirtest.New(weir.Options{})
			in := rowtimeDedupJob(t, h, order, "off", want)
			var maxTS int64
			pushRowtime(t, in, rows, &maxTS)
			if err := in.End(); err != nil {
				t.Fatal(err)
			}
		}
		if len(want) != 23 {
			t.Fatalf("result table %v: want 23 keys", want)
		}
		for _, from := range modes {
			for _, to := range modes {
				if from == "off" && to == "off" {
					continue
				}
				t.Run(fmt.Sprintf("%s-%s-then-%s", order, from, to), func(t *testing.T) {
					opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
					table := map[string]string{}
					h := weirtest.New(opts)
					in := rowtimeDedupJob(t, h, order, from, table)
					cut := len(rows)/2 + 17 // rows since the last watermark are held
					var maxTS int64
					pushRowtime(t, in, rows[:cut], &maxTS)
					snap, err := h.Snapshot()
					if err != nil {
						t.Fatal(err)
					}
					h2 := weirtest.Restore(opts, snap)
					in2 := rowtimeDedupJob(t, h2, order, to, table)
					pushRowtime(t, in2, rows[cut:], &maxTS)
					if err := in2.End(); err != nil {
						t.Fatal(err)
					}
					if err := h2.Err(); err != nil {
						t.Fatal(err)
					}
					got, exp := sortedValues(table), sortedValues(want)
					if !slices.Equal(got, exp) {
						t.Fatalf("final table\n%q\nwant\n%q", got, exp)
					}
				})
			}
		}
	}
}
