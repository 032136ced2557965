package connector

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir/row"
)

// Partitioned filesystem tables, as Flink's filesystem connector: a table
// PARTITIONED BY (k1, k2) keeps the rows of each combination of partition
// values in the directory path/k1=v1/k2=v2 (Hive's layout), and its files
// hold the other columns only. Values are written as Flink's
// RowDataPartitionComputer writes them (the value's string form; NULL or
// an empty string as 'partition.default-name', default
// __DEFAULT_PARTITION__), with the characters Flink's
// PartitionPathUtils.escapePathName escapes written as %XX. The source
// reads the files of the directories at the depth of the partition keys
// whose names are k1=../k2=.. in order (other files are not the table's),
// and casts each value to its column's type; the default name reads as
// NULL.

// DefaultPartitionName is Flink's 'partition.default-name' default.
const DefaultPartitionName = "__DEFAULT_PARTITION__"

type partitioning struct {
	table string
	root  string
	// keys are the partition columns' indexes in the table's schema.
	keys  []int
	names []string
	types []row.Type
	// fileCols are the indexes in the table's schema of the columns the
	// files hold, in order.
	fileCols    []int
	defaultName string
	// keep, if set, is the partition predicate the planner pushed down
	// (fs_prune.go): a partition it rejects is not the scan's.
	keep func(vals []row.Value) (bool, error)
}

func newPartitioning(ctx Context, root, defaultName string) *partitioning {
	if len(ctx.PartitionKeys) == 0 {
		return nil
	}
	p := &partitioning{table: ctx.Table, root: root, keys: ctx.PartitionKeys, defaultName: defaultName}
	for _, k := range p.keys {
		p.names = append(p.names, ctx.Schema.Columns[k].Name)
		p.types = append(p.types, ctx.Schema.Columns[k].Type)
	}
	for i := range ctx.Schema.Columns {
		if !slices.Contains(p.keys, i) {
			p.fileCols = append(p.fileCols, i)
		}
	}
	return p
}

// fileSchema is the schema of the columns the files hold.
func (p *partitioning) fileSchema(s row.Schema) row.Schema {
	var out row.Schema
	for _, i := range p.fileCols {
		out.Columns = append(out.Columns, s.Columns[i])
	}
	return out
}

// fullRow makes the table's row from a file's row and the file's partition
// values.
func (p *partitioning) fullRow(fr row.Row, vals []row.Value) row.Row {
	out := make([]row.Value, len(p.fileCols)+len(p.keys))
	for i, c := range p.fileCols {
		out[c] = fr.Fields[i]
	}
	for i, k := range p.keys {
		out[k] = vals[i]
	}
	return row.Row{Kind: fr.Kind, Fields: out}
}

// bucket is the partition directory of a full row, relative to the
// table's path.
func (p *partitioning) bucket(r row.Row) (string, error) {
	var b strings.Builder
	for i, k := range p.keys {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(escapePathName(p.names[i]))
		b.WriteByte('=')
		v := partitionString(r.Fields[k], p.types[i])
		if v == "" {
			v = p.defaultName
		}
		b.WriteString(escapePathName(v))
	}
	return b.String(), nil
}

// values returns the partition values of the file at path (a path under
// the table's root): ok is false when the file is not in a partition
// directory of the table; err when a value does not cast to its column's
// type or the pushed-down partition predicate fails on its values. A
// partition the predicate rejects is not in the table (ok false).
func (p *partitioning) values(path string) (vals []row.Value, ok bool, err error) {
	vals, ok, err = p.parse(path)
	if !ok || err != nil || p.keep == nil {
		return vals, ok, err
	}
	keep, err := p.keep(vals)
	if err != nil {
		return nil, true, fmt.Errorf("connector: table %s: partition predicate: %w", p.table, err)
	}
	if !keep {
		return nil, false, nil
	}
	return vals, true, nil
}

// parse returns the partition values of the file at path, as values
// does, without the pushed-down predicate.
func (p *partitioning) parse(path string) (vals []row.Value, ok bool, err error) {
	rel, err := filepath.Rel(p.root, path)
	if err != nil {
		return nil, false, nil
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) != len(p.keys)+1 {
		return nil, false, nil
	}
	vals = make([]row.Value, len(p.keys))
	for i := range p.keys {
		k, v, found := strings.Cut(parts[i], "=")
		if !found || unescapePathName(k) != p.names[i] {
			return nil, false, nil
		}
		v = unescapePathName(v)
		if v == p.defaultName {
			continue // NULL
		}
		x, err := partitionValue(v, p.types[i])
		if err != nil {
			return nil, true, fmt.Errorf("connector: table %s: partition directory %s: value '%s' of partition column %s cannot be read as %s: %w", p.table, strings.Join(parts[:len(p.keys)], "/"), v, row.QuoteIdent(p.names[i]), p.types[i], err)
		}
		vals[i] = x
	}
	return vals, true, nil
}

// include selects the files of partition directories (a file whose
// values do not cast is included: opening it fails the job, naming it).
func (p *partitioning) include(path string) bool {
	_, ok, _ := p.values(path)
	return ok
}

// partitionString is the string form Flink gives a partition value: the
// Java object's toString (a BOOLEAN as true/false, a TIMESTAMP as LocalDateTime prints it:
// 2024-01-02T03:04, seconds and fractions only when not zero).
func partitionString(v row.Value, t row.Type) string {
	if v.IsNull() {
		return ""
	}
	switch t.Root {
	case row.TypeChar, row.TypeVarChar:
		return v.Str()
	case row.TypeBoolean:
		return strconv.FormatBool(v.Bool()) // java.lang.Boolean's toString: true, false
	case row.TypeTimestamp, row.TypeTimestampLTZ: // TimestampData's toString: the UTC wall clock for LTZ
		tm := time.UnixMilli(v.Millis()).UTC().Add(time.Duration(v.NanoOfMilli()))
		s := tm.Format("2006-01-02T15:04")
		nanos := tm.Nanosecond()
		if tm.Second() != 0 || nanos != 0 {
			s += fmt.Sprintf(":%02d", tm.Second())
		}
		switch {
		case nanos == 0:
		case nanos%1e6 == 0:
			s += fmt.Sprintf(".%03d", nanos/1e6)
		case nanos%1e3 == 0:
			s += fmt.Sprintf(".%06d", nanos/1e3)
		default:
			s += fmt.Sprintf(".%09d", nanos)
		}
		return s
	}
	return row.Format(v, t)
}

// partitionValue casts a partition directory's value to the column type
// (CAST(s AS t)); a TIMESTAMP also reads LocalDateTime's form with a 'T'.
func partitionValue(s string, t row.Type) (row.Value, error) {
	if t.Root == row.TypeTimestamp || t.Root == row.TypeTimestampLTZ {
		if d, rest, ok := strings.Cut(s, "T"); ok && len(d) == 10 {
			if strings.Count(rest, ":") == 1 {
				rest += ":00"
			}
			s = d + " " + rest
		}
	}
	v, err := parseText(s, t)
	if err != nil {
		return row.Value{}, err
	}
	if v.IsNull() {
		return row.Value{}, fmt.Errorf("CAST gives NULL")
	}
	return v, nil
}

// escapePathName escapes what Flink's PartitionPathUtils.escapePathName
// does: control characters, '"', '#', '%', '\”, '*', '/', ':', '=', '?',
// '\\', DEL, '{', '[', ']' and '^', as %XX.
func escapePathName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func needsEscape(c byte) bool {
	if c >= 0x01 && c <= 0x1F || c == 0x7F {
		return true
	}
	return strings.IndexByte("\"#%'*/:=?\\{[]^", c) >= 0
}

// unescapePathName reverses escapePathName (a '%' not followed by two
// hexadecimal digits stays, as in Flink).
func unescapePathName(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if x, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(x))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
