package sql

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/result"
	"github.com/weirstream/weir/weirtest"
)

// joinMBJob plans query over the tables L and R (changelog tables when
// updating, insert-only ones otherwise), with mini-batch on or off, on a
// harness whose inputs stand for L and R; the result is applied to table.
func joinMBJob(t *testing.T, h *weirtest.Harness, query string, updating, miniBatch bool, table **result.Table) (l, r *weirtest.Input[row.Row]) {
	t.Helper()
	sess := NewSession(SessionOptions{})
	with := `'connector' = 'datagen'`
	if updating {
		with = `'connector' = 'filesystem', 'path' = '/nonexistent-mbjoin', 'format' = 'debezium-json'`
	}
	script := `CREATE TABLE L (k BIGINT, v BIGINT) WITH (` + with + `);
CREATE TABLE R (k BIGINT, w BIGINT) WITH (` + with + `);
SET 'table.exec.mini-batch.enabled' = '` + fmt.Sprint(miniBatch) + `';
SET 'table.exec.mini-batch.allow-latency' = '1 h';
SET 'table.exec.mini-batch.size' = '50';
` + query + `;`
	stmts, err := parser.Parse(script)
	if err != nil {
		t.Fatal(err)
	}
	var job *Job
	for _, st := range stmts {
		if _, job, err = sess.Execute(st); err != nil {
			t.Fatal(err)
		}
	}
	if *table == nil {
		*table = result.NewTable(job.Schema().Types(), nil)
	}
	l, r = weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
	err = job.BuildOn(h.Env(), map[string]weir.Stream[row.Row]{"L": l.Stream(), "R": r.Stream()}, func(out row.Row) error {
		return (*table).Apply(out)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Start(t)
	return l, r
}

// joinMBSteps are interleaved changelogs of L (side 0) and R (side 1):
// inserts, and when updating also deletes, updates (-U, +U) and rows
// deleted and inserted again.
func joinMBSteps(updating bool) []mbInput {
	rng := rand.New(rand.NewPCG(7, 11))
	var steps []mbInput
	var live [2][]row.Row
	for range 500 {
		s := rng.IntN(2)
		mk := func() row.Row { return row.Of(row.Int(int64(rng.IntN(12))), row.Int(int64(rng.IntN(4)))) }
		op := 0
		if updating && len(live[s]) > 0 {
			op = max(0, rng.IntN(8)-4) // half inserts: the sides grow
		}
		switch op {
		case 0:
			r := mk()
			live[s] = append(live[s], r)
			steps = append(steps, mbInput{s, r})
		case 1:
			i := rng.IntN(len(live[s]))
			steps = append(steps, mbInput{s, live[s][i].WithKind(row.Delete)})
			live[s] = slices.Delete(live[s], i, i+1)
		case 2:
			i, r := rng.IntN(len(live[s])), mk()
			steps = append(steps, mbInput{s, live[s][i].WithKind(row.UpdateBefore)}, mbInput{s, r.WithKind(row.UpdateAfter)})
			live[s][i] = r
		case 3:
			i := rng.IntN(len(live[s]))
			steps = append(steps, mbInput{s, live[s][i].WithKind(row.Delete)}, mbInput{s, live[s][i]})
		}
	}
	return steps
}

type mbInput struct {
	side int
	r    row.Row
}

// TestMiniBatchJoinSavepointCompatibility takes a checkpoint of a regular
// join (INNER, LEFT, RIGHT, FULL; over changelog inputs, and INNER and
// LEFT over insert-only ones, whose inner sides keep the list layout)
// planned with mini-batch off and restores it with mini-batch on, and the
// other way round, and on to on, with rows held in a batch when the
// checkpoint is taken (the batch is flushed before the barrier). The final
// table is the uninterrupted run's without mini-batch: the join keeps its
// uid, state names and encodings with mini-batch.
func TestMiniBatchJoinSavepointCompatibility(t *testing.T) {
	cases := []struct {
		query    string
		updating bool
	}{
		{"SELECT * FROM L JOIN R ON L.k = R.k", true},
		{"SELECT * FROM L LEFT JOIN R ON L.k = R.k", true},
		{"SELECT * FROM L RIGHT JOIN R ON L.k = R.k AND L.v <= R.w", true},
		{"SELECT * FROM L FULL JOIN R ON L.k = R.k", true},
		{"SELECT * FROM L JOIN R ON L.k = R.k", false},
		{"SELECT * FROM L LEFT JOIN R ON L.k = R.k", false},
	}
	for _, tc := range cases {
		steps := joinMBSteps(tc.updating)
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
		var want *result.Table
		{
			h := weirtest.New(weir.Options{})
			l, r := joinMBJob(t, h, tc.query, tc.updating, false, &want)
			push(t, l, r, steps)
			end(t, h, l, r)
		}
		if len(want.Sorted()) == 0 {
			t.Fatalf("%s: empty result table", tc.query)
		}
		for _, c := range [][2]bool{{false, true}, {true, false}, {true, true}} {
			// A cut after 275 rows holds 25 in the batch (size 50).
			cut := 275
			t.Run(fmt.Sprintf("%s-updating-%t-minibatch-%t-then-%t", tc.query, tc.updating, c[0], c[1]), func(t *testing.T) {
				opts := weir.Options{Parallelism: 2, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
				var table *result.Table
				h := weirtest.New(opts)
				l, r := joinMBJob(t, h, tc.query, tc.updating, c[0], &table)
				push(t, l, r, steps[:cut])
				snap, err := h.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				h2 := weirtest.Restore(opts, snap)
				l2, r2 := joinMBJob(t, h2, tc.query, tc.updating, c[1], &table)
				push(t, l2, r2, steps[cut:])
				end(t, h2, l2, r2)
				if got, exp := table.Sorted(), want.Sorted(); !slices.Equal(got, exp) {
					t.Fatalf("final table\n%q\nwant\n%q", got, exp)
				}
			})
		}
	}
}
