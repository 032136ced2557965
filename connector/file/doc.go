// Package file reads and writes JSON lines and CSV files: bounded sources
// that checkpoint their positions (unbounded with
// SourceOptions.MonitorInterval, which reads new files as they appear:
// monitor.go), simple sinks and exactly-once sinks, after Flink's
// FileSource and FileSink.
//
// # Sources
//
// JSONSource and CSVSource read a file, or every regular file under a
// directory (recursively, in lexical order, skipping names that start with
// '.' or '_' as Flink's default file filter does). Every file is a split:
// file i goes to subtask i mod parallelism, and each file has its own
// watermark (weir.SourceOutput.Split), released when the file ends. A
// reader handles at most SourceOptions.LinesPerPoll lines per Poll, reading
// through a buffered reader. A record (a line, or a CSV record whose quoted
// field spans lines) may be up to SourceOptions.MaxRecordBytes long
// (DefaultMaxRecordBytes, 4 MiB, by default); a longer one is a bad record
// whose bytes are skipped without being held, and reading a long line
// stops when the job is cancelled (an input like /dev/zero has no line
// end). A subtask reads its
// files one after another and records carry no timestamp of their own: give
// the weir.WatermarkStrategy a Timestamp function. As in Flink, a watermark
// never goes back, so for event time order the files by time (their sorted
// names) or allow enough out-of-orderness: records of a later file that are
// older than the watermark reached in an earlier one are late.
//
// Which records are late depends on when watermarks are emitted: by
// default every 200 ms of processing time (weir.Options.AutoWatermarkInterval),
// and a file is read far faster than that, so a small file may be read
// whole before its first watermark and a record minutes late is then not
// late at all. For lateness that does not depend on read speed (tests,
// reprocessing a file with the results of the live job), read one line per
// poll and emit a watermark after every poll: SourceOptions{LinesPerPoll: 1}
// with weir.Options{AutoWatermarkInterval: -1}. Each record is then judged
// against the watermark of the lines before it, as if they had arrived one
// by one; it costs throughput.
//
// JSON lines: one value per line (not null), decoded with encoding/json into T
// (optionally rejecting unknown fields); blank lines are skipped. Whitespace
// is JSON's (space, tab, CR, LF): a line with anything else around or after
// its value is a bad record. A field missing from an object keeps its zero
// value, unless SourceOptions.FailOnMissingField (Flink's
// fail-on-missing-field) makes the line a bad record naming the field;
// fields tagged omitempty or omitzero stay optional, and null is accepted
// only for fields that can be nil (pointers, interfaces, maps, slices).
//
// CSV: the first line of every file is a header. T is a struct whose
// exported fields are columns, named by a `csv:"name"` tag or the field
// name (matched exactly, then case-insensitively; `csv:"-"` skips a
// field), or T is map[string]string keyed by the header. Field types:
// string, bool, integers, floats, time.Duration, any type implementing
// encoding.TextUnmarshaler/TextMarshaler (time.Time reads and writes RFC
// 3339), and pointers to these. An empty cell leaves the zero value (nil
// for a pointer), unless SourceOptions.FailOnMissingField makes it a bad
// record naming its column (for fields other than strings and pointers). Fields follow RFC 4180 as encoding/csv reads them:
// quoted fields may hold separators, doubled quotes and line breaks.
// Columns without a matching field are ignored, with a warning in the
// job's log, unless SourceOptions.DisallowUnknownFields is set; fields
// without a column keep their zero value. A header that matches no field
// of a struct T fails the job (every record would be the zero value). Blank lines and a UTF-8 byte order mark at the start
// of a file are skipped.
//
// LineSource reads any line format: a LineDecoder the caller provides
// turns each non-blank line into a record (or declines it, for comment
// lines); splits, checkpoints and bad lines are handled as for JSON lines.
// The SQL layer's formats (sql/connector) read files through it.
//
// # Bad input
//
// A line that does not decode is never dropped silently. Under the default
// policy it fails the job with an error naming the file, the line number,
// the field if known and the reason ("file data/x.jsonl line 17: field
// "age": ..."); errors.As gives the *weir.BadRecordError and its
// weir.DeadLetter. Under weir.DeadLetterTo(tag) the line becomes a
// weir.DeadLetter on the source's side output tag (its Source names file and
// line, Raw holds the line) and reading continues; read it with
// weir.SideOutput. A CSV header that does not match T always fails the job:
// no line of that file could be read.
//
// # Sinks
//
// JSONSink and CSVSink write to a directory, one part file per subtask
// (part-<subtask>-0.jsonl, part-<subtask>-0.csv, created or truncated when
// the job starts), buffered and flushed on Flush and at the end of input,
// when the file is also synced. A record that cannot be encoded (a NaN in
// JSON, say) fails the job with the file and the record's number.
//
// These plain sinks give no guarantee across failures: after a restore
// their part files are rewritten from the start of the job.
//
// # Checkpoints and exactly-once output
//
// The sources implement weir.CheckpointedReader: for every file a reader
// started they store the byte offset of the next unread line, the number
// of the last line read (dead letters keep their true line numbers after a
// restore), whether the CSV header was read, and whether the file is
// finished. After a restore each reader takes the files it owns under the
// current parallelism (file i of the sorted listing to subtask i mod
// parallelism, as on a fresh start), skips finished ones and resumes the
// others at their offsets (re-reading a CSV header first), so a job can be
// restored at another parallelism. Files the checkpoint does not name are
// read from the start; a file the checkpoint was reading that has gone, or
// that is now shorter than its offset, fails the restore.
//
// ExactlyOnceJSONSink and ExactlyOnceCSVSink make output visible only
// when a checkpoint completes (weir.TwoPhaseCommitWriter), after Flink's
// FileSink. Records go to a hidden in-progress file
// (.part-<subtask>-<n>.<ext>.inprogress.<random>). It rolls when it
// reaches ExactlyOnceOptions.MaxPartSize, when it is older than
// RolloverInterval, and at every checkpoint: it is flushed, synced and
// closed, and becomes pending. The checkpoint stores the pending files'
// names; when it completes they are renamed to part-<subtask>-<n>.<ext>
// (committed) and the directory is synced. Commit is idempotent: a pending
// file gone while its final name exists was committed already, so
// committing the restored checkpoint's files again after a failure is
// safe. Before its first record or checkpoint a writer deletes the
// in-progress and pending files of its subtask that the restored
// checkpoint does not name (subtask 0 also those of subtasks beyond the
// current parallelism), and numbers its new part files after every
// existing one. Readers of the directory must skip names starting with '.'
// (the sources here do): they then see only committed files. Without
// checkpointing, everything is committed at the end of input. The
// directory belongs to one sink: do not point two jobs at it.
// ExactlyOnceBulkSink takes a BulkFormat (Flink's BulkWriter.Factory) for
// formats that buffer and end with a footer; package
// connector/file/parquet provides Parquet. PartitionedBulkSink writes
// into buckets (subdirectories), and its WithPartitionCommit adds Flink's
// partition commit: success files written by one committer subtask once
// a partition's data is committed and a trigger finds it ready
// (partcommit.go).
//
// Time-based rolling: InactivityInterval rolls a file without records for
// that long, and it and RolloverInterval are checked every CheckInterval
// on the sink task's processing-time timer (weir.ProcessingTimeWriter),
// also while no record arrives, as Flink's DefaultRollingPolicy.
//
// Compaction (ExactlyOnceOptions.Compact, Flink's auto-compaction): at a
// checkpoint the pending files a writer closed since the last one (per
// bucket) are packed, in the order written, into units of up to
// CompactTargetSize bytes, each stored in the checkpoint as one
// committable naming its files and its final name (its first file's).
// When the checkpoint completes the unit's files are merged (MergingFormat;
// JSON lines and line formats concatenated) into a hidden temporary file,
// which is synced and renamed to the final name; then the unit's files are
// removed. The pending files are never visible, so readers see only
// compacted files. Committing a unit again (after a restore, or by
// another subtask at the same time) finds the final file and only removes
// what is left of the unit's files.
//
// Concurrency: every reader and writer is owned by its subtask's
// goroutine; sources and sinks may be shared by several jobs.
package file
