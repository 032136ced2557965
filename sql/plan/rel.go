package plan

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/udf"
)

// Mode is a changelog mode: which row kinds a Rel's output may carry.
type Mode uint8

// Changelog modes.
const (
	// InsertOnly streams carry +I only (append-only).
	InsertOnly Mode = iota
	// Updating streams carry +I, -U, +U and -D.
	Updating
)

// String prints the mode as Flink's EXPLAIN CHANGELOG_MODE does.
func (m Mode) String() string {
	if m == InsertOnly {
		return "I"
	}
	return "I,UB,UA,D"
}

// Column is one output column of a Rel.
type Column struct {
	Name string
	Type row.Type
}

// Rel is a node of the logical plan.
type Rel interface {
	// Columns are the output columns.
	Columns() []Column
	// Inputs are the child nodes.
	Inputs() []Rel
	// Mode is the output changelog mode.
	Mode() Mode
	// describe returns the node's name and attributes for Explain.
	describe() (name string, attrs []string)
}

// Types returns the column types of a Rel.
func Types(r Rel) []row.Type {
	cols := r.Columns()
	t := make([]row.Type, len(cols))
	for i, c := range cols {
		t[i] = c.Type
	}
	return t
}

// Schema returns a Rel's output as a row.Schema.
func Schema(r Rel) row.Schema {
	cols := r.Columns()
	s := row.Schema{Columns: make([]row.Field, len(cols))}
	for i, c := range cols {
		s.Columns[i] = row.Field{Name: c.Name, Type: c.Type}
	}
	return s
}

func names(cols []Column) string {
	n := make([]string, len(cols))
	for i, c := range cols {
		n[i] = c.Name
	}
	return strings.Join(n, ", ")
}

// Scan reads a catalog table; its columns are the table's physical,
// metadata and computed columns in declaration order.
type Scan struct {
	Table *Table
	// Source marks a scan of the rows as the connector produces them: the
	// physical columns, then the metadata columns (Table.SourceColumns);
	// a Calc above adds the computed columns (see Optimize).
	Source bool
	// Project, on a source scan, is the projection pushed into the
	// connector (connector.NestedProjectionPushDown): one column per
	// path of a physical column and fields of the ROWs below it (see
	// pushProjection); nil: every source column.
	Project [][]int
	// Shared marks the one scan of a table that ReuseScans gave to every
	// consumer of the table: its rows go to several operators, none of
	// which may write over them.
	Shared bool
	// Filters, on a source scan, are the filters pushed into the
	// connector (connector.FilterPushDown; PushDownSources), over the
	// full source row.
	Filters []expr.Expr
	// PartitionFilter, on a source scan, is the partition predicate
	// pushed into the connector (connector.PartitionPushDown), over the
	// values of the table's partition keys in order ($0 the first key);
	// Partitions are the partitions it kept when the plan was made.
	PartitionFilter expr.Expr
	Partitions      [][]row.Value
}

// Columns implements Rel.
func (s *Scan) Columns() []Column {
	if !s.Source {
		return s.Table.Columns
	}
	if s.Project != nil {
		return projectedColumns(s.Table, s.Project)
	}
	src := s.Table.SourceColumns()
	cols := make([]Column, len(src))
	for i, c := range src {
		cols[i] = s.Table.Columns[c]
	}
	return cols
}

// Inputs implements Rel.
func (s *Scan) Inputs() []Rel { return nil }

// Mode implements Rel: the connector's changelog mode.
func (s *Scan) Mode() Mode { return s.Table.SourceMode }

func (s *Scan) describe() (string, []string) {
	table := strings.Join(s.Table.Path(), ", ")
	table += s.pushedDown()
	if s.Project != nil {
		table += ", project=[" + names(s.Columns()) + "]"
	}
	return "TableSourceScan", []string{"table=[[" + table + "]]",
		"fields=[" + names(s.Columns()) + "]"}
}

// Values is a constant table.
type Values struct {
	Rows [][]expr.Expr
	Cols []Column
}

// Columns implements Rel.
func (v *Values) Columns() []Column { return v.Cols }

// Inputs implements Rel.
func (v *Values) Inputs() []Rel { return nil }

// Mode implements Rel.
func (v *Values) Mode() Mode { return InsertOnly }

func (v *Values) describe() (string, []string) {
	var rows []string
	for _, r := range v.Rows {
		vals := make([]string, len(r))
		for i, e := range r {
			vals[i] = e.String()
		}
		rows = append(rows, "{ "+strings.Join(vals, ", ")+" }")
	}
	return "Values", []string{"tuples=[[" + strings.Join(rows, ", ") + "]]", "fields=[" + names(v.Cols) + "]"}
}

// Calc filters its input by Cond (nil: keep every row) and projects each
// kept row through Projects. Row kinds pass through unchanged.
type Calc struct {
	In       Rel
	Projects []expr.Expr
	Cond     expr.Expr
	Cols     []Column
}

// Columns implements Rel.
func (c *Calc) Columns() []Column { return c.Cols }

// Inputs implements Rel.
func (c *Calc) Inputs() []Rel { return []Rel{c.In} }

// Mode implements Rel.
func (c *Calc) Mode() Mode { return c.In.Mode() }

// withNames prints an expression with input column names for $i.
func withNames(e expr.Expr, in []Column) string {
	s := e.String()
	return refPattern.ReplaceAllStringFunc(s, func(m string) string {
		i, err := strconv.Atoi(m[1:])
		if err != nil || i >= len(in) {
			return m
		}
		return in[i].Name
	})
}

var refPattern = regexp.MustCompile(`\$[0-9]+`)

func (c *Calc) describe() (string, []string) {
	sel := make([]string, len(c.Projects))
	in := c.In.Columns()
	for i, p := range c.Projects {
		s := withNames(p, in)
		if ref, ok := p.(*expr.InputRef); !ok || c.In.Columns()[ref.Index].Name != c.Cols[i].Name {
			s += " AS " + c.Cols[i].Name
		} else {
			s = c.Cols[i].Name
		}
		sel[i] = s
	}
	attrs := []string{"select=[" + strings.Join(sel, ", ") + "]"}
	if c.Cond != nil {
		attrs = append(attrs, "where=["+withNames(c.Cond, in)+"]")
	}
	return "Calc", attrs
}

// IsIdentity reports whether the Calc keeps every row and column as is.
func (c *Calc) IsIdentity() bool {
	if c.Cond != nil || len(c.Projects) != len(c.In.Columns()) {
		return false
	}
	for i, p := range c.Projects {
		if r, ok := p.(*expr.InputRef); !ok || r.Index != i {
			return false
		}
	}
	return true
}

// AggCall is one aggregate function call of an Aggregate or
// WindowAggregate, over input columns.
type AggCall struct {
	// Func is the upper-case function name: COUNT, SUM, AVG, MIN, MAX,
	// FIRST_VALUE, LAST_VALUE, LISTAGG, ...
	Func string
	// Args are input column indexes; COUNT(*) has none.
	Args     []int
	Distinct bool
	// IgnoreNulls is ARRAY_AGG's IGNORE NULLS: NULL values are skipped.
	IgnoreNulls bool
	// Filter is the input column of the BOOLEAN FILTER (WHERE ...)
	// condition, or -1.
	Filter int
	// Type is the result type.
	Type row.Type
	// Name is the output column name.
	Name string
	// UDF is the function of a user-defined aggregate (Func is then its
	// upper-case name), else nil.
	UDF udf.AggregateFunction
}

func (a AggCall) describe(in []Column) string {
	var b strings.Builder
	b.WriteString(a.Func)
	b.WriteByte('(')
	if a.Distinct {
		b.WriteString("DISTINCT ")
	}
	if len(a.Args) == 0 && a.Func == "COUNT" {
		b.WriteByte('*')
	}
	for i, x := range a.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(in[x].Name)
	}
	if a.IgnoreNulls {
		b.WriteString(" IGNORE NULLS")
	}
	b.WriteByte(')')
	if a.Filter >= 0 {
		b.WriteString(" FILTER " + in[a.Filter].Name)
	}
	return b.String() + " AS " + a.Name
}

// Aggregate is a GROUP BY aggregation: output columns are the key columns
// then one column per call. Its output is updating.
type Aggregate struct {
	In   Rel
	Keys []int
	Aggs []AggCall
	Cols []Column
	// PartialFinal is "" for an ordinary aggregate, or "PARTIAL" or
	// "FINAL" for the two levels of a split distinct aggregation
	// (SplitDistinctAggregates); EXPLAIN prints it as Flink's
	// partialFinalType=[..].
	PartialFinal string
}

// Columns implements Rel.
func (a *Aggregate) Columns() []Column { return a.Cols }

// Inputs implements Rel.
func (a *Aggregate) Inputs() []Rel { return []Rel{a.In} }

// Mode implements Rel: a group aggregation updates its results.
func (a *Aggregate) Mode() Mode { return Updating }

func (a *Aggregate) describe() (string, []string) {
	in := a.In.Columns()
	keys := make([]string, len(a.Keys))
	for i, k := range a.Keys {
		keys[i] = in[k].Name
	}
	sel := append([]string(nil), keys...)
	for _, c := range a.Aggs {
		sel = append(sel, c.describe(in))
	}
	attrs := []string{}
	if len(keys) > 0 {
		attrs = append(attrs, "groupBy=["+strings.Join(keys, ", ")+"]")
	}
	if a.PartialFinal != "" {
		attrs = append(attrs, "partialFinalType=["+a.PartialFinal+"]")
	}
	return "GroupAggregate", append(attrs, "select=["+strings.Join(sel, ", ")+"]")
}

// WindowKind is a window table function.
type WindowKind string

// Window table functions.
const (
	Tumble   WindowKind = "TUMBLE"
	Hop      WindowKind = "HOP"
	Cumulate WindowKind = "CUMULATE"
	Session  WindowKind = "SESSION"
)

// Window describes a window table function's windows.
type Window struct {
	Kind WindowKind
	// TimeCol is the input column of DESCRIPTOR(...): a rowtime attribute
	// (event time) or a proctime attribute.
	TimeCol int
	// Size of TUMBLE and HOP windows, the max size of CUMULATE, in ms.
	Size int64
	// Slide of HOP, Step of CUMULATE, Gap of SESSION, Offset of TUMBLE/HOP,
	// in ms.
	Slide, Step, Gap, Offset int64
	// PartitionKeys of SESSION (input columns).
	PartitionKeys []int
	// LocalTime: the time attribute is a TIMESTAMP_LTZ (or processing
	// time), so windows are aligned in the session time zone
	// (table.local-time-zone) and window_start/window_end are TIMESTAMP(3)
	// values of its wall clock, as Flink's.
	LocalTime bool
	// Unsliced: a legacy GROUP BY HOP(..) whose size is not a multiple of
	// its slide (Flink's sliding window assigner), kept window by window.
	Unsliced bool
	// Attached: the input rows carry their window in the columns
	// StartCol and EndCol (Flink's WindowAttachedWindowingStrategy: a
	// cascaded window aggregation over another one's output,
	// window_attached.go); TimeCol is then EndCol.
	Attached         bool
	StartCol, EndCol int
	// AttachedTime: an attached window aggregation grouped by its input's
	// window_time too, so it outputs window_time (a rowtime attribute) as
	// Flink's does (rowtime('w$) AS window_time).
	AttachedTime bool
}

func (w Window) describe(in []Column) string {
	if w.Attached {
		return windowOn(w, in[w.StartCol].Name, in[w.EndCol].Name)
	}
	t := in[w.TimeCol].Name
	switch w.Kind {
	case Tumble:
		s := fmt.Sprintf("TUMBLE(time_col=[%s], size=[%s]", t, ms(w.Size))
		if w.Offset != 0 {
			s += fmt.Sprintf(", offset=[%s]", ms(w.Offset))
		}
		return s + ")"
	case Hop:
		return fmt.Sprintf("HOP(time_col=[%s], size=[%s], slide=[%s])", t, ms(w.Size), ms(w.Slide))
	case Cumulate:
		return fmt.Sprintf("CUMULATE(time_col=[%s], max_size=[%s], step=[%s])", t, ms(w.Size), ms(w.Step))
	}
	return fmt.Sprintf("SESSION(time_col=[%s], gap=[%s])", t, ms(w.Gap))
}

func ms(v int64) string {
	switch {
	case v%3600000 == 0:
		return fmt.Sprintf("%d h", v/3600000)
	case v%60000 == 0:
		return fmt.Sprintf("%d min", v/60000)
	case v%1000 == 0:
		return fmt.Sprintf("%d s", v/1000)
	}
	return fmt.Sprintf("%d ms", v)
}

// WindowTVF appends window_start, window_end and window_time to each input
// row (one output row per window the row belongs to).
type WindowTVF struct {
	In     Rel
	Window Window
	Cols   []Column
}

// Columns implements Rel.
func (w *WindowTVF) Columns() []Column { return w.Cols }

// Inputs implements Rel.
func (w *WindowTVF) Inputs() []Rel { return []Rel{w.In} }

// Mode implements Rel.
func (w *WindowTVF) Mode() Mode { return InsertOnly }

func (w *WindowTVF) describe() (string, []string) {
	return "WindowTableFunction", []string{"window=[" + w.Window.describe(w.In.Columns()) + "]"}
}

// WindowAggregate aggregates the rows of each window of In (the input of
// the window TVF, not the TVF itself) per key; output columns are the keys,
// the aggregate values, then window_start, window_end, window_time. It
// emits one final +I row per window and key when the watermark passes the
// window's end.
type WindowAggregate struct {
	In     Rel
	Window Window
	Keys   []int
	Aggs   []AggCall
	Cols   []Column
	// Legacy: a legacy group window (GROUP BY TUMBLE(ts, ..)), whose
	// output has no window properties in Flink (FlinkRelMdWindowProperties
	// knows no FlinkLogicalWindowAggregate): no cascade over it.
	Legacy bool
}

// Columns implements Rel.
func (w *WindowAggregate) Columns() []Column { return w.Cols }

// Inputs implements Rel.
func (w *WindowAggregate) Inputs() []Rel { return []Rel{w.In} }

// Mode implements Rel.
func (w *WindowAggregate) Mode() Mode { return InsertOnly }

func (w *WindowAggregate) describe() (string, []string) {
	in := w.In.Columns()
	keys := make([]string, len(w.Keys))
	for i, k := range w.Keys {
		keys[i] = in[k].Name
	}
	sel := append([]string(nil), keys...)
	for _, c := range w.Aggs {
		sel = append(sel, c.describe(in))
	}
	sel = append(sel, "start('w$) AS window_start", "end('w$) AS window_end")
	if !w.Window.Attached || w.Window.AttachedTime {
		sel = append(sel, "rowtime('w$) AS window_time")
	}
	attrs := []string{}
	if len(keys) > 0 {
		attrs = append(attrs, "groupBy=["+strings.Join(keys, ", ")+"]")
	}
	attrs = append(attrs, "window=["+w.Window.describe(in)+"]")
	return "WindowAggregate", append(attrs, "select=["+strings.Join(sel, ", ")+"]")
}

// Union is UNION ALL of inputs with the same column types.
type Union struct {
	Ins  []Rel
	Cols []Column
}

// Columns implements Rel.
func (u *Union) Columns() []Column { return u.Cols }

// Inputs implements Rel.
func (u *Union) Inputs() []Rel { return u.Ins }

// Mode implements Rel: updating if any input is.
func (u *Union) Mode() Mode {
	for _, in := range u.Ins {
		if in.Mode() == Updating {
			return Updating
		}
	}
	return InsertOnly
}

func (u *Union) describe() (string, []string) {
	return "Union", []string{"all=[true]", "union=[" + names(u.Cols) + "]"}
}

// Sink writes its input into a catalog table.
type Sink struct {
	In    Rel
	Table *Table
	// UpsertMaterialize: a SinkUpsertMaterializer runs before the sink
	// (decided by the sql package from the connector; EXPLAIN prints it
	// as Flink does).
	UpsertMaterialize bool
	// Overwrite is INSERT OVERWRITE (batch mode; the sql package checks
	// that the sink supports it).
	Overwrite bool
	// Static are the values of the INSERT's PARTITION clause, by index in
	// Table.Columns (nil without one).
	Static map[int]expr.Expr
}

// Columns implements Rel.
func (s *Sink) Columns() []Column { return s.In.Columns() }

// Inputs implements Rel.
func (s *Sink) Inputs() []Rel { return []Rel{s.In} }

// Mode implements Rel.
func (s *Sink) Mode() Mode { return s.In.Mode() }

func (s *Sink) describe() (string, []string) {
	attrs := []string{"table=[" + strings.Join(s.Table.Path(), ".") + "]", "fields=[" + names(s.In.Columns()) + "]"}
	if s.UpsertMaterialize {
		attrs = append(attrs, "upsertMaterialize=[true]")
	}
	return "Sink", attrs
}

// Explain prints a plan tree as Flink's EXPLAIN prints its optimized
// physical plan, with each node's changelog mode.
func Explain(r Rel) string {
	var b strings.Builder
	explain(&b, r, "", "")
	return b.String()
}

func explain(b *strings.Builder, r Rel, first, rest string) {
	name, attrs := r.describe()
	attrs = append(attrs, "changelogMode=["+r.Mode().String()+"]")
	b.WriteString(first + name + "(" + strings.Join(attrs, ", ") + ")\n")
	ins := r.Inputs()
	for i, in := range ins {
		if i == len(ins)-1 {
			explain(b, in, rest+"+- ", rest+"   ")
		} else {
			explain(b, in, rest+":- ", rest+":  ")
		}
	}
}
