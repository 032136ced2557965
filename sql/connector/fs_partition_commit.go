package connector

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// Partition commit of partitioned filesystem tables, as Flink's
// filesystem connector (FileSystemConnectorOptions, PartitionCommitter):
// with 'sink.partition-commit.policy.kind' set, the sink's writers are
// followed by one committer subtask that runs the policies for a
// partition once the data a checkpoint wrote into it is committed and the
// trigger finds it ready (connector/file.WithPartitionCommit). Without a
// policy nothing is committed, as in Flink, though the options are
// checked.

// partitionCommitOptions are the options of partition commit and time
// extraction.
var partitionCommitOptions = []string{
	"sink.partition-commit.trigger", "sink.partition-commit.delay",
	"sink.partition-commit.watermark-time-zone", "sink.partition-commit.policy.kind",
	"sink.partition-commit.policy.class", "sink.partition-commit.policy.class.parameters",
	"sink.partition-commit.success-file.name",
	"partition.time-extractor.kind", "partition.time-extractor.class",
	"partition.time-extractor.timestamp-pattern", "partition.time-extractor.timestamp-formatter",
}

// newPartitionCommit checks the partition commit options; it returns the
// commit's options when the table is partitioned and a policy is set.
func newPartitionCommit(o *options, part *partitioning) (*file.PartitionCommitOptions, error) {
	table := o.table
	var c file.PartitionCommitOptions
	switch o.enum("sink.partition-commit.trigger", "process-time", "process-time", "partition-time") {
	case "partition-time":
		c.Trigger = file.PartitionTimeTrigger
	}
	c.Delay = o.duration("sink.partition-commit.delay", 0)
	if o.err != nil {
		return nil, o.err
	}
	if c.Delay < 0 {
		return nil, fmt.Errorf("connector: table %s: Invalid value for option 'sink.partition-commit.delay': must not be negative", table)
	}
	zone := o.str("sink.partition-commit.watermark-time-zone", "UTC")
	loc, ok := watermarkZone(zone)
	if !ok {
		return nil, fmt.Errorf("connector: table %s: The supported watermark time zone is either a full name such as 'America/Los_Angeles', or a custom time zone id such as 'GMT-08:00', but configured time zone is '%s'.", table, zone)
	}
	switch kind := o.str("partition.time-extractor.kind", "default"); strings.ToLower(kind) {
	case "default":
	case "custom":
		return nil, fmt.Errorf("connector: table %s: 'partition.time-extractor.kind' = 'custom' is not supported: Weir loads no Java PartitionTimeExtractor classes ('partition.time-extractor.class'); use 'default' with 'partition.time-extractor.timestamp-pattern' and 'partition.time-extractor.timestamp-formatter'", table)
	default:
		return nil, fmt.Errorf("connector: table %s: Unsupported extractor kind: %s", table, kind)
	}
	if o.has("partition.time-extractor.class") {
		return nil, fmt.Errorf("connector: table %s: 'partition.time-extractor.class' is not supported: Weir loads no Java classes", table)
	}
	ex := &partTimeExtractor{pattern: o.str("partition.time-extractor.timestamp-pattern", ""), loc: loc, part: part}
	if f, ok := o.m["partition.time-extractor.timestamp-formatter"]; ok {
		p, err := expr.ParseDateTimePattern(f)
		if err != nil {
			return nil, fmt.Errorf("connector: table %s: Invalid value for option 'partition.time-extractor.timestamp-formatter': %w", table, err)
		}
		ex.formatter = p
	}
	name := o.str("sink.partition-commit.success-file.name", "_SUCCESS")
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("connector: table %s: Invalid value for option 'sink.partition-commit.success-file.name': %q is not a file name", table, name)
	}
	kinds, set := o.m["sink.partition-commit.policy.kind"]
	if !set {
		if o.has("sink.partition-commit.policy.class") || o.has("sink.partition-commit.policy.class.parameters") {
			return nil, fmt.Errorf("connector: table %s: 'sink.partition-commit.policy.class' is not supported: Weir loads no Java PartitionCommitPolicy classes", table)
		}
		return nil, nil
	}
	for _, k := range strings.Split(kinds, ",") {
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "success-file":
			c.Policies = append(c.Policies, file.SuccessFile(name))
		case "metastore":
			return nil, fmt.Errorf("connector: table %s: Can not configure a 'metastore' partition commit policy for a file system table. You can only configure 'metastore' partition commit policy for a hive table (Weir has no metastore).", table)
		case "custom":
			return nil, fmt.Errorf("connector: table %s: the 'custom' partition commit policy is not supported: Weir loads no Java PartitionCommitPolicy classes ('sink.partition-commit.policy.class'); use 'success-file'", table)
		default:
			return nil, fmt.Errorf("connector: table %s: Unsupported policy: %s", table, strings.TrimSpace(k))
		}
	}
	if part == nil {
		// Flink commits partitions of partitioned tables only.
		return nil, nil
	}
	c.PartitionTime = ex.time
	return &c, nil
}

// watermarkZone reads 'sink.partition-commit.watermark-time-zone' as Flink
// accepts it: a full zone name or a GMT offset id (GMT-08:00), not an
// abbreviation or UTC+8.
func watermarkZone(z string) (*time.Location, bool) {
	if z == "UTC" || z == "GMT" || z == "Z" {
		return time.UTC, true
	}
	if rest, ok := strings.CutPrefix(z, "GMT"); ok && len(rest) > 1 && (rest[0] == '+' || rest[0] == '-') {
		hs, ms, hasM := strings.Cut(rest[1:], ":")
		h, err1 := strconv.Atoi(hs)
		m, err2 := 0, error(nil)
		if hasM {
			m, err2 = strconv.Atoi(ms)
		}
		if err1 != nil || err2 != nil || len(hs) > 2 || (hasM && len(ms) != 2) || h > 18 || m > 59 {
			return nil, false
		}
		off := h*3600 + m*60
		if rest[0] == '-' {
			off = -off
		}
		return time.FixedZone(z, off), true
	}
	if !strings.Contains(z, "/") || strings.HasPrefix(z, "/") {
		return nil, false
	}
	loc, err := time.LoadLocation(z)
	return loc, err == nil
}

// partTimeExtractor is Flink's DefaultPartTimeExtractor: the timestamp is
// the first partition value, or the timestamp-pattern with each $key
// replaced by its value (in key order); it is read with the
// timestamp-formatter (a Java DateTimeFormatter pattern; a date alone is
// midnight), or by default as yyyy-M-d[ H:m:s[.fraction]]. The wall clock
// is taken in the watermark time zone.
type partTimeExtractor struct {
	pattern   string
	formatter *expr.DateTimePattern
	loc       *time.Location
	part      *partitioning
}

func (e *partTimeExtractor) time(bucket string) (int64, error) {
	comps := strings.Split(bucket, "/")
	if len(comps) != len(e.part.names) {
		return 0, fmt.Errorf("connector: table %s: %s is not a partition directory", e.part.table, bucket)
	}
	vals := make([]string, len(comps))
	for i, c := range comps {
		_, v, _ := strings.Cut(c, "=")
		vals[i] = unescapePathName(v)
	}
	s := vals[0]
	if e.pattern != "" {
		s = e.pattern
		for i, k := range e.part.names {
			s = strings.ReplaceAll(s, "$"+k, vals[i])
		}
	}
	var t time.Time
	if e.formatter != nil {
		pt, err := e.formatter.Parse(s, time.UTC)
		if err != nil {
			return 0, fmt.Errorf("connector: table %s: partition %s: cannot extract the partition time from '%s': %w", e.part.table, bucket, s, err)
		}
		t = pt
	} else {
		pt, ok := parsePartitionTimestamp(s)
		if !ok {
			return 0, fmt.Errorf("connector: table %s: partition %s: cannot extract the partition time from '%s': expected yyyy-MM-dd[ HH:mm:ss[.fraction]]", e.part.table, bucket, s)
		}
		t = pt
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), e.loc).UnixMilli(), nil
}

// parsePartitionTimestamp reads DefaultPartTimeExtractor's default form:
// year (1-10 digits) '-' month (1-2) '-' day (1-2), optionally ' ' hour
// ':' minute ':' second (1-2 digits each) and '.' 1-9 fraction digits;
// out-of-range fields roll over (Java's lenient resolver).
func parsePartitionTimestamp(s string) (time.Time, bool) {
	i := 0
	num := func(min, max int) (int, bool) {
		j := i
		for j < len(s) && j-i < max && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i < min {
			return 0, false
		}
		n, err := strconv.Atoi(s[i:j])
		i = j
		return n, err == nil
	}
	lit := func(c byte) bool {
		if i < len(s) && s[i] == c {
			i++
			return true
		}
		return false
	}
	y, ok1 := num(1, 10)
	okA := lit('-')
	mo, ok2 := num(1, 2)
	okB := lit('-')
	d, ok3 := num(1, 2)
	if !ok1 || !ok2 || !ok3 || !okA || !okB {
		return time.Time{}, false
	}
	if i == len(s) {
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), true
	}
	if !lit(' ') {
		return time.Time{}, false
	}
	h, ok4 := num(1, 2)
	okC := lit(':')
	mi, ok5 := num(1, 2)
	okD := lit(':')
	sec, ok6 := num(1, 2)
	if !ok4 || !ok5 || !ok6 || !okC || !okD {
		return time.Time{}, false
	}
	nano := 0
	if lit('.') {
		start := i
		f, ok := num(1, 9)
		if !ok {
			return time.Time{}, false
		}
		for k := i - start; k < 9; k++ {
			f *= 10
		}
		nano = f
	}
	if i != len(s) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, nano, time.UTC), true
}

// consumeWithCommit writes a partitioned table through a writer and a
// partition committer. The writer keeps the sink operator's uid and
// state (a job may add a policy and restore from a checkpoint taken
// without one).
func (t *fsSink) consumeWithCommit(b BuildContext, in weir.Stream[row.Row], sink *file.PartitionedSink[row.Row]) (weir.DataSink, error) {
	w, c, err := sink.WithPartitionCommit(in, *t.commit)
	if err != nil {
		return weir.DataSink{}, fmt.Errorf("connector: table %s: %w", t.table, err)
	}
	w = w.UID(b.uid("sink")).Name(b.uid("filesystem"))
	if t.sinkPar > 0 {
		w.SetParallelism(t.sinkPar)
	}
	c = c.UID(b.uid("partition-committer")).Name(b.uid("partition-committer"))
	return c.SinkTo(weir.SinkFunc[struct{}](func(context.Context, struct{}, int64) error { return nil })).
		UID(b.uid("partition-commit-end")).Name(b.uid("partition-commit-end")), nil
}
