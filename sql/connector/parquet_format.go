package connector

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/row"
)

// The 'parquet' format of the filesystem connector, as Flink's
// flink-parquet (ParquetFileFormatFactory): a bulk format, one Parquet file
// per part file, written exactly once by file.ExactlyOnceBulkSink (part
// files roll at every checkpoint, as Flink's bulk formats do) and read by a
// source whose position in each file is a row number.
//
// Types map as Flink's ParquetSchemaConverter: CHAR/VARCHAR/STRING ->
// BINARY (UTF8), BOOLEAN, BINARY/VARBINARY/BYTES -> BINARY, TINYINT ->
// INT32 (INT_8), SMALLINT -> INT32 (INT_16), INT -> INT32, BIGINT -> INT64,
// FLOAT, DOUBLE, DECIMAL(p,s) -> INT32 (p <= 9), INT64 (p <= 18) or
// FIXED_LEN_BYTE_ARRAY (DECIMAL annotation), DATE -> INT32 (DATE), TIME ->
// INT32 (TIME_MILLIS), TIMESTAMP and TIMESTAMP_LTZ -> INT96, or INT64 with
// a TIMESTAMP annotation in 'parquet.timestamp.time.unit' when
// 'parquet.write.int64.timestamp' is true. Nullable columns are optional,
// NOT NULL ones required. ARRAY, MAP and ROW map to LIST, MAP and groups
// at any depth (parquet_nested.go); Weir has no MULTISET type.
//
// Reading matches the table's columns to the file's top-level columns (and
// ROW fields to group fields) by name (exactly, else ignoring case when that is unambiguous); a column
// the file lacks reads as NULL, as Flink's reader fills it. A file whose
// column cannot be read as the table's type fails the job naming the file
// and the column; a value out of the column's range is a bad record
// (dead-letter output or failure, as configured).

// parquetFormatOptions are the options of the parquet format, without the
// "parquet." prefix.
var parquetFormatOptions = []string{"utc-timezone", "timestamp.time.unit", "write.int64.timestamp", "compression", "page.size"}

// parquetConfig is a configured parquet format for one schema.
type parquetConfig struct {
	table  string
	schema row.Schema
	utc    bool
	int64T bool
	unit   pq.TimeUnit
	codec  compress.Codec
	page   int64
	// loc is the local zone of 'parquet.utc-timezone' = false: the
	// process's, as the JVM's default zone in Flink.
	loc *time.Location
}

func newParquetConfig(o *options, s row.Schema) (*parquetConfig, error) {
	c := &parquetConfig{table: o.table, schema: s, loc: time.Local,
		utc:    o.bool("parquet.utc-timezone", false),
		int64T: o.bool("parquet.write.int64.timestamp", false),
		page:   o.memorySize("parquet.page.size", 0),
	}
	switch o.enum("parquet.timestamp.time.unit", "micros", "millis", "micros", "nanos") {
	case "millis":
		c.unit = pq.Millisecond
	case "nanos":
		c.unit = pq.Nanosecond
	default:
		c.unit = pq.Microsecond
	}
	switch strings.ToUpper(o.str("parquet.compression", "SNAPPY")) {
	case "UNCOMPRESSED":
		c.codec = &pq.Uncompressed
	case "SNAPPY":
		c.codec = &pq.Snappy
	case "GZIP":
		c.codec = &pq.Gzip
	case "ZSTD":
		c.codec = &pq.Zstd
	case "LZ4", "LZ4_RAW":
		c.codec = &pq.Lz4Raw
	case "BROTLI":
		c.codec = &pq.Brotli
	default:
		o.fail("parquet.compression", o.m["parquet.compression"], "UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4, LZ4_RAW, BROTLI")
	}
	if o.err != nil {
		return nil, o.err
	}
	for _, f := range s.Columns {
		if err := checkParquetType(o.table, row.QuoteIdent(f.Name), f.Type); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// --- writing ---------------------------------------------------------------

// node returns the Parquet schema node of a column type.
func (c *parquetConfig) node(t row.Type) pq.Node {
	var n pq.Node
	switch t.Root {
	case row.TypeBoolean:
		n = pq.Leaf(pq.BooleanType)
	case row.TypeTinyInt:
		n = pq.Int(8)
	case row.TypeSmallInt:
		n = pq.Int(16)
	case row.TypeInt:
		n = pq.Int(32)
	case row.TypeBigInt:
		n = pq.Int(64)
	case row.TypeFloat:
		n = pq.Leaf(pq.FloatType)
	case row.TypeDouble:
		n = pq.Leaf(pq.DoubleType)
	case row.TypeChar, row.TypeVarChar:
		n = pq.String()
	case row.TypeBinary, row.TypeVarBinary:
		n = pq.Leaf(pq.ByteArrayType)
	case row.TypeDecimal:
		switch {
		case t.Precision <= 9:
			n = pq.Decimal(t.Scale, t.Precision, pq.Int32Type)
		case t.Precision <= 18:
			n = pq.Decimal(t.Scale, t.Precision, pq.Int64Type)
		default:
			n = pq.Decimal(t.Scale, t.Precision, pq.FixedLenByteArrayType(decimalBytes(t.Precision)))
		}
	case row.TypeDate:
		n = pq.Date()
	case row.TypeTime:
		n = pq.TimeAdjusted(pq.Millisecond, true)
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		if c.int64T {
			n = pq.TimestampAdjusted(c.unit, t.Root == row.TypeTimestampLTZ || c.utc)
		} else {
			n = pq.Leaf(pq.Int96Type)
		}
	case row.TypeArray, row.TypeMap, row.TypeMultiset, row.TypeRow:
		n = c.nestedNode(t) // parquet_nested.go
	default:
		panic(fmt.Sprintf("parquet: unchecked type %s", t)) // refused by newParquetConfig
	}
	if t.Nullable {
		return pq.Optional(n)
	}
	return pq.Required(n)
}

// decimalBytes is the number of bytes of a two's-complement unscaled value
// of the given precision (Flink's computeMinBytesForDecimalPrecision).
func decimalBytes(precision int) int {
	n := 1
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)
	for {
		max := new(big.Int).Lsh(big.NewInt(1), uint(8*n-1))
		if max.Cmp(limit) >= 0 {
			return n
		}
		n++
	}
}

// orderedGroup is the schema's root: the table's columns in their order
// (parquet-go's Group sorts its fields by name).
type orderedGroup struct{ fields []pq.Field }

type namedField struct {
	pq.Node
	name string
}

func (f namedField) Name() string                           { return f.name }
func (f namedField) Value(base reflect.Value) reflect.Value { return reflect.Value{} }

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return "message" }
func (g orderedGroup) Type() pq.Type               { return pq.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []pq.Field          { return g.fields }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type        { return reflect.TypeOf(map[string]any{}) }
func (g orderedGroup) EncodeSize() int             { return 0 }

func (c *parquetConfig) parquetSchema() *pq.Schema {
	g := orderedGroup{}
	for _, col := range c.schema.Columns {
		g.fields = append(g.fields, namedField{Node: c.node(col.Type), name: col.Name})
	}
	return pq.NewSchema("flink_schema", g)
}

// parquetFormat is the file.BulkFormat of the filesystem sink.
type parquetFormat struct{ c *parquetConfig }

func (parquetFormat) Extension() string { return "parquet" }

func (f parquetFormat) writerOptions() []pq.WriterOption {
	opts := []pq.WriterOption{f.c.parquetSchema(), pq.Compression(f.c.codec), pq.CreatedBy("weir", "", "")}
	if f.c.page > 0 {
		opts = append(opts, pq.PageBufferSize(int(f.c.page)))
	}
	return opts
}

// Merge writes one Parquet file holding the rows of srcs, in order, for
// auto-compaction: it decodes each file's row groups and writes their
// rows (values with their repetition and definition levels, in the
// table's schema, which every part file of the table has) through a new
// writer with the table's options, so the merged file is laid out as if
// the sink had written all its rows into one part file.
func (f parquetFormat) Merge(w io.Writer, srcs []*os.File) error {
	pw := pq.NewWriter(w, f.writerOptions()...)
	for _, src := range srcs {
		st, err := src.Stat()
		if err != nil {
			return fmt.Errorf("connector: table %s: parquet: merging %s: %w", f.c.table, filepath.Base(src.Name()), err)
		}
		pf, err := pq.OpenFile(src, st.Size())
		if err != nil {
			return fmt.Errorf("connector: table %s: parquet: merging %s: %w", f.c.table, filepath.Base(src.Name()), err)
		}
		if !pq.EqualNodes(pf.Schema(), pw.Schema()) {
			return fmt.Errorf("connector: table %s: parquet: merging %s: its schema %s is not the table's", f.c.table, filepath.Base(src.Name()), pf.Schema())
		}
		for _, rg := range pf.RowGroups() {
			rows := rg.Rows()
			_, err := pq.CopyRows(pw, rows)
			rows.Close()
			if err != nil {
				return fmt.Errorf("connector: table %s: parquet: merging %s: %w", f.c.table, filepath.Base(src.Name()), err)
			}
		}
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("connector: table %s: parquet: %w", f.c.table, err)
	}
	return nil
}

func (f parquetFormat) NewWriter(w io.Writer) (file.BulkWriter[row.Row], error) {
	pw := &parquetWriter{c: f.c, w: pq.NewWriter(w, f.writerOptions()...), rows: make([]pq.Row, 1)}
	next := 0
	for _, col := range f.c.schema.Columns {
		pw.stripes = append(pw.stripes, stripePlan(col.Type, 0, 0, &next, row.QuoteIdent(col.Name)))
	}
	pw.cols = make([][]pq.Value, next)
	return pw, nil
}

type parquetWriter struct {
	c    *parquetConfig
	w    *pq.Writer
	rows []pq.Row
	// stripes write the columns' values with their levels into cols,
	// one slice per leaf column (parquet_nested.go).
	stripes []*pqStripe
	cols    [][]pq.Value
}

func (p *parquetWriter) Write(r row.Row) error {
	if r.Kind != row.Insert {
		return fmt.Errorf("connector: filesystem sink: a %s row reached an insert-only sink", r.Kind)
	}
	for i := range p.cols {
		p.cols[i] = p.cols[i][:0]
	}
	for i, st := range p.stripes {
		if err := p.stripe(st, r.Fields[i], 0, 0, p.cols); err != nil {
			return fmt.Errorf("connector: table %s: %w", p.c.table, err)
		}
	}
	out := p.rows[0][:0]
	for _, vs := range p.cols {
		out = append(out, vs...)
	}
	p.rows[0] = out
	if _, err := p.w.WriteRows(p.rows); err != nil {
		return fmt.Errorf("connector: table %s: parquet: %w", p.c.table, err)
	}
	return nil
}

func (p *parquetWriter) value(t row.Type, v row.Value) (pq.Value, error) {
	switch t.Root {
	case row.TypeBoolean:
		return pq.BooleanValue(v.Bool()), nil
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeDate:
		return pq.Int32Value(int32(v.Int())), nil
	case row.TypeBigInt:
		return pq.Int64Value(v.Int()), nil
	case row.TypeFloat:
		return pq.FloatValue(float32(v.Float())), nil
	case row.TypeDouble:
		return pq.DoubleValue(v.Float()), nil
	case row.TypeChar, row.TypeVarChar, row.TypeBinary, row.TypeVarBinary:
		return pq.ByteArrayValue([]byte(v.Str())), nil
	case row.TypeTime:
		return pq.Int32Value(int32(v.Int() / 1e6)), nil // nanoseconds of the day to milliseconds
	case row.TypeDecimal:
		if t.Precision <= 18 {
			u, ok := row.DecimalInt64(v, t)
			if !ok {
				return pq.Value{}, fmt.Errorf("decimal %s out of range", row.DecimalString(v, t))
			}
			if t.Precision <= 9 {
				return pq.Int32Value(int32(u)), nil
			}
			return pq.Int64Value(u), nil
		}
		n := decimalBytes(t.Precision)
		b, err := twosComplement(row.DecimalUnscaled(v, t), n)
		if err != nil {
			return pq.Value{}, err
		}
		return pq.FixedLenByteArrayValue(b), nil
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		ms, nano := v.Millis(), int64(v.NanoOfMilli())
		if !p.c.utc {
			ms = localToInstant(ms, p.c.loc)
		}
		if p.c.int64T {
			var x int64
			switch p.c.unit {
			case pq.Millisecond:
				x = ms
			case pq.Microsecond:
				x = ms*1000 + nano/1000
			default:
				x = ms*1e6 + nano
			}
			return pq.Int64Value(x), nil
		}
		return pq.Int96Value(toInt96(ms, nano)), nil
	}
	return pq.Value{}, fmt.Errorf("unsupported type %s", t)
}

func (p *parquetWriter) Finish() error {
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("connector: table %s: parquet: %w", p.c.table, err)
	}
	return nil
}

// twosComplement encodes u big-endian in exactly n bytes.
func twosComplement(u *big.Int, n int) ([]byte, error) {
	b := make([]byte, n)
	if u.Sign() >= 0 {
		if u.BitLen() > 8*n-1 {
			return nil, fmt.Errorf("decimal does not fit %d bytes", n)
		}
		u.FillBytes(b)
		return b, nil
	}
	// -u - 1 in n bytes, then invert.
	m := new(big.Int).Neg(u)
	m.Sub(m, big.NewInt(1))
	if m.BitLen() > 8*n-1 {
		return nil, fmt.Errorf("decimal does not fit %d bytes", n)
	}
	m.FillBytes(b)
	for i := range b {
		b[i] = ^b[i]
	}
	return b, nil
}

func fromTwosComplement(b []byte) *big.Int {
	u := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return u
}

// Julian day of the Unix epoch, and a day in milliseconds.
const (
	julianEpochDay = 2440588
	msPerDay       = 86_400_000
)

// toInt96 is Hive's and Flink's INT96 timestamp: nanoseconds of the day
// then the Julian day.
func toInt96(ms, nanoOfMilli int64) deprecated.Int96 {
	day := floorDivI(ms, msPerDay)
	nanos := (ms-day*msPerDay)*1e6 + nanoOfMilli
	return deprecated.Int96{uint32(nanos), uint32(uint64(nanos) >> 32), uint32(day + julianEpochDay)}
}

func fromInt96(v deprecated.Int96) (ms, nanoOfMilli int64) {
	nanos := int64(uint64(v[0]) | uint64(v[1])<<32)
	day := int64(v[2]) - julianEpochDay
	return day*msPerDay + floorDivI(nanos, 1e6), nanos - floorDivI(nanos, 1e6)*1e6
}

func floorDivI(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// localToInstant reads epoch milliseconds of a wall-clock time (Flink's
// TimestampData) as a time in the process's local zone and returns its
// instant, as java.sql.Timestamp.valueOf does in Flink's writer when
// 'parquet.utc-timezone' is false. A wall-clock time in a gap of the zone
// (a clock moved forward) is read with the offset before the gap, so it
// ends up later by the gap's length, as in Java.
func localToInstant(ms int64, loc *time.Location) int64 {
	t := time.UnixMilli(ms).UTC()
	l := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	if l.Hour() != t.Hour() || l.Minute() != t.Minute() || l.Day() != t.Day() {
		_, before := time.UnixMilli(ms - 12*3600*1000).In(loc).Zone()
		return ms - int64(before)*1000
	}
	return l.UnixMilli()
}

// instantToLocal is the reverse: the wall-clock time of an instant in the
// local zone, as epoch milliseconds of that wall-clock time.
func instantToLocal(ms int64, loc *time.Location) int64 {
	l := time.UnixMilli(ms).In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC).UnixMilli()
}

// --- reading ---------------------------------------------------------------

// parquetSource reads the Parquet files at a path (the same files, in the
// same order and split over the subtasks the same way, as the line
// formats: file.ListFiles, file i to subtask i mod parallelism).
type parquetSource struct {
	c    *parquetConfig
	path string
	// full is the table's schema (c's is that of the files' columns);
	// part is set for a partitioned table.
	full row.Schema
	part *partitioning
	// include selects the files read (partitions,
	// source.path.regex-pattern); nil: all.
	include func(path string) bool
	proj    []int // table columns produced; nil: all
	onError weir.ErrorPolicy
	perPoll int
}

// parquetPosVersion starts a checkpointed position of a parquet file; it
// differs from the line formats' so that a restore across a format change
// fails clearly.
const parquetPosVersion = 0x50

type parquetPos struct {
	rows int64
	done bool
}

func encodeParquetPos(rel string, p parquetPos) []byte {
	b := []byte{parquetPosVersion}
	b = binary.AppendUvarint(b, uint64(len(rel)))
	b = append(b, rel...)
	b = binary.AppendUvarint(b, uint64(p.rows))
	if p.done {
		return append(b, 1)
	}
	return append(b, 0)
}

func decodeParquetPos(b []byte) (string, parquetPos, error) {
	bad := func(what string) (string, parquetPos, error) {
		return "", parquetPos{}, weir.MarkError(fmt.Errorf("connector: parquet source: corrupt checkpointed position: %s", what), weir.ErrCorruption)
	}
	if len(b) == 0 || b[0] != parquetPosVersion {
		return bad("not a parquet file position (was the table's format changed?)")
	}
	b = b[1:]
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return bad("name")
	}
	rel := string(b[n : n+int(l)])
	b = b[n+int(l):]
	rows, n := binary.Uvarint(b)
	if n <= 0 || rows > 1<<62 {
		return bad("row")
	}
	b = b[n:]
	if len(b) != 1 || b[0] > 1 {
		return bad("flags")
	}
	return rel, parquetPos{rows: int64(rows), done: b[0] == 1}, nil
}

type parquetSplit struct {
	path, rel string
	pos       parquetPos
	restored  bool
}

func (s *parquetSource) CreateReader(ctx weir.SourceContext) (weir.SourceReader[row.Row], error) {
	files, err := file.ListFiles(s.path)
	if err != nil {
		return nil, fmt.Errorf("connector: table %s: %w", s.c.table, err)
	}
	if s.include != nil {
		files = slices.DeleteFunc(files, func(f string) bool { return !s.include(f) })
	}
	p := max(ctx.Parallelism, 1)
	restored := map[string]parquetPos{}
	for _, it := range ctx.Restored {
		rel, pos, err := decodeParquetPos(it)
		if err != nil {
			return nil, err
		}
		if q, dup := restored[rel]; dup && q != pos {
			return nil, weir.MarkError(fmt.Errorf("connector: parquet source: corrupt checkpoint: two positions for %s", rel), weir.ErrCorruption)
		}
		restored[rel] = pos
	}
	listed := map[string]bool{}
	r := &parquetReader{s: s}
	for i, f := range files {
		rel, err := filepath.Rel(s.path, f)
		if err != nil || rel == "." {
			rel = filepath.Base(f)
		}
		rel = filepath.ToSlash(rel)
		listed[rel] = true
		if i%p != ctx.Subtask {
			continue
		}
		sp := parquetSplit{path: f, rel: rel}
		if pos, ok := restored[rel]; ok {
			sp.pos, sp.restored = pos, true
		}
		r.files = append(r.files, sp)
	}
	for rel, pos := range restored {
		if !pos.done && !listed[rel] {
			return nil, fmt.Errorf("connector: table %s: restoring from checkpoint %d: %s was being read (at row %d) but is no longer under %s", s.c.table, ctx.RestoredFrom, rel, pos.rows, s.path)
		}
	}
	return r, nil
}

type parquetReader struct {
	s     *parquetSource
	files []parquetSplit
	next  int

	f     *os.File
	rd    *pq.Reader
	split *weir.SplitOutput[row.Row]
	read  int64 // rows of the open file read
	dec   *parquetDecoder
	vals  []row.Value // the open file's partition values
	buf   []pq.Row
}

// parquetColumn reads one produced column with plan (nil: the file lacks
// it, NULL), or is partition value part (>= 0).
type parquetColumn struct {
	name string
	t    row.Type
	part int
	plan *pqPlan
}

func (r *parquetReader) Poll(ctx context.Context, out *weir.SourceOutput[row.Row]) (weir.PollStatus, error) {
	if r.rd == nil {
		for r.next < len(r.files) && r.files[r.next].pos.done {
			r.next++
		}
		if r.next == len(r.files) {
			return weir.EndOfInput, nil
		}
		if err := r.open(out); err != nil {
			return weir.EndOfInput, err
		}
	}
	if cap(r.buf) < r.s.perPoll {
		r.buf = make([]pq.Row, r.s.perPoll)
	}
	buf := r.buf[:r.s.perPoll]
	n, err := r.rd.ReadRows(buf)
	for i := range n {
		r.read++
		rw, field, derr := r.dec.decode(buf[i], r.vals)
		if derr != nil {
			d := weir.DeadLetter{Source: fmt.Sprintf("file %s row %d", r.files[r.next].path, r.read), Field: field, Reason: derr.Error()}
			if err := weir.RejectFromSource(out, r.s.onError, d); err != nil {
				return weir.EndOfInput, err
			}
			continue
		}
		r.split.Collect(rw)
	}
	if err == io.EOF || (err == nil && n == 0) {
		return weir.MoreAvailable, r.closeFile(out)
	}
	if err != nil {
		return weir.EndOfInput, fmt.Errorf("connector: table %s: reading %s: %w", r.s.c.table, r.files[r.next].path, err)
	}
	return weir.MoreAvailable, nil
}

// parquetDecoder makes the rows of the produced columns of a file.
type parquetDecoder struct {
	cols []parquetColumn
	asm  *pqAssembler
}

func newParquetDecoder(cols []parquetColumn) *parquetDecoder {
	plans := make([]*pqPlan, len(cols))
	for i, c := range cols {
		plans[i] = c.plan
	}
	return &parquetDecoder{cols: cols, asm: newPQAssembler(plans)}
}

// decode makes the row of a file's row; a value that cannot be read
// names its column (or nested field).
func (d *parquetDecoder) decode(pr pq.Row, vals []row.Value) (row.Row, string, error) {
	out := make([]row.Value, len(d.cols))
	if err := d.asm.load(pr); err != nil {
		return row.Row{}, "", err
	}
	for i, c := range d.cols {
		if c.part >= 0 {
			out[i] = vals[c.part]
			continue
		}
		if c.plan == nil {
			continue
		}
		x, err := d.asm.read(c.plan)
		if err == nil {
			err = d.asm.done(c.plan)
		}
		if err != nil {
			if ve, ok := err.(*pqValueError); ok {
				return row.Row{}, ve.field, err
			}
			return row.Row{}, c.name, err
		}
		out[i] = x
	}
	return row.Row{Kind: row.Insert, Fields: out}, "", nil
}

func (r *parquetReader) open(out *weir.SourceOutput[row.Row]) error {
	sp := r.files[r.next]
	f, err := os.Open(sp.path)
	if err != nil {
		return fmt.Errorf("connector: table %s: %w", r.s.c.table, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("connector: table %s: %w", r.s.c.table, err)
	}
	pf, err := pq.OpenFile(f, st.Size())
	if err != nil {
		f.Close()
		return &weir.BadRecordError{DeadLetter: weir.DeadLetter{Source: "file " + sp.path, Reason: fmt.Sprintf("not a readable Parquet file: %v", err)}}
	}
	cols, err := r.s.columns(pf, sp.path)
	if err != nil {
		f.Close()
		return err
	}
	r.vals = nil
	if r.s.part != nil {
		if r.vals, _, err = r.s.part.values(sp.path); err != nil {
			f.Close()
			return err
		}
	}
	rd := pq.NewReader(pf)
	r.read = 0
	if sp.restored && sp.pos.rows > 0 {
		if sp.pos.rows > pf.NumRows() {
			f.Close()
			return fmt.Errorf("connector: table %s: restoring %s: it has %d rows, the checkpoint read %d (the file changed)", r.s.c.table, sp.path, pf.NumRows(), sp.pos.rows)
		}
		if err := rd.SeekToRow(sp.pos.rows); err != nil {
			f.Close()
			return fmt.Errorf("connector: table %s: restoring %s at row %d: %w", r.s.c.table, sp.path, sp.pos.rows, err)
		}
		r.read = sp.pos.rows
	}
	r.f, r.rd, r.dec = f, rd, newParquetDecoder(cols)
	r.split = out.Split(sp.path)
	return nil
}

func (r *parquetReader) closeFile(out *weir.SourceOutput[row.Row]) error {
	sp := &r.files[r.next]
	sp.pos, sp.restored = parquetPos{rows: r.read, done: true}, true
	out.ReleaseSplit(sp.path)
	err := r.f.Close()
	r.f, r.rd, r.split = nil, nil, nil
	r.next++
	if err != nil {
		return fmt.Errorf("connector: table %s: %w", r.s.c.table, err)
	}
	return nil
}

func (r *parquetReader) SnapshotState(int64) ([][]byte, error) {
	var items [][]byte
	for i, sp := range r.files {
		switch {
		case i == r.next && r.rd != nil:
			items = append(items, encodeParquetPos(sp.rel, parquetPos{rows: r.read}))
		case sp.restored:
			items = append(items, encodeParquetPos(sp.rel, sp.pos))
		}
	}
	return items, nil
}

func (r *parquetReader) Close() error {
	if r.f != nil {
		return r.f.Close()
	}
	return nil
}

// columns maps the produced columns to a file's columns: a plan of its
// leaf columns for each (parquet_nested.go).
func (s *parquetSource) columns(pf *pq.File, path string) ([]parquetColumn, error) {
	root, err := pqFileTree(pf)
	if err != nil {
		return nil, &weir.BadRecordError{DeadLetter: weir.DeadLetter{Source: "file " + path, Reason: fmt.Sprintf("not a readable Parquet file: %v", err)}}
	}
	proj := s.proj
	if proj == nil {
		proj = make([]int, s.full.Len())
		for i := range proj {
			proj[i] = i
		}
	}
	cols := make([]parquetColumn, len(proj))
	for i, p := range proj {
		col := s.full.Columns[p]
		pc := parquetColumn{name: col.Name, t: col.Type, part: -1}
		if s.part != nil {
			if k := slices.Index(s.part.keys, p); k >= 0 {
				pc.part = k
				cols[i] = pc
				continue
			}
		}
		if n := root.child(col.Name); n != nil {
			plan, err := s.c.planColumn(col.Type, n, 0, row.QuoteIdent(col.Name), col.Name)
			if err != nil {
				return nil, fmt.Errorf("connector: table %s: file %s: %w", s.c.table, path, err)
			}
			pc.plan = plan
		}
		cols[i] = pc
	}
	return cols, nil
}

// converter returns how a Parquet value of type pt becomes a value of the
// column type t, or why it cannot.
func (c *parquetConfig) converter(t row.Type, pt pq.Type) (func(pq.Value) (row.Value, error), error) {
	kind := pt.Kind()
	lt := pt.LogicalType()
	mismatch := func() error {
		return fmt.Errorf("a Parquet %s cannot be read as %s", parquetTypeName(pt), t)
	}
	// An unsigned integer (INT(n, false)) is read as its unsigned value:
	// a UINT_32 above 2^31-1 is not negative, a UINT_64 above 2^63-1 is
	// out of every column's range.
	unsigned := lt != nil && lt.Integer != nil && !lt.Integer.IsSigned
	intOf := func(v pq.Value) (int64, bool) {
		switch {
		case kind == pq.Int32 && unsigned:
			return int64(uint32(v.Int32())), true
		case kind == pq.Int32:
			return int64(v.Int32()), true
		case unsigned:
			return v.Int64(), v.Int64() >= 0
		}
		return v.Int64(), true
	}
	intRange := func(lo, hi int64) func(pq.Value) (row.Value, error) {
		return func(v pq.Value) (row.Value, error) {
			x, ok := intOf(v)
			if !ok {
				return row.Value{}, fmt.Errorf("value %d out of the range of %s", uint64(x), t)
			}
			if x < lo || x > hi {
				return row.Value{}, fmt.Errorf("value %d out of the range of %s", x, t)
			}
			return row.Int(x), nil
		}
	}
	switch t.Root {
	case row.TypeBoolean:
		if kind == pq.Boolean {
			return func(v pq.Value) (row.Value, error) { return row.Bool(v.Boolean()), nil }, nil
		}
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
		if lt != nil && (lt.Decimal != nil || lt.Date != nil || lt.Time != nil || lt.Timestamp != nil) {
			return nil, mismatch()
		}
		if kind != pq.Int32 && kind != pq.Int64 {
			return nil, mismatch()
		}
		switch t.Root {
		case row.TypeTinyInt:
			return intRange(math.MinInt8, math.MaxInt8), nil
		case row.TypeSmallInt:
			return intRange(math.MinInt16, math.MaxInt16), nil
		case row.TypeInt:
			return intRange(math.MinInt32, math.MaxInt32), nil
		}
		return intRange(math.MinInt64, math.MaxInt64), nil
	case row.TypeFloat, row.TypeDouble:
		switch kind {
		case pq.Float:
			return func(v pq.Value) (row.Value, error) { return row.Float(float64(v.Float())), nil }, nil
		case pq.Double:
			if t.Root == row.TypeDouble {
				return func(v pq.Value) (row.Value, error) { return row.Float(v.Double()), nil }, nil
			}
		}
	case row.TypeChar, row.TypeVarChar:
		if kind == pq.ByteArray || kind == pq.FixedLenByteArray {
			return func(v pq.Value) (row.Value, error) { return row.Str(string(v.ByteArray())), nil }, nil
		}
	case row.TypeBinary, row.TypeVarBinary:
		if kind == pq.ByteArray || kind == pq.FixedLenByteArray {
			return func(v pq.Value) (row.Value, error) { return row.Bytes(v.ByteArray()), nil }, nil
		}
	case row.TypeDecimal:
		if lt == nil || lt.Decimal == nil {
			if kind == pq.Int32 || kind == pq.Int64 {
				// An integer column read as a decimal: its value, scaled.
				return func(v pq.Value) (row.Value, error) {
					x, ok := intOf(v)
					if !ok {
						return decimalValue(t, row.Rescale(new(big.Int).SetUint64(uint64(x)), 0, t.Scale))
					}
					return decimalValue(t, row.Rescale(big.NewInt(x), 0, t.Scale))
				}, nil
			}
			return nil, mismatch()
		}
		scale := int(lt.Decimal.Scale)
		switch kind {
		case pq.Int32, pq.Int64:
			return func(v pq.Value) (row.Value, error) {
				x := v.Int64()
				if kind == pq.Int32 {
					x = int64(v.Int32())
				}
				return decimalValue(t, row.Rescale(big.NewInt(x), scale, t.Scale))
			}, nil
		case pq.ByteArray, pq.FixedLenByteArray:
			return func(v pq.Value) (row.Value, error) {
				return decimalValue(t, row.Rescale(fromTwosComplement(v.ByteArray()), scale, t.Scale))
			}, nil
		}
	case row.TypeDate:
		if kind == pq.Int32 && (lt == nil || lt.Date != nil) {
			return func(v pq.Value) (row.Value, error) { return row.Int(int64(v.Int32())), nil }, nil
		}
	case row.TypeTime:
		if lt != nil && lt.Time != nil {
			u := lt.Time.Unit
			switch {
			case kind == pq.Int32 && u.Millis != nil:
				return func(v pq.Value) (row.Value, error) { return row.Int(int64(v.Int32()) * 1e6), nil }, nil
			case kind == pq.Int64 && u.Micros != nil:
				return func(v pq.Value) (row.Value, error) { return row.Int(v.Int64() * 1e3), nil }, nil
			case kind == pq.Int64 && u.Nanos != nil:
				return func(v pq.Value) (row.Value, error) { return row.Int(v.Int64()), nil }, nil
			}
		} else if kind == pq.Int32 {
			return func(v pq.Value) (row.Value, error) { return row.Int(int64(v.Int32()) * 1e6), nil }, nil
		}
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		local := func(ms, nano int64) row.Value {
			if !c.utc {
				ms = instantToLocal(ms, c.loc)
			}
			return row.Timestamp(ms, int32(nano))
		}
		switch kind {
		case pq.Int96:
			return func(v pq.Value) (row.Value, error) {
				ms, nano := fromInt96(v.Int96())
				return local(ms, nano), nil
			}, nil
		case pq.Int64:
			per := int64(1000) // micros by default (no annotation)
			if lt != nil && lt.Timestamp != nil {
				switch u := lt.Timestamp.Unit; {
				case u.Millis != nil:
					per = 1
				case u.Nanos != nil:
					per = 1e6
				}
			} else if lt != nil {
				return nil, mismatch()
			}
			return func(v pq.Value) (row.Value, error) {
				x := v.Int64()
				ms := floorDivI(x, per)
				nano := (x - ms*per) * (1e6 / per)
				return local(ms, nano), nil
			}, nil
		}
	}
	return nil, mismatch()
}

func decimalValue(t row.Type, u *big.Int) (row.Value, error) {
	v, ok := row.DecimalFromUnscaled(u, t)
	if !ok {
		return row.Value{}, fmt.Errorf("value with unscaled %s out of the range of %s", u, t)
	}
	return v, nil
}

func parquetTypeName(t pq.Type) string {
	if lt := t.LogicalType(); lt != nil {
		return t.Kind().String() + " (" + lt.String() + ")"
	}
	return t.Kind().String()
}

// readParquetFile calls fn with every row of the Parquet file name (all
// the table's columns) and its number, counted from 1; a row that cannot
// be read is an error naming it.
func (s *parquetSource) readFile(ctx context.Context, name string, fn func(r row.Row) error) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := pq.OpenFile(f, st.Size())
	if err != nil {
		return fmt.Errorf("%s: not a readable Parquet file: %w", name, err)
	}
	cols, err := s.columns(pf, name)
	if err != nil {
		return err
	}
	var vals []row.Value
	if s.part != nil {
		if vals, _, err = s.part.values(name); err != nil {
			return err
		}
	}
	dec := newParquetDecoder(cols)
	rd := pq.NewReader(pf)
	buf := make([]pq.Row, 1024)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		k, err := rd.ReadRows(buf)
		for i := range k {
			n++
			r, field, derr := dec.decode(buf[i], vals)
			if derr != nil {
				return fmt.Errorf("%s row %d field %s: %w", name, n, field, derr)
			}
			if ferr := fn(r); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF || (err == nil && k == 0) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
	}
}

// produceParquet is the filesystem source of a parquet table.
func (t *fsSource) produceParquet(b BuildContext) (weir.Stream[row.Row], error) {
	perPoll := 1024
	if b.Env.AutoWatermarkInterval() < 0 {
		perPoll = 1 // a watermark after every poll: see Produce
	}
	src := &parquetSource{c: t.parquet, path: t.path, full: t.schema, part: t.part, include: t.fileFilter(), proj: t.proj, onError: b.OnError, perPoll: perPoll}
	st := weir.FromSource[row.Row](b.Env, src, b.Watermarks, t.table).UID(b.uid("source"))
	if t.par > 0 {
		st = st.SetParallelism(t.par)
	}
	readRejects(b, st)
	return st, nil
}
