package cdc

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
)

// ErrOptions is matched (errors.Is) by the errors of invalid options,
// worded "mysql cdc: option Tables: must not be empty". It matches
// weir.ErrInvalidOption.
var ErrOptions = weir.MarkError(errors.New("mysql cdc: invalid options"), weir.ErrInvalidOption)

func optionError(option, reason string) error {
	return &weir.InvalidOptionError{Prefix: "mysql cdc", Option: option, Reason: reason, Kind: ErrOptions}
}

// StartupMode says where a source starts when the job starts without a
// checkpoint (Flink CDC's scan.startup.mode). A restored job always
// resumes from its checkpoint.
type StartupMode uint8

const (
	// Initial reads a snapshot of the tables, then their changes from the
	// binlog position the snapshot was consistent with (the default).
	Initial StartupMode = iota
	// Latest reads only the changes made after the source started.
	Latest
	// SpecificOffset reads the changes from Options.StartFile and
	// StartPos, or from Options.StartGTID if set.
	SpecificOffset
)

// String names the mode as Flink CDC does.
func (m StartupMode) String() string {
	switch m {
	case Initial:
		return "initial"
	case Latest:
		return "latest-offset"
	case SpecificOffset:
		return "specific-offset"
	}
	return fmt.Sprintf("StartupMode(%d)", m)
}

// SnapshotAlgorithm says how each snapshot chunk is made consistent with
// the binlog (see doc.go).
type SnapshotAlgorithm uint8

const (
	// AutoSnapshot uses ConsistentSnapshot when the server reports the
	// binlog position of a consistent snapshot (MariaDB's session status
	// binlog_snapshot_file and binlog_snapshot_position), WatermarkSnapshot
	// otherwise (MySQL). The default.
	AutoSnapshot SnapshotAlgorithm = iota
	// ConsistentSnapshot reads each chunk in a transaction started WITH
	// CONSISTENT SNAPSHOT whose binlog position the server reports. A
	// server that does not report it fails the job.
	ConsistentSnapshot
	// WatermarkSnapshot is Flink CDC's incremental snapshot algorithm:
	// each chunk is read between a low and a high binlog watermark and
	// corrected with the binlog changes between them. It works on MySQL
	// and MariaDB.
	WatermarkSnapshot
)

// String names the algorithm: auto, consistent-snapshot or watermark.
func (a SnapshotAlgorithm) String() string {
	switch a {
	case AutoSnapshot:
		return "auto"
	case ConsistentSnapshot:
		return "consistent-snapshot"
	case WatermarkSnapshot:
		return "watermark"
	}
	return fmt.Sprintf("SnapshotAlgorithm(%d)", a)
}

// ParseSnapshotAlgorithm parses the name String returns.
func ParseSnapshotAlgorithm(s string) (SnapshotAlgorithm, error) {
	for a := AutoSnapshot; a <= WatermarkSnapshot; a++ {
		if strings.EqualFold(s, a.String()) {
			return a, nil
		}
	}
	return 0, optionError("SnapshotAlgorithm", fmt.Sprintf("%q is not one of auto, consistent-snapshot, watermark", s))
}

// Defaults of Options.
const (
	DefaultAddr        = "127.0.0.1:3306"
	DefaultUser        = "root"
	DefaultChunkSize   = 4096
	DefaultMinBackoff  = 100 * time.Millisecond
	DefaultMaxBackoff  = 5 * time.Second
	DefaultHeartbeat   = time.Second
	DefaultReadTimeout = 10 * time.Second
	DefaultSeekTimeout = 10 * time.Minute
	DefaultBuffer      = 64
)

// Options configure a Source. Zero values take the defaults above.
type Options struct {
	// Addr is the server's host:port (default DefaultAddr).
	Addr string
	// User and Password log in (default user root, no password). The user
	// needs SELECT, REPLICATION SLAVE and BINLOG MONITOR (MariaDB) or
	// REPLICATION CLIENT (MySQL), and XA_RECOVER_ADMIN on MySQL 8 (XA
	// RECOVER, which a fresh start asks to find the XA transactions
	// prepared before its start position: see xastart.go).
	User, Password string
	// Tables are the tables to capture, as "database.table" (required).
	// Each must have a primary key.
	Tables []string
	// ServerID is the replica server id the binlog client registers with;
	// it must differ from every other replica of the server (default: a
	// random id in [1<<20, 1<<31)).
	ServerID uint32
	// Startup says where a fresh job starts (default Initial).
	Startup StartupMode
	// StartFile and StartPos, or StartGTID (a MariaDB GTID position such
	// as "0-1-42", or a MySQL GTID set), are the start of SpecificOffset.
	StartFile string
	StartPos  uint32
	StartGTID string
	// ResumeByPosition makes the source resume (after a restore or a
	// reconnect) from the binlog file and offset even where it knows the
	// GTID position. By default a restore resumes from the GTID position
	// when it has one, which survives a server whose binlog files were
	// renamed or a switch to another server of the same replication
	// topology; a reconnection to the server the position was read from
	// (same server_id, and server_uuid on MySQL) resumes from the file and
	// offset, which MariaDB seeks without scanning the binlog file.
	ResumeByPosition bool
	// ChunkSize is how many rows one snapshot chunk reads (default
	// DefaultChunkSize). A chunk is emitted whole between two
	// checkpoints, so it bounds the memory and the snapshot work a
	// restore repeats. Tables whose primary key is not a single integer
	// column are read in one chunk.
	ChunkSize int
	// SnapshotAlgorithm says how a snapshot chunk is made consistent with
	// the binlog (default AutoSnapshot: MariaDB's consistent snapshot
	// position where the server has it, the watermark algorithm
	// otherwise).
	SnapshotAlgorithm SnapshotAlgorithm
	// ErrorPolicy handles rows the source cannot decode (a zero date, an
	// enum index outside the column's values): by default they fail the
	// job; with weir.DeadLetterTo they go to the dead-letter side output.
	ErrorPolicy weir.ErrorPolicy
	// MinBackoff and MaxBackoff bound the exponential wait between
	// reconnection attempts after a connection fails (defaults
	// DefaultMinBackoff, DefaultMaxBackoff). The source retries forever;
	// errors retrying cannot fix (a missing table, a changed column
	// count) fail the job at once.
	MinBackoff, MaxBackoff time.Duration
	// HeartbeatPeriod is how often the server sends a heartbeat while the
	// binlog is quiet and ReadTimeout how long the source waits for any
	// event before it treats the connection as dead and reconnects
	// (defaults DefaultHeartbeat, DefaultReadTimeout).
	//
	// ReadTimeout applies once the stream is positioned: after a
	// (re)connection the server first seeks the start position, and
	// resuming by GTID MariaDB scans the binlog file from its start,
	// sending nothing (not even heartbeats) until it gets there, which
	// can take minutes on a big file. SeekTimeout bounds that wait
	// instead (and the wait for any one binlog packet, and for the
	// answer of BINLOG_GTID_POS, which scans the file too; default
	// DefaultSeekTimeout, at least ReadTimeout). The other queries (the
	// snapshot's among them) wait at most ReadTimeout for any one packet.
	HeartbeatPeriod, ReadTimeout, SeekTimeout time.Duration
	// Buffer is how many batches of changes the reading goroutine may
	// hold ahead of the job (default DefaultBuffer): the backpressure
	// bound.
	Buffer int
	// Registry, if set, receives the source's metrics (see doc.go).
	Registry prometheus.Registerer
	// Logger receives reconnection warnings (nil discards them).
	Logger *slog.Logger
}

// withDefaults returns o with defaults filled in, or an option error.
func (o Options) withDefaults() (Options, error) {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.User == "" {
		o.User = DefaultUser
	}
	if o.ServerID == 0 {
		o.ServerID = uint32(1<<20 + rand.IntN(1<<31-1<<20))
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.HeartbeatPeriod <= 0 {
		o.HeartbeatPeriod = DefaultHeartbeat
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.ReadTimeout <= o.HeartbeatPeriod {
		o.ReadTimeout = 3 * o.HeartbeatPeriod
	}
	if o.SeekTimeout <= 0 {
		o.SeekTimeout = DefaultSeekTimeout
	}
	if o.SeekTimeout < o.ReadTimeout {
		o.SeekTimeout = o.ReadTimeout
	}
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(o.Tables) == 0 {
		return o, optionError("Tables", "must not be empty")
	}
	seen := map[string]bool{}
	for _, t := range o.Tables {
		db, name, ok := strings.Cut(t, ".")
		if !ok || db == "" || name == "" || strings.Contains(name, ".") {
			return o, optionError("Tables", fmt.Sprintf("%q is not database.table", t))
		}
		if seen[t] {
			return o, optionError("Tables", fmt.Sprintf("%q is listed twice", t))
		}
		seen[t] = true
	}
	if o.Startup > SpecificOffset {
		return o, optionError("Startup", "unknown mode")
	}
	if o.SnapshotAlgorithm > WatermarkSnapshot {
		return o, optionError("SnapshotAlgorithm", "unknown algorithm")
	}
	if o.Startup == SpecificOffset && o.StartGTID == "" && o.StartFile == "" {
		return o, optionError("StartFile", "SpecificOffset needs StartFile and StartPos, or StartGTID")
	}
	return o, nil
}
