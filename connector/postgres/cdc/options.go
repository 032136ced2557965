package cdc

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
)

// Defaults of Options.
const (
	DefaultSnapshotFetchSize = 1024
	DefaultStatusInterval    = 10 * time.Second
	DefaultMinBackoff        = 100 * time.Millisecond
	DefaultMaxBackoff        = 5 * time.Second
)

// ErrOptions is matched (errors.Is) by the errors of invalid options. It
// matches weir.ErrInvalidOption.
var ErrOptions = weir.MarkError(errors.New("cdc: invalid options"), weir.ErrInvalidOption)

func optionError(option, reason string) error {
	return &weir.InvalidOptionError{Prefix: "cdc", Option: option, Reason: reason, Kind: ErrOptions}
}

// Options configure a Source.
type Options struct {
	// Conn is the connection string (URL or key=value form) of the
	// database, required. The source adds replication=database for its
	// replication connections and sets TimeZone=UTC, DateStyle=ISO and
	// bytea_output=hex on every connection.
	Conn string
	// Tables are the captured tables, "schema.name" or "name" (schema
	// public), required. Each needs a primary key.
	Tables []string
	// Slot is the logical replication slot's name, required. The source
	// creates it (pgoutput) when the job starts fresh, dropping one left by
	// an earlier run, and reuses it when the job restores a checkpoint.
	Slot string
	// Publication is the publication's name, required; the source creates
	// it FOR TABLE Tables if it does not exist (an existing one is used as
	// it is).
	Publication string
	// SkipSnapshot starts streaming at the slot's consistent point without
	// reading the tables first.
	SkipSnapshot bool
	// SnapshotFetchSize is how many rows one snapshot query reads (default
	// DefaultSnapshotFetchSize).
	SnapshotFetchSize int
	// StatusInterval is how often the source sends a standby status update
	// (its heartbeat to the server, with the LSN the last completed
	// checkpoint covers) while streaming (default DefaultStatusInterval;
	// it must be below the server's wal_sender_timeout).
	StatusInterval time.Duration
	// HeartbeatQuery, if set, is run on an ordinary connection every
	// StatusInterval, for example an UPDATE of a heartbeat table in the
	// publication: it makes WAL for the slot to pass on a database that
	// is otherwise idle, so the slot's position advances.
	HeartbeatQuery string
	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts, which doubles from MinBackoff up to MaxBackoff (defaults
	// DefaultMinBackoff, DefaultMaxBackoff).
	MinBackoff, MaxBackoff time.Duration
	// ErrorPolicy handles changes with a value that does not decode
	// (default: fail the job).
	ErrorPolicy weir.ErrorPolicy
	// Registry, if set, receives the source's metrics, labelled with the
	// slot: weir_postgres_cdc_events_total, weir_postgres_cdc_snapshot_rows_total,
	// weir_postgres_cdc_lag_bytes.
	Registry prometheus.Registerer
	// Logger receives the source's logs (nil discards them).
	Logger *slog.Logger
}

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// check validates the options and fills in defaults.
func (o *Options) check() error {
	switch {
	case o.Conn == "":
		return optionError("Conn", "must be set")
	case len(o.Tables) == 0:
		return optionError("Tables", "must not be empty")
	case !identRE.MatchString(o.Slot):
		return optionError("Slot", fmt.Sprintf("%q: must be lower-case letters, digits and _", o.Slot))
	case !identRE.MatchString(o.Publication):
		return optionError("Publication", fmt.Sprintf("%q: must be lower-case letters, digits and _", o.Publication))
	}
	for _, t := range o.Tables {
		if _, _, err := splitTable(t); err != nil {
			return err
		}
	}
	if o.SnapshotFetchSize <= 0 {
		o.SnapshotFetchSize = DefaultSnapshotFetchSize
	}
	if o.StatusInterval <= 0 {
		o.StatusInterval = DefaultStatusInterval
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(DefaultMaxBackoff, o.MinBackoff)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// splitTable splits "schema.name" (or "name": schema public).
func splitTable(s string) (schema, name string, err error) {
	schema, name, ok := strings.Cut(s, ".")
	if !ok {
		schema, name = "public", s
	}
	if schema == "" || name == "" || strings.Contains(name, ".") {
		return "", "", optionError("Tables", fmt.Sprintf("%q: want schema.name or name", s))
	}
	return schema, name, nil
}

// metrics are a source's Prometheus metrics.
type metrics struct {
	events, snapshotRows prometheus.Counter
	lag                  prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, slot string) (*metrics, error) {
	labels := prometheus.Labels{"slot": slot}
	m := &metrics{
		events: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "weir", Subsystem: "postgres_cdc",
			Name: "events_total", Help: "Changes the source emitted (snapshot reads included).", ConstLabels: labels}),
		snapshotRows: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "weir", Subsystem: "postgres_cdc",
			Name: "snapshot_rows_total", Help: "Rows the snapshot emitted.", ConstLabels: labels}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "weir", Subsystem: "postgres_cdc",
			Name: "lag_bytes", Help: "Bytes of WAL between the server's WAL end and what the source emitted.", ConstLabels: labels}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.events, err = register(reg, m.events); err != nil {
		return nil, err
	}
	if m.snapshotRows, err = register(reg, m.snapshotRows); err != nil {
		return nil, err
	}
	if m.lag, err = register(reg, m.lag); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector registered before under
// the same name and labels (sources of one job may share a registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if e, ok := are.ExistingCollector.(C); ok {
			return e, nil
		}
	}
	if err != nil {
		return c, fmt.Errorf("cdc: registering metrics: %w", err)
	}
	return c, nil
}
