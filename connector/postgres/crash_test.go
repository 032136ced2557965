package postgres

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/crashtest"
)

// TestCrashExactlyOnce runs internal/crashjob (generator → running sum per
// key → exactly-once append and upsert sinks) as a child process, SIGKILLs
// it at random instants — shortly after a checkpoint completed (its
// COMMIT PREPARED, the next transaction's writes or its PREPARE under way)
// or while it starts (restoring, committing the restored checkpoint's
// transactions again, rolling back leftovers) — and restarts it from the
// latest checkpoint at parallelism 1 to 3, then lets it finish. The events
// table must hold every input record exactly once, with sums consistent
// with an uninterrupted run, the totals table the final sum of every key,
// and no prepared transaction of the job may be left.
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a child process many times")
	}
	c := db(t)
	events := createTestTable(t, c, "ev", "seq bigint NOT NULL, key bigint NOT NULL, sum bigint NOT NULL")
	totals := createTestTable(t, c, "tot", "key bigint PRIMARY KEY, sum bigint NOT NULL")
	prefix := uniqueName(t, "crash")
	t.Cleanup(func() {
		// Roll back whatever a failed run left prepared.
		cc := db(t)
		rows, err := cc.Query(context.Background(), "SELECT gid FROM pg_prepared_xacts WHERE starts_with(gid, $1)", prefix)
		if err != nil {
			return
		}
		var gids []string
		for rows.Next() {
			var g string
			_ = rows.Scan(&g)
			gids = append(gids, g)
		}
		rows.Close()
		for _, g := range gids {
			_, _ = cc.Exec(context.Background(), "ROLLBACK PREPARED "+quoteLiteral(g))
		}
	})
	dir := t.TempDir()
	bin := filepath.Join(dir, "crashjob")
	crashtest.Build(t, bin, "./internal/crashjob")
	chk, logPath := filepath.Join(dir, "chk"), filepath.Join(dir, "runs.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	}()
	const n, keys = 12000, 4
	args := func(p int) []string {
		return []string{"-events", events, "-totals", totals, "-prefix", prefix, "-checkpoint-dir", chk,
			"-count", strconv.Itoa(n), "-keys", strconv.Itoa(keys), "-rate", "3000", "-parallelism", strconv.Itoa(p), "-v"}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	pars := []int{1, 2, 3, 2}
	const wantKills = 12
	kills, ended := 0, false
	start := time.Now()
	for run := 0; kills < wantKills && !ended; run++ {
		before := crashtest.LatestCheckpoint(t, chk)
		ch := crashtest.Start(t, bin, logPath, args(pars[run%len(pars)])...)
		if run%4 == 3 {
			ch.Pause(time.Duration(rng.IntN(150)) * time.Millisecond) // while starting
		} else {
			ch.WaitUntil(t, "new checkpoint", 30*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
			// Right after the checkpoint (its commit under way) or up to
			// 0.3 s later (the next transactions open or being prepared).
			ch.Pause(time.Duration(rng.IntN(300)) * time.Millisecond)
		}
		exited, err := ch.Kill()
		switch {
		case exited && err != nil:
			t.Fatalf("run %d failed: %v", run, err)
		case exited:
			ended = true
		default:
			kills++
		}
	}
	committed := queryInt(t, c, "SELECT count(*) FROM "+events)
	t.Logf("%d kills in %v; %d of %d records committed", kills, time.Since(start).Round(time.Millisecond), committed, n)
	if kills < 10 {
		t.Fatalf("only %d kills before the job ended", kills)
	}
	if committed == 0 {
		t.Fatal("nothing committed after the kills")
	}
	final := crashtest.Start(t, bin, logPath, args(2)...)
	if exited, err := final.WaitFor(60 * time.Second); !exited || err != nil {
		t.Fatalf("final run: exited %v, %v", exited, err)
	}

	// Every record once, with consistent running sums per key.
	rows, err := c.Query(context.Background(), "SELECT seq, key, sum FROM "+events)
	if err != nil {
		t.Fatal(err)
	}
	type ev struct{ seq, key, sum int64 }
	seen := map[int64]int{}
	byKey := map[int64][]ev{}
	for rows.Next() {
		var e ev
		if err := rows.Scan(&e.seq, &e.key, &e.sum); err != nil {
			t.Fatal(err)
		}
		seen[e.seq]++
		byKey[e.key] = append(byKey[e.key], e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	dups, missing := 0, 0
	for s := range int64(n) {
		switch seen[s] {
		case 0:
			missing++
		case 1:
		default:
			dups++
		}
	}
	if dups > 0 || missing > 0 || len(seen) != n {
		t.Fatalf("events: %d records missing, %d duplicated, %d distinct (want %d)", missing, dups, len(seen), n)
	}
	want := map[int64]int64{}
	for s := range int64(n) {
		want[s%keys] += s + 1
	}
	for k, evs := range byKey {
		// Each record adds seq+1 to its key's sum: sorted by sum, each sum
		// is the previous one plus the record's value.
		sort.Slice(evs, func(i, j int) bool { return evs[i].sum < evs[j].sum })
		var prev int64
		for _, e := range evs {
			if e.sum != prev+e.seq+1 || e.key != e.seq%keys {
				t.Fatalf("key %d: record %d has sum %d after %d", k, e.seq, e.sum, prev)
			}
			prev = e.sum
		}
		if prev != want[k] {
			t.Fatalf("key %d: last sum %d, want %d", k, prev, want[k])
		}
	}
	// The upserted totals.
	for k, w := range want {
		if got := queryInt(t, c, "SELECT sum FROM "+totals+" WHERE key = $1", k); got != w {
			t.Fatalf("totals: key %d = %d, want %d", k, got, w)
		}
	}
	if got := queryInt(t, c, "SELECT count(*) FROM "+totals); got != keys {
		t.Fatalf("totals has %d rows, want %d", got, keys)
	}
	if left := preparedOf(t, c, prefix+"-e") + preparedOf(t, c, prefix+"-t"); left != 0 {
		t.Fatalf("%d prepared transactions left", left)
	}
}
