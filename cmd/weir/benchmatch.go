package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/bench"
	"github.com/weirstream/weir/cep"
	"github.com/weirstream/weir/demo/fraud"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// matchScenario is the name of the bench mode that compares
// MATCH_RECOGNIZE with the CEP DataStream API (issue 15).
const matchScenario = "match"

const matchTitle = "fraud rules FailedBurst + MuleTransfers (demo/fraud): SQL MATCH_RECOGNIZE vs CEP DataStream vs Go loop"

// matchDefaultRecords is the default input of the match mode.
const matchDefaultRecords = 400_000

// matchPayments generates the payments of the match mode: the fraud
// demo's generator with many fraudulent accounts, so that both rules keep
// partial matches (the figures of sql.BenchmarkFraudRules).
func matchPayments(n int64) []weir.TimestampedValue[fraud.Payment] {
	gen := fraud.NewGenerator(fraud.GeneratorConfig{Seed: 3, Accounts: 2000, Events: n, EventRate: 200,
		FailureRate: 0.05, FraudFraction: 0.1, MaxDelay: time.Second}, nil)
	out := make([]weir.TimestampedValue[fraud.Payment], n)
	for i := range out {
		p := gen.Payment(int64(i))
		out[i] = weir.TimestampedValue[fraud.Payment]{Value: p, TS: p.TS}
	}
	return out
}

// matchMaxDelay is the payments' out-of-orderness: the watermark lag of
// both engine jobs (the SQL table's WATERMARK declares the same).
const matchMaxDelay = time.Second

// alertValue is what the checksum adds up per alert.
func alertValue(rule fraud.Rule, paymentID uint64) int64 { return int64(paymentID)*8 + int64(rule) }

// matchResult is one run of the match mode.
type matchResult struct {
	sql, sqlConv, cep, loop bench.Measurement
	alerts                  int64
}

// runMatchBench runs the loop, the CEP job and the SQL job over the same
// n payments (generated before the runs, in memory) and checks they raise
// the same alerts.
//
// Both jobs read the payments from an in-memory source with the same
// watermarks (bounded out-of-orderness of one second) and run the two rules
// on it at the source's parallelism, without timeout side outputs (MATCH_RECOGNIZE
// has none). Each reads its own record type from memory, made before the
// run: the CEP job Payment structs, the SQL job rows of the payments table
// (row.Row), so that neither pays a deserialisation. The SQL job runs a
// second time reading the Payment structs and converting each to a row in
// a Map (what a format's decoder costs SQL beyond a typed struct): sqlConv.
func runMatchBench(ctx context.Context, n int64, opts weir.Options, cpuProfile string) (matchResult, error) {
	in := matchPayments(n)
	var res matchResult
	var want, gotCEP, gotSQL bench.Checksum
	var err error
	if res.loop, err = bench.Measure(n, func() error { want = matchLoop(in, fraud.Rules{}); return nil }); err != nil {
		return res, err
	}
	stopCEP, err := startProfile(cpuProfile, ".cep")
	if err != nil {
		return res, err
	}
	if res.cep, err = bench.Measure(n, func() error { gotCEP, err = matchCEP(ctx, in, opts); return err }); err != nil {
		stopCEP()
		return res, fmt.Errorf("bench: match (cep): %w", err)
	}
	stopCEP()
	rows := make([]weir.TimestampedValue[row.Row], len(in))
	for i := range in {
		rows[i] = weir.TimestampedValue[row.Row]{Value: paymentRow(in[i].Value), TS: in[i].TS}
	}
	fromRows := func(env *weir.Environment) weir.Stream[row.Row] {
		return weir.FromTimestamped(env, rows, weir.ForBoundedOutOfOrderness[row.Row](matchMaxDelay))
	}
	stopSQL, err := startProfile(cpuProfile, "")
	if err != nil {
		return res, err
	}
	if res.sql, err = bench.Measure(n, func() error { gotSQL, err = matchSQL(ctx, fromRows, opts); return err }); err != nil {
		stopSQL()
		return res, fmt.Errorf("bench: match (sql): %w", err)
	}
	stopSQL()
	if gotCEP != want || gotSQL != want {
		return res, fmt.Errorf("bench: match: alerts differ: loop %+v, cep %+v, sql %+v", want, gotCEP, gotSQL)
	}
	rows = nil
	fromPayments := func(env *weir.Environment) weir.Stream[row.Row] {
		src := weir.FromTimestamped(env, in, weir.ForBoundedOutOfOrderness[fraud.Payment](matchMaxDelay))
		return weir.Map(src, paymentRow).Name("payment-rows")
	}
	if res.sqlConv, err = bench.Measure(n, func() error { gotSQL, err = matchSQL(ctx, fromPayments, opts); return err }); err != nil {
		return res, fmt.Errorf("bench: match (sql, converting): %w", err)
	}
	if gotSQL != want {
		return res, fmt.Errorf("bench: match: alerts differ: loop %+v, sql converting payments %+v", want, gotSQL)
	}
	if want.Records == 0 {
		return res, fmt.Errorf("bench: match: no alerts in %d payments", n)
	}
	res.alerts = want.Records
	return res, nil
}

// startProfile starts a CPU profile written to path+suffix (nothing if
// path is empty) and returns the function that stops it.
func startProfile(path, suffix string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path + suffix)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// checksumSink adds up alerts from any subtask.
type checksumSink struct {
	mu sync.Mutex
	c  bench.Checksum
}

func (s *checksumSink) add(v int64) {
	s.mu.Lock()
	s.c.Records++
	s.c.Sum += v
	s.mu.Unlock()
}

// matchCEP runs the two rules as the demo's CEP patterns.
func matchCEP(ctx context.Context, in []weir.TimestampedValue[fraud.Payment], opts weir.Options) (bench.Checksum, error) {
	env := weir.NewEnvironment(opts)
	src := weir.FromTimestamped(env, in, weir.ForBoundedOutOfOrderness[fraud.Payment](matchMaxDelay))
	r := fraud.Rules{}
	account := func(p fraud.Payment) uint32 { return p.Account }
	failed := src.Filter(func(p fraud.Payment) bool { return p.Failed }).Name("failed-payments")
	bursts := cep.Select(cep.Pattern(weir.KeyBy(failed, account), fraud.FailedBurstPattern(r)),
		func(_ uint32, m map[string][]fraud.Payment) (int64, error) {
			fs := m["failed"]
			return alertValue(fraud.FailedBurst, fs[len(fs)-1].ID), nil
		}).Name("cep-failed-burst")
	transfers := src.Filter(func(p fraud.Payment) bool { return p.Transfer }).Name("transfers")
	mules := cep.Select(cep.Pattern(weir.KeyBy(transfers, account), fraud.MulePattern(r)),
		func(_ uint32, m map[string][]fraud.Payment) (int64, error) {
			return alertValue(fraud.MuleTransfers, m["large"][0].ID), nil
		}).Name("cep-mule-transfers")
	sink := &checksumSink{}
	weir.Union(bursts, mules).SinkTo(weir.SinkFunc[int64](func(_ context.Context, v int64, _ int64) error {
		sink.add(v)
		return nil
	})).Name("checksum")
	if err := env.Execute(ctx); err != nil {
		return bench.Checksum{}, err
	}
	return sink.c, nil
}

// paymentRow converts a payment to a row of the payments table, as a
// format's decoder would: one allocation per row. (Carving rows from
// shared slabs allocates less but costs more here: the CEP buffers keep
// some rows for minutes of event time, each keeping its whole slab alive,
// and the heap grows into fresh pages.)
func paymentRow(p fraud.Payment) row.Row {
	return row.Row{Fields: []row.Value{row.Int(int64(p.ID)), row.Int(int64(p.Account)), row.Int(p.Amount), row.Bool(p.Failed),
		row.Timestamp(p.TS, 0), row.Bool(p.Transfer), row.Int(int64(p.To))}}
}

// matchSQL runs the two rules as the demo's MATCH_RECOGNIZE queries, both
// over one stream of payment rows (from source) that stands for the
// payments table.
func matchSQL(ctx context.Context, source func(*weir.Environment) weir.Stream[row.Row], opts weir.Options) (bench.Checksum, error) {
	env := weir.NewEnvironment(opts)
	rows := source(env)
	sess := sql.NewSession(sql.SessionOptions{})
	script := fraud.PaymentsTableSQL("/unused", matchMaxDelay) + ";\n" +
		fraud.FailedBurstSQL(fraud.Rules{}) + ";\n" + fraud.MuleSQL(fraud.Rules{}) + ";"
	stmts, err := parser.Parse(script)
	if err != nil {
		return bench.Checksum{}, err
	}
	sink := &checksumSink{}
	for i, st := range stmts {
		_, job, err := sess.Execute(st)
		if err != nil {
			return bench.Checksum{}, err
		}
		if job == nil {
			continue
		}
		rule := fraud.FailedBurst
		if i == 2 {
			rule = fraud.MuleTransfers
		}
		// Columns: account, payment_id, ts, failures | amount.
		if err := job.BuildOn(env, map[string]weir.Stream[row.Row]{"payments": rows}, func(r row.Row) error {
			sink.add(alertValue(rule, uint64(r.Fields[1].Int())))
			return nil
		}); err != nil {
			return bench.Checksum{}, err
		}
	}
	if err := env.Execute(ctx); err != nil {
		return bench.Checksum{}, err
	}
	return sink.c, nil
}

// loopAccount is the hand-written loop's state of one account.
type loopAccount struct {
	fails []int64 // timestamps of the failures since the last burst
	// small transfers (timestamp, payee) since the last mule alert
	smallTS []int64
	smallTo []uint32
}

// matchLoop detects the two rules with plain Go: payments in event-time
// order (a stable sort, ties in arrival order as the engine keeps them),
// per account the failures of the last FailWindow and the small transfers
// of the last SpreadWindow.
func matchLoop(in []weir.TimestampedValue[fraud.Payment], r fraud.Rules) bench.Checksum {
	r = r.WithDefaults()
	window, spread := r.FailWindow.Milliseconds(), r.SpreadWindow.Milliseconds()
	ps := make([]fraud.Payment, len(in))
	for i := range in {
		ps[i] = in[i].Value
	}
	slices.SortStableFunc(ps, func(a, b fraud.Payment) int { return cmp.Compare(a.TS, b.TS) })
	accts := map[uint32]*loopAccount{}
	var c bench.Checksum
	for i := range ps {
		p := &ps[i]
		if !p.Failed && !p.Transfer {
			continue
		}
		a := accts[p.Account]
		if a == nil {
			a = &loopAccount{}
			accts[p.Account] = a
		}
		if p.Failed {
			k := 0
			for _, f := range a.fails {
				if p.TS-f < window {
					a.fails[k] = f
					k++
				}
			}
			a.fails = append(a.fails[:k], p.TS)
			if len(a.fails) >= r.FailCount {
				c.Records++
				c.Sum += alertValue(fraud.FailedBurst, p.ID)
				a.fails = a.fails[:0]
			}
			continue
		}
		// A successful transfer.
		if p.Amount < r.LargeTransfer {
			a.smallTS = append(a.smallTS, p.TS)
			a.smallTo = append(a.smallTo, p.To)
			continue
		}
		k := 0
		for k < len(a.smallTS) && p.TS-a.smallTS[k] >= spread {
			k++
		}
		if k > 0 {
			a.smallTS = append(a.smallTS[:0], a.smallTS[k:]...)
			a.smallTo = append(a.smallTo[:0], a.smallTo[k:]...)
		}
		if distinctAtLeast(a.smallTo, r.SpreadCount) {
			c.Records++
			c.Sum += alertValue(fraud.MuleTransfers, p.ID)
			a.smallTS, a.smallTo = a.smallTS[:0], a.smallTo[:0]
		}
	}
	return c
}

// distinctAtLeast reports whether tos holds at least n different values.
func distinctAtLeast(tos []uint32, n int) bool {
	d := 0
	for i, t := range tos {
		if !slices.Contains(tos[:i], t) {
			if d++; d >= n {
				return true
			}
		}
	}
	return false
}

// writeMatchTable prints the match mode's runs.
func writeMatchTable(w io.Writer, rs []matchResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trecords\talerts\tsql rec/s/core\tcep rec/s/core\tloop rec/s/core\tsql/cep\tsql/loop\tcep/loop\tsql ns/rec\tcep ns/rec\tloop ns/rec\tsql allocs/rec\tcep allocs/rec\tloop allocs/rec\tsql+conv rec/s/core\tsql+conv/cep\tsql+conv allocs/rec\t")
	ns := func(m bench.Measurement) float64 { return float64(m.CPU.Nanoseconds()) / float64(m.Records) }
	ratio := func(a, b bench.Measurement) float64 {
		if b.PerCoreSecond() == 0 {
			return 0
		}
		return a.PerCoreSecond() / b.PerCoreSecond()
	}
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%.3f\t%.3f\t%.3f\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.3f\t%s\t%.3f\t%.2f\t\n", matchScenario, r.sql.Records, r.alerts,
			human(r.sql.PerCoreSecond()), human(r.cep.PerCoreSecond()), human(r.loop.PerCoreSecond()),
			ratio(r.sql, r.cep), ratio(r.sql, r.loop), ratio(r.cep, r.loop), ns(r.sql), ns(r.cep), ns(r.loop),
			r.sql.AllocsPerRecord(), r.cep.AllocsPerRecord(), r.loop.AllocsPerRecord(),
			human(r.sqlConv.PerCoreSecond()), ratio(r.sqlConv, r.cep), r.sqlConv.AllocsPerRecord())
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	_, err := fmt.Fprintf(w, "# %s: %s; ns/rec is CPU time per input record; sql reads rows from memory as cep reads structs, sql+conv converts the structs to rows in the job\n", matchScenario, matchTitle)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
