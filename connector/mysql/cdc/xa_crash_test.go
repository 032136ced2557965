package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/weirstream/weir/internal/crashtest"
)

// xaWriter changes table with XA transactions until stopped, each of 1-3
// statements (updates, inserts, deletes) on keys of its own, prepared and
// later committed (3 in 4) or rolled back, up to conns at a time: each
// step decides the transaction a random connection holds, or prepares a
// new one on it, so that prepared transactions span other commits and the
// crash job's checkpoints and kills. Connection i changes the keys of the
// writer's range equal to i modulo conns (no lock waits between its own
// transactions); the connections read committed (no gap locks).
func xaWriter(t testing.TB, db *sql.DB, table string, seed uint64, lo, hi int64, stop <-chan struct{}, wg *sync.WaitGroup) {
	const conns = 3
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(seed, 5))
		type slot struct {
			c        *sql.Conn
			prepared string // XID, "" if none
			next     int64  // next key to insert
			keys     []int64
		}
		var slots [conns]*slot
		for i := range slots {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for _, q := range []string{"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", "SET SESSION innodb_lock_wait_timeout = 2"} {
				if _, err := c.ExecContext(ctx, q); err != nil {
					t.Error(err)
					return
				}
			}
			s := &slot{c: c, next: 5_000_000_000_000 + int64(seed)*1_000_000_000 + int64(i)}
			for k := lo; k < hi; k++ {
				if k%conns == int64(i) {
					s.keys = append(s.keys, k)
				}
			}
			slots[i] = s
		}
		n := 0
		for {
			s := slots[rng.IntN(conns)]
			select {
			case <-stop:
				for _, s := range slots {
					if s.prepared != "" {
						s.c.ExecContext(ctx, "XA COMMIT "+s.prepared)
					}
				}
				return
			default:
			}
			if s.prepared != "" {
				verb := "XA COMMIT "
				if rng.IntN(4) == 0 {
					verb = "XA ROLLBACK "
				}
				if _, err := s.c.ExecContext(ctx, verb+s.prepared); err != nil {
					t.Errorf("%s%s: %v", verb, s.prepared, err)
					return
				}
				s.prepared = ""
				continue
			}
			n++
			xid := fmt.Sprintf("'xaw%d_%d_%d'", seed, n, rng.IntN(1e6))
			stmts := []string{"XA START " + xid}
			for range 1 + rng.IntN(3) {
				id := s.keys[rng.IntN(len(s.keys))]
				switch p := rng.IntN(10); {
				case p < 3:
					stmts = append(stmts, fmt.Sprintf("INSERT INTO %s VALUES (%d, %d, 0)", table, s.next, rng.Int64N(1000)))
					s.keys = append(s.keys, s.next)
					s.next += conns
				case p < 9:
					stmts = append(stmts, fmt.Sprintf("UPDATE %s SET u = u + 1, v = %d WHERE id = %d", table, rng.Int64N(1000), id))
				default:
					stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE id = %d", table, id))
				}
			}
			stmts = append(stmts, "XA END "+xid, "XA PREPARE "+xid)
			for _, q := range stmts {
				if _, err := s.c.ExecContext(ctx, q); err != nil {
					var me *mysql.MySQLError
					if errors.As(err, &me) && me.Number == 1205 { // lock wait timeout: give it up
						s.c.ExecContext(ctx, "XA END "+xid)
						s.c.ExecContext(ctx, "XA ROLLBACK "+xid)
						break
					}
					t.Errorf("%s: %v", q, err)
					return
				}
				if q == "XA PREPARE "+xid {
					s.prepared = xid
				}
			}
		}
	}()
}

// TestXACrashWriters is TestCrashExactlyOnce with XA transactions among
// the writers: an ordinary writer and two XA writers (xaWriter: prepared
// transactions decided later, a quarter rolled back) change the table
// while the crash job is SIGKILLed after checkpoints, during the snapshot
// and after it, with each snapshot algorithm. The committed output replays
// to the table's final state, each update and delete finding the row its
// Before says: a rolled back change emitted, or a committed one lost or
// emitted twice, breaks it.
func TestXACrashWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the crash job many times")
	}
	bin := binaries.Path(t, "crashjob", "./internal/crashjob")
	for _, alg := range []SnapshotAlgorithm{ConsistentSnapshot, WatermarkSnapshot} {
		t.Run(alg.String(), func(t *testing.T) {
			db := testDB(t)
			table := xaTable(t, db)
			const rows = 1200
			fill(t, db, table, rows)
			out, chk, logPath := crashFiles(t)
			args := []string{"-addr", addr, "-table", table, "-output", out, "-checkpoint-dir", chk, "-restore", "latest", "-chunk", "30", "-algorithm", alg.String()}
			stop := make(chan struct{})
			var wg syncGroup
			writer(t, db, table, 30, 799, stop, &wg.WaitGroup)
			xaWriter(t, db, table, 31, 800, 1000, stop, &wg.WaitGroup)
			xaWriter(t, db, table, 32, 1000, 1200, stop, &wg.WaitGroup)
			stopped := false
			defer func() {
				if !stopped {
					close(stop)
					wg.Wait()
				}
			}()
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			early := crashtest.KillRuns(t, bin, logPath, chk, 12, rand.New(rand.NewPCG(seed, 7)), func(int) []string { return args })
			close(stop)
			wg.Wait()
			stopped = true
			mustExec(t, db, "INSERT INTO "+table+" VALUES (-1, 0, 0)")
			c := crashtest.Start(t, bin, logPath, args...)
			want := tableRows(t, db, table)
			replay := func() *model { return replayCrashOutput(t, out) }
			for deadline := time.Now().Add(60 * time.Second); !maps.Equal(replay().rows, want); {
				if time.Now().After(deadline) {
					t.Fatalf("the committed output did not reach the table's final state within 60s: %s", rowsDiff(replay().rows, want))
				}
				c.Pause(10 * time.Millisecond)
			}
			if exited, err := c.Signal(syscall.SIGTERM); exited {
				t.Fatalf("final run exited by itself: %v", err)
			}
			m := replay()
			m.check(db, table)
			t.Logf("12 kills (%d while starting), %d changes committed exactly once", early, m.n)
		})
	}
}
