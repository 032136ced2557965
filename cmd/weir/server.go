package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/demo/sums"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/server"
	"github.com/weirstream/weir/statebackend/pebble"
)

// serverFlags are the flags of `weir server`.
type serverFlags struct {
	dir, addr, token      string
	tlsCert, tlsKey       string
	savepointRoots        []string
	maxBody               int64
	rateLimit             float64
	checkpointInterval    time.Duration
	metricsInterval       time.Duration
	shutdownTimeout       time.Duration
	verbose               bool
	telemetry             telemetryFlags
	allowInsecureLoopback bool
	sql                   server.SQLGatewayOptions
}

// newServerCmd returns `weir server`.
func newServerCmd(signals signalFunc) *cobra.Command {
	f := &serverFlags{}
	cmd := &cobra.Command{
		Use:   "server --dir DIR [--addr 127.0.0.1:8081] [flags]",
		Short: "Host jobs in a long-running process with a REST API (Flink's shape)",
		Long: `Runs a server that hosts SQL jobs (an INSERT INTO or statement set with
its DDL) and the built-in Go jobs (sums), each with checkpoints under
--dir, and serves a REST API in the shape of Flink's (docs/server.md;
the OpenAPI document is at /openapi.json). Control it with 'weir job'.

Durability: the job registry lives in --dir. A server restarted after a
crash (even SIGKILL) resumes every running job from its latest completed
checkpoint; SIGTERM or SIGINT stop every job with a savepoint first, and
the next server resumes them from those savepoints. A second signal
cancels the jobs still stopping (they resume from their latest
checkpoint).

Security: with --token (or WEIR_TOKEN) every mutating call needs
'Authorization: Bearer TOKEN'; on a non-loopback --addr every call
needs it, and the server refuses to start there without both a token and
TLS (--tls-cert, --tls-key).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.dir == "" {
				return errors.New("server: --dir must be set (where jobs, checkpoints and savepoints live)")
			}
			if f.token == "" {
				f.token = os.Getenv("WEIR_TOKEN")
			}
			if (f.tlsCert == "") != (f.tlsKey == "") {
				return errors.New("server: --tls-cert and --tls-key go together")
			}
			return runServer(cmd, f, signals)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "", "directory of the job registry, checkpoints, state and default savepoints")
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8081", "address the REST API listens on")
	fl.StringVar(&f.token, "token", "", "bearer token required by mutating calls (and by every call on a non-loopback address); default $WEIR_TOKEN")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate file: serve HTTPS")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM key file of --tls-cert")
	fl.StringArrayVar(&f.savepointRoots, "savepoint-root", nil, "directory savepoint requests may target (repeatable; default DIR/savepoints)")
	fl.Int64Var(&f.maxBody, "max-body", 1<<20, "largest request body in bytes (larger: 413)")
	fl.Float64Var(&f.rateLimit, "rate-limit", 20, "requests per second per client address, bursts of twice as many (negative: no limit)")
	fl.DurationVar(&f.checkpointInterval, "checkpoint-interval", time.Second, "checkpoint interval of jobs that set none")
	fl.DurationVar(&f.metricsInterval, "metrics-interval", time.Second, "how often jobs publish the metrics the API shows")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", time.Minute, "how long SIGTERM waits for the stop-with-savepoint of every job before canceling the rest")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log the jobs' progress (checkpoints, restores) to stderr")
	fl.DurationVar(&f.sql.SessionIdleTimeout, "sql-session-idle-timeout", 10*time.Minute, "SQL Gateway: close a session unused for this long, canceling its queries")
	fl.IntVar(&f.sql.MaxSessions, "sql-max-sessions", 100, "SQL Gateway: most open sessions (more: 503)")
	fl.IntVar(&f.sql.MaxQueries, "sql-max-queries", 10, "SQL Gateway: most SELECT preview jobs running at once (more: 503)")
	fl.IntVar(&f.sql.ResultBuffer, "sql-result-buffer", 10000, "SQL Gateway: rows a SELECT buffers for its client before its job waits")
	f.telemetry.register(fl, true)
	return cmd
}

// goJobs are the built-in Go jobs the server runs by name.
func goJobs() map[string]server.GoJob {
	return map[string]server.GoJob{
		"sums": {
			Description: "per-key running sums of JSON-lines files to exactly-once part files (args: input, output, rate, dead-letters)",
			Build: func(env *weir.Environment, args map[string]string) error {
				c := sums.Config{Input: args["input"], Output: args["output"], DeadLetters: args["dead-letters"]}
				for k := range args {
					switch k {
					case "input", "output", "rate", "dead-letters":
					default:
						return fmt.Errorf("sums: unknown argument %q (have: input, output, rate, dead-letters)", k)
					}
				}
				if r := args["rate"]; r != "" {
					v, err := strconv.ParseFloat(r, 64)
					if err != nil {
						return fmt.Errorf("sums: argument rate %q: %w", r, err)
					}
					c.Rate = v
				}
				if c.Input == "" || c.Output == "" {
					return errors.New("sums: arguments input and output must be set")
				}
				if err := c.Validate(); err != nil {
					return fmt.Errorf("sums: %w", err)
				}
				if err := checkRate(c.Rate); err != nil {
					return fmt.Errorf("sums: %w", err)
				}
				sums.Build(env, c)
				return nil
			},
		},
	}
}

func runServer(cmd *cobra.Command, f *serverFlags, signals signalFunc) error {
	stderr := newLockedWriter(cmd.ErrOrStderr())
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	logger, err := f.telemetry.logger(stderr, level)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	tp, shutdown, err := f.telemetry.tracerProvider(cmd.Context())
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	defer shutdownTracing(shutdown, logger)
	srv, err := server.New(server.Options{NewSQLSession: nexmark.SQLSession, TracerProvider: tp, LatencyTrackingInterval: f.telemetry.latency,
		Dir: f.dir, Addr: f.addr, Token: f.token, TLS: f.tlsCert != "", SavepointRoots: f.savepointRoots,
		MaxBodyBytes: f.maxBody, RateLimit: f.rateLimit, CheckpointInterval: f.checkpointInterval,
		MetricsInterval: f.metricsInterval, GoJobs: goJobs(), Pebble: pebble.New(), Version: version(), Logger: logger,
		SQL: f.sql,
	})
	if err != nil {
		return err
	}
	sigs, stopSignals := signals()
	defer stopSignals()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if err := srv.Start(cmd.Context()); err != nil {
		ln.Close()
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() {
		if f.tlsCert != "" {
			served <- hs.ServeTLS(ln, f.tlsCert, f.tlsKey)
		} else {
			served <- hs.Serve(ln)
		}
	}()
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
	}
	// The address line is how scripts (and tests) learn a :0 port.
	fmt.Fprintf(stderr, "weir server: listening on %s://%s (jobs in %s)\n", scheme, ln.Addr(), f.dir)

	var serveErr error
	// stops counts SIGINT/SIGTERMs read from sigs: the second
	// cancels the jobs at once. The command's context is canceled by the
	// same signal (main's NotifyContext), so a stop seen there first
	// leaves that signal in sigs, to be counted as the first, not the
	// second (as `weir run` counts them).
	stops := 0
wait:
	for {
		select {
		case serveErr = <-served:
			break wait
		case sig := <-sigs:
			if sig == syscall.SIGUSR1 {
				continue // savepoints are per job: POST /jobs/{jobid}/savepoints
			}
			stops++
			break wait
		case <-cmd.Context().Done():
			break wait
		}
	}
	fmt.Fprintln(stderr, "weir server: stopping every job with a savepoint (signal again to cancel them at once)")
	shCtx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	if serveErr == nil {
		_ = hs.Shutdown(shCtx) // stop taking requests first
		<-served
	}
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case sig := <-sigs:
				if sig == syscall.SIGUSR1 {
					continue
				}
				if stops++; stops < 2 {
					continue // the signal that canceled the context
				}
				cancel()
				return
			case <-shCtx.Done():
				return
			}
		}
	}()
	err = srv.Shutdown(shCtx)
	cancel()
	<-watched
	if err == nil {
		fmt.Fprintln(stderr, "weir server: stopped; the jobs resume from their savepoints when the server starts again")
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return errors.Join(fmt.Errorf("server: %w", serveErr), err)
	}
	return err
}
