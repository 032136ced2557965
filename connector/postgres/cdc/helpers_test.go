package cdc_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/connector/postgres/cdc"
)

// pgAddr is the test server (scripts/test-services.sh starts it);
// WEIR_TEST_PG_ADDR may name another one (host:port, user postgres, db test).
var pgAddr = cmp.Or(os.Getenv("WEIR_TEST_PG_ADDR"), "127.0.0.1:5432")

// pgURL is the test server's URL.
var pgURL = "postgres://postgres@" + pgAddr + "/test?sslmode=disable"

// connect opens a connection to the test server, failing the test with
// how to start it if it is not there.
func connect(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatalf("PostgreSQL at %s (user postgres, db test) unreachable: %v; run scripts/test-services.sh", pgAddr, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// noStalePrepared fails the test if the server holds prepared transactions
// older than a minute: creating a replication slot waits for every
// transaction in progress, prepared ones included, so an abandoned one
// makes every test here hang.
func noStalePrepared(t testing.TB, c *pgx.Conn) {
	t.Helper()
	rows, err := c.Query(context.Background(), `SELECT gid FROM pg_prepared_xacts WHERE prepared < now() - interval '1 minute'`)
	if err != nil {
		t.Fatal(err)
	}
	gids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(gids) > 0 {
		t.Fatalf("PostgreSQL at %s holds abandoned prepared transactions %v: they block the creation of replication slots (ROLLBACK PREPARED them)", pgAddr, gids)
	}
}

func exec(t testing.TB, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// names returns a unique name for the test's table, slot and
// publication, and drops them when the test ends.
func names(t testing.TB, c *pgx.Conn) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	base := strings.ToLower(t.Name())
	base = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, base)
	if len(base) > 30 {
		base = base[:30]
	}
	name := "cdc_" + base + "_" + hex.EncodeToString(b)
	noStalePrepared(t, c)
	t.Cleanup(func() { dropAll(t, name) })
	return name
}

// dropAll drops the slot (ending a session still holding it), the
// publication and the table of name.
func dropAll(t testing.TB, name string) {
	if err := dropSlotAndTables(name); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// dropSlotAndTables is dropAll for callers without a testing.TB (the
// package example): the slot goes even while a walsender still holds
// it (it is ended first).
func dropSlotAndTables(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	for ctx.Err() == nil {
		var pid *int32
		err := c.QueryRow(ctx, `SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1`, name).Scan(&pid)
		if errors.Is(err, pgx.ErrNoRows) {
			break
		}
		if err == nil && pid != nil {
			c.Exec(ctx, `SELECT pg_terminate_backend($1)`, *pid)
			time.Sleep(20 * time.Millisecond) // the backend ends asynchronously
			continue
		}
		if _, err := c.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, name); err == nil {
			break
		}
	}
	c.Exec(ctx, `DROP PUBLICATION IF EXISTS `+name)
	c.Exec(ctx, `DROP TABLE IF EXISTS `+name)
	c.Exec(ctx, `DROP TABLE IF EXISTS `+name+`_b`)
	c.Exec(ctx, `DROP TABLE IF EXISTS `+name+`_hb`)
	return ctx.Err()
}

// op is one committed change of the workload to a key: its letter (c, u,
// d) and the row's version v (the deleted row's for d).
type op struct {
	Op string `json:"op"`
	V  int64  `json:"v"`
}

// workload writes random inserts, updates and deletes (some several to a
// transaction) to a table (k int8 primary key, v int8, pad text) and logs
// the committed ones per key. v is a version per key that every change
// raises, so each row state is told apart.
type workload struct {
	table string
	keys  int
	rng   *mrand.Rand
	mu    sync.Mutex
	ops   map[int64][]op
	ver   map[int64]int64
	live  map[int64]bool
	n     int
}

func newWorkload(table string, keys int, seed uint64) *workload {
	return &workload{table: table, keys: keys, rng: mrand.New(mrand.NewPCG(seed, 7)),
		ops: map[int64][]op{}, ver: map[int64]int64{}, live: map[int64]bool{}}
}

// createTable creates the table with rows initial rows (keys 0..rows-1).
func (w *workload) createTable(t testing.TB, c *pgx.Conn, identityFull bool, rows int) {
	t.Helper()
	exec(t, c, `CREATE TABLE `+w.table+` (k int8 PRIMARY KEY, v int8 NOT NULL, pad text)`)
	if identityFull {
		exec(t, c, `ALTER TABLE `+w.table+` REPLICA IDENTITY FULL`)
	}
	exec(t, c, `INSERT INTO `+w.table+` SELECT g, 1, 'row '||g FROM generate_series(0, $1 - 1) g`, rows)
	for k := range int64(rows) {
		w.ver[k], w.live[k] = 1, true
		w.ops[k] = []op{{"c", 1}}
	}
}

// step commits one transaction of 1 to 3 changes to distinct keys.
func (w *workload) step(ctx context.Context, c *pgx.Conn) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	type pending struct {
		k int64
		o op
	}
	var done []pending
	n := 1 + w.rng.IntN(3)
	used := map[int64]bool{}
	for range n {
		k := int64(w.rng.IntN(w.keys))
		if used[k] {
			continue
		}
		used[k] = true
		v := w.ver[k] + 1
		var o op
		switch {
		case !w.live[k]:
			_, err = tx.Exec(ctx, `INSERT INTO `+w.table+` VALUES ($1, $2, 'ins')`, k, v)
			o = op{"c", v}
		case w.rng.IntN(6) == 0:
			_, err = tx.Exec(ctx, `DELETE FROM `+w.table+` WHERE k = $1`, k)
			o = op{"d", w.ver[k]}
		default:
			_, err = tx.Exec(ctx, `UPDATE `+w.table+` SET v = $2, pad = 'upd' WHERE k = $1`, k, v)
			o = op{"u", v}
		}
		if err != nil {
			return err
		}
		done = append(done, pending{k, o})
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range done {
		w.ops[p.k] = append(w.ops[p.k], p.o)
		if p.o.Op == "d" {
			w.live[p.k] = false
		} else {
			w.live[p.k] = true
		}
		w.ver[p.k] = max(w.ver[p.k], p.o.V)
		if p.o.Op == "d" {
			w.ver[p.k]++ // the next insert gets a new version
		}
		w.n++
	}
	return nil
}

// run commits transactions until ctx ends, pausing pause between them.
func (w *workload) run(ctx context.Context, t testing.TB, pause time.Duration) <-chan error {
	done := make(chan error, 1)
	c, err := pgx.Connect(context.Background(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer c.Close(context.Background())
		for ctx.Err() == nil {
			// Not canceled by ctx: a commit cut short by the cancellation
			// may have happened without being logged.
			if err := w.step(context.Background(), c); err != nil {
				done <- err
				return
			}
			if pause > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(pause):
				}
			}
		}
		done <- nil
	}()
	return done
}

// Out is what the test pipelines write for each change.
type Out struct {
	Op  string `json:"op"`
	K   int64  `json:"k"`
	V   int64  `json:"v"`
	LSN uint64 `json:"lsn"`
	Idx int    `json:"idx"`
}

// toOut flattens a change of the workload's table.
func toOut(c cdc.Change) Out {
	img := c.After
	if img == nil {
		img = c.Before
	}
	o := Out{Op: c.Op.String(), LSN: uint64(c.LSN), Idx: c.Index}
	o.K, _ = img[0].(int64)
	o.V, _ = img[1].(int64)
	return o
}

// check compares the changes emitted (in order) with the workload's log:
// per key, an optional snapshot read of one state followed by every later
// change exactly once, in order; the key's last state is the table's.
func (w *workload) check(outs []Out) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	per := map[int64][]Out{}
	for _, o := range outs {
		per[o.K] = append(per[o.K], o)
	}
	for k := range int64(w.keys) {
		ops, got := w.ops[k], per[k]
		var want []op
		if len(got) > 0 && got[0].Op == "r" {
			j := slices.IndexFunc(ops, func(o op) bool { return o.Op != "d" && o.V == got[0].V })
			if j < 0 {
				return fmt.Errorf("key %d: snapshot read v=%d is no state of the key (ops %v)", k, got[0].V, ops)
			}
			want = ops[j+1:]
			got = got[1:]
		} else {
			if len(got) > len(ops) {
				return fmt.Errorf("key %d: %d changes emitted, %d made: %v", k, len(got), len(ops), got)
			}
			from := len(ops) - len(got)
			if from > 0 && ops[from-1].Op != "d" {
				return fmt.Errorf("key %d: no snapshot read, and the changes emitted %v are not all those after an absent state (ops %v)", k, got, ops)
			}
			want = ops[from:]
		}
		if len(got) != len(want) {
			return fmt.Errorf("key %d: emitted %v, want %v after the snapshot", k, got, want)
		}
		for i := range got {
			if got[i].Op != want[i].Op || got[i].V != want[i].V {
				return fmt.Errorf("key %d: change %d is %+v, want %+v (emitted %v, ops %v)", k, i, got[i], want[i], got, ops)
			}
		}
	}
	for k := range per {
		if k < 0 || k >= int64(w.keys) {
			return fmt.Errorf("change of unknown key %d", k)
		}
	}
	return nil
}

// readParts reads the committed part files of an exactly-once JSON sink
// in order.
func readParts(t testing.TB, dir string) []Out {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	type part struct {
		name string
		s, n int64
	}
	var parts []part
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !strings.HasPrefix(name, "part-") {
			continue
		}
		f := strings.Split(strings.TrimSuffix(strings.TrimPrefix(name, "part-"), filepath.Ext(name)), "-")
		if len(f) != 2 {
			continue
		}
		s, _ := strconv.ParseInt(f[0], 10, 64)
		n, _ := strconv.ParseInt(f[1], 10, 64)
		parts = append(parts, part{name, s, n})
	}
	sort.Slice(parts, func(i, j int) bool {
		if parts[i].s != parts[j].s {
			return parts[i].s < parts[j].s
		}
		return parts[i].n < parts[j].n
	})
	var outs []Out
	for _, p := range parts {
		b, err := os.ReadFile(filepath.Join(dir, p.name))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			var o Out
			if err := json.Unmarshal([]byte(line), &o); err != nil {
				t.Fatalf("%s: %q: %v", p.name, line, err)
			}
			outs = append(outs, o)
		}
	}
	return outs
}

// pipeline is the tests' job: the source, flattened, through hook, to an
// exactly-once JSON file sink in out.
func pipeline(env *weir.Environment, opts cdc.Options, out string, hook func(Out) (Out, error)) {
	pipelineFrom(env, cdc.NewSource(opts), out, hook)
}

// pipelineFrom is pipeline with the source source (a wrapper of the cdc
// source).
func pipelineFrom(env *weir.Environment, source weir.Source[cdc.Change], out string, hook func(Out) (Out, error)) {
	src := weir.FromSource(env, source, weir.NoWatermarks[cdc.Change](), "cdc").UID("cdc").SetParallelism(1)
	flat := weir.Map(src, toOut).SetParallelism(1)
	if hook != nil {
		flat = weir.TryMap(flat, hook).SetParallelism(1)
	}
	flat.SinkTo(file.ExactlyOnceJSONSink[Out](out, file.ExactlyOnceOptions{})).UID("out").SetParallelism(1)
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v: %v", what, d, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
}

// bulkStep commits one UPDATE of the live keys in [from, from+n): a
// transaction of many changes.
func (w *workload) bulkStep(ctx context.Context, c *pgx.Conn, from, n int64) error {
	rows, err := c.Query(ctx, `UPDATE `+w.table+` SET v = v + 1 WHERE k >= $1 AND k < $2 RETURNING k, v`, from, from+n)
	if err != nil {
		return err
	}
	type kv struct{ K, V int64 }
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[kv])
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// One statement: its changes are in the WAL in the order the rows were
	// updated, which per key is all that matters.
	for _, r := range got {
		w.ops[r.K] = append(w.ops[r.K], op{"u", r.V})
		w.ver[r.K] = r.V
		w.n++
	}
	return nil
}

// checkFrom is check for a capture without snapshot that started after
// each key's first skip ops: it sees every later change once, in order.
func (w *workload) checkFrom(outs []Out, skip int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	per := map[int64][]Out{}
	for _, o := range outs {
		per[o.K] = append(per[o.K], o)
	}
	for k := range int64(w.keys) {
		want, got := w.ops[k][min(skip, len(w.ops[k])):], per[k]
		if len(got) != len(want) {
			return fmt.Errorf("key %d: emitted %v, want %v", k, got, want)
		}
		for i := range got {
			if got[i].Op != want[i].Op || got[i].V != want[i].V {
				return fmt.Errorf("key %d: change %d is %+v, want %+v", k, i, got[i], want[i])
			}
		}
	}
	return nil
}
