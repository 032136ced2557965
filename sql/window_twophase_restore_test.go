package sql

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/weirtest"
)

// windowTwoPhaseQueries are window aggregations whose state has both
// layouts: HOP windows keep slices ("window-slices"), CUMULATE windows
// keep windows ("window-aggs").
var windowTwoPhaseQueries = []string{
	`SELECT k, window_start, window_end, COUNT(*) AS c, SUM(v) AS s, MAX(v) AS m
FROM TABLE(HOP(TABLE T, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND)) GROUP BY k, window_start, window_end;`,
	`SELECT k, window_start, window_end, COUNT(*) AS c, SUM(v) AS s, MIN(v) AS m
FROM TABLE(CUMULATE(TABLE T, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '8' SECOND)) GROUP BY k, window_start, window_end;`,
}

// windowTwoPhaseJob plans query with the given agg phase strategy on a
// harness whose input stands for T (rows with their event time); the
// result rows are appended to out.
func windowTwoPhaseJob(t *testing.T, h *weirtest.Harness, strategy, query string, out *[]string) *weirtest.Input[row.Row] {
	t.Helper()
	sess := NewSession(SessionOptions{})
	script := `CREATE TABLE T (k STRING, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen');
SET 'table.optimizer.agg-phase-strategy' = '` + strategy + `';`
	stmts, err := parser.Parse(script + query)
	if err != nil {
		t.Fatal(err)
	}
	var job *Job
	for _, st := range stmts {
		if _, job, err = sess.Execute(st); err != nil {
			t.Fatal(err)
		}
	}
	in := weirtest.NewInput[row.Row](h)
	types := job.Schema().Types()
	err = job.BuildOn(h.Env(), map[string]weir.Stream[row.Row]{"T": in.Stream()}, func(r row.Row) error {
		if r.Kind != row.Insert {
			return fmt.Errorf("a window aggregation emitted %s", row.FormatRow(r, types))
		}
		*out = append(*out, row.FormatRow(r, types))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Start(t)
	return in
}

// TestWindowTwoPhaseSavepointCompatibility takes a checkpoint of a window
// aggregation planned with ONE_PHASE and restores it planned with
// TWO_PHASE, and the other way round, with windows open and rows held in
// the local aggregate's buffer when the checkpoint is taken: the
// GlobalWindowAggregate keeps the WindowAggregate's uid, state names and
// encoding, the LocalWindowAggregate has no state (it flushes before the
// barrier), and the query's sink keeps its uid. The results are the
// uninterrupted one-phase run's.
func TestWindowTwoPhaseSavepointCompatibility(t *testing.T) {
	type ev struct {
		r  row.Row
		ts int64
	}
	var evs []ev
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := range 600 {
		ts := base + int64(i*37) - int64(i*13%400) // a little out of order
		evs = append(evs, ev{row.Of(row.Str(fmt.Sprintf("k%d", i%7)), row.Int(int64(i*7%61)), row.Timestamp(ts, 0)), ts})
	}
	push := func(t *testing.T, in *weirtest.Input[row.Row], evs []ev) {
		t.Helper()
		for i, e := range evs {
			if err := in.Push(e.r, e.ts); err != nil {
				t.Fatal(err)
			}
			if i%10 == 9 {
				if err := in.Watermark(e.ts - 500); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for qi, q := range windowTwoPhaseQueries {
		var want []string
		{
			h := weirtest.New(weir.Options{})
			in := windowTwoPhaseJob(t, h, "ONE_PHASE", q, &want)
			push(t, in, evs)
			if err := in.End(); err != nil {
				t.Fatal(err)
			}
		}
		slices.Sort(want)
		if len(want) < 20 {
			t.Fatalf("result %v: too small to tell", want)
		}
		for _, c := range [][2]string{{"ONE_PHASE", "TWO_PHASE"}, {"TWO_PHASE", "ONE_PHASE"}, {"TWO_PHASE", "TWO_PHASE"}} {
			for _, cut := range []int{len(evs) / 2, len(evs)/2 + 5} {
				t.Run(fmt.Sprintf("q%d-%s-then-%s-at-%d", qi, c[0], c[1], cut), func(t *testing.T) {
					opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
					var got []string
					h := weirtest.New(opts)
					in := windowTwoPhaseJob(t, h, c[0], q, &got)
					push(t, in, evs[:cut])
					snap, err := h.Snapshot()
					if err != nil {
						t.Fatal(err)
					}
					h2 := weirtest.Restore(opts, snap)
					in2 := windowTwoPhaseJob(t, h2, c[1], q, &got)
					push(t, in2, evs[cut:])
					if err := in2.End(); err != nil {
						t.Fatal(err)
					}
					if err := h2.Err(); err != nil {
						t.Fatal(err)
					}
					slices.Sort(got)
					if !slices.Equal(got, want) {
						t.Fatalf("results\n%q\nwant\n%q", got, want)
					}
				})
			}
		}
	}
}
