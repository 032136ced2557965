package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/fileuri"
	"github.com/weirstream/weir/sql"
)

// GoJob is a Go job the server can run by name: POST /jobs with
// {"job": name, "args": {...}}.
type GoJob struct {
	// Description is shown in errors that list the jobs.
	Description string
	// Build adds the job to env from its submitted arguments; an error
	// is the submitter's (HTTP 400). It is called again, with the same
	// arguments, whenever the job resumes, so it must build the same
	// operators (uids) every time.
	Build func(env *weir.Environment, args map[string]string) error
}

// Options configure a Server. Dir is required.
type Options struct {
	// Dir holds the job registry, each job's checkpoints and state, and
	// (by default) savepoints. See docs/server.md.
	Dir string
	// Addr is the address the server listens on; only used to decide
	// whether the server is exposed (a non-loopback address needs Token
	// and TLS).
	Addr string
	// Token, if set, must be presented as "Authorization: Bearer TOKEN"
	// on every mutating call, and on every call when Addr is not a
	// loopback address.
	Token string
	// TLS says the listener serves TLS (required with Token on a
	// non-loopback Addr).
	TLS bool
	// SavepointRoots are the directories savepoint and stop requests may
	// name as target-directory (default: Dir/savepoints). A target outside
	// them is refused.
	SavepointRoots []string
	// MaxBodyBytes bounds request bodies (default 1 MiB): larger gets 413.
	MaxBodyBytes int64
	// RateLimit is the requests per second allowed per client address,
	// with bursts of twice as many (default 20; negative: no limit).
	RateLimit float64
	// CheckpointInterval is the checkpoint interval of jobs whose
	// definition sets none (default 1s).
	CheckpointInterval time.Duration
	// MetricsInterval is how often jobs publish the metrics the API shows
	// (default 1s).
	MetricsInterval time.Duration
	// SavepointTimeout bounds a savepoint or stop (default 5 min).
	SavepointTimeout time.Duration
	// Restart returns the restart strategy of a new job run (nil: Flink's
	// default with checkpointing, exponential delay from 1 s to 30 s).
	// The engine's repeated-failure limit ends a job that keeps failing
	// the same way.
	Restart func() weir.RestartStrategy
	// GoJobs are the Go jobs POST /jobs can run by name.
	GoJobs map[string]GoJob
	// NewSQLSession makes the SQL sessions of submitted SQL jobs and of
	// the SQL Gateway, with the connectors and functions the server's
	// SQL may use (nil: sql.NewSession, the default connectors and no
	// user-defined functions).
	NewSQLSession func(sql.SessionOptions) (*sql.Session, error)
	// Pebble is the Pebble engine jobs with the pebble state backend use
	// (nil: such jobs fail to start, naming the package).
	Pebble weir.PebbleEngine
	// SQL configures the SQL Gateway API (sessions and statements;
	// gateway.go).
	SQL SQLGatewayOptions
	// Version is reported by GET /overview.
	Version string
	// Logger receives the server's and the jobs' logs (nil: discard).
	Logger *slog.Logger
	// TracerProvider, if set, receives the jobs' OpenTelemetry spans
	// (weir.Options.TracerProvider).
	TracerProvider trace.TracerProvider
	// LatencyTrackingInterval, if positive, has every job's sources emit
	// latency markers this often (weir.Options.LatencyTrackingInterval):
	// weir_latency_ms{source,sink} in GET /metrics, and spans with tracing.
	LatencyTrackingInterval time.Duration
}

func (o *Options) fill() error {
	if o.Dir == "" {
		return errors.New("server: Options.Dir must be set")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	o.Dir = dir
	if len(o.SavepointRoots) == 0 {
		o.SavepointRoots = []string{filepath.Join(o.Dir, "savepoints")}
	}
	for i, r := range o.SavepointRoots {
		if r, err = fileuri.Path(r); err != nil {
			return fmt.Errorf("server: savepoint root: %w", err)
		}
		if strings.Contains(r, "://") {
			return fmt.Errorf("server: savepoint root %q: only local directories are supported", r)
		}
		if o.SavepointRoots[i], err = filepath.Abs(r); err != nil {
			return fmt.Errorf("server: savepoint root %q: %w", r, err)
		}
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.RateLimit == 0 {
		o.RateLimit = 20
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = time.Second
	}
	if o.MetricsInterval <= 0 {
		o.MetricsInterval = time.Second
	}
	if o.SavepointTimeout <= 0 {
		o.SavepointTimeout = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Restart == nil {
		o.Restart = func() weir.RestartStrategy {
			return &weir.ExponentialDelayRestart{Initial: time.Second, Max: 30 * time.Second, Multiplier: 2, Jitter: 0.1}
		}
	}
	o.SQL.fill()
	if o.Addr != "" && !IsLoopback(o.Addr) && (o.Token == "" || !o.TLS) {
		return fmt.Errorf("server: refusing to listen on the non-loopback address %s without both a token and TLS (set --token or WEIR_TOKEN, and --tls-cert/--tls-key)", o.Addr)
	}
	return nil
}

// IsLoopback reports whether addr (host:port) binds only loopback
// interfaces. An empty host (all interfaces) is not loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Server hosts jobs and serves the REST API over them (Handler). Create
// it with New, resume the registered jobs with Start, end it with
// Shutdown (stop-with-savepoint of every job) or Close (cancel). Its
// methods are safe for concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	reg     registry
	limiter *rateLimiter
	// gw serves the SQL Gateway API's sessions and operations.
	gw *gateway
	// wg owns every goroutine of the server: job watchers, operations.
	wg sync.WaitGroup
	// closing is set by Shutdown and Close: no new jobs, no new runs.
	closing atomic.Bool
	mu      struct {
		sync.Mutex
		jobs map[string]*hostedJob
	}
}

// New checks opts and opens the registry in opts.Dir.
func New(opts Options) (*Server, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "jobs"), 0o700); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{opts: opts, log: opts.Logger, reg: registry{dir: opts.Dir}}
	if opts.RateLimit > 0 {
		s.limiter = newRateLimiter(opts.RateLimit, 2*opts.RateLimit, time.Now)
	}
	s.mu.jobs = map[string]*hostedJob{}
	s.gw = newGateway(s)
	return s, nil
}

// Start loads the registry and resumes every job whose record says it
// runs (after a crash: from its latest completed checkpoint) or was
// suspended by a shutdown (from that stop's savepoint). A job that fails
// to resume is shown as FAILED with the reason, and its record is left as
// it was so that the next server tries again; Start returns an error only
// when the registry cannot be read.
func (s *Server) Start(ctx context.Context) error {
	recs, err := s.reg.load()
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		j := newHostedJob(s, *rec)
		s.mu.Lock()
		s.mu.jobs[rec.ID] = j
		s.mu.Unlock()
		if !rec.resumable() {
			// Its plan, for GET /jobs/{jobid} (without metrics: it ran
			// in an earlier server).
			if b, err := s.prepare(rec); err == nil {
				env := weir.NewEnvironment(weir.Options{Parallelism: rec.Parallelism})
				if b.build(env) == nil {
					j.mu.plan = env.Plan()
				}
			}
			continue
		}
		j.mu.Lock()
		j.mu.rec.State = stateRunning
		b, err := s.prepare(&j.mu.rec)
		if err == nil {
			err = j.startLocked(b)
		}
		if err != nil {
			// Shown as FAILED; the record keeps asking for the job, so
			// the next server tries again (the cause may be passing: a
			// disk, a mount).
			j.mu.rec.State, j.mu.rec.Failure = stateFailed, "resume: "+err.Error()
			s.log.Error("server: resuming job", "job", rec.ID, "err", err)
		} else {
			s.log.Info("server: job resumed", "job", rec.ID, "name", rec.Name)
			if werr := s.reg.write(&j.mu.rec); werr != nil {
				s.log.Error("server: recording job", "job", rec.ID, "err", werr)
			}
		}
		j.mu.Unlock()
	}
	return nil
}

// errBadRequest marks a submission the server refuses (HTTP 400).
var errBadRequest = errors.New("bad request")

// submit records and starts a new job.
func (s *Server) submit(rec Record) (string, error) {
	if s.isClosing() {
		return "", fmt.Errorf("%w: the server is shutting down", errConflict)
	}
	b, err := s.prepare(&rec)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errBadRequest, err)
	}
	if rec.Parallelism <= 0 {
		rec.Parallelism = max(b.opts.Parallelism, 1)
	}
	rec.ID = newID()
	rec.State = stateRunning
	rec.Created = time.Now().UTC()
	// Planning is not everything: build once more into a throwaway
	// environment, so that errors of the dataflow (a connector option)
	// are the submitter's before anything is recorded.
	if err := b.build(weir.NewEnvironment(weir.Options{Parallelism: rec.Parallelism})); err != nil {
		return "", fmt.Errorf("%w: %w", errBadRequest, err)
	}
	if err := s.reg.write(&rec); err != nil {
		return "", err
	}
	j := newHostedJob(s, rec)
	s.mu.Lock()
	s.mu.jobs[rec.ID] = j
	s.mu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.startLocked(b); err != nil {
		j.mu.rec.State, j.mu.rec.Failure = stateFailed, err.Error()
		if werr := s.reg.write(&j.mu.rec); werr != nil {
			s.log.Error("server: recording job", "job", rec.ID, "err", werr)
		}
		return rec.ID, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	s.log.Info("server: job submitted", "job", rec.ID, "name", rec.Name, "parallelism", rec.Parallelism)
	return rec.ID, nil
}

func (s *Server) isClosing() bool { return s.closing.Load() }

// job returns the job id, or nil.
func (s *Server) job(id string) *hostedJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.jobs[id]
}

// jobs returns the jobs, oldest first.
func (s *Server) jobs() []*hostedJob {
	s.mu.Lock()
	js := make([]*hostedJob, 0, len(s.mu.jobs))
	for _, j := range s.mu.jobs {
		js = append(js, j)
	}
	s.mu.Unlock()
	sort.Slice(js, func(a, b int) bool {
		ra, rb := js[a].record(), js[b].record()
		if !ra.Created.Equal(rb.Created) {
			return ra.Created.Before(rb.Created)
		}
		return ra.ID < rb.ID
	})
	return js
}

func (j *hostedJob) record() Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.mu.rec
}

func (s *Server) goJobNames() string {
	names := make([]string, 0, len(s.opts.GoJobs))
	for n := range s.opts.GoJobs {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Shutdown closes the SQL sessions (canceling their preview jobs) and
// stops every running job with a savepoint into its default
// savepoint directory, recording each as SUSPENDED so that the next
// server resumes it from that savepoint, and waits for them. When ctx
// ends first, the remaining jobs are canceled: they stay recorded as
// running and resume from their latest checkpoint.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.gw.close()
	var errs []error
	for _, j := range s.jobs() {
		if _, err := j.stopWithSavepoint(s.defaultSavepointDir(j.id), intentShutdown, 0, false); err != nil && !errors.Is(err, errConflict) {
			errs = append(errs, err)
		}
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("server: shutdown: %w; canceling the jobs not stopped yet (they resume from their latest checkpoint)", ctx.Err()))
		s.cancelAll()
		<-done
	}
	return errors.Join(errs...)
}

// Close closes the SQL sessions and cancels every job without a
// savepoint and waits for them: they
// stay recorded as running and resume from their latest checkpoint.
func (s *Server) Close() {
	s.closing.Store(true)
	s.gw.close()
	s.cancelAll()
	s.wg.Wait()
}

func (s *Server) cancelAll() {
	for _, j := range s.jobs() {
		j.mu.Lock()
		if a := j.mu.run; a != nil {
			a.client.Cancel()
		}
		j.mu.Unlock()
	}
}

func (s *Server) defaultSavepointDir(id string) string {
	return filepath.Join(s.opts.SavepointRoots[0], id)
}

// newID returns a job or request id: 32 hex digits, as Flink's.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// newSQLSession makes a SQL session through Options.NewSQLSession.
func (s *Server) newSQLSession(o sql.SessionOptions) (*sql.Session, error) {
	if s.opts.NewSQLSession == nil {
		return sql.NewSession(o), nil
	}
	sess, err := s.opts.NewSQLSession(o)
	if err != nil {
		return nil, fmt.Errorf("server: opening a SQL session: %w", err)
	}
	return sess, nil
}
