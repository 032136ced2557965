package row

import "strings"

// Schema is the list of named, typed columns of a table or a stream of
// rows.
type Schema struct {
	Columns []Field
}

// NewSchema returns a schema of the given columns.
func NewSchema(cols ...Field) Schema { return Schema{Columns: cols} }

// Col is a shorthand for a Field.
func Col(name string, t Type) Field { return Field{Name: name, Type: t} }

// Len returns the number of columns.
func (s Schema) Len() int { return len(s.Columns) }

// Index returns the position of the named column (names are case
// sensitive, as in Flink), or -1.
func (s Schema) Index(name string) int {
	for i, c := range s.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Types returns the column types in order.
func (s Schema) Types() []Type {
	t := make([]Type, len(s.Columns))
	for i, c := range s.Columns {
		t[i] = c.Type
	}
	return t
}

// Names returns the column names in order.
func (s Schema) Names() []string {
	n := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		n[i] = c.Name
	}
	return n
}

// String prints the schema as a ROW type: ROW<`a` INT, `b` STRING>.
func (s Schema) String() string {
	var b strings.Builder
	RowType(s.Columns...).NotNull().format(&b)
	return strings.TrimSuffix(b.String(), " NOT NULL")
}
