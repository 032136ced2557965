package connector

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir"
	mycdc "github.com/weirstream/weir/connector/mysql/cdc"
	"github.com/weirstream/weir/row"
)

// MySQLCDC is Flink CDC's 'mysql-cdc' connector over connector/mysql/cdc
// (tested on MariaDB): a lock-free chunked snapshot of one table, then its
// changes from the binlog, as a changelog of +I, -U/+U and -D rows. The
// snapshot algorithm is the Go option's default, auto (MariaDB's
// consistent snapshot position, Flink CDC's low/high watermarks on
// MySQL); Flink CDC has no option for it, so none is taken here.
// Binlog positions and snapshot progress are in checkpoints.
//
// Options (Flink CDC's names): hostname, username, database-name,
// table-name (required), port (3306), password, server-id (a number, or a
// range "5400-5408" of which the first id is used: the source reads with
// parallelism 1), server-time-zone (the zone of the wall clock a TIMESTAMP
// column becomes when declared TIMESTAMP rather than TIMESTAMP_LTZ;
// default UTC), scan.startup.mode (initial, latest-offset,
// specific-offset), scan.startup.specific-offset.file,
// scan.startup.specific-offset.pos, scan.startup.specific-offset.gtid-set,
// scan.incremental.snapshot.enabled (true only: the snapshot is always
// incremental), scan.incremental.snapshot.chunk.size, heartbeat.interval.
// Readable metadata: table_name, database_name, op_ts (0 for snapshot
// rows, as Flink CDC), row_kind. database-name and table-name are names,
// not regular expressions: one table per source. Not supported (refused):
// scan.startup.mode earliest-offset, timestamp and snapshot.
type MySQLCDC struct{}

// Identifier is "mysql-cdc".
func (MySQLCDC) Identifier() string { return "mysql-cdc" }

// RequiredOptions are Flink CDC's.
func (MySQLCDC) RequiredOptions() []string {
	return []string{"hostname", "username", "database-name", "table-name"}
}

// OptionalOptions lists the options Weir takes.
func (MySQLCDC) OptionalOptions() []string {
	return []string{"port", "password", "server-id", "server-time-zone", "scan.startup.mode",
		"scan.startup.specific-offset.file", "scan.startup.specific-offset.pos", "scan.startup.specific-offset.gtid-set",
		"scan.incremental.snapshot.enabled", "scan.incremental.snapshot.chunk.size", "heartbeat.interval"}
}

var myIdent = regexp.MustCompile(`^[A-Za-z0-9_$]+$`)

type mysqlCDCSource struct {
	table string
	opts  mycdc.Options
	zone  *time.Location
	cols  []cdcColumn
	meta  []MetadataColumn
}

// CreateSource validates the options.
func (f MySQLCDC) CreateSource(ctx Context) (Source, error) {
	if err := validate(ctx, f.Identifier(), f.RequiredOptions(), f.OptionalOptions()); err != nil {
		return nil, err
	}
	if err := checkCDCSchema(ctx, f.Identifier()); err != nil {
		return nil, err
	}
	o := newOptions(ctx)
	port := o.int64("port", 3306, 1)
	if port > 65535 {
		o.fail("port", ctx.Options["port"], "expected a port number")
	}
	for _, k := range []string{"database-name", "table-name"} {
		if v := ctx.Options[k]; !myIdent.MatchString(v) {
			o.fail(k, v, "expected one table's name (letters, digits, _ and $; regular expressions are not supported)")
		}
	}
	var serverID uint32
	if v, ok := ctx.Options["server-id"]; ok {
		first, _, _ := strings.Cut(v, "-")
		n, err := strconv.ParseUint(strings.TrimSpace(first), 10, 32)
		if err != nil || n == 0 {
			o.fail("server-id", v, "expected a server id such as 5400 or a range such as 5400-5408")
		}
		serverID = uint32(n)
	}
	zone := time.UTC
	if v, ok := ctx.Options["server-time-zone"]; ok {
		z, err := time.LoadLocation(v)
		if err != nil {
			o.fail("server-time-zone", v, "expected a time zone id such as UTC or Europe/Berlin")
		} else {
			zone = z
		}
	}
	mode := o.enum("scan.startup.mode", "initial", "initial", "latest-offset", "specific-offset", "earliest-offset", "timestamp", "snapshot")
	if !o.bool("scan.incremental.snapshot.enabled", true) {
		o.fail("scan.incremental.snapshot.enabled", ctx.Options["scan.incremental.snapshot.enabled"], "Weir's snapshot is always incremental (lock-free chunks); expected true")
	}
	chunk := o.int64("scan.incremental.snapshot.chunk.size", mycdc.DefaultChunkSize, 1)
	hb := o.duration("heartbeat.interval", mycdc.DefaultHeartbeat)
	pos := o.int64("scan.startup.specific-offset.pos", 4, 0)
	if o.err != nil {
		return nil, o.err
	}
	opts := mycdc.Options{
		Addr:            ctx.Options["hostname"] + ":" + strconv.FormatInt(port, 10),
		User:            ctx.Options["username"],
		Password:        ctx.Options["password"],
		Tables:          []string{ctx.Options["database-name"] + "." + ctx.Options["table-name"]},
		ServerID:        serverID,
		ChunkSize:       int(chunk),
		HeartbeatPeriod: hb,
	}
	switch mode {
	case "initial":
		opts.Startup = mycdc.Initial
	case "latest-offset":
		opts.Startup = mycdc.Latest
	case "specific-offset":
		opts.Startup = mycdc.SpecificOffset
		opts.StartFile = ctx.Options["scan.startup.specific-offset.file"]
		opts.StartPos = uint32(pos)
		opts.StartGTID = ctx.Options["scan.startup.specific-offset.gtid-set"]
		if opts.StartFile == "" && opts.StartGTID == "" {
			return nil, fmt.Errorf("connector: table %s: scan.startup.mode 'specific-offset' needs 'scan.startup.specific-offset.file' (and .pos) or 'scan.startup.specific-offset.gtid-set'", ctx.Table)
		}
	default:
		return nil, fmt.Errorf("connector: table %s: Invalid value for option 'scan.startup.mode': %q is not supported by Weir's mysql-cdc; expected one of: initial, latest-offset, specific-offset", ctx.Table, mode)
	}
	for _, k := range []string{"scan.startup.specific-offset.file", "scan.startup.specific-offset.pos", "scan.startup.specific-offset.gtid-set"} {
		if _, ok := ctx.Options[k]; ok && mode != "specific-offset" {
			return nil, fmt.Errorf("connector: table %s: option '%s' needs scan.startup.mode 'specific-offset'", ctx.Table, k)
		}
	}
	s := &mysqlCDCSource{table: ctx.Table, opts: opts, zone: zone, meta: ctx.Metadata}
	for _, c := range ctx.Schema.Columns {
		s.cols = append(s.cols, cdcColumn{name: c.Name, typ: c.Type, src: -1})
	}
	return s, nil
}

// ChangelogMode is All: +I, -U, +U and -D.
func (s *mysqlCDCSource) ChangelogMode() ChangelogMode { return All }

// Bounded is false.
func (s *mysqlCDCSource) Bounded() bool { return false }

// ReadableMetadata lists Flink CDC's metadata keys.
func (s *mysqlCDCSource) ReadableMetadata() map[string]row.Type { return cdcMetadata }

// Produce adds the CDC source (parallelism 1) and the conversion of its
// changes into rows.
func (s *mysqlCDCSource) Produce(b BuildContext) (weir.Stream[row.Row], error) {
	opts := s.opts
	opts.ErrorPolicy = b.OnError
	st := weir.FromSource(b.Env, mycdc.NewSource(opts), changeWatermarks(b.Watermarks, lastOf(s.rows)), s.table).
		UID(b.uid("source")).SetParallelism(1)
	return weir.Process(st, newCDCRows(b.OnError, s.rows)).Name(b.uid("changelog")).UID(b.uid("changelog")).SetParallelism(1), nil
}

// rows appends the rows of change c; cache keeps the column mapping of
// each table description.
func (s *mysqlCDCSource) rows(cache map[*mycdc.Table][]cdcColumn, dst []row.Row, c *mycdc.Change) ([]row.Row, error) {
	cols, ok := cache[c.Table]
	if !ok {
		cols = make([]cdcColumn, len(s.cols))
		copy(cols, s.cols)
		var names []string
		for _, tc := range c.Table.Columns {
			names = append(names, tc.Name)
		}
		for i := range cols {
			for j, tc := range c.Table.Columns {
				if strings.EqualFold(tc.Name, cols[i].name) {
					cols[i].src = j
					if tc.DataType == "timestamp" {
						cols[i].wall = s.zone
					}
				}
			}
			if cols[i].src < 0 {
				return dst, fmt.Errorf("connector: table %s: column %s is not a column of MySQL table %s (it has %s)", s.table, cols[i].name, c.Table.ID(), strings.Join(names, ", "))
			}
		}
		cache[c.Table] = cols
	}
	where := fmt.Sprintf("mysql-cdc table %s (%s) %s", s.table, c.Table.ID(), c.Position)
	opTime := c.Time
	if c.Position.Snapshot {
		opTime = time.Time{}
	}
	image := func(img []any, k row.Kind) ([]row.Row, error) {
		r, field, err := cdcImage(c.Table.ID(), cols, img, len(s.meta), false)
		if err != nil {
			d := weir.DeadLetter{Source: where, Field: field, Reason: err.Error(), Raw: fmt.Appendf(nil, "%v", img)}
			return dst, &weir.BadRecordError{DeadLetter: d}
		}
		r.Kind = k
		for _, m := range s.meta {
			r.Fields = append(r.Fields, cdcMetaValue(m.Key, c.Table.Name, c.Table.Database, opTime, k))
		}
		return append(dst, r), nil
	}
	var err error
	switch c.Op {
	case mycdc.OpRead, mycdc.OpCreate:
		return image(c.After, row.Insert)
	case mycdc.OpUpdate:
		if dst, err = image(c.Before, row.UpdateBefore); err != nil {
			return dst, err
		}
		return image(c.After, row.UpdateAfter)
	case mycdc.OpDelete:
		return image(c.Before, row.Delete)
	}
	return dst, fmt.Errorf("connector: %s: unknown operation %s", where, c.Op)
}
