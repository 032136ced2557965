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

// TestWindowDistinctRestore checks SELECT DISTINCT planned as a window
// aggregation without calls (plan/window_attached.go attachedDistinct,
// bind_query.go distinctAsGroupBy): over a HOP window TVF, and over a
// TUMBLE window aggregation's output (window-attached), against the
// answers computed from the rows here, uninterrupted and restored from
// a checkpoint taken with windows open at parallelism 2 into a job at
// parallelism 3 (and 1). Every row is insert-only (windowTwoPhaseJob
// fails on others).
func TestWindowDistinctRestore(t *testing.T) {
	type ev struct {
		k  string
		v  int64
		ts int64
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var evs []ev
	for i := range 400 {
		evs = append(evs, ev{fmt.Sprintf("k%d", (i*i+3*i)%11), int64((i * 7) % 5), base + int64(i*61)})
	}
	ts3 := row.TimestampType(3)
	fmtRow := func(vs []row.Value, ts []row.Type) string { return row.FormatRow(row.Of(vs...), ts) }

	// DISTINCT k, v % 3 per HOP window of 6 s every 2 s.
	const slide, size = 2000, 6000
	hop := map[string]bool{}
	for _, e := range evs {
		last := e.ts - ((e.ts%slide)+slide)%slide
		for s := last; s > e.ts-size; s -= slide {
			hop[fmtRow([]row.Value{row.Str(e.k), row.Int(e.v % 3), row.Timestamp(s, 0), row.Timestamp(s+size, 0)},
				[]row.Type{row.String(), row.BigInt(), ts3, ts3})] = true
		}
	}
	// DISTINCT count per TUMBLE window of 1 s (the counts of the keys).
	const tsize = 1000
	counts := map[[2]int64]map[string]int64{}
	for _, e := range evs {
		s := e.ts - ((e.ts%tsize)+tsize)%tsize
		w := [2]int64{s, s + tsize}
		if counts[w] == nil {
			counts[w] = map[string]int64{}
		}
		counts[w][e.k]++
	}
	cnt := map[string]bool{}
	for w, m := range counts {
		for _, c := range m {
			cnt[fmtRow([]row.Value{row.Int(c), row.Timestamp(w[0], 0), row.Timestamp(w[1], 0)}, []row.Type{row.BigInt(), ts3, ts3})] = true
		}
	}
	keys := func(m map[string]bool) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}

	push := func(t *testing.T, in *weirtest.Input[row.Row], evs []ev, from int) {
		t.Helper()
		for i, e := range evs {
			if err := in.Push(row.Of(row.Str(e.k), row.Int(e.v), row.Timestamp(e.ts, 0)), e.ts); err != nil {
				t.Fatal(err)
			}
			if (from+i)%10 == 9 {
				if err := in.Watermark(e.ts - 500); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"hop-tvf", `SELECT DISTINCT k, v % 3 AS m, window_start, window_end
FROM TABLE(HOP(TABLE T, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND)) WHERE v >= 0;`, keys(hop)},
		{"attached", `SELECT DISTINCT cnt, ws, we FROM (
  SELECT k, COUNT(*) AS cnt, window_start AS ws, window_end AS we
  FROM TABLE(TUMBLE(TABLE T, DESCRIPTOR(ts), INTERVAL '1' SECOND))
  GROUP BY k, window_start, window_end);`, keys(cnt)},
	} {
		if len(tc.want) < 50 {
			t.Fatalf("%s: answer %v: too small to tell", tc.name, tc.want)
		}
		run := func(t *testing.T, cut, par2 int) []string {
			opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			var got []string
			h := weirtest.New(opts)
			in := windowTwoPhaseJob(t, h, "AUTO", tc.query, &got)
			push(t, in, evs[:cut], 0)
			if cut < len(evs) {
				snap, err := h.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				opts.Parallelism = par2
				h = weirtest.Restore(opts, snap)
				in = windowTwoPhaseJob(t, h, "AUTO", tc.query, &got)
			}
			push(t, in, evs[cut:], cut)
			if err := in.End(); err != nil {
				t.Fatal(err)
			}
			if err := h.Err(); err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			return got
		}
		for _, c := range []struct{ cut, par2 int }{{len(evs), 2}, {len(evs) / 2, 3}, {len(evs)/2 + 5, 1}, {len(evs)/3 + 2, 3}} {
			t.Run(fmt.Sprintf("%s/cut-%d-par-%d", tc.name, c.cut, c.par2), func(t *testing.T) {
				if got := run(t, c.cut, c.par2); !slices.Equal(got, tc.want) {
					t.Fatalf("results\n%q\nwant\n%q", got, tc.want)
				}
			})
		}
	}
}
