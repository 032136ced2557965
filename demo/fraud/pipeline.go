package fraud

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/print"
	"github.com/weirstream/weir/window"
)

// Config configures the demo pipeline.
type Config struct {
	Generator GeneratorConfig
	Rules     Rules
}

// Stats are the pipeline's live counters, safe to read from any goroutine
// while the job runs.
type Stats struct {
	// Payments counts the payments the source emitted.
	Payments atomic.Int64
	// Alerts counts the alerts written.
	Alerts atomic.Int64
	// ByRule counts the alerts written per rule, indexed by Rule.
	ByRule [MuleTransfers + 1]atomic.Int64
	// Watermark is the detector's latest watermark (ms since the epoch).
	Watermark atomic.Int64
	// TimedOut counts the CEP partial matches dropped by their pattern's
	// Within.
	TimedOut atomic.Int64
}

// NewStats returns zeroed counters with no watermark yet.
func NewStats() *Stats {
	s := &Stats{}
	s.Watermark.Store(weir.MinWatermark)
	return s
}

// Build adds the pipeline to env and returns the alert stream: payments
// from the generator, keyed by account, through a Detector (AmountSpike),
// through tumbling one-minute event-time windows summing each account's
// successful payments, and through the CEP patterns of Patterns
// (FailedBurst, MuleTransfers).
func Build(env *weir.Environment, cfg Config, stats *Stats) weir.Stream[Alert] {
	if stats == nil {
		stats = NewStats()
	}
	cfg.Rules.fill()
	gen := NewGenerator(cfg.Generator, &stats.Payments)
	payments := weir.FromSource(env, gen, gen.Watermarks(), "payments").UID("payments")
	byAccount := weir.KeyBy(payments, func(p Payment) uint32 { return p.Account })
	det := NewDetector(cfg.Rules, &stats.Watermark)
	det.NoFailedBurst = true
	detected := weir.ProcessKeyed[uint32, Payment, Alert](byAccount, det).
		Name("fraud-detector").UID("fraud-detector")

	spend := minuteSpend(byAccount, cfg.Rules.MinuteSpendLimit)
	return weir.Union(detected, spend, Patterns(payments, cfg.Rules, &stats.TimedOut))
}

// minuteSpend raises MinuteSpend alerts from tumbling one-minute event-time
// windows of each account's successful payments.
func minuteSpend(byAccount weir.KeyedStream[uint32, Payment], limit int64) weir.Stream[Alert] {
	minutes := weir.Window(byAccount, window.TumblingEventTime[Payment](time.Minute))
	return weir.WindowAggregateProcess[uint32, Payment, window.TimeWindow, int64, int64, Alert](minutes, spendAgg{},
		weir.ProcessWindowFunc[uint32, int64, Alert, window.TimeWindow](func(ctx *weir.WindowContext[uint32, Alert, window.TimeWindow], acct uint32, sums []int64) error {
			for _, s := range sums {
				if s > limit {
					ctx.Collect(Alert{Rule: MinuteSpend, Account: acct, TS: ctx.Window().Start, Amount: s})
				}
			}
			return nil
		})).Name("minute-spend").UID("minute-spend")
}

// spendAgg sums the amounts of successful payments.
type spendAgg struct{}

func (spendAgg) CreateAccumulator() int64 { return 0 }

func (spendAgg) Add(acc int64, p Payment) (int64, error) {
	if p.Failed {
		return acc, nil
	}
	return acc + p.Amount, nil
}

func (spendAgg) Result(acc int64) (int64, error) { return acc, nil }
func (spendAgg) Merge(a, b int64) (int64, error) { return a + b, nil }

// RunOptions configure Run.
type RunOptions struct {
	// Env are the engine's options (parallelism, metrics registry, ...).
	Env weir.Options
	// Alerts receives one line per alert (nil discards them).
	Alerts io.Writer
	// Status receives a status line every StatusInterval and a final
	// summary (nil: none).
	Status io.Writer
	// StatusInterval defaults to one second.
	StatusInterval time.Duration
}

// Summary describes a finished run.
type Summary struct {
	Payments, Alerts int64
	// ByRule counts the alerts per rule, indexed by Rule (index 0 unused).
	ByRule [MuleTransfers + 1]int64
	// TimedOut counts the CEP partial matches that timed out.
	TimedOut  int64
	Elapsed   time.Duration
	Watermark int64
}

// String formats the summary as one line.
func (s Summary) String() string {
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Payments) / s.Elapsed.Seconds()
	}
	var rules strings.Builder
	for r := FailedBurst; r <= MuleTransfers; r++ {
		if r > FailedBurst {
			rules.WriteString(", ")
		}
		fmt.Fprintf(&rules, "%s %d", r, s.ByRule[r])
	}
	return fmt.Sprintf("done: %d payments, %d alerts (%s), %d timed-out partial matches in %s (%.0f payments/s), watermark %s",
		s.Payments, s.Alerts, rules.String(), s.TimedOut, s.Elapsed.Round(time.Millisecond), rate, formatWatermark(s.Watermark))
}

func formatWatermark(wm int64) string {
	switch wm {
	case weir.MinWatermark:
		return "none"
	case weir.MaxWatermark:
		return "end"
	}
	return time.UnixMilli(wm).UTC().Format(time.RFC3339)
}

// Run builds and executes the pipeline until the generator ends or ctx is
// canceled. Cancellation is a normal end: Run then returns the summary and
// a nil error.
func Run(ctx context.Context, cfg Config, opts RunOptions) (Summary, error) {
	stats := NewStats()
	env := weir.NewEnvironment(opts.Env)
	alerts := Build(env, cfg, stats)
	out := opts.Alerts
	if out == nil {
		out = io.Discard
	}
	counted := weir.Map(alerts, func(a Alert) Alert {
		stats.Alerts.Add(1)
		if a.Rule <= MuleTransfers {
			stats.ByRule[a.Rule].Add(1)
		}
		return a
	}).Name("count-alerts")
	counted.SinkTo(print.New[Alert](out).WithFormat(Alert.String)).Name("alerts").UID("alerts")

	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if opts.Status != nil {
		interval := opts.StatusInterval
		if interval <= 0 {
			interval = time.Second
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			reportStatus(stop, interval, stats, opts.Status)
		}()
	}
	err := env.Execute(ctx)
	close(stop)
	wg.Wait()
	sum := Summary{Payments: stats.Payments.Load(), Alerts: stats.Alerts.Load(), TimedOut: stats.TimedOut.Load(), Elapsed: time.Since(start), Watermark: stats.Watermark.Load()}
	for r := range sum.ByRule {
		sum.ByRule[r] = stats.ByRule[r].Load()
	}
	if err != nil && ctx.Err() != nil {
		err = nil // stopped on request
	}
	if opts.Status != nil {
		fmt.Fprintln(opts.Status, sum)
	}
	if err != nil {
		return sum, fmt.Errorf("fraud: %w", err)
	}
	return sum, nil
}

// reportStatus writes a status line every interval until stop closes.
func reportStatus(stop <-chan struct{}, interval time.Duration, st *Stats, out io.Writer) {
	t := time.NewTicker(interval)
	defer t.Stop()
	last, lastT := int64(0), time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			n := st.Payments.Load()
			rate := float64(n-last) / now.Sub(lastT).Seconds()
			last, lastT = n, now
			fmt.Fprintf(out, "payments=%d rate=%.0f/s alerts=%d watermark=%s\n",
				n, rate, st.Alerts.Load(), formatWatermark(st.Watermark.Load()))
		}
	}
}
