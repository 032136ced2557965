// Package result turns a changelog of rows into what a user sees: the
// materialised table it describes (Table), and the SQL client's ways of
// printing it (Flink's tableau and changelog result modes).
//
// A Table applies +I/+U as additions and -U/-D as removals of one equal
// row (retract semantics), or, when built with a primary key, +I/+U as
// upserts and -D as deletes by key (upsert semantics, where -U is ignored
// as Flink's upsert sinks do). A removal of a row the table does not hold
// is an error: it means the changelog is wrong, and it must not vanish.
//
// Tables are not safe for concurrent use.
package result

import (
	"fmt"
	"sort"
	"strings"

	"github.com/weirstream/weir/row"
)

// Table is the materialised result of a changelog.
type Table struct {
	types []row.Type
	key   []int // primary key columns; nil = retract semantics
	rows  map[string]*entry
	order int64
}

type entry struct {
	r     row.Row
	count int
	seq   int64 // first insertion order, for a stable listing
}

// NewTable returns an empty table of rows with the given field types. With
// key columns it materialises by upsert on that key (+I and +U replace the
// key's row, -U and -D remove it); without, by retract.
func NewTable(types []row.Type, key []int) *Table {
	return &Table{types: types, key: key, rows: map[string]*entry{}}
}

func (t *Table) rowKey(r row.Row) string {
	if t.key != nil {
		kt := make([]row.Type, len(t.key))
		for i, k := range t.key {
			kt[i] = t.types[k]
		}
		return string(row.AppendKey(nil, r, t.key, kt))
	}
	all := make([]int, len(t.types))
	for i := range all {
		all[i] = i
	}
	return string(row.AppendKey(nil, r, all, t.types))
}

// Apply applies one change.
func (t *Table) Apply(r row.Row) error {
	if len(r.Fields) != len(t.types) {
		return fmt.Errorf("result: row %s has %d fields, the table %d", row.FormatRow(r, t.types), len(r.Fields), len(t.types))
	}
	k := t.rowKey(r)
	if t.key != nil {
		switch r.Kind {
		case row.Insert, row.UpdateAfter:
			e := t.rows[k]
			if e == nil {
				t.order++
				e = &entry{seq: t.order}
				t.rows[k] = e
			}
			e.r, e.count = r.Clone().WithKind(row.Insert), 1
		case row.UpdateBefore:
			// As an upsert sink (Flink's values sink, JDBC) takes it: the
			// key's row goes; the +U that follows may carry another key.
			delete(t.rows, k)
		case row.Delete:
			if t.rows[k] == nil {
				return fmt.Errorf("result: %s deletes a key the table does not hold", row.FormatRow(r, t.types))
			}
			delete(t.rows, k)
		}
		return nil
	}
	e := t.rows[k]
	if r.Kind.IsAccumulate() {
		if e == nil {
			t.order++
			e = &entry{r: r.Clone().WithKind(row.Insert), seq: t.order}
			t.rows[k] = e
		}
		e.count++
		return nil
	}
	if e == nil {
		return fmt.Errorf("result: %s retracts a row the table does not hold", row.FormatRow(r, t.types))
	}
	e.count--
	if e.count == 0 {
		delete(t.rows, k)
	}
	return nil
}

// Len returns the number of rows (duplicates counted).
func (t *Table) Len() int {
	n := 0
	for _, e := range t.rows {
		n += e.count
	}
	return n
}

// Rows returns the rows (duplicates repeated) in first-insertion order.
func (t *Table) Rows() []row.Row {
	es := make([]*entry, 0, len(t.rows))
	for _, e := range t.rows {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].seq < es[j].seq })
	var out []row.Row
	for _, e := range es {
		for range e.count {
			out = append(out, e.r)
		}
	}
	return out
}

// Sorted returns the rows formatted as "+I[...]" lines, sorted: a
// canonical form for comparing two results.
func (t *Table) Sorted() []string {
	rows := t.Rows()
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = row.FormatRow(r, t.types)
	}
	sort.Strings(out)
	return out
}

// String returns Sorted joined by newlines.
func (t *Table) String() string { return strings.Join(t.Sorted(), "\n") }
