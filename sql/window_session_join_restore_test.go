package sql

import (
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// sessionJoinRankQueries join SESSION window TVFs (a WindowJoin) and rank
// their rows (a WindowRank) over T; sessionJoinRankAnswer computes each
// one's answer from the rows.
var sessionJoinRankQueries = []string{
	`SELECT L.k, L.v, R.v, L.window_start, L.window_end
FROM (SELECT * FROM TABLE(SESSION(TABLE T PARTITION BY k, DESCRIPTOR(ts), INTERVAL '3' SECOND))) L
JOIN (SELECT * FROM TABLE(SESSION(TABLE T PARTITION BY k, DESCRIPTOR(ts), INTERVAL '3' SECOND))) R
ON L.window_start = R.window_start AND L.window_end = R.window_end AND L.k = R.k AND L.v < R.v;`,
	`SELECT k, v, window_start, window_end, rn FROM (
  SELECT k, v, window_start, window_end, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY v DESC) AS rn
  FROM TABLE(SESSION(TABLE T PARTITION BY k, DESCRIPTOR(ts), INTERVAL '3' SECOND))) WHERE rn <= 2;`,
}

// TestSessionWindowJoinRankRestore: window joins and window Top-N over
// SESSION window TVFs, whose rows arrive out of order so that sessions
// merge, uninterrupted and restored from a checkpoint taken with
// sessions open (in the TVF's state), at parallelism 1 and 2, on the heap
// and Pebble backends: every session's final rows, once, append-only.
func TestSessionWindowJoinRankRestore(t *testing.T) {
	type ev struct {
		k  string
		v  int64
		ts int64
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var evs []ev
	for i := range 300 {
		// Per key a row every ~2 s, some more than 3 s apart (a new session);
		// rows up to 3 s out of order, so that a late-arriving row
		// bridges two sessions.
		k := i % 3
		ts := base + int64(i/3)*2000 + int64((i*i)%7)*600 - int64((i*13)%5)*700
		evs = append(evs, ev{fmt.Sprintf("k%d", k), int64(i), ts})
	}
	const gap = 3000
	// Sessions per key: rows sorted by time, split where the next row is
	// more than gap after the last one.
	type session struct {
		k          string
		start, end int64
		vs         []int64
	}
	byKey := map[string][]ev{}
	for _, e := range evs {
		byKey[e.k] = append(byKey[e.k], e)
	}
	var sessions []session
	for k, es := range byKey {
		sort.SliceStable(es, func(i, j int) bool { return es[i].ts < es[j].ts })
		var cur *session
		for _, e := range es {
			if cur == nil || e.ts > cur.end {
				sessions = append(sessions, session{k: k, start: e.ts})
				cur = &sessions[len(sessions)-1]
			}
			cur.end = e.ts + gap
			cur.vs = append(cur.vs, e.v)
		}
	}
	ts3 := row.TimestampType(3)
	var wantJoin, wantRank []string
	for _, s := range sessions {
		w0, w1 := row.Timestamp(s.start, 0), row.Timestamp(s.end, 0)
		for _, a := range s.vs {
			for _, b := range s.vs {
				if a < b {
					wantJoin = append(wantJoin, row.FormatRow(row.Of(row.Str(s.k), row.Int(a), row.Int(b), w0, w1),
						[]row.Type{row.String(), row.BigInt(), row.BigInt(), ts3, ts3}))
				}
			}
		}
		vs := slices.Clone(s.vs)
		slices.Sort(vs)
		slices.Reverse(vs)
		for i := 0; i < 2 && i < len(vs); i++ {
			wantRank = append(wantRank, row.FormatRow(row.Of(row.Str(s.k), row.Int(vs[i]), w0, w1, row.Int(int64(i+1))),
				[]row.Type{row.String(), row.BigInt(), ts3, ts3, row.BigInt()}))
		}
	}
	// In arrival order, rows that bridge two open sessions of their key
	// (the TVF merges them).
	bridges := 0
	open := map[string][][2]int64{}
	for _, e := range evs {
		s, en := e.ts, e.ts+gap
		var keep [][2]int64
		n := 0
		for _, o := range open[e.k] {
			if o[0] <= en && s <= o[1] {
				s, en = min(s, o[0]), max(en, o[1])
				n++
				continue
			}
			keep = append(keep, o)
		}
		if n >= 2 {
			bridges++
		}
		open[e.k] = append(keep, [2]int64{s, en})
	}
	if len(sessions) < 20 || len(sessions) > 200 || bridges < 3 {
		t.Fatalf("%d sessions, %d merging rows: the data does not tell", len(sessions), bridges)
	}
	wants := [][]string{wantJoin, wantRank}
	for _, w := range wants {
		slices.Sort(w)
	}

	push := func(t *testing.T, in *weirtest.Input[row.Row], evs []ev, wm *int64) {
		t.Helper()
		for i, e := range evs {
			if err := in.Push(row.Of(row.Str(e.k), row.Int(e.v), row.Timestamp(e.ts, 0)), e.ts); err != nil {
				t.Fatal(err)
			}
			// The watermark trails the largest time by more than the
			// disorder: no row is late.
			if m := e.ts - 7000; i%5 == 4 && m > *wm {
				*wm = m
				if err := in.Watermark(m); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for qi, q := range sessionJoinRankQueries {
		for _, p := range []int{1, 2} {
			for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
				for _, cut := range []int{len(evs), len(evs) / 2, len(evs)/2 + 7} {
					t.Run(fmt.Sprintf("q%d/p%d/%s/cut-%d", qi, p, backend, cut), func(t *testing.T) {
						opts := weir.Options{Parallelism: p, StateBackend: backend, StateDir: t.TempDir(),
							Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
						if backend == weir.StatePebble {
							opts.Pebble = pebble.New()
						}
						var got []string
						var wm int64
						h := weirtest.New(opts)
						in := windowTwoPhaseJob(t, h, "AUTO", q, &got)
						push(t, in, evs[:cut], &wm)
						if cut < len(evs) {
							snap, err := h.Snapshot()
							if err != nil {
								t.Fatal(err)
							}
							h = weirtest.Restore(opts, snap)
							in = windowTwoPhaseJob(t, h, "AUTO", q, &got)
						}
						push(t, in, evs[cut:], &wm)
						if err := in.End(); err != nil {
							t.Fatal(err)
						}
						if err := h.Err(); err != nil {
							t.Fatal(err)
						}
						slices.Sort(got)
						if !slices.Equal(got, wants[qi]) {
							t.Fatalf("%d rows\n%q\nwant %d\n%q", len(got), got, len(wants[qi]), wants[qi])
						}
					})
				}
			}
		}
	}
}
