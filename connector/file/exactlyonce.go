package file

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir"
)

// DefaultMaxPartSize is the size at which an exactly-once sink rolls to a
// new part file by default (Flink's default for row formats).
const DefaultMaxPartSize = 128 << 20

// ExactlyOnceOptions configure an exactly-once file sink.
type ExactlyOnceOptions struct {
	// Comma is the CSV field separator (default ',').
	Comma rune
	// MaxPartSize rolls to a new part file once the current one holds at
	// least this many bytes (default DefaultMaxPartSize).
	MaxPartSize int64
	// RolloverInterval rolls to a new part file before a record is written
	// to a part file open for longer than this (default 0: no time-based
	// rolling). Part files also roll at every checkpoint.
	RolloverInterval time.Duration
	// InactivityInterval rolls a part file that has received no record
	// for this long (Flink's sink.rolling-policy.inactivity-interval;
	// default 0: never). It is checked every CheckInterval, also while no
	// record arrives.
	InactivityInterval time.Duration
	// CheckInterval is how often, in processing time, the writer checks
	// RolloverInterval and InactivityInterval without a record (Flink's
	// sink.rolling-policy.check-interval; default DefaultCheckInterval).
	// RolloverInterval is also checked before each record.
	CheckInterval time.Duration
	// Compact merges the part files a subtask closes within one
	// checkpoint (in one bucket) into part files of up to
	// CompactTargetSize bytes before they become visible (Flink's
	// auto-compaction); see the package documentation. The format must
	// be JSON or a BulkFormat that implements MergingFormat.
	Compact bool
	// CompactTargetSize is the size compaction aims at (Flink's
	// compaction.file-size; default MaxPartSize).
	CompactTargetSize int64
}

// DefaultCheckInterval is Flink's default sink.rolling-policy.check-interval.
const DefaultCheckInterval = time.Minute

// MergingFormat is a BulkFormat whose part files can be compacted: Merge
// writes to w one part file holding the records of srcs (whole part files
// of this format, in order). Line formats concatenate them
// (ConcatParts).
type MergingFormat interface {
	Merge(w io.Writer, srcs []*os.File) error
}

// ConcatParts copies srcs to w in order: the Merge of formats whose part
// files are plain sequences of records (JSON lines, CSV without a header).
func ConcatParts(w io.Writer, srcs []*os.File) error {
	for _, f := range srcs {
		if _, err := io.Copy(w, f); err != nil {
			return fmt.Errorf("file: merging %s: %w", filepath.Base(f.Name()), err)
		}
	}
	return nil
}

// ExactlyOnceSink writes records to part files in a directory that become
// visible only when a checkpoint completes, after Flink's FileSink. Create
// it with ExactlyOnceJSONSink, ExactlyOnceCSVSink or ExactlyOnceBulkSink and
// add it with Stream.SinkTo. See the package documentation for the
// part-file life cycle.
type ExactlyOnceSink[T any] struct {
	dir    string
	format format
	bulk   BulkFormat[T]
	opts   ExactlyOnceOptions
}

// BulkWriter encodes the records of one part file of a bulk format such as
// Parquet (Flink's BulkWriter). It writes to the io.Writer its BulkFormat
// got; the sink buffers, syncs and closes the file.
type BulkWriter[T any] interface {
	// Write encodes one record.
	Write(v T) error
	// Finish writes what the format still buffers and its footer. It is
	// called once, when the part file rolls.
	Finish() error
}

// BulkFormat creates the encoder of each part file of a bulk format.
// Bulk formats buffer records (Parquet: row groups), so MaxPartSize counts
// the bytes they have passed on so far.
type BulkFormat[T any] interface {
	// Extension is the part files' extension, without the leading dot
	// ("parquet").
	Extension() string
	// NewWriter returns the encoder of a new part file that writes to w.
	NewWriter(w io.Writer) (BulkWriter[T], error)
}

// ExactlyOnceBulkSink writes committed part files
// dir/part-<subtask>-<n>.<ext> in a bulk format (see the parquet
// subpackage).
func ExactlyOnceBulkSink[T any](dir string, f BulkFormat[T], opts ExactlyOnceOptions) *ExactlyOnceSink[T] {
	return &ExactlyOnceSink[T]{dir: dir, bulk: f, opts: opts}
}

// ExactlyOnceJSONSink writes JSON lines to committed part files
// dir/part-<subtask>-<n>.jsonl.
func ExactlyOnceJSONSink[T any](dir string, opts ExactlyOnceOptions) *ExactlyOnceSink[T] {
	return &ExactlyOnceSink[T]{dir: dir, format: formatJSON, opts: opts}
}

// ExactlyOnceCSVSink writes CSV, a header line first in every part file, to
// committed part files dir/part-<subtask>-<n>.csv (see CSVSink for the
// columns).
func ExactlyOnceCSVSink[T any](dir string, opts ExactlyOnceOptions) *ExactlyOnceSink[T] {
	return &ExactlyOnceSink[T]{dir: dir, format: formatCSV, opts: opts}
}

func (s *ExactlyOnceSink[T]) ext() string {
	if s.bulk != nil {
		return s.bulk.Extension()
	}
	if s.format == formatCSV {
		return "csv"
	}
	return "jsonl"
}

// CreateWriter returns the writer of one subtask. It touches no file: the
// leftovers of earlier attempts are removed before the first record or
// checkpoint, once the staged output of the checkpoint restored from was
// committed.
func (s *ExactlyOnceSink[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	if s.opts.MaxPartSize < 0 {
		return nil, optionError("MaxPartSize", "must not be negative", nil)
	}
	if s.opts.RolloverInterval < 0 {
		return nil, optionError("RolloverInterval", "must not be negative", nil)
	}
	if s.opts.InactivityInterval < 0 {
		return nil, optionError("InactivityInterval", "must not be negative", nil)
	}
	if s.opts.CheckInterval < 0 {
		return nil, optionError("CheckInterval", "must not be negative", nil)
	}
	if s.opts.CompactTargetSize < 0 {
		return nil, optionError("CompactTargetSize", "must not be negative", nil)
	}
	w := &eoWriter[T]{dir: s.dir, ext: s.ext(), subtask: ctx.Subtask, parallelism: ctx.Parallelism,
		maxSize: s.opts.MaxPartSize, interval: s.opts.RolloverInterval, refs: map[string]bool{}, bulk: s.bulk,
		inactivity: s.opts.InactivityInterval, check: s.opts.CheckInterval, clock: ctx.Time}
	if w.maxSize == 0 {
		w.maxSize = DefaultMaxPartSize
	}
	if w.check == 0 {
		w.check = DefaultCheckInterval
	}
	// A writer merges the compaction units of a restored checkpoint even
	// when compaction is now off.
	w.merge = s.merger()
	if s.opts.Compact {
		if w.merge == nil {
			why := "the CSV sink writes a header line into every part file: its part files cannot be concatenated"
			if s.bulk != nil {
				why = fmt.Sprintf("the %s format cannot merge part files", s.bulk.Extension())
			}
			return nil, optionError("Compact", why, nil)
		}
		w.target = s.opts.CompactTargetSize
		if w.target == 0 {
			w.target = w.maxSize
		}
	}
	if ext := w.ext; ext == "" || strings.ContainsAny(ext, `/\`) || strings.HasPrefix(ext, ".") {
		return nil, optionError("part file extension", fmt.Sprintf("%q is not a file name extension", ext), nil)
	}
	switch {
	case s.bulk != nil:
	case s.format == formatCSV:
		comma, err := checkComma(s.opts.Comma)
		if err != nil {
			return nil, err
		}
		schema, err := newCSVSchema[T]()
		if err != nil {
			return nil, optionError("record type", "", err)
		}
		w.csv = &csvEncoder[T]{schema: schema, comma: comma}
	default:
		w.json = &bytes.Buffer{}
		w.enc = json.NewEncoder(w.json)
		w.enc.SetEscapeHTML(false)
	}
	return w, nil
}

// merger returns the function merging the sink's part files, nil if its
// format cannot.
func (s *ExactlyOnceSink[T]) merger() func(io.Writer, []*os.File) error {
	if m, ok := s.bulk.(MergingFormat); ok {
		return m.Merge
	}
	if s.bulk == nil && s.format != formatCSV {
		return ConcatParts
	}
	return nil
}

// eoWriter is the writer of one subtask of an ExactlyOnceSink.
type eoWriter[T any] struct {
	dir, ext             string
	subtask, parallelism int
	maxSize              int64
	interval             time.Duration
	inactivity, check    time.Duration
	// clock is the task's processing time (nil: the wall clock), which
	// openedAt and lastRec are read from.
	clock weir.ProcessingTimeService
	// target is the compaction target size, 0 without compaction; merge
	// merges part files (nil if the format cannot).
	target int64
	merge  func(io.Writer, []*os.File) error

	csv  *csvEncoder[T]
	json *bytes.Buffer
	enc  *json.Encoder
	bulk BulkFormat[T]
	cur  BulkWriter[T] // the open part file's bulk encoder
	cnt  countWriter

	started bool
	// refs are the files named by committables committed before the
	// writer started: the checkpoint restored from.
	refs map[string]bool
	part int64 // number of the next part file

	// The in-progress part file.
	f        *os.File
	bw       *bufio.Writer
	inprog   string // its name in dir
	final    string // the name it gets when committed
	size     int64
	openedAt time.Time
	lastRec  time.Time // when the last record was written to it
	count    int64     // records written by this writer, for error messages

	// closed are part files rolled since the last PreCommit.
	closed []committable
}

// committable names a pending part file and its final name, both in the
// sink's directory. With compaction, more contains further pending files
// merged with pending into final (committable version 2).
type committable struct {
	pending, final string
	more           []string
	size           int64 // bytes of the pending files; not encoded
}

const committableVersion = 1

// compactCommittableVersion encodes a compaction unit: the number of
// pending files, each pending file, then the final name.
const compactCommittableVersion = 2

func (c committable) encode() []byte {
	if len(c.more) > 0 {
		b := []byte{compactCommittableVersion}
		b = binary.AppendUvarint(b, uint64(1+len(c.more)))
		for _, p := range append([]string{c.pending}, c.more...) {
			b = binary.AppendUvarint(b, uint64(len(p)))
			b = append(b, p...)
		}
		b = binary.AppendUvarint(b, uint64(len(c.final)))
		return append(b, c.final...)
	}
	b := []byte{committableVersion}
	b = binary.AppendUvarint(b, uint64(len(c.pending)))
	b = append(b, c.pending...)
	b = binary.AppendUvarint(b, uint64(len(c.final)))
	return append(b, c.final...)
}

func decodeCommittable(b []byte) (committable, error) {
	bad := weir.MarkError(errors.New("file: corrupt committable"), weir.ErrCorruption)
	if len(b) == 0 || (b[0] != committableVersion && b[0] != compactCommittableVersion) {
		return committable{}, bad
	}
	n := 2
	if b[0] == compactCommittableVersion {
		k, m := binary.Uvarint(b[1:])
		if m <= 0 || k < 2 || k > uint64(len(b)) {
			return committable{}, bad
		}
		b = b[m:]
		n = int(k) + 1
	}
	b = b[1:]
	names := make([]string, n)
	for i := range names {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return committable{}, bad
		}
		names[i] = string(b[n : n+int(l)])
		b = b[n+int(l):]
		// Only plain names in the sink's directory: a checkpoint never
		// makes the sink rename anything else.
		if names[i] == "" || strings.ContainsAny(names[i], `/\`) || names[i] == "." || names[i] == ".." {
			return committable{}, bad
		}
	}
	if len(b) != 0 {
		return committable{}, bad
	}
	c := committable{pending: names[0], final: names[n-1]}
	if n > 2 {
		c.more = names[1 : n-1]
	}
	return c, nil
}

// partName parses a committed part file name part-<subtask>-<n>.<ext>.
func partName(name string) (subtask, n int64, ok bool) {
	rest, ok := strings.CutPrefix(name, "part-")
	if !ok {
		return 0, 0, false
	}
	rest, _, ok = strings.Cut(rest, ".")
	if !ok {
		return 0, 0, false
	}
	a, b, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, 0, false
	}
	s, err1 := strconv.ParseInt(a, 10, 64)
	p, err2 := strconv.ParseInt(b, 10, 64)
	// Only names the sink writes: not part-+1-02, which is not its file
	// (and must not be removed as a leftover).
	if err1 != nil || err2 != nil || s < 0 || p < 0 || strconv.FormatInt(s, 10) != a || strconv.FormatInt(p, 10) != b {
		return 0, 0, false
	}
	return s, p, true
}

// inProgressName parses .part-<subtask>-<n>.<ext>.inprogress.<id>.
func inProgressName(name string) (subtask, n int64, ok bool) {
	rest, ok := strings.CutPrefix(name, ".")
	if !ok || !strings.Contains(rest, ".inprogress.") {
		return 0, 0, false
	}
	return partName(rest)
}

// start removes what earlier attempts of this subtask left: in-progress
// files and staged part files that the restored checkpoint does not name
// (their records will be written again). Subtask 0 also cleans up after
// subtasks that no longer exist at the current parallelism. It picks the
// next part number above every part file of the subtask.
//
// This relies on the sink operator committing every committable of the
// restored checkpoint (those of all subtasks of the previous run) in every
// subtask before the writer's first record or checkpoint: a staged file a
// restored checkpoint names is then committed before any subtask looks for
// leftovers, and another subtask still committing it finds it committed.
func (w *eoWriter[T]) start() error {
	w.started = true
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		return fmt.Errorf("file: %w", err)
	}
	ents, err := os.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("file: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if s, n, ok := partName(name); ok && s == int64(w.subtask) {
			w.part = max(w.part, n+1)
			continue
		}
		s, n, ok := inProgressName(name)
		if !ok {
			continue
		}
		if s == int64(w.subtask) {
			w.part = max(w.part, n+1)
		}
		if w.refs[name] || (s != int64(w.subtask) && (w.subtask != 0 || s < int64(w.parallelism))) {
			continue
		}
		if err := os.Remove(filepath.Join(w.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("file: removing leftover %s: %w", name, err)
		}
	}
	for name := range w.refs {
		if s, n, ok := partName(name); ok && s == int64(w.subtask) {
			w.part = max(w.part, n+1)
		}
		// The later files of a compaction unit: their numbers are not
		// reused either.
		if s, n, ok := inProgressName(name); ok && s == int64(w.subtask) {
			w.part = max(w.part, n+1)
		}
	}
	w.refs = nil
	return nil
}

// open starts a new in-progress part file.
func (w *eoWriter[T]) open() error {
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return fmt.Errorf("file: %w", err)
	}
	w.final = fmt.Sprintf("part-%d-%d.%s", w.subtask, w.part, w.ext)
	w.inprog = "." + w.final + ".inprogress." + hex.EncodeToString(id[:])
	w.part++
	f, err := os.OpenFile(filepath.Join(w.dir, w.inprog), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("file: %w", err)
	}
	w.f, w.size = f, 0
	if w.bw == nil {
		w.bw = bufio.NewWriterSize(f, 64<<10)
	} else {
		w.bw.Reset(f)
	}
	if w.interval > 0 || w.inactivity > 0 {
		w.openedAt = w.now()
		w.lastRec = w.openedAt
	}
	if w.bulk != nil {
		w.cnt = countWriter{w: w.bw}
		if w.cur, err = w.bulk.NewWriter(&w.cnt); err != nil {
			f.Close()
			os.Remove(filepath.Join(w.dir, w.inprog))
			w.f, w.cur = nil, nil
			return fmt.Errorf("file: %s: %w", w.inprog, err)
		}
		return nil
	}
	if w.csv != nil {
		var h []byte
		if !w.csv.schema.isMap {
			h = w.csv.header()
		} else if w.csv.keys != nil {
			for i, k := range w.csv.keys {
				if i > 0 {
					h = append(h, w.csv.comma)
				}
				h = appendCSVField(h, k, w.csv.comma)
			}
			h = append(h, '\n')
		}
		if err := w.write(h); err != nil {
			return err
		}
	}
	return nil
}

func (w *eoWriter[T]) write(b []byte) error {
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("file: writing %s: %w", w.inprog, err)
	}
	w.size += int64(len(b))
	return nil
}

// roll flushes, syncs and closes the in-progress file: it is pending until
// the next PreCommit stages it.
func (w *eoWriter[T]) roll() error {
	if w.f == nil {
		return nil
	}
	f := w.f
	w.f = nil
	if w.cur != nil {
		err := w.cur.Finish()
		w.cur = nil
		if err != nil {
			f.Close()
			return fmt.Errorf("file: finishing %s: %w", w.inprog, err)
		}
		// The file's size includes what the format buffered until
		// Finish (Parquet: its last row group and footer): compaction
		// packs units by it.
		w.size = w.cnt.n
	}
	if err := w.bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("file: writing %s: %w", w.inprog, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("file: syncing %s: %w", w.inprog, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("file: closing %s: %w", w.inprog, err)
	}
	w.closed = append(w.closed, committable{pending: w.inprog, final: w.final, size: w.size})
	return nil
}

func (w *eoWriter[T]) Write(_ context.Context, v T, _ int64) error {
	if !w.started {
		if err := w.start(); err != nil {
			return err
		}
	}
	w.count++
	if w.bulk != nil {
		return w.writeBulk(v)
	}
	var line []byte
	if w.csv != nil {
		b, err := w.csv.encode(v)
		if err != nil {
			return fmt.Errorf("file: record %d of subtask %d: %w", w.count, w.subtask, err)
		}
		line = b
	} else {
		w.json.Reset()
		if err := w.enc.Encode(v); err != nil {
			return fmt.Errorf("file: record %d of subtask %d: %w", w.count, w.subtask, err)
		}
		line = w.json.Bytes()
	}
	if err := w.rollIfOld(); err != nil {
		return err
	}
	if w.f == nil {
		if err := w.open(); err != nil {
			return err
		}
	}
	if err := w.write(line); err != nil {
		return err
	}
	if w.inactivity > 0 {
		w.lastRec = w.now()
	}
	if w.size >= w.maxSize {
		return w.roll()
	}
	return nil
}

func (w *eoWriter[T]) writeBulk(v T) error {
	if err := w.rollIfOld(); err != nil {
		return err
	}
	if w.f == nil {
		if err := w.open(); err != nil {
			return err
		}
	}
	if err := w.cur.Write(v); err != nil {
		return fmt.Errorf("file: record %d of subtask %d: %w", w.count, w.subtask, err)
	}
	if w.inactivity > 0 {
		w.lastRec = w.now()
	}
	if w.size = w.cnt.n; w.size >= w.maxSize {
		return w.roll()
	}
	return nil
}

// rollIfOld rolls a part file open longer than RolloverInterval.
func (w *eoWriter[T]) rollIfOld() error {
	if w.f != nil && w.interval > 0 && w.now().Sub(w.openedAt) >= w.interval {
		return w.roll()
	}
	return nil
}

// now returns the processing time: the task's clock, as OnProcessingTime
// gets it, or the wall clock without one.
func (w *eoWriter[T]) now() time.Time {
	if w.clock != nil {
		return time.UnixMilli(w.clock.Now())
	}
	return time.Now()
}

// ProcessingTimeInterval is CheckInterval when a time-based rolling
// policy is set (weir.ProcessingTimeWriter).
func (w *eoWriter[T]) ProcessingTimeInterval() time.Duration {
	if w.interval > 0 || w.inactivity > 0 {
		return w.check
	}
	return 0
}

// OnProcessingTime rolls the in-progress part file once it is open longer
// than RolloverInterval or has had no record for InactivityInterval
// (Flink's DefaultRollingPolicy.shouldRollOnProcessingTime). The rolled
// file is committed with the next checkpoint.
func (w *eoWriter[T]) OnProcessingTime(_ context.Context, now int64) error {
	if w.f == nil {
		return nil
	}
	t := time.UnixMilli(now)
	if (w.interval > 0 && t.Sub(w.openedAt) >= w.interval) || (w.inactivity > 0 && t.Sub(w.lastRec) >= w.inactivity) {
		return w.roll()
	}
	return nil
}

// countWriter counts the bytes a bulk encoder writes.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Flush writes buffered records to the in-progress file; they stay
// invisible until committed. Bulk formats keep theirs until the part file
// rolls. Local file writes are not interruptible; ctx is not consulted.
func (w *eoWriter[T]) Flush(context.Context, bool) error {
	if w.f == nil {
		return nil
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("file: writing %s: %w", w.inprog, err)
	}
	return nil
}

// PreCommit rolls the in-progress file and stages every part file closed
// since the last checkpoint.
func (w *eoWriter[T]) PreCommit(ctx context.Context, _ int64) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("file: pre-commit: %w", err)
	}
	if !w.started {
		if err := w.start(); err != nil {
			return nil, err
		}
	}
	if err := w.roll(); err != nil {
		return nil, err
	}
	closed := w.closed
	if w.target > 0 {
		closed = compactionUnits(closed, w.target)
	}
	items := make([][]byte, len(closed))
	for i, c := range closed {
		items[i] = c.encode()
	}
	w.closed = w.closed[:0]
	return items, nil
}

// compactionUnits packs the part files closed within one checkpoint, in
// the order they were written, into units of up to target bytes (Flink's
// CompactCoordinator and BinPacking): a unit takes files until the next
// would carry it past target; a file larger than target is a unit of its
// own. A unit's final name is its first file's.
func compactionUnits(closed []committable, target int64) []committable {
	var units []committable
	for _, c := range closed {
		if n := len(units); n > 0 && units[n-1].size+c.size <= target {
			u := &units[n-1]
			u.more = append(u.more, c.pending)
			u.size += c.size
			continue
		}
		units = append(units, committable{pending: c.pending, final: c.final, size: c.size})
	}
	return units
}

// Commit renames staged part files to their final names. A part file whose
// final name exists and whose staged file does not was committed already
// (before a failure, or by another subtask after a restore). It stops
// between part files once ctx is done; the restore commits the rest.
func (w *eoWriter[T]) Commit(ctx context.Context, items [][]byte) error {
	if len(items) == 0 {
		return nil
	}
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("file: commit: %w", err)
		}
		c, err := decodeCommittable(it)
		if err != nil {
			return err
		}
		if !w.started {
			w.refs[c.pending], w.refs[c.final] = true, true
			for _, p := range c.more {
				w.refs[p] = true
			}
		}
		if len(c.more) > 0 {
			if err := w.compact(c); err != nil {
				return err
			}
			continue
		}
		err = os.Rename(filepath.Join(w.dir, c.pending), filepath.Join(w.dir, c.final))
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			if err != nil {
				return fmt.Errorf("file: committing %s: %w", c.final, err)
			}
			continue
		}
		if _, serr := os.Stat(filepath.Join(w.dir, c.final)); serr != nil {
			return fmt.Errorf("file: committing %s: neither the staged file %s nor the committed one exists: %w", c.final, c.pending, err)
		}
	}
	d, err := os.Open(w.dir)
	if err != nil {
		return fmt.Errorf("file: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("file: syncing %s: %w", w.dir, err)
	}
	return nil
}

// Close closes and removes the in-progress file and the part files rolled
// since the last checkpoint: no checkpoint names them, so their records
// will be written again after a restore.
func (w *eoWriter[T]) Close() error {
	var errs []error
	if w.f != nil {
		errs = append(errs, w.f.Close())
		w.f, w.cur = nil, nil
		w.closed = append(w.closed, committable{pending: w.inprog})
	}
	for _, c := range w.closed {
		if err := os.Remove(filepath.Join(w.dir, c.pending)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("file: %w", err))
		}
	}
	w.closed = nil
	return errors.Join(errs...)
}

// compact commits a compaction unit: it merges the unit's pending files
// into a hidden temporary file, syncs it, renames it to the final name and
// removes the pending files. The final name appears whole or not at all,
// and the pending files are hidden, so readers see either nothing of the
// unit or the compacted file. It is idempotent: once the final file
// exists (committed before a failure, or by another subtask committing the
// same restored unit at the same time) it only removes the pending files
// that are left. Another subtask may remove the pending files (after its
// own rename) while this one reads them; their records are then in the
// final file.
func (w *eoWriter[T]) compact(c committable) error {
	finalPath := filepath.Join(w.dir, c.final)
	srcs := append([]string{c.pending}, c.more...)
	removeSrcs := func() error {
		for _, p := range srcs {
			if err := os.Remove(filepath.Join(w.dir, p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("file: removing compacted %s: %w", p, err)
			}
		}
		return nil
	}
	committed := func() bool {
		_, err := os.Stat(finalPath)
		return err == nil
	}
	if committed() {
		return removeSrcs()
	}
	if w.merge == nil {
		return fmt.Errorf("file: committing %s: the %s format cannot merge part files", c.final, w.ext)
	}
	files := make([]*os.File, 0, len(srcs))
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, p := range srcs {
		f, err := os.Open(filepath.Join(w.dir, p))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && committed() {
				return removeSrcs()
			}
			return fmt.Errorf("file: committing %s: %w", c.final, err)
		}
		files = append(files, f)
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return fmt.Errorf("file: %w", err)
	}
	tmp := filepath.Join(w.dir, "."+c.final+".inprogress.compact-"+hex.EncodeToString(id[:]))
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("file: compacting %s: %w", c.final, err)
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	err = w.merge(bw, files)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, finalPath)
		if errors.Is(err, fs.ErrNotExist) && committed() {
			// Subtask 0 removed the temporary file as a leftover after
			// it had committed the unit itself.
			err = nil
		}
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("file: compacting %s: %w", c.final, err)
	}
	// The final file's directory entry is synced with the directory by
	// Commit, before the pending files' removal is: sync it now.
	if err := syncDir(w.dir); err != nil {
		return err
	}
	return removeSrcs()
}
