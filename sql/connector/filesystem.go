package connector

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/internal/fileuri"
	"github.com/weirstream/weir/row"
)

// Filesystem is Flink's 'filesystem' connector over connector/file: the
// source reads the file at 'path', or every file under it (names starting
// with '.' or '_' skipped), one record per line in 'format' (json, csv or
// raw), bounded (unless source.monitor-interval is set), with file
// positions in checkpoints; the sink writes
// rows exactly once through file.ExactlyOnceBulkSink (inserts only, but
// every kind of change with 'format' = 'debezium-json' or 'canal-json',
// fs_changelog_sink.go): part
// files under 'path' become visible when a checkpoint completes (or at the
// end of a bounded job). Options: path, format, the format's options,
// sink.rolling-policy.file-size (default 128 MB),
// sink.rolling-policy.rollover-interval and inactivity-interval (default
// 30 min each, as Flink's: a part file open that long, or without a record
// that long, rolls; checked every sink.rolling-policy.check-interval,
// default 1 min, on a processing-time timer, so also while no record
// arrives; rollover-interval also before each record), auto-compaction
// (default false) and compaction.file-size (default the rolling file
// size): the part files a writer subtask closes within one checkpoint, in
// one partition, stay hidden and are merged, when the checkpoint
// completes, into files of up to that size, which become visible instead
// (file.ExactlyOnceOptions.Compact; line formats are concatenated,
// parquet files rewritten row by row, parquet_format.go; Flink merges the files of all subtasks in a separate
// compaction operator, Weir those of each writer subtask in its commit, so
// compaction.parallelism is not taken), lookup.join.cache.ttl. The table is also a lookup source (Flink's
// FileSystemLookupFunction): each subtask of a lookup join loads the
// whole table into memory and loads it again once lookup.join.cache.ttl
// (default 60 min) has passed since (fs_lookup.go).
// 'format' = 'parquet' reads and writes Parquet files (parquet_format.go).
// Partitioned tables: fs_partition.go, their partition commit
// fs_partition_commit.go, and partition pruning fs_prune.go; INSERT
// OVERWRITE (batch) fs_overwrite.go. source.monitor-interval (a duration
// > 0) makes the source unbounded (a streaming source: refused in the
// batch mode): it lists 'path' again every interval and reads each new
// file once, as Flink's continuous FileSource (fs_monitor.go,
// connector/file/monitor.go); not yet for 'format' = 'parquet'.
type Filesystem struct{}

// DefaultRolloverInterval and DefaultInactivityInterval are Flink's
// defaults of sink.rolling-policy.rollover-interval and
// inactivity-interval.
const (
	DefaultRolloverInterval   = 30 * time.Minute
	DefaultInactivityInterval = 30 * time.Minute
)

// Identifier is "filesystem".
func (Filesystem) Identifier() string { return "filesystem" }

// RequiredOptions are path and format.
func (Filesystem) RequiredOptions() []string { return []string{"path", "format"} }

// OptionalOptions lists the connector's own options (the format's are
// added for the chosen format).
func (Filesystem) OptionalOptions() []string {
	return append([]string{"sink.rolling-policy.file-size", "sink.rolling-policy.rollover-interval",
		"sink.rolling-policy.inactivity-interval", "sink.rolling-policy.check-interval", "auto-compaction", "compaction.file-size",
		"lookup.join.cache.ttl",
		"partition.default-name", "sink.shuffle-by-partition.enable", "scan.parallelism", "sink.parallelism",
		"source.path.regex-pattern", "source.report-statistics", "source.monitor-interval"}, partitionCommitOptions...)
}

// SupportsPartitioning: filesystem tables may be PARTITIONED BY
// (fs_partition.go).
func (Filesystem) SupportsPartitioning() {}

type fsTable struct {
	table    string
	path     string
	codec    *codec
	schema   row.Schema
	proj     []int
	partSize int64
	rollover int64
	// inactivity and check are sink.rolling-policy.inactivity-interval
	// and check-interval; compact is auto-compaction, compactSize
	// compaction.file-size.
	inactivity, check time.Duration
	compact           bool
	compactSize       int64
	// reload is lookup.join.cache.ttl: how long a lookup keeps the table
	// it loaded.
	reload time.Duration
	// parquet is set for 'format' = 'parquet' (codec is nil then).
	parquet *parquetConfig
	// part is set for a partitioned table: the codec and parquet are then
	// those of the columns the files hold.
	part *partitioning
	// shuffle is sink.shuffle-by-partition.enable.
	shuffle bool
	// commit is set for a partitioned table with a partition commit
	// policy (fs_partition_commit.go).
	commit *file.PartitionCommitOptions
	// par is scan.parallelism (Flink's FLIP-367 source option): the
	// source's parallelism, 0 for the job's.
	par int
	// sinkPar is sink.parallelism: the writer's parallelism, 0 for the
	// job's (a partition committer runs at 1 whatever it is, as Flink's).
	sinkPar int
	// pathRe is source.path.regex-pattern (fs_path_regex.go), nil when
	// not set.
	pathRe *regexp.Regexp
	// monitor is source.monitor-interval: 0 for a bounded source
	// (fs_monitor.go).
	monitor time.Duration
}

func (f Filesystem) create(ctx Context, sink bool) (*fsTable, error) {
	id := ctx.Options["format"]
	var opt []string
	if id == "parquet" {
		opt = f.OptionalOptions()
		for _, k := range parquetFormatOptions {
			opt = append(opt, "parquet."+k)
		}
	} else {
		if err := lookupFormat(ctx.Table, "format", id, sink); err != nil && ctx.Options["format"] != "" {
			return nil, err
		}
		opt = append(f.OptionalOptions(), formatKeys("", id)...)
	}
	if err := validate(ctx, f.Identifier(), f.RequiredOptions(), opt); err != nil {
		return nil, err
	}
	o := newOptions(ctx)
	t := &fsTable{table: ctx.Table, path: o.str("path", ""), schema: ctx.Schema,
		partSize:   o.memorySize("sink.rolling-policy.file-size", file.DefaultMaxPartSize),
		rollover:   int64(o.duration("sink.rolling-policy.rollover-interval", DefaultRolloverInterval)),
		inactivity: o.duration("sink.rolling-policy.inactivity-interval", DefaultInactivityInterval),
		check:      o.duration("sink.rolling-policy.check-interval", file.DefaultCheckInterval),
		compact:    o.bool("auto-compaction", false),
		reload:     o.duration("lookup.join.cache.ttl", 60*time.Minute),
		par:        int(o.int64("scan.parallelism", 0, 1)),
		sinkPar:    int(o.int64("sink.parallelism", 0, 1)),
		pathRe:     newPathRegex(o),
		monitor:    monitorInterval(o)}
	checkReportStatistics(o)
	t.compactSize = o.memorySize("compaction.file-size", t.partSize)
	if o.err != nil {
		return nil, o.err
	}
	if t.check <= 0 {
		return nil, fmt.Errorf("connector: table %s: Invalid value for option 'sink.rolling-policy.check-interval': must be positive", ctx.Table)
	}
	if t.reload <= 0 && o.err == nil {
		return nil, fmt.Errorf("connector: table %s: Invalid value for option 'lookup.join.cache.ttl': must be positive", ctx.Table)
	}
	if t.path == "" {
		return nil, fmt.Errorf("connector: table %s: Invalid value for option 'path': must not be empty", ctx.Table)
	}
	// Flink's tables name local files by URI ('file:///tmp/orders');
	// other schemes (s3://, hdfs://) are not served by this connector.
	p, perr := fileuri.Path(t.path)
	if perr != nil {
		return nil, fmt.Errorf("connector: table %s: Invalid value for option 'path': %w", ctx.Table, perr)
	}
	if strings.Contains(p, "://") {
		return nil, fmt.Errorf("connector: table %s: Invalid value for option 'path': %q: only local paths and file:// URIs are supported", ctx.Table, t.path)
	}
	t.path = p
	t.part = newPartitioning(ctx, t.path, o.str("partition.default-name", DefaultPartitionName))
	t.shuffle = o.bool("sink.shuffle-by-partition.enable", false)
	if o.err != nil {
		return nil, o.err
	}
	var err error
	if t.commit, err = newPartitionCommit(o, t.part); err != nil {
		return nil, err
	}
	fileSchema := ctx.Schema
	if t.part != nil {
		if len(t.part.fileCols) == 0 {
			return nil, fmt.Errorf("connector: table %s: every column is a partition column: the files would hold nothing", ctx.Table)
		}
		fileSchema = t.part.fileSchema(ctx.Schema)
	}
	if id == "parquet" {
		if t.monitor > 0 && !sink {
			return nil, fmt.Errorf("connector: table %s: option 'source.monitor-interval' is not supported yet with 'format' = 'parquet'", ctx.Table)
		}
		pc, err := newParquetConfig(o, fileSchema)
		if err != nil {
			return nil, err
		}
		t.parquet = pc
		return t, nil
	}
	c, err := newCodec(o, "", id, fileSchema)
	if err != nil {
		return nil, err
	}
	if c.binary {
		return nil, fmt.Errorf("connector: table %s: the filesystem connector writes lines: format '%s' is binary", ctx.Table, id)
	}
	if sink {
		// The sink takes the format's changelog mode (Flink's
		// FileSystemTableSink.getChangelogMode): a changelog format that
		// Weir encodes (debezium-json, canal-json) writes every kind of change
		// (fs_changelog_sink.go); one it only decodes cannot be written.
		if c.newChangelog != nil && !c.encodesChangelog {
			return nil, fmt.Errorf("connector: table %s: the '%s' format is read, not written, by Weir: the filesystem sink writes the changelog formats 'debezium-json' and 'canal-json' or the insert-only formats (json, csv, raw, parquet)", ctx.Table, id)
		}
	} else if c.newChangelog != nil && t.part != nil {
		return nil, fmt.Errorf("connector: table %s: a partitioned table in the changelog format '%s' is not supported yet", ctx.Table, id)
	} else if c.newChangelog != nil && t.par > 0 {
		// A source parallelism unlike the job's puts a round-robin exchange
		// behind the source, which could reorder the changes of one key
		// (Flink hashes a changelog source's output by its primary key).
		return nil, fmt.Errorf("connector: table %s: 'scan.parallelism' with the changelog format '%s' is not supported yet", ctx.Table, id)
	}
	t.codec = c
	return t, nil
}

// CreateSource validates the options.
func (f Filesystem) CreateSource(ctx Context) (Source, error) {
	t, err := f.create(ctx, false)
	if err != nil {
		return nil, err
	}
	return &fsSource{t}, nil
}

// CreateSink validates the options.
func (f Filesystem) CreateSink(ctx Context) (Sink, error) {
	t, err := f.create(ctx, true)
	if err != nil {
		return nil, err
	}
	return &fsSink{fsTable: t}, nil
}

type fsSource struct{ *fsTable }

type fsSink struct {
	*fsTable
	// overwrite: INSERT OVERWRITE (fs_overwrite.go); staticBucket is the
	// partition of a fully static PARTITION clause.
	overwrite    bool
	staticBucket string
}

// ChangelogMode is All for a changelog format (debezium-json,
// canal-json: Flink's filesystem source reads them as a changelog), else
// InsertOnly.
func (t *fsSource) ChangelogMode() ChangelogMode {
	if t.codec != nil && t.codec.newChangelog != nil {
		return All
	}
	return InsertOnly
}

// Bounded is false with source.monitor-interval (Flink's
// FileSystemTableSource: a continuous FileSource is unbounded).
func (t *fsSource) Bounded() bool { return t.monitor <= 0 }

// ApplyProjection makes the source produce the given columns.
func (t *fsSource) ApplyProjection(fields []int) error {
	for _, f := range fields {
		if f < 0 || f >= t.schema.Len() {
			return fmt.Errorf("connector: table %s: projected column %d out of range", t.table, f)
		}
	}
	t.proj = append([]int(nil), fields...)
	return nil
}

// lineDecoder adapts a format to file.LineDecoder.
type lineDecoder struct {
	dec  rowDecoder
	skip bool // ignore-parse-errors without a dead-letter output
	proj []int
	// part: the table is partitioned; vals are the open file's values.
	part *partitioning
	vals []row.Value
}

// StartFile reads a partitioned table's values from the file's path.
func (d *lineDecoder) StartFile(path string) error {
	if d.part == nil {
		return nil
	}
	vals, _, err := d.part.values(path)
	d.vals = vals
	return err
}

func (d *lineDecoder) Decode(line []byte) (row.Row, bool, string, error) {
	r, ok, err := d.dec.Decode(line)
	if err != nil {
		if d.skip {
			return row.Row{}, false, "", nil
		}
		field, _ := rejection(err)
		return row.Row{}, false, field, err
	}
	if ok && d.part != nil {
		r = d.part.fullRow(r, d.vals)
	}
	if ok && d.proj != nil {
		r = project(r, d.proj)
	}
	return r, ok, "", nil
}

func project(r row.Row, cols []int) row.Row {
	out := make([]row.Value, len(cols))
	for i, c := range cols {
		out[i] = r.Fields[c]
	}
	return row.Row{Kind: r.Kind, Fields: out}
}

func (t *fsSource) Produce(b BuildContext) (weir.Stream[row.Row], error) {
	if err := file.PendingOverwrite(t.path); err != nil {
		return weir.Stream[row.Row]{}, fmt.Errorf("connector: table %s: %w", t.table, err)
	}
	if t.parquet != nil {
		return t.produceParquet(b)
	}
	if t.codec.newChangelog != nil {
		return t.produceChangelog(b)
	}
	c, proj := t.codec, t.proj
	_, dl := b.OnError.DeadLetters()
	skip := c.ignoreParseErrors && !dl
	newDec := func() file.LineDecoder[row.Row] {
		dec, _ := c.newDecoder() // checked by newCodec
		return &lineDecoder{dec: dec, skip: skip, proj: proj, part: t.part}
	}
	// A continuous source's watermark is the subtask's, over all its
	// files, as Flink's WatermarkAssigner after the scan computes it.
	opts := file.SourceOptions{OnError: b.OnError, MonitorInterval: t.monitor, SubtaskWatermark: t.monitor > 0}
	opts.Include = t.fileFilter()
	if b.Env.AutoWatermarkInterval() < 0 {
		// A watermark after every poll: read one line per poll, so each
		// record is judged against the watermark of the lines before it
		// (see connector/file), whatever the read speed.
		opts.LinesPerPoll = 1
	}
	src := file.LineSource[row.Row](t.path, newDec, opts)
	st := weir.FromSource(b.Env, src, b.Watermarks, t.table).UID(b.uid("source"))
	if t.par > 0 {
		st = st.SetParallelism(t.par)
	}
	readRejects(b, st)
	return st, nil
}

// lineFormat writes one encoded row per line, as a file.BulkFormat.
type lineFormat struct{ c *codec }

func (f lineFormat) Extension() string { return f.c.id }

// Merge concatenates part files for auto-compaction: they hold whole
// lines, without a header.
func (lineFormat) Merge(w io.Writer, srcs []*os.File) error { return file.ConcatParts(w, srcs) }

func (f lineFormat) NewWriter(w io.Writer) (file.BulkWriter[row.Row], error) {
	enc, err := f.c.newEncoder()
	if err != nil {
		return nil, err
	}
	return &lineWriter{w: w, enc: enc, changelog: f.c.encodesChangelog}, nil
}

type lineWriter struct {
	w   io.Writer
	enc rowEncoder
	buf []byte
	// changelog: the format encodes every row kind (debezium-json, canal-json).
	changelog bool
}

func (l *lineWriter) Write(r row.Row) error {
	if r.Kind != row.Insert && !l.changelog {
		return fmt.Errorf("connector: filesystem sink: a %s row reached an insert-only sink", r.Kind)
	}
	b, err := l.enc.Append(l.buf[:0], r)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	l.buf = b
	_, err = l.w.Write(b)
	return err
}

func (l *lineWriter) Finish() error { return nil }

func (t *fsSink) Consume(b BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	var f file.BulkFormat[row.Row] = lineFormat{c: t.codec}
	if t.parquet != nil {
		f = parquetFormat{c: t.parquet}
	}
	opts := file.ExactlyOnceOptions{MaxPartSize: t.partSize, RolloverInterval: durationOf(t.rollover),
		InactivityInterval: t.inactivity, CheckInterval: t.check}
	if t.compact && !t.overwrite {
		opts.Compact, opts.CompactTargetSize = true, t.compactSize
	}
	if t.overwrite {
		return t.consumeOverwrite(b, in, f, opts)
	}
	// Appending to a half-overwritten table could give a new file the
	// name of a staged file still to move (fs_overwrite.go).
	if err := file.PendingOverwrite(t.path); err != nil {
		return weir.DataSink{}, fmt.Errorf("connector: table %s: %w", t.table, err)
	}
	if t.part != nil {
		if t.shuffle {
			// Each partition's rows to one subtask: fewer files.
			part := t.part
			in = weir.KeyBy(in, func(r row.Row) string {
				b, _ := part.bucket(r)
				return b
			}).ByKey()
		}
		sink := file.PartitionedBulkSink[row.Row](t.path, fileRowFormat{f: f, part: t.part}, t.part.bucket, opts)
		if t.commit != nil {
			return t.consumeWithCommit(b, in, sink)
		}
		return t.sinkParallelism(in.SinkTo(sink).UID(b.uid("sink")).Name(b.uid("filesystem"))), nil
	}
	sink := file.ExactlyOnceBulkSink[row.Row](t.path, f, opts)
	return t.sinkParallelism(in.SinkTo(sink).UID(b.uid("sink")).Name(b.uid("filesystem"))), nil
}

// sinkParallelism applies sink.parallelism to the writer.
func (t *fsSink) sinkParallelism(d weir.DataSink) weir.DataSink {
	if t.sinkPar > 0 {
		d = d.SetParallelism(t.sinkPar)
	}
	return d
}

// fileRowFormat writes the columns the files of a partitioned table hold.
type fileRowFormat struct {
	f    file.BulkFormat[row.Row]
	part *partitioning
}

func (f fileRowFormat) Extension() string { return f.f.Extension() }

// Merge merges part files with the table format's Merge.
func (f fileRowFormat) Merge(w io.Writer, srcs []*os.File) error {
	m, ok := f.f.(file.MergingFormat)
	if !ok {
		return fmt.Errorf("connector: the %s format cannot merge part files", f.f.Extension())
	}
	return m.Merge(w, srcs)
}

func (f fileRowFormat) NewWriter(w io.Writer) (file.BulkWriter[row.Row], error) {
	bw, err := f.f.NewWriter(w)
	if err != nil {
		return nil, err
	}
	return &fileRowWriter{w: bw, part: f.part, buf: make([]row.Value, len(f.part.fileCols))}, nil
}

// fileRowWriter projects each row into buf: the format encodes it before
// Write returns, so one slice serves every row.
type fileRowWriter struct {
	w    file.BulkWriter[row.Row]
	part *partitioning
	buf  []row.Value
}

func (w *fileRowWriter) Write(r row.Row) error {
	for i, c := range w.part.fileCols {
		w.buf[i] = r.Fields[c]
	}
	return w.w.Write(row.Row{Kind: r.Kind, Fields: w.buf})
}

func (w *fileRowWriter) Finish() error { return w.w.Finish() }
