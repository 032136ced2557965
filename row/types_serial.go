package row

import (
	"fmt"
	"strings"
)

// SerializableString prints t as Flink's LogicalType.asSerializableString
// does, the form SHOW CREATE TABLE writes: STRING and BYTES as
// VARCHAR(2147483647) and VARBINARY(2147483647), ROW fields with
// back-quoted names, NOT NULL where not nullable, no time attribute marks.
func (t Type) SerializableString() string {
	var b strings.Builder
	t.serialize(&b)
	return b.String()
}

func (t Type) serialize(b *strings.Builder) {
	switch t.Root {
	case TypeVarChar:
		fmt.Fprintf(b, "VARCHAR(%d)", t.Precision)
	case TypeVarBinary:
		fmt.Fprintf(b, "VARBINARY(%d)", t.Precision)
	case TypeArray:
		b.WriteString("ARRAY<")
		t.Elem.serialize(b)
		b.WriteByte('>')
	case TypeMultiset:
		b.WriteString("MULTISET<")
		t.Elem.serialize(b)
		b.WriteByte('>')
	case TypeMap:
		b.WriteString("MAP<")
		t.Elem.serialize(b)
		b.WriteString(", ")
		t.Value.serialize(b)
		b.WriteByte('>')
	case TypeRow:
		b.WriteString("ROW<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("`" + strings.ReplaceAll(f.Name, "`", "``") + "`")
			b.WriteByte(' ')
			f.Type.serialize(b)
		}
		b.WriteByte('>')
	default:
		u := t
		u.TimeAttr = NoTimeAttr
		u.Nullable = true
		u.format(b)
	}
	if !t.Nullable && t.Root != TypeNull {
		b.WriteString(" NOT NULL")
	}
}
