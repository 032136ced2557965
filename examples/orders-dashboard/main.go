// Command orders-dashboard keeps a revenue dashboard in PostgreSQL from a
// Kafka topic of orders, exactly once: it reads JSON orders
// {"id","product","region","cents","time"} from a topic, keeps a running
// total per product in Weir's keyed state (orders, revenue, time of the
// latest order) and upserts it into a table (product PRIMARY KEY, orders,
// revenue_cents, updated_at) with connector/postgres's exactly-once sink:
// the rows of each checkpoint are written in one transaction, prepared on
// the checkpoint barrier and committed when the checkpoint completes.
//
// With -demo it shows the whole loop on its own, with Kafka in the process
// (franz-go's kfake) and the PostgreSQL of -pg: it drops and creates the
// table (-table), produces generated orders, runs the job with checkpoints,
// fails it once on purpose in the middle (an injected error; the job
// restarts from its latest checkpoint and the transaction of the failed
// attempt is rolled back), and checks that the table ends equal to the
// totals computed directly from the produced orders, and that no committed
// update ever lowered a row of the dashboard (a trigger counts such
// updates in a column regressions: an at-least-once sink would commit
// them when it rewrites rows with the older totals of a restored
// checkpoint). It exits non-zero with the difference otherwise. The table
// stays for a look afterwards.
//
// The failure comes once the sink has written most of the orders before it
// (into the open transaction); with -at-least-once, for contrast, the sink
// commits those rows as it writes them, the restarted job rewrites them
// with the restored, older totals, and the demo fails on the rows that
// went backwards (almost always: it depends on where the last checkpoint
// before the failure falls).
//
//	go run ./examples/orders-dashboard -demo
//
// Without -demo it reads -topic from -brokers until interrupted; -restore
// latest resumes from the newest checkpoint in -checkpoint-dir.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/kafka"
	"github.com/weirstream/weir/connector/postgres"
)

// Order is an input record; Time is in Unix milliseconds.
type Order struct {
	ID      int64  `json:"id"`
	Product string `json:"product"`
	Region  string `json:"region"`
	Cents   int64  `json:"cents"`
	Time    int64  `json:"time"`
}

// Total is a product's row of the dashboard: the orders so far, their
// revenue and the time (Unix ms) of the latest.
type Total struct {
	Product      string
	Orders       int64
	RevenueCents int64
	UpdatedMs    int64
}

type config struct {
	brokers     []string
	topic       string
	pgURL       string
	table       string
	prefix      string // the sink's TransactionPrefix
	ckDir       string
	restore     string
	interval    time.Duration
	parallelism int
	failAt      int64 // with -demo: the order whose first processing fails the job
	logger      *slog.Logger
	atLeastOnce bool // the sink's guarantee: AtLeastOnce instead of ExactlyOnce
	// With -demo: the batch sizes of the exchanges and of the sink, and
	// the sink's metrics registry.
	exchangeBatch int
	batchSize     int
	registry      *prometheus.Registry
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "orders-dashboard:", err)
		os.Exit(1)
	}
}

// run runs the command with args until it is done or ctx ends.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("orders-dashboard", flag.ContinueOnError)
	brokers := fs.String("brokers", "127.0.0.1:9092", "comma-separated Kafka seed brokers (ignored by -demo, which runs Kafka in the process)")
	topic := fs.String("topic", "orders", "topic of the orders")
	pgURL := fs.String("pg", "postgres://postgres@127.0.0.1:5432/test", "PostgreSQL connection string")
	table := fs.String("table", "", `dashboard table (default "orders_dashboard", with -demo "orders_dashboard_demo")`)
	ckDir := fs.String("checkpoint-dir", "orders-dashboard-checkpoints", "checkpoint directory")
	restore := fs.String("restore", "", `"latest" resumes from the newest checkpoint (not with -demo)`)
	demo := fs.Bool("demo", false, "produce orders to an in-process Kafka, run the job with a failure in the middle, check the table, stop")
	n := fs.Int("orders", 3000, "with -demo: number of orders produced")
	atLeastOnce := fs.Bool("at-least-once", false, "run the sink at least once (with -demo, for contrast: the demo then fails, seeing rows go backwards after the failure)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *table == "" {
		*table = "orders_dashboard"
		if *demo {
			*table = "orders_dashboard_demo"
		}
	}
	c := config{
		brokers: strings.Split(*brokers, ","), topic: *topic, pgURL: *pgURL, table: *table,
		// One job per table: its prepared transactions are named after it.
		prefix: "orders-dashboard-" + *table,
		ckDir:  *ckDir, restore: *restore, interval: time.Second, parallelism: 2,
		logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	c.atLeastOnce = *atLeastOnce
	if *demo {
		if *n < 2 {
			return errors.New("-orders must be at least 2")
		}
		return runDemo(ctx, c, *n, stdout)
	}
	db, err := pgx.Connect(ctx, c.pgURL)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL (%s): %w", c.pgURL, err)
	}
	_, err = db.Exec(ctx, createTable(c.table, true))
	db.Close(context.Background())
	if err != nil {
		return fmt.Errorf("creating the table %s: %w", c.table, err)
	}
	env := newEnv(c)
	build(env, c, nil)
	if err := env.Execute(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

func createTable(table string, ifNotExists bool) string {
	q := "CREATE TABLE "
	if ifNotExists {
		q += "IF NOT EXISTS "
	}
	return q + pgx.Identifier{table}.Sanitize() +
		" (product text PRIMARY KEY, orders bigint NOT NULL, revenue_cents bigint NOT NULL, updated_at timestamptz NOT NULL)"
}

func newEnv(c config) *weir.Environment {
	return weir.NewEnvironment(weir.Options{
		Parallelism: c.parallelism,
		BatchSize:   c.exchangeBatch,
		Logger:      c.logger,
		Checkpoints: weir.CheckpointOptions{Interval: c.interval, Dir: c.ckDir},
		Restore:     c.restore,
		// A failure (a lost broker or server, or the demo's injected
		// error) restarts the job from its latest completed checkpoint.
		Restart: &weir.ExponentialDelayRestart{Initial: 100 * time.Millisecond, Max: 5 * time.Second, Jitter: 0.1},
	})
}

// build adds the job to env: orders → (injected failure) → running total
// per product → PostgreSQL, exactly once. If injected is not nil, the first
// time order c.failAt is processed fails the job.
func build(env *weir.Environment, c config, injected *atomic.Bool) {
	orders := weir.FromSource(env, kafka.NewSource(kafka.SourceOptions[Order]{
		Brokers: c.brokers, Topics: []string{c.topic},
		Deserializer: kafka.JSONSerde[Order]{FailOnMissingField: true},
	}), weir.NoWatermarks[Order](), "orders").UID("orders")
	if injected != nil {
		orders = weir.TryMap(orders, func(o Order) (Order, error) {
			if o.ID == c.failAt && injected.CompareAndSwap(false, true) {
				// The failure comes once the sink has written the
				// orders before this one but those still in
				// partial batches (of the exchanges between the
				// subtasks, of the sink), or after 2 s: as late as
				// it can, with output of the failing attempt on the
				// server.
				pending := c.parallelism*c.parallelism*c.exchangeBatch + c.parallelism*c.batchSize
				deadline := time.Now().Add(2 * time.Second)
				for rowsWritten(c.registry) < float64(c.failAt-1-int64(pending)) && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				return o, fmt.Errorf("orders-dashboard: injected failure at order %d", o.ID)
			}
			return o, nil
		}).Name("inject failure")
	}
	perOrder := weir.Map(orders, func(o Order) Total {
		return Total{Product: o.Product, Orders: 1, RevenueCents: o.Cents, UpdatedMs: o.Time}
	}).Name("to totals")
	totals := weir.Reduce(weir.KeyBy(perOrder, func(t Total) string { return t.Product }),
		func(a, b Total) (Total, error) {
			return Total{a.Product, a.Orders + b.Orders, a.RevenueCents + b.RevenueCents, max(a.UpdatedMs, b.UpdatedMs)}, nil
		}).Name("totals per product").UID("totals")
	guarantee := postgres.ExactlyOnce
	if c.atLeastOnce {
		guarantee = postgres.AtLeastOnce
	}
	var reg prometheus.Registerer // not a typed nil
	if c.registry != nil {
		reg = c.registry
	}
	totals.SinkTo(postgres.NewSink(postgres.SinkOptions[Total]{
		ConnString: c.pgURL,
		Table:      c.table,
		Columns:    []string{"product", "orders", "revenue_cents", "updated_at"},
		Values: func(dst []any, t Total) []any {
			return append(dst, t.Product, t.Orders, t.RevenueCents, time.UnixMilli(t.UpdatedMs).UTC())
		},
		Key:               []string{"product"},
		Guarantee:         guarantee,
		TransactionPrefix: c.prefix,
		BatchSize:         c.batchSize,
		Logger:            c.logger,
		Registry:          reg,
	})).Name("dashboard").UID("dashboard")
}

var (
	products = []string{"espresso", "latte", "cappuccino", "tea", "croissant", "bagel", "muffin"}
	regions  = []string{"eu", "us", "apac"}
	epoch    = time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC).UnixMilli()
)

// order returns generated order i (from 1).
func order(i int) Order {
	h := uint64(i) * 0x9E3779B97F4A7C15
	return Order{
		ID:      int64(i),
		Product: products[h>>33%uint64(len(products))],
		Region:  regions[h>>45%uint64(len(regions))],
		Cents:   int64(150 + h>>20%900),
		Time:    epoch + int64(i)*1500,
	}
}

// expected computes the totals of orders 1..n directly.
func expected(n int) map[string]Total {
	m := map[string]Total{}
	for i := 1; i <= n; i++ {
		o := order(i)
		t := m[o.Product]
		m[o.Product] = Total{o.Product, t.Orders + 1, t.RevenueCents + o.Cents, max(t.UpdatedMs, o.Time)}
	}
	return m
}

// produce writes orders from..to (inclusive) to the topic.
func produce(ctx context.Context, cl *kgo.Client, topic string, from, to int) error {
	recs := make([]*kgo.Record, 0, to-from+1)
	for i := from; i <= to; i++ {
		v, err := kafka.JSONSerde[Order]{}.Serialize(order(i))
		if err != nil {
			return err
		}
		recs = append(recs, &kgo.Record{Topic: topic, Key: strconv.AppendInt(nil, int64(i), 10), Value: v})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("producing orders: %w", err)
	}
	return nil
}

func runDemo(ctx context.Context, c config, n int, stdout io.Writer) error {
	db, err := pgx.Connect(ctx, c.pgURL)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL (%s): %w", c.pgURL, err)
	}
	defer db.Close(context.Background())
	if err := setup(ctx, db, c); err != nil {
		return err
	}
	// Each run prepares its transactions under a prefix of its own, so
	// that a concurrent run on another table never sees them.
	var nonce [4]byte
	_, _ = rand.Read(nonce[:])
	c.prefix += "-" + hex.EncodeToString(nonce[:])
	defer func() {
		// The commit markers of this run are of no further use.
		_, _ = db.Exec(context.Background(), "DELETE FROM "+postgres.DefaultCommitTable+" WHERE starts_with(prefix, $1)", c.prefix)
	}()

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, c.topic))
	if err != nil {
		return fmt.Errorf("starting the in-process Kafka: %w", err)
	}
	defer cluster.Close()
	c.brokers = cluster.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()

	ckDir, err := os.MkdirTemp("", "orders-dashboard-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ckDir)
	c.ckDir, c.restore, c.interval = ckDir, "", 200*time.Millisecond
	half := n / 2
	c.failAt = int64(half + (n-half)/2)
	c.exchangeBatch, c.batchSize, c.registry = 64, 100, prometheus.NewRegistry()

	rec := &restoreRecorder{next: c.logger.Handler(), checkpoint: new(atomic.Int64), mute: new(atomic.Bool)}
	c.logger = slog.New(rec)
	env := newEnv(c)
	var injected atomic.Bool
	build(env, c, &injected)
	job, err := env.Start(ctx)
	if err != nil {
		return err
	}
	defer func() {
		rec.mute.Store(true) // the cancellation's log is no news
		job.Cancel()
		_ = job.Wait()
	}()
	w := &watcher{db: db, table: c.table, job: job, seen: map[string]Total{}, regressions: true}

	fmt.Fprintf(stdout, "produced orders 1..%d to topic %q (in-process Kafka)\n", half, c.topic)
	if err := produce(ctx, cl, c.topic, 1, half); err != nil {
		return err
	}
	if err := w.waitFor(ctx, expected(half)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "table %s holds their totals (committed with a checkpoint)\n", c.table)

	fmt.Fprintf(stdout, "produced orders %d..%d; the job fails once at order %d\n", half+1, n, c.failAt)
	if err := produce(ctx, cl, c.topic, half+1, n); err != nil {
		return err
	}
	want := expected(n)
	if err := w.waitFor(ctx, want); err != nil {
		return err
	}
	st := job.Status()
	if !injected.Load() || st.Attempts < 2 {
		return fmt.Errorf("the injected failure did not happen (attempts %d)", st.Attempts)
	}
	fmt.Fprintf(stdout, "failure: %v\n", st.LastFailure)
	fmt.Fprintf(stdout, "restarted from checkpoint %d; attempts %d\n", rec.checkpoint.Load(), st.Attempts)
	fmt.Fprintf(stdout, "\n%-12s %8s %14s  %s\n", "product", "orders", "revenue_cents", "updated_at")
	for _, p := range slices.Sorted(maps.Keys(want)) {
		t := w.seen[p]
		fmt.Fprintf(stdout, "%-12s %8d %14d  %s\n", p, t.Orders, t.RevenueCents, time.UnixMilli(t.UpdatedMs).UTC().Format(time.DateTime))
	}
	fmt.Fprintf(stdout, "\nOK: table %s equals the totals of the %d produced orders, computed directly from them;\n"+
		"no committed update lowered a row, across the failure (counted by a trigger; %d reads of the table)\n", c.table, n, w.reads)
	return nil
}

// setup rolls back the prepared transactions an earlier run on the table
// left (a killed demo), deletes its commit markers, and drops and creates
// the table, with a column regressions that a trigger increments whenever
// an update lowers the row's orders or revenue.
func setup(ctx context.Context, db *pgx.Conn, c config) error {
	rows, err := db.Query(ctx, "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1)", c.prefix+"-")
	if err != nil {
		return fmt.Errorf("listing prepared transactions: %w", err)
	}
	gids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("listing prepared transactions: %w", err)
	}
	for _, gid := range gids {
		if _, err := db.Exec(ctx, "ROLLBACK PREPARED '"+strings.ReplaceAll(gid, "'", "''")+"'"); err != nil {
			return fmt.Errorf("rolling back %s, left by an earlier run: %w", gid, err)
		}
	}
	tbl, fn := pgx.Identifier{c.table}.Sanitize(), regressionsFunc(c.table)
	// The commit markers of earlier runs on the table are of no further use.
	if _, err := db.Exec(ctx, "DELETE FROM "+postgres.DefaultCommitTable+" WHERE starts_with(prefix, $1)", c.prefix+"-"); err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42P01" { // undefined_table: no sink ran yet
			return fmt.Errorf("deleting the commit markers of earlier runs: %w", err)
		}
	}
	for _, q := range []string{
		"SET lock_timeout = '10s'",
		"DROP TABLE IF EXISTS " + tbl,
		"DROP FUNCTION IF EXISTS " + fn,
		createTable(c.table, false),
		"RESET lock_timeout",
		// Every committed update that lowers a row is counted in the
		// row, by the server: the check sees all of them, not just the
		// ones a poll happens to catch.
		"ALTER TABLE " + tbl + " ADD COLUMN regressions bigint NOT NULL DEFAULT 0",
		"CREATE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
			"NEW.regressions := OLD.regressions + (NEW.orders < OLD.orders OR NEW.revenue_cents < OLD.revenue_cents)::int; " +
			"RETURN NEW; END $$",
		"CREATE TRIGGER count_regressions BEFORE UPDATE ON " + tbl + " FOR EACH ROW EXECUTE FUNCTION " + fn + "()",
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			return fmt.Errorf("setting up the table %s: %s: %w", c.table, q, err)
		}
	}
	return nil
}

// rowsWritten returns the number of rows the sink wrote (in
// transactions, committed or not), from its metrics in reg.
func rowsWritten(reg *prometheus.Registry) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "weir_postgres_sink_rows_total" {
			n := 0.0
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
			return n
		}
	}
	return 0
}

// regressionsFunc is the name of the demo table's trigger function.
func regressionsFunc(table string) string {
	return pgx.Identifier{table + "_regressions"}.Sanitize()
}

// watcher reads the dashboard table until it holds the wanted totals,
// checking on every read that no row went backwards.
type watcher struct {
	db    *pgx.Conn
	table string
	job   *weir.JobClient
	seen  map[string]Total // the last read
	reads int
	// regressions: the table has setup's column regressions.
	regressions bool
}

func (w *watcher) waitFor(ctx context.Context, want map[string]Total) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := w.read(ctx)
		if err != nil {
			return err
		}
		if maps.Equal(got, want) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("table %s did not reach the totals of the orders in 30 s:\n%s", w.table, diff(got, want))
		}
		select {
		case <-w.job.Done():
			return fmt.Errorf("the job ended: %w", w.job.Wait())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (w *watcher) read(ctx context.Context) (map[string]Total, error) {
	cols := "product, orders, revenue_cents, updated_at, 0"
	if w.regressions {
		cols = "product, orders, revenue_cents, updated_at, regressions"
	}
	rows, err := w.db.Query(ctx, "SELECT "+cols+" FROM "+pgx.Identifier{w.table}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("reading the table %s: %w", w.table, err)
	}
	got := map[string]Total{}
	var t Total
	var at time.Time
	var regressions int64
	_, err = pgx.ForEachRow(rows, []any{&t.Product, &t.Orders, &t.RevenueCents, &at, &regressions}, func() error {
		if regressions > 0 {
			return fmt.Errorf("the row of %s went backwards in %d committed updates (output of a failed attempt was visible)", t.Product, regressions)
		}
		t.UpdatedMs = at.UnixMilli()
		got[t.Product] = t
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the table %s: %w", w.table, err)
	}
	w.reads++
	for p, before := range w.seen {
		now, ok := got[p]
		if !ok || now.Orders < before.Orders || now.RevenueCents < before.RevenueCents || now.UpdatedMs < before.UpdatedMs {
			return nil, fmt.Errorf("the row of %s went backwards: %+v, then %+v (output of a failed attempt was visible)", p, before, now)
		}
	}
	w.seen = got
	return got, nil
}

func diff(got, want map[string]Total) string {
	var b strings.Builder
	for _, p := range slices.Sorted(maps.Keys(want)) {
		if got[p] != want[p] {
			fmt.Fprintf(&b, "  %s: table %+v, orders give %+v\n", p, got[p], want[p])
		}
	}
	for _, p := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[p]; !ok {
			fmt.Fprintf(&b, "  %s: in the table (%+v), in no order\n", p, got[p])
		}
	}
	return b.String()
}

// restoreRecorder notes the checkpoint the job restored after a failure
// (from the engine's log) and passes records on to next unless muted.
type restoreRecorder struct {
	next       slog.Handler
	checkpoint *atomic.Int64
	mute       *atomic.Bool
}

func (r *restoreRecorder) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || r.next.Enabled(ctx, l)
}

func (r *restoreRecorder) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Message == "weir: restoring after failure" {
		rec.Attrs(func(a slog.Attr) bool {
			if a.Key == "checkpoint" {
				if id, ok := a.Value.Any().(int64); ok {
					r.checkpoint.Store(id)
				} else if id, err := strconv.ParseInt(a.Value.String(), 10, 64); err == nil {
					r.checkpoint.Store(id)
				}
			}
			return true
		})
	}
	if !r.mute.Load() && r.next.Enabled(ctx, rec.Level) {
		return r.next.Handle(ctx, rec)
	}
	return nil
}

func (r *restoreRecorder) WithAttrs(a []slog.Attr) slog.Handler {
	return &restoreRecorder{next: r.next.WithAttrs(a), checkpoint: r.checkpoint, mute: r.mute}
}

func (r *restoreRecorder) WithGroup(g string) slog.Handler {
	return &restoreRecorder{next: r.next.WithGroup(g), checkpoint: r.checkpoint, mute: r.mute}
}
