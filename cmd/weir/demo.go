package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/demo/fraud"
)

type demoFlags struct {
	events      int64
	rate        float64
	parallelism int
	seed        int64
	accounts    int
	metricsAddr string
}

func newDemoCmd() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the fraud detection demo on generated payments",
		Long: `Generates card payments (a few accounts are fraudulent), keys them by account
and raises alerts for 3 failed payments within 10 minutes and for 3 or more
transfers to different accounts within 5 minutes followed by a large transfer
(both CEP patterns), for payments more than 10 times the account's running
average, and for more than 5,000.00 spent by one account in an event-time
minute (a tumbling window). Alerts go to stdout, a status line to stderr
every second, a summary (with the count of timed-out partial matches) at the
end.
Stops after --events payments or on Ctrl-C. Needs no setup.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, f) },
	}
	f.addGeneratorFlags(cmd)
	fl := cmd.Flags()
	fl.IntVar(&f.parallelism, "parallelism", 2, "subtasks per operator")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address, e.g. 127.0.0.1:9249 (empty: off)")
	return cmd
}

// addGeneratorFlags registers the payment generator's flags on cmd (weir
// demo and weir run demo).
func (f *demoFlags) addGeneratorFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Int64Var(&f.events, "events", 0, "stop after this many payments (0: run until Ctrl-C)")
	fl.Float64Var(&f.rate, "rate", 10_000, "payments per second (0: as fast as possible)")
	fl.Int64Var(&f.seed, "seed", 1, "seed of the generated payments")
	fl.IntVar(&f.accounts, "accounts", 10_000, "number of accounts")
}

// generator checks the generator's flags and returns its configuration.
func (f demoFlags) generator() (fraud.GeneratorConfig, error) {
	if f.rate < 0 || f.events < 0 || f.accounts < 1 {
		return fraud.GeneratorConfig{}, errors.New("--rate and --events must not be negative, --accounts must be positive")
	}
	if err := checkRate(f.rate); err != nil {
		return fraud.GeneratorConfig{}, err
	}
	gen := fraud.GeneratorConfig{Seed: f.seed, Accounts: f.accounts, Events: f.events, Rate: f.rate}
	if f.rate > 0 {
		// Event time follows the wall clock.
		gen.Start = time.Now().UnixMilli()
	}
	return gen, nil
}

// checkRate refuses a --rate that is negative, NaN or infinite (NaN gave
// the demo's payments timestamps at the end of time; Inf never paced).
func checkRate(rate float64) error {
	if rate < 0 || math.IsNaN(rate) || math.IsInf(rate, 0) {
		return fmt.Errorf("--rate must be a finite number, not negative: %v", rate)
	}
	return nil
}

func runDemo(cmd *cobra.Command, f demoFlags) error {
	if f.parallelism < 1 {
		return fmt.Errorf("demo: --parallelism must be at least 1, not %d", f.parallelism)
	}
	gen, err := f.generator()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	ctx := cmd.Context()
	opts := fraud.RunOptions{
		Env:    weir.Options{Parallelism: f.parallelism},
		Alerts: cmd.OutOrStdout(),
		Status: cmd.ErrOrStderr(),
	}

	var stopMetrics func() error
	if f.metricsAddr != "" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		opts.Env.Registry = reg
		addr, stop, err := serveMetrics(f.metricsAddr, reg)
		if err != nil {
			return err
		}
		stopMetrics = stop
		fmt.Fprintf(cmd.ErrOrStderr(), "metrics on http://%s/metrics\n", addr)
	}

	_, runErr := fraud.Run(ctx, fraud.Config{Generator: gen}, opts)

	if stopMetrics != nil {
		if err := stopMetrics(); err != nil && runErr == nil {
			runErr = err
		}
	}
	return runErr
}

// serveMetrics serves reg's metrics at /metrics on addr until stop is
// called; stop shuts the server down and waits for its goroutine.
func serveMetrics(addr string, reg *prometheus.Registry) (bound string, stop func() error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	stop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(ctx)
		if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		return nil
	}
	return ln.Addr().String(), stop, nil
}
