package file

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/weirstream/weir"
)

// DefaultLinesPerPoll is the number of lines a reader handles per Poll by
// default.
const DefaultLinesPerPoll = 1024

// DefaultMaxRecordBytes is the default bound on the size of one record
// (SourceOptions.MaxRecordBytes).
const DefaultMaxRecordBytes = 4 << 20

// SourceOptions configure a file source. The zero value fails the job on
// the first malformed line and ignores unknown JSON fields and CSV columns.
type SourceOptions struct {
	// OnError says what to do with a line that does not decode: fail the
	// job (the default) or, with weir.DeadLetterTo, send it to a
	// dead-letter side output of the source and continue.
	OnError weir.ErrorPolicy
	// DisallowUnknownFields makes a JSON object key with no matching
	// field of T a decoding error of its line, and a CSV header column with
	// no matching field an error of its file.
	DisallowUnknownFields bool
	// LinesPerPoll bounds the lines read per Poll (default 1024).
	LinesPerPoll int
	// Comma is the CSV field separator (default ','); an ASCII character
	// other than a quote, carriage return or newline.
	Comma rune
	// LinesPerSecond limits the lines read per second across all subtasks
	// (each gets an equal share); 0 or less means as fast as possible. For
	// demos and tests that need a job to run for a while.
	LinesPerSecond float64
	// MaxRecordBytes bounds the size of one record: a line, or a CSV
	// record whose quoted field spans lines (default
	// DefaultMaxRecordBytes; 0 or less means the default). A longer record
	// is a bad record of its file and line, handled by OnError; its bytes
	// are skipped, not held in memory.
	MaxRecordBytes int
	// FailOnMissingField makes a JSON object that lacks a field of T (a
	// struct) a bad record naming the field, as Flink's JSON format option
	// fail-on-missing-field does; so is a null value for a field whose Go
	// type cannot be nil. Fields tagged omitempty or omitzero, or "-", are
	// optional. Without it a missing field keeps its zero value. For CSV,
	// it makes an empty cell a bad record naming its column, unless the
	// field is a string or a pointer (nil).
	FailOnMissingField bool
	// Include, if set, selects the files to read among those listed (the
	// path given is the file's full path); for a file that is not
	// selected it returns false. The filesystem SQL connector reads only
	// the files of partition directories this way.
	Include func(path string) bool
	// MonitorInterval, if positive, makes the source unbounded (Flink's
	// FileSource.monitorContinuously, the SQL option
	// source.monitor-interval): it lists the path again every interval
	// and reads each file it has not seen before once, in the order it
	// discovers them. A file is identified by its path: one already read
	// is not read again, even if it changes. See monitor.go.
	MonitorInterval time.Duration
	// SubtaskWatermark makes the records of all the files a subtask reads
	// share one watermark generator, as Flink SQL's WatermarkAssigner after
	// a filesystem scan does (its filesystem table source takes no
	// watermark strategy), instead of one per file (per split, as Flink's
	// FileSource), whose watermark is dropped when the file ends before
	// the next periodic emission. The filesystem SQL connector sets it for
	// continuous sources, whose small files would otherwise never move the
	// watermark.
	SubtaskWatermark bool
	// NumericOrder lists the files of a bounded source with runs of
	// digits compared by value (dir/part-0-2 before dir/part-0-10, the
	// order in which ExactlyOnceSink wrote them) instead of in lexical
	// order; files are then assigned to subtasks in that order. The
	// filesystem SQL connector sets it for changelog formats, whose
	// changes must be read in the order written (natural_order.go).
	NumericOrder bool
}

// lineDecoder decodes the lines of one file.
type lineDecoder[T any] interface {
	// header handles the first non-empty line of a file, for formats with
	// a header; it returns the field at fault with an error.
	header(line []byte) (string, error)
	// decode decodes one record into v, which holds the zero value.
	decode(line []byte, v *T) (string, error)
}

type format int

const (
	formatJSON format = iota
	formatCSV
	formatLines
)

// LineDecoder decodes the lines of a LineSource. A source gets one per
// file from its factory; it is used by one subtask's goroutine only.
type LineDecoder[T any] interface {
	// Decode decodes one line, without its line break. ok false skips the
	// line (a comment, say) without error. An error makes the line a bad
	// record, handled by SourceOptions.OnError; field names the field at
	// fault ("" if none).
	Decode(line []byte) (v T, ok bool, field string, err error)
}

// FileStarter is implemented by a LineDecoder that needs to know which
// file it decodes (a partitioned table's decoder reads the partition
// values from the path): StartFile is called with the file's path before
// its first line. An error fails the job.
type FileStarter interface {
	StartFile(path string) error
}

// errSkipLine is a line a LineDecoder skipped.
var errSkipLine = errors.New("file: line skipped")

// lineAdapter adapts a LineDecoder to the reader's decoder.
type lineAdapter[T any] struct{ d LineDecoder[T] }

func (lineAdapter[T]) header([]byte) (string, error) { return "", nil }

func (a lineAdapter[T]) decode(line []byte, v *T) (string, error) {
	x, ok, field, err := a.d.Decode(line)
	if err != nil {
		return field, err
	}
	if !ok {
		return "", errSkipLine
	}
	*v = x
	return "", nil
}

// Source reads a file, or every file of a directory, as records of type T.
// It is bounded: it ends when all files have been read; with
// SourceOptions.MonitorInterval it is unbounded and reads new files as
// they appear. Create it with
// JSONSource or CSVSource and add it with weir.FromSource.
type Source[T any] struct {
	path   string
	format format
	opts   SourceOptions
	lines  func() LineDecoder[T]
}

// JSONSource reads JSON lines (one JSON value per line, blank lines
// skipped) from path, decoding each with encoding/json into T.
func JSONSource[T any](path string, opts SourceOptions) *Source[T] {
	return &Source[T]{path: path, format: formatJSON, opts: opts}
}

// CSVSource reads CSV from path: the first line of every file is a header
// whose column names select the fields of T (a struct, see the package
// documentation) or the keys of T = map[string]string.
func CSVSource[T any](path string, opts SourceOptions) *Source[T] {
	return &Source[T]{path: path, format: formatCSV, opts: opts}
}

// LineSource reads files of path line by line (blank lines skipped), each
// line decoded by the LineDecoder that newDecoder returns for its file:
// for line formats other than JSON into T and CSV with a header, such as
// the SQL formats. Splits, checkpoints, limits and bad records are as for
// JSONSource.
func LineSource[T any](path string, newDecoder func() LineDecoder[T], opts SourceOptions) *Source[T] {
	return &Source[T]{path: path, format: formatLines, opts: opts, lines: newDecoder}
}

// ErrOptions is matched by the error of a source or sink created with
// invalid options or an unsupported record type: a
// weir.InvalidOptionError worded "file: option Comma: ...". It matches
// weir.ErrInvalidOption.
var ErrOptions = weir.MarkError(errors.New("file: invalid options"), weir.ErrInvalidOption)

// optionError is the error of an invalid option; err, if not nil, is its
// cause.
func optionError(option, reason string, err error) error {
	return &weir.InvalidOptionError{Prefix: "file", Option: option, Reason: reason, Kind: ErrOptions, Err: err}
}

func checkComma(c rune) (byte, error) {
	if c == 0 {
		return ',', nil
	}
	if c >= 0x80 || c == '"' || c == '\r' || c == '\n' {
		return 0, optionError("Comma", fmt.Sprintf("%q cannot separate CSV fields", c), nil)
	}
	return byte(c), nil
}

// CreateReader lists the files (each subtask lists the same sorted files)
// and returns the reader of those assigned to ctx.Subtask: file i of n goes
// to subtask i mod parallelism; for a continuous source (MonitorInterval)
// a file goes to the subtask its path hashes to (monitor.go).
func (s *Source[T]) CreateReader(ctx weir.SourceContext) (weir.SourceReader[T], error) {
	newDec, err := s.decoderFactory()
	if err != nil {
		return nil, err
	}
	files, err := listFiles(s.path)
	if err != nil {
		return nil, err
	}
	if s.opts.Include != nil {
		files = slices.DeleteFunc(files, func(f string) bool { return !s.opts.Include(f) })
	}
	if s.opts.NumericOrder {
		sortNumeric(files)
	}
	p := ctx.Parallelism
	if p < 1 {
		p = 1
	}
	var restored map[string]filePos
	if ctx.Restored != nil {
		if restored, err = decodePositions(ctx.Restored); err != nil {
			return nil, err
		}
	}
	var mine []fileSplit
	var mon *monitor
	if s.opts.MonitorInterval > 0 {
		if ctx.Time == nil {
			return nil, optionError("MonitorInterval", "needs the job's processing-time service", nil)
		}
		mon, mine, err = s.newMonitor(ctx, files, restored, p)
		if err != nil {
			return nil, err
		}
	} else if mine, err = s.assignBounded(ctx, files, restored, p); err != nil {
		return nil, err
	}
	n := s.opts.LinesPerPoll
	if n <= 0 {
		n = DefaultLinesPerPoll
	}
	comma, _ := checkComma(s.opts.Comma) // checked by decoderFactory
	maxRec := s.opts.MaxRecordBytes
	if maxRec <= 0 {
		maxRec = DefaultMaxRecordBytes
	}
	log := ctx.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &reader[T]{files: mine, mon: mon, newDec: newDec, perPoll: n, policy: s.opts.OnError, format: s.format, comma: comma, maxRec: maxRec, log: log,
		oneWM: s.opts.SubtaskWatermark}
	if s.opts.LinesPerSecond > 0 {
		if ctx.Time == nil {
			return nil, optionError("LinesPerSecond", "needs the job's processing-time service", nil)
		}
		r.limit = &limiter{perMs: s.opts.LinesPerSecond / 1000 / float64(p)}
	}
	r.time = ctx.Time
	return r, nil
}

// assignBounded returns the files of a bounded source's subtask: file i
// of the sorted listing goes to subtask i mod p, with its restored
// position. A file the checkpoint was reading must still be listed.
func (s *Source[T]) assignBounded(ctx weir.SourceContext, files []string, restored map[string]filePos, p int) ([]fileSplit, error) {
	listed := make(map[string]bool, len(files))
	var mine []fileSplit
	for i, f := range files {
		rel := s.relName(f)
		listed[rel] = true
		if i%p != ctx.Subtask {
			continue
		}
		sp := fileSplit{path: f, rel: rel}
		if pos, ok := restored[rel]; ok {
			sp.pos, sp.restored = pos, true
		}
		mine = append(mine, sp)
	}
	return mine, checkRestoredListed(ctx, s.path, restored, listed)
}

// checkRestoredListed fails when a file the checkpoint was reading is no
// longer listed.
func checkRestoredListed(ctx weir.SourceContext, path string, restored map[string]filePos, listed map[string]bool) error {
	for rel, pos := range restored {
		if !pos.done && !listed[rel] {
			return fmt.Errorf("file: restoring from checkpoint %d: %s was being read (at line %d) but is no longer under %s", ctx.RestoredFrom, rel, pos.line, path)
		}
	}
	return nil
}

// relName is the name under which a file's position is checkpointed: its
// path relative to the source's path, so that a job may be restored with
// the input directory spelled or mounted differently.
func (s *Source[T]) relName(path string) string {
	rel, err := filepath.Rel(s.path, path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(rel)
}

func (s *Source[T]) decoderFactory() (func() lineDecoder[T], error) {
	switch s.format {
	case formatLines:
		if s.lines == nil {
			return nil, optionError("line decoder", "must be set", nil)
		}
		return func() lineDecoder[T] { return lineAdapter[T]{d: s.lines()} }, nil
	case formatCSV:
		comma, err := checkComma(s.opts.Comma)
		if err != nil {
			return nil, err
		}
		schema, err := newCSVSchema[T]()
		if err != nil {
			return nil, optionError("record type", "", err)
		}
		strict, required := s.opts.DisallowUnknownFields, s.opts.FailOnMissingField
		return func() lineDecoder[T] {
			return &csvDecoder[T]{schema: schema, comma: comma, strict: strict, required: required}
		}, nil
	default:
		strict := s.opts.DisallowUnknownFields
		var req []jsonField
		if s.opts.FailOnMissingField {
			var err error
			if req, err = requiredJSONFields[T](); err != nil {
				return nil, optionError("FailOnMissingField", "", err)
			}
		}
		return func() lineDecoder[T] { return &jsonDecoder[T]{strict: strict, required: req} }, nil
	}
}

// ListFiles returns the files a source over path reads, in the order it
// reads them: path itself if it is a file, else the regular files under
// it, recursively, in lexical order, without those whose names (or whose
// directories' names) start with '.' or '_'.
func ListFiles(path string) ([]string, error) { return listFiles(path) }

// listFiles returns path if it is a file, or the regular files under the
// directory path, recursively, in lexical order. As Flink's default file
// filter does, it skips files and directories whose names start with '.'
// or '_' (hidden files, in-progress and marker files).
func listFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("file: listing %s: %w", path, err)
	}
	return files, nil
}

// fileSplit is one file of a reader and where reading it stands.
type fileSplit struct {
	path, rel string
	// pos is where a restored file resumes; for a finished file pos.done.
	pos      filePos
	restored bool
}

// reader reads its files one after the other; each file is a split with
// its own watermark.
type reader[T any] struct {
	files   []fileSplit
	next    int      // index in files of the next file to open
	mon     *monitor // set for a continuous source: finds new files
	newDec  func() lineDecoder[T]
	perPoll int
	limit   *limiter
	time    weir.ProcessingTimeService
	policy  weir.ErrorPolicy
	format  format
	maxRec  int // bytes in a record at most
	log     *slog.Logger

	// The open file.
	name    string
	f       *os.File
	br      *bufio.Reader
	split   *weir.SplitOutput[T] // nil with oneWM: records go to the source's main output
	oneWM   bool                 // SourceOptions.SubtaskWatermark
	dec     lineDecoder[T]
	line    int64 // number of the last line read
	off     int64 // byte offset of the next unread line
	hdrDone bool
	long    []byte // a line longer than br's buffer
	rec     []byte // a CSV record over several lines
	comma   byte
	fields  [][]byte
	buf     []byte
}

func (r *reader[T]) Poll(ctx context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	perPoll := r.perPoll
	if r.limit != nil {
		now := r.time.Now()
		allowed := r.limit.allowed(now)
		if allowed <= 0 {
			r.time.Schedule(r.limit.nextAt(now), noop)
			return weir.NothingAvailable, nil
		}
		perPoll = int(min(allowed, int64(perPoll)))
		// Lines not read in this poll (end of input) are not taken back:
		// the limit only slows reading down.
		r.limit.take(int64(perPoll))
	}
	for n := 0; n < perPoll; {
		if r.f == nil {
			for r.next < len(r.files) && r.files[r.next].pos.done {
				r.next++ // finished before the checkpoint restored from
			}
			if r.mon != nil && r.time.Now() >= r.mon.next {
				if err := r.discover(); err != nil {
					return weir.NothingAvailable, err
				}
				continue
			}
			if r.next == len(r.files) {
				if r.mon != nil {
					// Wait for the next listing (one wake-up each).
					if r.mon.woken != r.mon.next {
						r.mon.woken = r.mon.next
						r.time.Schedule(r.mon.next, noop)
					}
					return weir.NothingAvailable, nil
				}
				return weir.EndOfInput, nil
			}
			if err := r.open(out); err != nil {
				return weir.EndOfInput, err
			}
		}
		line, first, err := r.readRecord(ctx)
		if err == io.EOF {
			if err := r.closeFile(out); err != nil {
				return weir.EndOfInput, err
			}
			continue
		}
		var tl *tooLongError
		if errors.As(err, &tl) {
			n++
			d := weir.DeadLetter{Source: r.where(tl.line), Reason: tl.Error(), Raw: tl.head}
			if !r.hdrDone && r.format == formatCSV {
				// The header: the file is unreadable.
				return weir.EndOfInput, &weir.BadRecordError{DeadLetter: d}
			}
			if err := weir.RejectFromSource(out, r.policy, d); err != nil {
				return weir.EndOfInput, err
			}
			continue
		}
		if err != nil {
			return weir.EndOfInput, err
		}
		n++
		if !r.hdrDone && r.format == formatCSV {
			r.hdrDone = true
			if field, err := r.dec.header(line); err != nil {
				d := weir.DeadLetter{Source: r.where(first), Field: field, Reason: err.Error(), Raw: line}
				// A bad header makes the whole file unreadable: this
				// always fails the job.
				return weir.EndOfInput, &weir.BadRecordError{DeadLetter: d}
			}
			if u, ok := r.dec.(interface{ unknownColumns() []string }); ok && len(u.unknownColumns()) > 0 {
				r.log.Warn("file: CSV header columns match no field and are ignored", "file", r.name, "columns", u.unknownColumns())
			}
			continue
		}
		var v T
		field, err := r.dec.decode(line, &v)
		if err == errSkipLine {
			continue
		}
		if err != nil {
			d := weir.DeadLetter{Source: r.where(first), Field: field, Reason: err.Error(), Raw: line}
			if err := weir.RejectFromSource(out, r.policy, d); err != nil {
				return weir.EndOfInput, err
			}
			continue
		}
		if r.split != nil {
			r.split.Collect(v)
		} else {
			out.Collect(v)
		}
	}
	return weir.MoreAvailable, nil
}

func (r *reader[T]) where(line int64) string {
	return fmt.Sprintf("file %s line %d", r.name, line)
}

func (r *reader[T]) open(out *weir.SourceOutput[T]) error {
	sp := r.files[r.next]
	name := sp.path
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("file: %w", err)
	}
	r.name, r.f, r.line, r.off, r.hdrDone = name, f, 0, 0, false
	if r.br == nil {
		r.br = bufio.NewReaderSize(f, bufferSize)
	} else {
		r.br.Reset(f)
	}
	r.dec = r.newDec()
	if a, ok := r.dec.(lineAdapter[T]); ok {
		if fst, ok := a.d.(FileStarter); ok {
			if err := fst.StartFile(name); err != nil {
				f.Close()
				r.f = nil
				return err
			}
		}
	}
	if sp.restored && sp.pos.off > 0 {
		if err := r.resume(sp.pos); err != nil {
			f.Close()
			r.f = nil
			return err
		}
	}
	if !r.oneWM {
		r.split = out.Split(name)
	}
	return nil
}

// resume positions the just opened file at a checkpointed position. A CSV
// file's header is read again first: it maps the columns.
func (r *reader[T]) resume(pos filePos) error {
	st, err := r.f.Stat()
	if err != nil {
		return fmt.Errorf("file: %w", err)
	}
	if st.Size() < pos.off {
		return fmt.Errorf("file: restoring %s: it has %d bytes, the checkpoint read up to byte %d (the file changed)", r.name, st.Size(), pos.off)
	}
	if pos.header && r.format == formatCSV {
		line, first, err := r.readRecord(context.Background())
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("file: restoring %s: reading the header: %w", r.name, err)
		}
		if field, err := r.dec.header(line); err != nil {
			d := weir.DeadLetter{Source: r.where(first), Field: field, Reason: err.Error(), Raw: line}
			return &weir.BadRecordError{DeadLetter: d}
		}
	}
	if _, err := r.f.Seek(pos.off, io.SeekStart); err != nil {
		return fmt.Errorf("file: restoring %s: %w", r.name, err)
	}
	r.br.Reset(r.f)
	r.off, r.line, r.hdrDone = pos.off, pos.line, pos.header
	return nil
}

func (r *reader[T]) closeFile(out *weir.SourceOutput[T]) error {
	err := r.f.Close()
	r.f = nil
	r.files[r.next].pos = filePos{done: true, off: r.off, line: r.line}
	r.files[r.next].restored = true
	r.next++
	if !r.oneWM {
		out.ReleaseSplit(r.name)
	}
	r.split = nil
	if err != nil {
		return fmt.Errorf("file: %w", err)
	}
	return nil
}

// tooLongError is a record over the size limit: a bad record, whose bytes
// were skipped up to the end of its line.
type tooLongError struct {
	line  int64  // its first line
	limit int    // the limit
	head  []byte // its first bytes, for the dead letter
}

func (e *tooLongError) Error() string {
	return fmt.Sprintf("record longer than the limit of %d bytes (SourceOptions.MaxRecordBytes)", e.limit)
}

// deadLetterHead is how much of an over-long record a dead letter keeps.
const deadLetterHead = 1 << 10

// readLine returns the next line without its terminator ("\n" or "\r\n"),
// or io.EOF. The slice is valid until the next call. A line of more than
// room bytes is a *tooLongError: it is skipped to its end without being
// held in memory, checking ctx on the way (a file like /dev/zero has no
// end).
func (r *reader[T]) readLine(ctx context.Context, room int) ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], b...)
		for err == bufio.ErrBufferFull && len(r.long) <= room+2 { // +2: room for "\r\n"
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			b, err = r.br.ReadSlice('\n')
			r.long = append(r.long, b...)
		}
		b = r.long
		if err == bufio.ErrBufferFull {
			return nil, r.skipLong(ctx)
		}
	}
	r.off += int64(len(b))
	if err == io.EOF {
		if len(b) == 0 {
			return nil, io.EOF
		}
		err = nil // a last line without newline
	}
	if err != nil {
		return nil, fmt.Errorf("file: reading %s: %w", r.name, err)
	}
	r.line++
	if r.line == 1 {
		b = bytes.TrimPrefix(b, []byte("\ufeff")) // a UTF-8 byte order mark
	}
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	if len(b) > room {
		return nil, &tooLongError{line: r.line, limit: r.maxRec, head: bytes.Clone(b[:min(len(b), deadLetterHead)])}
	}
	return b, nil
}

// skipLong skips the rest of an over-long line whose first bytes are in
// r.long and returns the *tooLongError that reports it. Under the fail
// policy it skips nothing: the job fails at once, reading no further.
func (r *reader[T]) skipLong(ctx context.Context) error {
	r.line++
	r.off += int64(len(r.long))
	tl := &tooLongError{line: r.line, limit: r.maxRec, head: bytes.Clone(r.long[:min(len(r.long), deadLetterHead)])}
	if cap(r.long) > 4*bufferSize {
		r.long = nil // do not keep a large buffer
	}
	if _, ok := r.policy.DeadLetters(); !ok {
		return tl
	}
	err := bufio.ErrBufferFull
	for err == bufio.ErrBufferFull {
		if err := ctx.Err(); err != nil {
			return err
		}
		var b []byte
		b, err = r.br.ReadSlice('\n')
		r.off += int64(len(b))
	}
	if err != nil && err != io.EOF {
		return fmt.Errorf("file: reading %s: %w", r.name, err)
	}
	return tl
}

// readRecord returns the next non-blank record and the number of its first
// line. A CSV record whose quoted field spans lines is returned whole, its
// lines joined by '\n'. A record over the size limit is a *tooLongError.
func (r *reader[T]) readRecord(ctx context.Context) ([]byte, int64, error) {
	for {
		b, err := r.readLine(ctx, r.maxRec)
		if err != nil {
			return nil, 0, err
		}
		first := r.line
		if r.format == formatJSON {
			if len(trimJSONSpace(b)) == 0 {
				continue
			}
			return b, first, nil
		}
		if r.format == formatLines {
			if len(b) == 0 {
				continue
			}
			return b, first, nil
		}
		if len(b) == 0 {
			continue
		}
		if !r.csvOpen(b) {
			return b, first, nil
		}
		// A quoted field continues on the next lines.
		rec := append(r.rec[:0], b...)
		for r.csvOpen(rec) {
			nb, err := r.readLine(ctx, r.maxRec-len(rec)-1)
			if err == io.EOF {
				break // the decoder reports the open quote
			}
			var tl *tooLongError
			if errors.As(err, &tl) {
				// The record is over the limit: report it from its
				// first line; reading goes on after the line that
				// crossed the limit.
				tl.line, tl.head = first, bytes.Clone(rec[:min(len(rec), deadLetterHead)])
				r.rec = rec[:0]
				return nil, 0, tl
			}
			if err != nil {
				return nil, 0, err
			}
			rec = append(append(rec, '\n'), nb...)
		}
		r.rec = rec
		return rec, first, nil
	}
}

// csvOpen reports whether a CSV record ends inside a quoted field, so that
// it continues on the next line.
func (r *reader[T]) csvOpen(b []byte) bool {
	if bytes.IndexByte(b, '"') < 0 {
		return false
	}
	var err error
	r.fields, r.buf, err = splitCSV(b, r.comma, r.fields, r.buf)
	return err == errOpenQuote
}

func (r *reader[T]) Close() error {
	if r.f != nil {
		err := r.f.Close()
		r.f = nil
		return err
	}
	return nil
}

func noop(int64) error { return nil }

// bufferSize is the size of a reader's read buffer.
const bufferSize = 64 << 10

// trimJSONSpace trims JSON's whitespace (space, tab, CR, LF) from both ends
// of b: bytes.TrimSpace also trims \v, \f and Unicode spaces, which JSON
// does not allow.
func trimJSONSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// limiter paces one reader at perMs lines per millisecond of processing
// time: by time now it allows floor((now-start)*perMs)+1 lines since the
// first poll.
type limiter struct {
	perMs   float64
	start   int64
	started bool
	taken   int64
}

// allowed returns how many more lines may be read at time now.
func (l *limiter) allowed(now int64) int64 {
	if !l.started {
		l.start, l.started = now, true
	}
	total := float64(max(now-l.start, 0))*l.perMs + 1
	if total >= math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return int64(total) - l.taken
}

func (l *limiter) take(n int64) { l.taken += n }

// nextAt returns the first time after now at which one more line is
// allowed.
func (l *limiter) nextAt(now int64) int64 {
	at := l.start + int64(math.Ceil(float64(l.taken)/l.perMs))
	if at <= now {
		at = now + 1
	}
	return at
}
