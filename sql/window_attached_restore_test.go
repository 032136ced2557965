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

// windowAttachedQuery is nexmark q5's shape over T: per HOP window the
// keys with the most rows. Its MaxBids side is a cascaded window
// aggregation and the join a WindowJoin (plan/window_attached.go).
const windowAttachedQuery = `SELECT A.k, A.num, A.starttime, A.endtime
FROM (
  SELECT k, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
  FROM TABLE(HOP(TABLE T, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND))
  GROUP BY k, window_start, window_end
) AS A
JOIN (
  SELECT MAX(C.num) AS maxn, C.starttime, C.endtime
  FROM (
    SELECT COUNT(*) AS num, window_start AS starttime, window_end AS endtime
    FROM TABLE(HOP(TABLE T, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND))
    GROUP BY k, window_start, window_end
  ) AS C
  GROUP BY C.starttime, C.endtime
) AS B
ON A.starttime = B.starttime AND A.endtime = B.endtime AND A.num >= B.maxn;`

// TestWindowAttachedRestore checks the cascaded window aggregation and
// the window join over window aggregates against the answer computed
// directly from the rows (append-only: the regular join it replaces
// emitted retractions), uninterrupted and restored from a checkpoint
// taken with windows open (at parallelism 2). The first window
// aggregation holds the open windows then: the cascade receives a
// window's rows just before the watermark that fires it, so its own
// state restore is tested on the operator
// (sql/exec/testdata/window_attached).
func TestWindowAttachedRestore(t *testing.T) {
	type ev struct {
		k  string
		ts int64
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var evs []ev
	for i := range 400 {
		evs = append(evs, ev{fmt.Sprintf("k%d", (i*i+3*i)%11), base + int64(i*61)})
	}
	// The answer: HOP windows of 6 s every 2 s; per window, the keys whose
	// count is the window's maximum.
	const slide, size = 2000, 6000
	counts := map[[2]int64]map[string]int64{}
	for _, e := range evs {
		last := e.ts - ((e.ts%slide)+slide)%slide
		for s := last; s > e.ts-size; s -= slide {
			w := [2]int64{s, s + size}
			if counts[w] == nil {
				counts[w] = map[string]int64{}
			}
			counts[w][e.k]++
		}
	}
	var want []string
	for w, m := range counts {
		var mx int64
		for _, c := range m {
			mx = max(mx, c)
		}
		for k, c := range m {
			if c == mx {
				want = append(want, row.FormatRow(row.Of(row.Str(k), row.Int(c), row.Timestamp(w[0], 0), row.Timestamp(w[1], 0)),
					[]row.Type{row.String(), row.BigInt(), row.TimestampType(3), row.TimestampType(3)}))
			}
		}
	}
	slices.Sort(want)

	push := func(t *testing.T, in *weirtest.Input[row.Row], evs []ev) {
		t.Helper()
		for i, e := range evs {
			if err := in.Push(row.Of(row.Str(e.k), row.Int(int64(i)), row.Timestamp(e.ts, 0)), e.ts); err != nil {
				t.Fatal(err)
			}
			if i%10 == 9 {
				if err := in.Watermark(e.ts - 500); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	run := func(t *testing.T, cut int) []string {
		opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
		var got []string
		h := weirtest.New(opts)
		in := windowTwoPhaseJob(t, h, "AUTO", windowAttachedQuery, &got)
		push(t, in, evs[:cut])
		if cut < len(evs) {
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			h = weirtest.Restore(opts, snap)
			in = windowTwoPhaseJob(t, h, "AUTO", windowAttachedQuery, &got)
		}
		push(t, in, evs[cut:])
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
		if err := h.Err(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
	if len(want) < 50 {
		t.Fatalf("answer %v: too small to tell", want)
	}
	for _, cut := range []int{len(evs), len(evs) / 2, len(evs)/2 + 5} {
		t.Run(fmt.Sprintf("cut-%d", cut), func(t *testing.T) {
			if got := run(t, cut); !slices.Equal(got, want) {
				t.Fatalf("results\n%q\nwant\n%q", got, want)
			}
		})
	}
}
