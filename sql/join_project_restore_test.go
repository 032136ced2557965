package sql

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/result"
	"github.com/weirstream/weir/weirtest"
)

// joinCalcFixture is a savepoint (parallelism 2, heap) of joinCalcQuery
// after the first half of subqRev3Steps, written by main at be71122, when
// the Calcs over the two regular joins ran as operators of their own
// (before exec.JoinSpec.Project). Both joins have no uid: their state is
// stored under their name and position in the job graph. Rewrite it only
// on purpose (it is what later code must keep restoring): check out that
// commit, copy this file there, and run WEIR_WRITE_JOINCALC_FIXTURE=1 go
// test ./sql/ -run TestJoinProjectRestore.
const joinCalcFixture = "testdata/fixtures/join-calc-be71122"

// joinCalcQuery has a Calc that only keeps and reorders the columns of a
// LEFT join (NULL padded rows), under a second LEFT join, under a Calc
// that does the same: both Calcs run in their joins now.
const joinCalcQuery = `SELECT x.v, c.w, x.k, x.w2 FROM (SELECT b.w AS w2, a.v, a.k FROM L a LEFT JOIN R b ON a.k = b.k) x LEFT JOIN R c ON x.w2 = c.k`

// TestJoinProjectRestore: the fixture, a savepoint of the job with the
// Calcs over its joins as operators of their own, restores into the job
// whose joins emit the Calcs' columns (at parallelism 1 and 3), and the
// second half of the steps ends in the final table of the uninterrupted
// run. The Calc stays in the job graph as a node that hands rows on: with
// the Calc node gone, the second join's position changes and the restore
// fails naming it.
func TestJoinProjectRestore(t *testing.T) {
	steps := subqRev3Steps()
	cut := len(steps) / 2
	push := func(t *testing.T, l, r *weirtest.Input[row.Row], steps []mbInput) {
		t.Helper()
		for _, s := range steps {
			in := l
			if s.side == 1 {
				in = r
			}
			if err := in.Push(s.r, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
	}
	end := func(t *testing.T, h *weirtest.Harness, l, r *weirtest.Input[row.Row]) {
		t.Helper()
		if err := l.End(); err != nil {
			t.Fatal(err)
		}
		if err := r.End(); err != nil {
			t.Fatal(err)
		}
		if err := h.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if os.Getenv("WEIR_WRITE_JOINCALC_FIXTURE") != "" {
		opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
		var table *result.Table
		h := weirtest.New(opts)
		l, r := subqRev3Job(t, h, joinCalcQuery, &table)
		push(t, l, r, steps[:cut])
		snap, err := h.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(joinCalcFixture); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(joinCalcFixture, os.DirFS(snap.Path)); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", joinCalcFixture)
		return
	}
	var want *result.Table
	h := weirtest.New(weir.Options{})
	l, r := subqRev3Job(t, h, joinCalcQuery, &want)
	push(t, l, r, steps)
	end(t, h, l, r)
	padded := 0
	for _, s := range want.Sorted() {
		if strings.Contains(s, "NULL") {
			padded++
		}
	}
	if len(want.Sorted()) < 20 || padded == 0 {
		t.Fatalf("the final table has %d rows, %d with a NULL: the test needs more, with NULL padding", len(want.Sorted()), padded)
	}
	for _, p := range []int{1, 3} {
		// The rows the fixture's job emitted before its savepoint: the
		// first half's final table, from a run of its own.
		var table *result.Table
		h := weirtest.New(weir.Options{})
		l, r := subqRev3Job(t, h, joinCalcQuery, &table)
		push(t, l, r, steps[:cut])
		if len(table.Sorted()) == 0 {
			t.Fatal("the first half emits nothing")
		}
		opts := weir.Options{Parallelism: p, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
		h = weirtest.Restore(opts, weirtest.Snapshot{Path: joinCalcFixture})
		l, r = subqRev3Job(t, h, joinCalcQuery, &table)
		push(t, l, r, steps[cut:])
		end(t, h, l, r)
		if got, exp := table.Sorted(), want.Sorted(); !slices.Equal(got, exp) {
			t.Fatalf("p=%d: final table\n%q\nwant\n%q", p, got, exp)
		}
	}
}
