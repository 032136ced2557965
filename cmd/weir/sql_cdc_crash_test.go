package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/internal/crashtest"
)

// cdcTemporalJob joins a Kafka stream of orders, at the time of each order,
// with the version of a PostgreSQL table's row that was current then (a
// postgres-cdc table versioned by each change's commit time, op_ts), and
// keeps a total per currency in a PostgreSQL table (jdbc upsert sink,
// exactly-once through prepared transactions).
//
// The sink's transaction prefix names this test's own totals table: the
// derived default depends only on the SQL table name (totals), so two
// instances of the test running at once on the same server (two test
// processes, or two helpers' runs) shared it, and each run's sink, when it
// started, rolled back the other's prepared transactions and ended its
// sessions as if they were its own leftovers: the other job failed
// ("ending sessions of earlier runs: terminating connection due to
// administrator command", "no new checkpoint", or a prepared transaction of
// a completed checkpoint lost, so that its final run never reached the
// expected totals).
const cdcTemporalJob = `
CREATE TABLE orders (
  order_id BIGINT, currency STRING, amount BIGINT, ts BIGINT,
  rt AS TO_TIMESTAMP_LTZ(ts, 3),
  WATERMARK FOR rt AS rt
) WITH ('connector' = 'kafka', 'topic' = '%[1]s', 'properties.bootstrap.servers' = '%[2]s',
        'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
CREATE TABLE rates (
  currency STRING, rate BIGINT,
  op_ts TIMESTAMP_LTZ(3) METADATA FROM 'op_ts' VIRTUAL,
  WATERMARK FOR op_ts AS op_ts,
  PRIMARY KEY (currency) NOT ENFORCED
) WITH ('connector' = 'postgres-cdc', 'hostname' = '%[5]s', 'port' = '%[6]s',
        'username' = 'postgres', 'database-name' = 'test', 'schema-name' = 'public',
        'table-name' = '%[3]s', 'slot.name' = '%[3]s', 'decoding.plugin.name' = 'pgoutput');
CREATE TABLE totals (currency STRING, total BIGINT, n BIGINT, PRIMARY KEY (currency) NOT ENFORCED)
  WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://%[5]s:%[6]s/test', 'username' = 'postgres',
        'table-name' = '%[4]s', 'sink.delivery-guarantee' = 'exactly-once',
        'sink.transactional-id-prefix' = 'weir-%[4]s');
INSERT INTO totals
SELECT o.currency, SUM(o.amount * r.rate), COUNT(*)
FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.rt AS r ON o.currency = r.currency
GROUP BY o.currency;
`

// rateChange is a change the test made to the rates table: the currency's
// rate from the change's commit on (deleted when rate is 0); the commit
// happened between before and after (ms).
type rateChange struct {
	currency      string
	rate          int64
	before, after int64
}

type cdcOrder struct {
	OrderID  int64  `json:"order_id"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
	TS       int64  `json:"ts"`
}

// TestSQLCDCTemporalJoinCrash is issue 15's end-to-end check: rows of a
// PostgreSQL table are inserted, updated and deleted while a SQL job (run
// by `weir sql -f` in child processes SIGKILLed at random instants and
// restarted from the latest checkpoint) joins a Kafka stream of orders
// with the table's versions at each order's time (postgres-cdc, temporal
// join) and writes totals per currency to PostgreSQL with the jdbc sink.
// The final table must equal the totals computed here from the changes
// and orders the test made: no order lost or counted twice, each joined
// with the rate that was current at its time.
//
// It needs PostgreSQL with wal_level=logical and max_prepared_transactions
// above 0 (scripts/test-services.sh) at 127.0.0.1:5432, or at the address
// in WEIR_TEST_PG_ADDR.
func TestSQLCDCTemporalJoinCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the weir binary many times against PostgreSQL")
	}
	t.Parallel()
	ctx := context.Background()
	pgAddr := cmp.Or(os.Getenv("WEIR_TEST_PG_ADDR"), "127.0.0.1:5432")
	pgHost, pgPort, err := net.SplitHostPort(pgAddr)
	if err != nil {
		t.Fatalf("WEIR_TEST_PG_ADDR %q: %v", pgAddr, err)
	}
	pgURL := "postgres://postgres@" + pgAddr + "/test"
	db, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatalf("PostgreSQL on %s unreachable (run scripts/test-services.sh): %v", pgAddr, err)
	}
	defer db.Close(ctx)
	var walLevel, prepared string
	if err := db.QueryRow(ctx, "SELECT current_setting('wal_level'), current_setting('max_prepared_transactions')").Scan(&walLevel, &prepared); err != nil {
		t.Fatal(err)
	}
	if walLevel != "logical" || prepared == "0" {
		t.Fatalf("PostgreSQL on %s has wal_level=%s and max_prepared_transactions=%s: postgres-cdc needs logical, the exactly-once jdbc sink above 0 (run scripts/test-services.sh)", pgAddr, walLevel, prepared)
	}
	sfx := fmt.Sprintf("%08x", rand.Uint32())
	rates, totals := "weir_rates_"+sfx, "weir_totals_"+sfx
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(fmt.Sprintf("CREATE TABLE %s (currency TEXT PRIMARY KEY, rate BIGINT NOT NULL)", rates))
	exec(fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL", rates))
	exec(fmt.Sprintf("CREATE TABLE %s (currency TEXT PRIMARY KEY, total BIGINT, n BIGINT)", totals))
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pgURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		// The walsender of a killed run may hold the slot a moment longer.
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); {
			c.Exec(context.Background(), "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL", rates)
			if _, err := c.Exec(context.Background(), "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", rates); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond) // the terminated walsender lets go of the slot
		}
		c.Exec(context.Background(), fmt.Sprintf("DROP PUBLICATION IF EXISTS %s_pub", rates))
		c.Exec(context.Background(), fmt.Sprintf("DROP TABLE IF EXISTS %s, %s", rates, totals))
	})
	currencies := []string{"EUR", "GBP", "JPY", "CHF"}
	current := map[string]int64{}
	for i, c := range currencies {
		current[c] = int64(10 + i)
		exec(fmt.Sprintf("INSERT INTO %s VALUES ($1, $2)", rates), c, current[c])
	}
	// The heartbeat row is updated now and then so that the table's
	// watermark moves on while the other rows stay unchanged.
	exec(fmt.Sprintf("INSERT INTO %s VALUES ('HEARTBEAT', 0)", rates))

	// One partition of orders per subtask at the largest parallelism: a
	// source subtask without a partition emits no watermark, and the join
	// would emit nothing in such a run (nor could a kill land in its
	// output).
	const partitions = 3
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "orders_"+sfx))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	prod, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.DefaultProduceTopic("orders_"+sfx),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()

	dir := t.TempDir()
	bin := weirBinary(t)
	job := filepath.Join(dir, "job.sql")
	if err := os.WriteFile(job, []byte(fmt.Sprintf(cdcTemporalJob, "orders_"+sfx, cluster.ListenAddrs()[0], rates, totals, pgHost, pgPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	chk := filepath.Join(dir, "chk")
	logPath := filepath.Join(dir, "runs.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	}()
	pars := []int{1, 2, 3}
	args := func(run int) []string {
		return []string{"sql", "-f", job, "--checkpoint-dir", chk, "--checkpoint-interval", "100ms", "--restore", "latest",
			"--parallelism", strconv.Itoa(pars[run%len(pars)]), "-v"}
	}
	// The first run takes the snapshot of the table; changes start once a
	// checkpoint completed, so that every version the orders can see
	// after that has its own commit time (a snapshot row's op_ts is 0).
	first := crashtest.Start(t, bin, logPath, args(0)...)
	// A restore from a checkpoint taken during the snapshot takes a new
	// snapshot (the exported one is gone with its connection), in which
	// every change made until then has op_ts 0 and deletes are lost: the
	// versioned table loses its history (as with Flink CDC). So changes
	// start only once a change made after the snapshot was streamed and
	// its position confirmed to the slot, which the source does after a
	// checkpoint completed: every later restore resumes the stream.
	//
	// A new slot's confirmed_flush_lsn is its consistent point, which is
	// past any marker taken before the slot was created: the marker is
	// taken once the slot has that point (with pg_current_wal_insert_lsn, past the
	// heartbeat's own WAL record, hence past the consistent point;
	// pg_current_wal_lsn may lag behind it), and then kept: the source
	// confirms what a completed checkpoint covers, every status interval
	// (10 s), never a change made just now.
	marker := ""
	streamed := func() bool {
		if marker == "" {
			// The slot is listed as soon as its creation starts, which
			// then waits for the transactions running (on a busy
			// server, other jobs' prepared ones): a marker taken
			// meanwhile may fall before the consistent point, which
			// the new slot then reports as confirmed, and the first run
			// was killed before its first checkpoint of the stream, so
			// that every later run dropped the slot and took a new
			// snapshot (wrong totals). So the marker waits for the
			// creation to end (the source logs it; a retry of the
			// creation comes before) and for its consistent point
			// (confirmed_flush_lsn is NULL until then).
			if b, err := os.ReadFile(logPath); err != nil || !strings.Contains(string(b), "cdc: created replication slot") {
				return false
			}
			var exists bool
			if err := db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND confirmed_flush_lsn IS NOT NULL)", rates).Scan(&exists); err != nil {
				t.Fatal(err)
			}
			if !exists {
				return false
			}
			if err := db.QueryRow(ctx, fmt.Sprintf("UPDATE %s SET rate = rate + 1 WHERE currency = 'HEARTBEAT' RETURNING pg_current_wal_insert_lsn()::text", rates)).Scan(&marker); err != nil {
				t.Fatal(err)
			}
		}
		var ok bool
		err := db.QueryRow(ctx, "SELECT coalesce(confirmed_flush_lsn >= $2::pg_lsn, false) FROM pg_replication_slots WHERE slot_name = $1", rates, marker).Scan(&ok)
		return err == nil && ok
	}
	first.WaitUntil(t, "the stream confirmed to the slot", 60*time.Second, func() bool {
		if streamed() {
			return true
		}
		time.Sleep(50 * time.Millisecond) // the pace of the polls, not a wait for a condition
		return false
	})

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))    // the kills
	wrng := rand.New(rand.NewPCG(seed+1, 12)) // the writer
	var (
		mu      sync.Mutex
		changes []rateChange
		orders  []cdcOrder
	)
	now := func() int64 { return time.Now().UnixMilli() }
	start := now()
	for _, c := range currencies {
		changes = append(changes, rateChange{currency: c, rate: current[c], before: 0, after: 0})
	}
	// The writer: each step changes one row (update, delete or insert) in
	// its own transaction, then sends a few orders stamped strictly
	// between this commit and the next one, so that which version an
	// order sees is never in doubt.
	const steps = 240
	var gen sync.WaitGroup
	gen.Add(1)
	var genErr error
	go func() {
		defer gen.Done()
		id := int64(0)
		for step := 0; step < steps; step++ {
			c := currencies[wrng.IntN(len(currencies))]
			before := now()
			var err error
			switch {
			case current[c] == 0:
				current[c] = 1 + wrng.Int64N(50)
				_, err = db.Exec(ctx, fmt.Sprintf("INSERT INTO %s VALUES ($1, $2)", rates), c, current[c])
			case wrng.IntN(6) == 0:
				current[c] = 0
				_, err = db.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE currency = $1", rates), c)
			default:
				current[c] = 1 + wrng.Int64N(50)
				_, err = db.Exec(ctx, fmt.Sprintf("UPDATE %s SET rate = $2 WHERE currency = $1", rates), c, current[c])
			}
			if err == nil {
				_, err = db.Exec(ctx, fmt.Sprintf("UPDATE %s SET rate = rate + 1 WHERE currency = 'HEARTBEAT'", rates))
			}
			after := now()
			if err != nil {
				genErr = err
				return
			}
			mu.Lock()
			changes = append(changes, rateChange{currency: c, rate: current[c], before: before, after: after})
			mu.Unlock()
			time.Sleep(20 * time.Millisecond) // the pace of the changes, not a wait for a condition
			// Orders stamped after this commit and before the next one.
			stamp := now()
			for range 1 + wrng.IntN(4) {
				id++
				o := cdcOrder{OrderID: id, Currency: currencies[wrng.IntN(len(currencies))], Amount: 1 + wrng.Int64N(100), TS: stamp}
				b, _ := json.Marshal(o)
				if err := prod.ProduceSync(ctx, &kgo.Record{Value: b, Partition: int32(id % partitions)}).FirstErr(); err != nil {
					genErr = err
					return
				}
				mu.Lock()
				orders = append(orders, o)
				mu.Unlock()
			}
			for now() <= stamp {
				time.Sleep(time.Millisecond) // the next commit starts after the orders' millisecond
			}
		}
	}()

	// Kill the job at random instants while the changes and orders come.
	if exited, err := first.Kill(); exited {
		t.Fatalf("the first run exited by itself: %v", err)
	}
	kills, early := 1, 0
	for run := 1; kills < 10; run++ {
		before := crashtest.LatestCheckpoint(t, chk)
		c := crashtest.Start(t, bin, logPath, args(run)...)
		if run%4 == 3 {
			c.Pause(time.Duration(rng.IntN(400)) * time.Millisecond) // while starting and restoring
			early++
		} else {
			c.WaitUntil(t, "new checkpoint", 60*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
			c.Pause(time.Duration(rng.IntN(150)) * time.Millisecond)
		}
		if exited, err := c.Kill(); exited {
			t.Fatalf("run %d exited by itself: %v", run, err)
		}
		kills++
	}
	gen.Wait()
	if genErr != nil {
		t.Fatal(genErr)
	}
	t.Logf("%d kills (%d while starting), %d changes, %d orders in %v", kills, early, len(changes), len(orders), time.Since(time.UnixMilli(start)).Round(time.Millisecond))
	// Only the first run may take a snapshot: a later one means a run
	// restored a checkpoint taken before the snapshot finished, and the
	// changes made until its new snapshot lost their versions (the test's
	// guard above failed, not the join).
	if b, err := os.ReadFile(logPath); err != nil {
		t.Fatal(err)
	} else if n := strings.Count(string(b), "cdc: created replication slot"); n != 1 {
		t.Fatalf("%d runs created the replication slot and took a snapshot, want 1", n)
	}

	// The expected totals: each order joined with the last change of its
	// currency committed before the order's time.
	type total struct{ total, n int64 }
	want := map[string]total{}
	for _, o := range orders {
		var rate int64
		for _, c := range changes {
			if c.currency == o.Currency && c.after < o.TS {
				rate = c.rate
			} else if c.currency == o.Currency && c.before <= o.TS {
				t.Fatalf("order %d at %d falls inside the commit of a change [%d, %d]", o.OrderID, o.TS, c.before, c.after)
			}
		}
		if rate == 0 {
			continue // no version at its time: the inner join drops it
		}
		w := want[o.Currency]
		w.total += o.Amount * rate
		w.n++
		want[o.Currency] = w
	}
	got := func() map[string]total {
		rows, err := db.Query(ctx, fmt.Sprintf("SELECT currency, total, n FROM %s", totals))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]total{}
		for rows.Next() {
			var c string
			var x total
			if err := rows.Scan(&c, &x.total, &x.n); err != nil {
				t.Fatal(err)
			}
			m[c] = x
		}
		return m
	}
	final := crashtest.Start(t, bin, logPath, args(0)...)
	stopped := false
	defer func() {
		if !stopped {
			final.Kill()
		}
	}()
	// Move both watermarks past the last order, now and then, as the
	// final run may still be restoring: a heartbeat for the table, and
	// for the orders an order of a currency the table never has (the
	// inner join drops it). Watermarks are not part of a checkpoint (as in
	// Flink): when the restored run finds no order left to read, only a
	// new one moves the orders' watermark.
	deadline := time.Now().Add(120 * time.Second)
	last := time.Time{}
	final.WaitUntil(t, "the expected totals", 150*time.Second, func() bool {
		if time.Since(last) > 500*time.Millisecond {
			exec(fmt.Sprintf("UPDATE %s SET rate = rate + 1 WHERE currency = 'HEARTBEAT'", rates))
			b, _ := json.Marshal(cdcOrder{OrderID: -1, Currency: "NONE", Amount: 1, TS: now()})
			for p := range int32(partitions) {
				if err := prod.ProduceSync(ctx, &kgo.Record{Value: b, Partition: p}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			last = time.Now()
		}
		return maps.Equal(got(), want) || time.Now().After(deadline)
	})
	stopped = true
	if exited, err := final.Signal(syscall.SIGTERM); exited {
		t.Fatalf("the final run exited by itself: %v", err)
	}
	// The final run must not have taken a snapshot either (its totals
	// would be wrong for that reason, not the join's).
	if b, err := os.ReadFile(logPath); err != nil {
		t.Fatal(err)
	} else if n := strings.Count(string(b), "cdc: created replication slot"); n != 1 {
		t.Fatalf("%d runs created the replication slot and took a snapshot, want 1", n)
	}
	if g := got(); !maps.Equal(g, want) {
		t.Fatalf("totals %v, want %v", g, want)
	}
	if len(want) < 3 {
		t.Fatalf("only %d currencies have totals: the test joined too little", len(want))
	}
}
