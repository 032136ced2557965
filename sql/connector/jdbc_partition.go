package connector

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// Partitioned scans of the jdbc connector (Flink's scan.partition.column,
// .num, .lower-bound and .upper-bound, read with its
// JdbcNumericBetweenParametersProvider): the rows whose partition column
// lies between the bounds are read by scan.partition.num queries, one per
// split, each with its range of the column; the splits are spread over
// the source's subtasks (split i on subtask i mod parallelism), and each
// reader checkpoints, for every split it owns, the number of rows it
// emitted of that split, so a restore at any parallelism resumes each
// split where it stopped.

// jdbcPartition is a validated partitioned-scan configuration.
type jdbcPartition struct {
	col          int // the partition column's index in the schema
	num          int64
	lower, upper int64
}

// jdbcSplitRange is the inclusive range [lo, hi] of one split, in the
// bounds' unit.
type jdbcSplitRange struct{ lo, hi int64 }

// partitionOptions validates the scan.partition.* options as Flink's
// JdbcDynamicTableFactory does (all or none, lower <= upper) and that the
// column is one of the table's numeric, DATE or TIMESTAMP columns.
func partitionOptions(o *options, schema row.Schema) *jdbcPartition {
	keys := []string{"scan.partition.column", "scan.partition.num", "scan.partition.lower-bound", "scan.partition.upper-bound"}
	n := 0
	for _, k := range keys {
		if o.has(k) {
			n++
		}
	}
	if n == 0 || o.err != nil {
		return nil
	}
	if n != len(keys) {
		o.err = fmt.Errorf("connector: table %s: Either all or none of the following options should be provided:\n%s", o.table, strings.Join(keys, "\n"))
		return nil
	}
	p := &jdbcPartition{col: -1}
	p.num = o.int64("scan.partition.num", 1, 1)
	p.lower = o.int64("scan.partition.lower-bound", 0, math.MinInt64)
	p.upper = o.int64("scan.partition.upper-bound", 0, math.MinInt64)
	if o.err != nil {
		return nil
	}
	if p.lower > p.upper {
		o.err = fmt.Errorf("connector: table %s: 'scan.partition.lower-bound'='%d' must not be larger than 'scan.partition.upper-bound'='%d'.", o.table, p.lower, p.upper)
		return nil
	}
	if uint64(p.upper-p.lower) >= math.MaxInt64 {
		o.err = fmt.Errorf("connector: table %s: the range of 'scan.partition.lower-bound' to 'scan.partition.upper-bound' holds more than %d values", o.table, int64(math.MaxInt64))
		return nil
	}
	name := o.str("scan.partition.column", "")
	for i, c := range schema.Columns {
		if c.Name == name {
			p.col = i
		}
	}
	if p.col < 0 {
		o.err = fmt.Errorf("connector: table %s: option 'scan.partition.column' = %q is not a column of the table", o.table, name)
		return nil
	}
	switch t := schema.Columns[p.col].Type; t.Root {
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt, row.TypeDecimal, row.TypeFloat, row.TypeDouble,
		row.TypeDate, row.TypeTimestamp:
	default:
		o.err = fmt.Errorf("connector: table %s: option 'scan.partition.column' = %q: the partition column must be a numeric, DATE or TIMESTAMP column, not %s", o.table, name, t)
		return nil
	}
	return p
}

// splits divides [lower, upper] into scan.partition.num ranges (fewer when
// the range holds fewer values) as Flink's
// JdbcNumericBetweenParametersProvider.ofBatchNum does: the first ranges
// are one value longer than the last ones.
func (p *jdbcPartition) splits() []jdbcSplitRange {
	count := uint64(p.upper-p.lower) + 1
	num := uint64(p.num)
	if num > count {
		num = count
	}
	size := (count + num - 1) / num
	big := count - (size-1)*num // ranges of size values; the others have size-1
	out := make([]jdbcSplitRange, num)
	start := p.lower
	for i := uint64(0); i < num; i++ {
		n := size
		if i >= big {
			n--
		}
		end := start + int64(n) - 1
		out[i] = jdbcSplitRange{start, end}
		start = end + 1
	}
	return out
}

// exactRange reports whether the column's values are whole units of the
// bounds (integers, days), so that "col BETWEEN lo AND hi" per split
// leaves no value between two splits. Other columns (DECIMAL, FLOAT,
// TIMESTAMP, whose bounds are milliseconds) are read with
// "col >= lo AND col < hi + 1" and "col <= upper" in the last split,
// so that 5.5 between the splits [1, 5] and [6, 10] is read once.
func (p *jdbcPartition) exactRange(t row.Type) bool {
	return t.IsInteger() || t.Root == row.TypeDate
}

// splitCondition is the condition of split i of the splits rs over
// column name, with its parameters rendered by param.
func (p *jdbcPartition) splitCondition(t row.Type, name string, rs []jdbcSplitRange, i int, param func(v int64, upper bool) string) string {
	r := rs[i]
	if p.exactRange(t) {
		return "(" + name + " BETWEEN " + param(r.lo, false) + " AND " + param(r.hi, true) + ")"
	}
	if i == len(rs)-1 {
		return "(" + name + " >= " + param(r.lo, false) + " AND " + name + " <= " + param(r.hi, true) + ")"
	}
	return "(" + name + " >= " + param(r.lo, false) + " AND " + name + " < " + param(r.hi+1, true) + ")"
}

// boundValue converts a bound (integer, days or milliseconds) to a
// parameter value and the type it is sent as, for PostgreSQL or MySQL.
func boundValue(v int64, t row.Type, mysql bool) (arg any, pgType, myType string) {
	switch t.Root {
	case row.TypeDate:
		if mysql {
			return row.FormatDate(v), "", "DATE"
		}
		return pgtype.Date{Time: time.Unix(v*86400, 0).UTC(), Valid: true}, "date", ""
	case row.TypeTimestamp:
		if mysql {
			return time.UnixMilli(v).UTC().Format("2006-01-02 15:04:05.000"), "", "DATETIME(3)"
		}
		return time.UnixMilli(v).UTC(), "timestamp", ""
	case row.TypeFloat, row.TypeDouble:
		return float64(v), "float8", "DOUBLE"
	case row.TypeDecimal:
		if mysql {
			return strconv.FormatInt(v, 10), "numeric", "DECIMAL(20, 0)"
		}
		return v, "numeric", ""
	}
	return v, "int8", ""
}

// jdbcSplitQuery is one split's query and parameters.
type jdbcSplitQuery struct {
	sql  string
	args []any
}

// partitionQueries builds every split's query: the select list, the
// pushed-down filters and the split's range, ordered by order.
func (s *jdbcSource) partitionQueries(selectFrom, orderBy string, where []string, args []any) []jdbcSplitQuery {
	p := s.part
	c := s.schema.Columns[p.col]
	rs := p.splits()
	out := make([]jdbcSplitQuery, len(rs))
	for i := range rs {
		qargs := append([]any(nil), args...)
		var name string
		if s.mysql != nil {
			name = mysqlQuoteColumn(c.Name)
		} else {
			name = pgx.Identifier{c.Name}.Sanitize()
		}
		cond := p.limitedSplitCondition(s.mysql != nil, c.Type, name, rs, i, func(v int64, _ bool) string {
			arg, pgType, myType := boundValue(v, c.Type, s.mysql != nil)
			qargs = append(qargs, arg)
			if s.mysql != nil {
				if myType == "" {
					return "?"
				}
				return "CAST(? AS " + myType + ")"
			}
			return fmt.Sprintf("$%d::%s", len(qargs), pgType)
		})
		conds := append(append([]string(nil), where...), cond)
		out[i] = jdbcSplitQuery{sql: selectFrom + " WHERE " + strings.Join(conds, " AND ") + orderBy, args: qargs}
	}
	return out
}

// jdbcPartScan is a partitioned scan: one query per split.
type jdbcPartScan struct {
	t       *jdbcTable
	part    *jdbcPartition
	queries []jdbcSplitQuery
	fp      *jdbcPartFP // see jdbc_partition_fp.go
	open    func(ctx context.Context, q jdbcSplitQuery) (scanRows, error)
}

// jdbcSplitState is a split's position: the rows of its query emitted,
// and whether it was read to its end.
type jdbcSplitState struct {
	emitted int64
	done    bool
}

// A partitioned scan's checkpoint item: 0x00 (a non-partitioned scan's
// item is one uvarint, so never starts with 0x00 and goes on), version 2,
// the number of splits and the bounds (a restore with other options is
// refused), then the split's id, rows emitted and done flag, then the
// fingerprint of the split's rows (jdbc_partition_fp.go). Version 1 items
// end after the done flag.
const jdbcPartItemVersion = 2

func (s *jdbcPartScan) encode(id int, st jdbcSplitState) []byte {
	b := []byte{0, jdbcPartItemVersion}
	b = binary.AppendUvarint(b, uint64(len(s.queries)))
	b = binary.AppendVarint(b, s.part.lower)
	b = binary.AppendVarint(b, s.part.upper)
	b = binary.AppendUvarint(b, uint64(id))
	b = binary.AppendUvarint(b, uint64(st.emitted))
	if st.done {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return s.appendFP(b, id)
}

func (s *jdbcPartScan) decode(it []byte) (int, jdbcSplitState, error) {
	corrupt := fmt.Errorf("connector: jdbc source %s: corrupt partitioned-scan position in the checkpoint", s.t.table)
	if len(it) < 2 || it[0] != 0 {
		return 0, jdbcSplitState{}, fmt.Errorf("connector: jdbc source %s: the checkpoint holds the position of a scan that was not partitioned; a partitioned scan cannot resume it (restore without the scan.partition.* options, or start the job afresh)", s.t.table)
	}
	if it[1] != 1 && it[1] != jdbcPartItemVersion {
		return 0, jdbcSplitState{}, corrupt
	}
	b := it[2:]
	var vals [5]uint64
	var lower, upper int64
	for i := range vals {
		var k int
		switch i {
		case 1:
			lower, k = binary.Varint(b)
		case 2:
			upper, k = binary.Varint(b)
		default:
			vals[i], k = binary.Uvarint(b)
		}
		if k <= 0 {
			return 0, jdbcSplitState{}, corrupt
		}
		b = b[k:]
	}
	if len(b) < 1 || b[0] > 1 || vals[4] > math.MaxInt64 || (it[1] == 1 && len(b) != 1) {
		return 0, jdbcSplitState{}, corrupt
	}
	if vals[0] != uint64(len(s.queries)) || lower != s.part.lower || upper != s.part.upper {
		return 0, jdbcSplitState{}, fmt.Errorf("connector: jdbc source %s: the checkpoint's partitioned scan had %d splits over [%d, %d], this one has %d over [%d, %d]: the scan.partition.* options changed", s.t.table, vals[0], lower, upper, len(s.queries), s.part.lower, s.part.upper)
	}
	if vals[3] >= uint64(len(s.queries)) {
		return 0, jdbcSplitState{}, corrupt
	}
	if it[1] != 1 {
		// Version 1 items have no fingerprint: restored unchecked.
		ok, err := s.checkFP(b[1:], int(vals[3]))
		if !ok {
			return 0, jdbcSplitState{}, corrupt
		}
		if err != nil {
			return 0, jdbcSplitState{}, err
		}
	}
	return int(vals[3]), jdbcSplitState{emitted: int64(vals[4]), done: b[0] == 1}, nil
}

func (s *jdbcPartScan) CreateReader(ctx weir.SourceContext) (weir.SourceReader[row.Row], error) {
	r := &jdbcPartReader{s: s, states: map[int]*jdbcSplitState{}}
	for id := ctx.Subtask; id < len(s.queries); id += max(ctx.Parallelism, 1) {
		r.own = append(r.own, id)
		r.states[id] = &jdbcSplitState{}
	}
	for _, it := range ctx.Restored {
		id, st, err := s.decode(it)
		if err != nil {
			return nil, err
		}
		if p, ok := r.states[id]; ok {
			*p = st
		}
	}
	return r, nil
}

// jdbcPartReader reads its splits one after the other, in id order.
type jdbcPartReader struct {
	s      *jdbcPartScan
	own    []int // the splits of this subtask
	states map[int]*jdbcSplitState
	cur    int // index into own
	rows   scanRows
	skip   int64
}

func (r *jdbcPartReader) SnapshotState(int64) ([][]byte, error) {
	items := make([][]byte, 0, len(r.own))
	for _, id := range r.own {
		items = append(items, r.s.encode(id, *r.states[id]))
	}
	return items, nil
}

func (r *jdbcPartReader) Poll(ctx context.Context, out *weir.SourceOutput[row.Row]) (weir.PollStatus, error) {
	t := r.s.t
	for n := 0; n < 1024; {
		for r.cur < len(r.own) && r.states[r.own[r.cur]].done {
			r.cur++
		}
		if r.cur >= len(r.own) {
			return weir.EndOfInput, nil
		}
		id := r.own[r.cur]
		st := r.states[id]
		if r.rows == nil {
			rows, err := r.s.open(ctx, r.s.queries[id])
			if err != nil {
				return 0, fmt.Errorf("connector: jdbc source %s: split %d: %w", t.table, id, err)
			}
			r.rows, r.skip = rows, st.emitted
		}
		if !r.rows.Next() {
			if err := r.rows.Err(); err != nil {
				return 0, fmt.Errorf("connector: jdbc source %s: split %d: %w", t.table, id, err)
			}
			err := r.rows.Close()
			r.rows = nil
			if err != nil {
				return 0, fmt.Errorf("connector: jdbc source %s: split %d: %w", t.table, id, err)
			}
			st.done = true
			continue
		}
		n++
		if r.skip > 0 {
			r.skip--
			continue
		}
		rw, err := r.rows.Row()
		if err != nil {
			return 0, err
		}
		out.Collect(rw)
		st.emitted++
	}
	return weir.MoreAvailable, nil
}

func (r *jdbcPartReader) Close() error {
	if r.rows != nil {
		err := r.rows.Close()
		r.rows = nil
		return err
	}
	return nil
}
