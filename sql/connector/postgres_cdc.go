package connector

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"

	"github.com/weirstream/weir"
	pgcdc "github.com/weirstream/weir/connector/postgres/cdc"
	"github.com/weirstream/weir/row"
)

// PostgresCDC is Flink CDC's 'postgres-cdc' connector over
// connector/postgres/cdc: a snapshot of one table, then its changes from a
// logical replication slot (pgoutput), as a changelog of +I, -U/+U and -D
// rows. Positions are in checkpoints (exactly-once into Weir's state).
//
// Options (Flink CDC's names): hostname, port (5432), username, password,
// database-name, schema-name, table-name, slot.name (all required but port
// and password), decoding.plugin.name (pgoutput only, also the default;
// Flink CDC's default decoderbufs is refused), scan.startup.mode (initial
// or latest-offset), changelog-mode (all or upsert), scan.snapshot.fetch.size,
// scan.incremental.snapshot.enabled (the snapshot is always resumable by
// key; the value is accepted either way), debezium.publication.name (the
// publication to create or use; default "<slot.name>_pub", where Debezium
// uses "dbz_publication"). Readable metadata: table_name, schema_name,
// database_name, op_ts (0 for snapshot rows), row_kind.
//
// With changelog-mode 'all' (the default) the table must have REPLICA
// IDENTITY FULL: PostgreSQL logs only the key of the old row otherwise,
// and an update or delete without its old row fails the job naming the
// table. changelog-mode 'upsert' reads such tables as Flink CDC does, as
// an upsert stream; the ChangelogNormalize that Flink's planner adds after
// it runs here inside the source (normalize.go: the last row per primary
// key in keyed state), so the table is still a retracting changelog.
// schema-name and table-name are names, not regular expressions: one
// table per source.
type PostgresCDC struct{}

// Identifier is "postgres-cdc".
func (PostgresCDC) Identifier() string { return "postgres-cdc" }

// RequiredOptions are Flink CDC's.
func (PostgresCDC) RequiredOptions() []string {
	return []string{"hostname", "username", "database-name", "schema-name", "table-name", "slot.name"}
}

// OptionalOptions lists the options Weir takes.
func (PostgresCDC) OptionalOptions() []string {
	return []string{"port", "password", "decoding.plugin.name", "scan.startup.mode", "changelog-mode",
		"scan.snapshot.fetch.size", "scan.incremental.snapshot.enabled", "debezium.publication.name"}
}

var pgIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

type postgresCDCSource struct {
	table    string
	opts     pgcdc.Options
	database string
	cols     []cdcColumn
	meta     []MetadataColumn
	// upsert: changelog-mode 'upsert' (normalize.go).
	upsert bool
	key    []int
	types  []row.Type
}

// CreateSource validates the options.
func (f PostgresCDC) CreateSource(ctx Context) (Source, error) {
	if err := validate(ctx, f.Identifier(), f.RequiredOptions(), f.OptionalOptions()); err != nil {
		return nil, err
	}
	if err := checkCDCSchema(ctx, f.Identifier()); err != nil {
		return nil, err
	}
	o := newOptions(ctx)
	port := o.int64("port", 5432, 1)
	if port > 65535 {
		o.fail("port", ctx.Options["port"], "expected a port number")
	}
	o.enum("decoding.plugin.name", "pgoutput", "pgoutput")
	mode := o.enum("scan.startup.mode", "initial", "initial", "latest-offset", "committed-offset", "snapshot")
	upsert := o.enum("changelog-mode", "all", "all", "upsert") == "upsert"
	fetch := o.int64("scan.snapshot.fetch.size", pgcdc.DefaultSnapshotFetchSize, 1)
	o.bool("scan.incremental.snapshot.enabled", true)
	slot := o.str("slot.name", "")
	if !pgIdent.MatchString(slot) {
		o.fail("slot.name", slot, "expected lower-case letters, digits and _ (a replication slot name)")
	}
	pub := o.str("debezium.publication.name", slot+"_pub")
	if !pgIdent.MatchString(pub) {
		o.fail("debezium.publication.name", pub, "expected lower-case letters, digits and _")
	}
	for _, k := range []string{"schema-name", "table-name"} {
		if v := ctx.Options[k]; !pgIdent.MatchString(v) {
			o.fail(k, v, "expected one table's name (lower-case letters, digits and _; regular expressions are not supported)")
		}
	}
	if o.err != nil {
		return nil, o.err
	}
	switch mode {
	case "committed-offset", "snapshot":
		return nil, fmt.Errorf("connector: table %s: Invalid value for option 'scan.startup.mode': %q is not supported by Weir's postgres-cdc; expected one of: initial, latest-offset", ctx.Table, mode)
	}
	u := url.URL{Scheme: "postgres", Host: ctx.Options["hostname"] + ":" + strconv.FormatInt(port, 10), Path: "/" + ctx.Options["database-name"]}
	if pw, ok := ctx.Options["password"]; ok {
		u.User = url.UserPassword(ctx.Options["username"], pw)
	} else {
		u.User = url.User(ctx.Options["username"])
	}
	s := &postgresCDCSource{
		table:    ctx.Table,
		database: ctx.Options["database-name"],
		meta:     ctx.Metadata,
		upsert:   upsert,
		key:      ctx.PrimaryKey,
		types:    ctx.Schema.Types(),
		opts: pgcdc.Options{
			Conn:              u.String(),
			Tables:            []string{ctx.Options["schema-name"] + "." + ctx.Options["table-name"]},
			Slot:              slot,
			Publication:       pub,
			SkipSnapshot:      mode == "latest-offset",
			SnapshotFetchSize: int(fetch),
		},
	}
	for _, c := range ctx.Schema.Columns {
		s.cols = append(s.cols, cdcColumn{name: c.Name, typ: c.Type, src: -1})
	}
	return s, nil
}

// ChangelogMode is All: +I, -U, +U and -D.
func (s *postgresCDCSource) ChangelogMode() ChangelogMode { return All }

// Bounded is false.
func (s *postgresCDCSource) Bounded() bool { return false }

// ReadableMetadata lists Flink CDC's metadata keys.
func (s *postgresCDCSource) ReadableMetadata() map[string]row.Type {
	m := map[string]row.Type{"schema_name": row.String().NotNull()}
	for k, v := range cdcMetadata {
		m[k] = v
	}
	return m
}

// Produce adds the CDC source (parallelism 1) and the conversion of its
// changes into rows.
func (s *postgresCDCSource) Produce(b BuildContext) (weir.Stream[row.Row], error) {
	opts := s.opts
	opts.ErrorPolicy = b.OnError
	st := weir.FromSource(b.Env, pgcdc.NewSource(opts), changeWatermarks(b.Watermarks, lastOf(s.rows)), s.table).
		UID(b.uid("source")).SetParallelism(1)
	rows := weir.Process(st, newCDCRows(b.OnError, s.rows)).Name(b.uid("changelog")).UID(b.uid("changelog")).SetParallelism(1)
	if s.upsert {
		return normalize(b, rows, s.types, s.key, len(s.meta)), nil
	}
	return rows, nil
}

// rows appends the rows of change c; cache keeps the column mapping of
// each table description.
func (s *postgresCDCSource) rows(cache map[*pgcdc.Table][]cdcColumn, dst []row.Row, c *pgcdc.Change) ([]row.Row, error) {
	cols, ok := cache[c.Table]
	if !ok {
		cols = make([]cdcColumn, len(s.cols))
		copy(cols, s.cols)
		for i := range cols {
			for j, tc := range c.Table.Columns {
				if tc.Name == cols[i].name {
					cols[i].src = j
				}
			}
			if cols[i].src < 0 {
				return dst, fmt.Errorf("connector: table %s: column %s is not a column of PostgreSQL table %s (it has %s)", s.table, cols[i].name, c.Table, pgColumnNames(c.Table))
			}
		}
		cache[c.Table] = cols
	}
	where := fmt.Sprintf("postgres-cdc table %s (%s) LSN %s index %d", s.table, c.Table, c.LSN, c.Index)
	image := func(img []any, k row.Kind) ([]row.Row, error) {
		for _, v := range img {
			if _, ok := v.(pgcdc.Unavailable); ok {
				return dst, fmt.Errorf("connector: %s: the change does not carry the old row's values: the '%s' table needs REPLICA IDENTITY FULL (ALTER TABLE %s REPLICA IDENTITY FULL), or the table option 'changelog-mode' = 'upsert'", where, c.Table, c.Table)
			}
		}
		r, field, err := cdcImage(c.Table.String(), cols, img, len(s.meta), s.upsert && k == row.Delete)
		if err != nil {
			d := weir.DeadLetter{Source: where, Field: field, Reason: err.Error(), Raw: pgcdc.AppendDebezium(nil, c)}
			return dst, &weir.BadRecordError{DeadLetter: d}
		}
		r.Kind = k
		for _, m := range s.meta {
			key := m.Key
			db := s.database
			if key == "schema_name" {
				db = c.Table.Schema
			}
			r.Fields = append(r.Fields, cdcMetaValue(key, c.Table.Name, db, c.CommitTime, k))
		}
		return append(dst, r), nil
	}
	var err error
	if s.upsert {
		// An upsert stream: the normalization after the source emits the
		// old rows from its state.
		switch c.Op {
		case pgcdc.OpUpdate:
			if c.Before != nil && c.BeforeKeyOnly {
				// The key changed: delete the old key, insert the new.
				if dst, err = image(keyImage(c.Table, cols, s.key, c.Before), row.Delete); err != nil {
					return dst, err
				}
				return image(c.After, row.Insert)
			}
			return image(c.After, row.UpdateAfter)
		case pgcdc.OpDelete:
			return image(keyImage(c.Table, cols, s.key, c.Before), row.Delete)
		}
	}
	switch c.Op {
	case pgcdc.OpRead, pgcdc.OpInsert:
		return image(c.After, row.Insert)
	case pgcdc.OpUpdate:
		if c.Before == nil || c.BeforeKeyOnly {
			return dst, fmt.Errorf("connector: %s: an update without the old row: the '%s' table needs REPLICA IDENTITY FULL (ALTER TABLE %s REPLICA IDENTITY FULL) for changelog-mode 'all', or the table option 'changelog-mode' = 'upsert'", where, c.Table, c.Table)
		}
		if dst, err = image(c.Before, row.UpdateBefore); err != nil {
			return dst, err
		}
		return image(c.After, row.UpdateAfter)
	case pgcdc.OpDelete:
		return image(c.Before, row.Delete)
	}
	return dst, fmt.Errorf("connector: %s: unknown operation %s", where, c.Op)
}

// keyImage returns a row image with the captured key columns of img and
// NULL elsewhere: a delete as the upsert normalization takes it (it emits
// the full row it kept).
func keyImage(t *pgcdc.Table, cols []cdcColumn, key []int, img []any) []any {
	out := make([]any, len(img))
	for _, k := range key {
		if k < len(cols) && cols[k].src < len(img) {
			out[cols[k].src] = img[cols[k].src]
		}
	}
	return out
}

func pgColumnNames(t *pgcdc.Table) string {
	var s string
	for i, c := range t.Columns {
		if i > 0 {
			s += ", "
		}
		s += c.Name
	}
	return s
}
