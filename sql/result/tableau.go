package result

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/weirstream/weir/row"
)

// NullText is how the tableau mode shows NULL, as Flink's SQL client.
const NullText = "<NULL>"

// maxColumnWidth caps a column's width; longer values are cut and end
// with "...".
const maxColumnWidth = 30

// Tableau prints rows as the SQL client's tableau result mode does: a
// boxed table with an "op" column holding each row's kind, values right
// aligned, NULL as <NULL>. For a streaming result the column widths come
// from the column types (NewStreamingTableau), so rows can be printed as
// they arrive; for a finished result from the data (PrintTableau).
type Tableau struct {
	w      io.Writer
	names  []string
	types  []row.Type
	widths []int
	op     bool
	rows   int
}

// NewStreamingTableau returns a printer whose widths come from the types
// and that shows the op column (changelog rows as they arrive).
func NewStreamingTableau(w io.Writer, schema row.Schema) *Tableau {
	t := &Tableau{w: w, names: schema.Names(), types: schema.Types(), op: true}
	t.widths = make([]int, len(t.names))
	for i, c := range schema.Columns {
		t.widths[i] = max(utf8.RuneCountInString(c.Name), typeWidth(c.Type))
	}
	return t
}

// typeWidth is the width a streaming tableau reserves for a type.
func typeWidth(t row.Type) int {
	switch t.Root {
	case row.TypeBoolean:
		return 6 // <NULL>
	case row.TypeTinyInt:
		return 6
	case row.TypeSmallInt:
		return 6
	case row.TypeInt:
		return 11
	case row.TypeBigInt:
		return 20
	case row.TypeDecimal:
		return max(t.Precision+2, 6)
	case row.TypeDate:
		return 10
	case row.TypeTime:
		return 8 + fracWidth(t.Precision)
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		return 19 + fracWidth(t.Precision)
	case row.TypeChar, row.TypeVarChar:
		return min(max(t.Precision, 6), maxColumnWidth)
	}
	return maxColumnWidth
}

func fracWidth(p int) int {
	if p <= 0 {
		return 0
	}
	return p + 1
}

// PrintTableau prints a finished result (widths from the data) without the
// op column when every row is an insert, as the SQL client prints a batch
// result, followed by "N rows in set" (or "Empty set").
func PrintTableau(w io.Writer, schema row.Schema, rows []row.Row) error {
	t := &Tableau{w: w, names: schema.Names(), types: schema.Types()}
	for _, r := range rows {
		if r.Kind != row.Insert {
			t.op = true
		}
	}
	t.widths = make([]int, len(t.names))
	for i, n := range t.names {
		t.widths[i] = utf8.RuneCountInString(n)
	}
	for _, r := range rows {
		for i := range t.names {
			t.widths[i] = max(t.widths[i], min(utf8.RuneCountInString(cell(r.Fields[i], t.types[i])), maxColumnWidth))
		}
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "Empty set")
		return err
	}
	if err := t.Header(); err != nil {
		return err
	}
	for _, r := range rows {
		if err := t.Row(r); err != nil {
			return err
		}
	}
	if err := t.line(); err != nil {
		return err
	}
	noun := "rows"
	if len(rows) == 1 {
		noun = "row"
	}
	_, err := fmt.Fprintf(w, "%d %s in set\n", len(rows), noun)
	return err
}

func cell(v row.Value, t row.Type) string {
	if v.IsNull() {
		return NullText
	}
	return row.Format(v, t)
}

func (t *Tableau) line() error {
	var b strings.Builder
	b.WriteByte('+')
	if t.op {
		b.WriteString("----+")
	}
	for _, w := range t.widths {
		b.WriteString(strings.Repeat("-", w+2))
		b.WriteByte('+')
	}
	b.WriteByte('\n')
	_, err := io.WriteString(t.w, b.String())
	return err
}

func (t *Tableau) cells(op string, vals []string) error {
	var b strings.Builder
	b.WriteByte('|')
	if t.op {
		b.WriteString(" " + fmt.Sprintf("%2s", op) + " |")
	}
	for i, v := range vals {
		w := t.widths[i]
		if n := utf8.RuneCountInString(v); n > w {
			v = string([]rune(v)[:max(w-3, 0)]) + "..."
		}
		b.WriteByte(' ')
		b.WriteString(strings.Repeat(" ", w-utf8.RuneCountInString(v)))
		b.WriteString(v)
		b.WriteString(" |")
	}
	b.WriteByte('\n')
	_, err := io.WriteString(t.w, b.String())
	return err
}

// Header prints the top border, the column names and the separator.
func (t *Tableau) Header() error {
	if err := t.line(); err != nil {
		return err
	}
	if err := t.cells("op", t.names); err != nil {
		return err
	}
	return t.line()
}

// Row prints one row.
func (t *Tableau) Row(r row.Row) error {
	vals := make([]string, len(t.types))
	for i := range vals {
		vals[i] = cell(r.Fields[i], t.types[i])
	}
	t.rows++
	return t.cells(r.Kind.String(), vals)
}

// Footer prints the bottom border and "Received a total of N rows".
func (t *Tableau) Footer() error {
	if err := t.line(); err != nil {
		return err
	}
	noun := "rows"
	if t.rows == 1 {
		noun = "row"
	}
	_, err := fmt.Fprintf(t.w, "Received a total of %d %s\n", t.rows, noun)
	return err
}
