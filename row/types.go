package row

import (
	"fmt"
	"strings"
)

// Root is the family of a logical type (Flink's LogicalTypeRoot).
type Root uint8

// The type roots Weir supports.
const (
	TypeNull Root = iota // the type of an untyped NULL literal
	TypeBoolean
	TypeTinyInt
	TypeSmallInt
	TypeInt
	TypeBigInt
	TypeFloat
	TypeDouble
	TypeDecimal
	TypeChar
	TypeVarChar
	TypeBinary
	TypeVarBinary
	TypeDate
	TypeTime
	TypeTimestamp    // TIMESTAMP(p) WITHOUT TIME ZONE
	TypeTimestampLTZ // TIMESTAMP(p) WITH LOCAL TIME ZONE
	TypeIntervalYearMonth
	TypeIntervalDayTime
	TypeArray
	TypeMap
	TypeRow
	// TypeMultiset is MULTISET<elem> (Flink's MultisetType): a value is a
	// MAP of the distinct elements to their counts (INT NOT NULL), as
	// Flink's MapData.
	TypeMultiset
	// TypeVariant is VARIANT (Flink's VariantType): semi-structured data;
	// a value is a Str of its encoding (variant.go).
	TypeVariant
)

// MaxLength is the length of STRING (VARCHAR(2147483647)) and BYTES.
const MaxLength = 2147483647

// MaxDecimalPrecision is the largest precision of a DECIMAL.
const MaxDecimalPrecision = 38

// MaxCompactDecimalPrecision is the largest DECIMAL precision whose
// unscaled values are held in an int64 (Value.Int); wider ones use BigInt.
const MaxCompactDecimalPrecision = 18

// TimeAttr marks a TIMESTAMP column as a time attribute.
type TimeAttr uint8

// Time attribute kinds.
const (
	// NoTimeAttr is a regular column.
	NoTimeAttr TimeAttr = iota
	// Rowtime is an event-time attribute (the column of a WATERMARK).
	Rowtime
	// Proctime is a processing-time attribute (PROCTIME()).
	Proctime
)

// Type is a logical type. Types are values; the nested types of ARRAY, MAP
// and ROW are pointers that must not be modified once built.
type Type struct {
	Root     Root
	Nullable bool
	// Length of CHAR/VARCHAR/BINARY/VARBINARY; precision of DECIMAL,
	// TIME, TIMESTAMP, TIMESTAMP_LTZ; for intervals, the fractional
	// second precision.
	Precision int
	// Scale of DECIMAL.
	Scale int
	// Elem is the element type of ARRAY and MULTISET and the key type of
	// MAP.
	Elem *Type
	// Value is the value type of MAP; for MULTISET it is the count type,
	// INT NOT NULL.
	Value *Type
	// Fields of a ROW.
	Fields []Field
	// TimeAttr marks time attributes (TIMESTAMP and TIMESTAMP_LTZ only).
	TimeAttr TimeAttr
}

// Field is one named field of a ROW type or one column of a Schema.
type Field struct {
	Name string
	Type Type
}

// Constructors of nullable types. Use NotNull to drop nullability.

// Boolean is BOOLEAN.
func Boolean() Type { return Type{Root: TypeBoolean, Nullable: true} }

// TinyInt is TINYINT.
func TinyInt() Type { return Type{Root: TypeTinyInt, Nullable: true} }

// SmallInt is SMALLINT.
func SmallInt() Type { return Type{Root: TypeSmallInt, Nullable: true} }

// IntType is INT.
func IntType() Type { return Type{Root: TypeInt, Nullable: true} }

// BigInt is BIGINT.
func BigInt() Type { return Type{Root: TypeBigInt, Nullable: true} }

// FloatType is FLOAT.
func FloatType() Type { return Type{Root: TypeFloat, Nullable: true} }

// Double is DOUBLE.
func Double() Type { return Type{Root: TypeDouble, Nullable: true} }

// DecimalType is DECIMAL(p, s).
func DecimalType(p, s int) Type {
	return Type{Root: TypeDecimal, Nullable: true, Precision: p, Scale: s}
}

// Char is CHAR(n).
func Char(n int) Type { return Type{Root: TypeChar, Nullable: true, Precision: n} }

// VarChar is VARCHAR(n).
func VarChar(n int) Type { return Type{Root: TypeVarChar, Nullable: true, Precision: n} }

// String is STRING, i.e. VARCHAR(2147483647).
func String() Type { return VarChar(MaxLength) }

// Binary is BINARY(n).
func Binary(n int) Type { return Type{Root: TypeBinary, Nullable: true, Precision: n} }

// VarBinary is VARBINARY(n).
func VarBinary(n int) Type { return Type{Root: TypeVarBinary, Nullable: true, Precision: n} }

// BytesType is BYTES, i.e. VARBINARY(2147483647).
func BytesType() Type { return VarBinary(MaxLength) }

// DateType is DATE.
func DateType() Type { return Type{Root: TypeDate, Nullable: true} }

// TimeType is TIME(p).
func TimeType(p int) Type { return Type{Root: TypeTime, Nullable: true, Precision: p} }

// TimestampType is TIMESTAMP(p).
func TimestampType(p int) Type { return Type{Root: TypeTimestamp, Nullable: true, Precision: p} }

// TimestampLTZType is TIMESTAMP_LTZ(p).
func TimestampLTZType(p int) Type {
	return Type{Root: TypeTimestampLTZ, Nullable: true, Precision: p}
}

// IntervalYearMonth is INTERVAL YEAR TO MONTH.
func IntervalYearMonth() Type { return Type{Root: TypeIntervalYearMonth, Nullable: true} }

// IntervalDayTime is INTERVAL DAY TO SECOND(3).
func IntervalDayTime() Type {
	return Type{Root: TypeIntervalDayTime, Nullable: true, Precision: 3}
}

// ArrayType is ARRAY<elem>.
func ArrayType(elem Type) Type { return Type{Root: TypeArray, Nullable: true, Elem: &elem} }

// MapType is MAP<key, value>.
func MapType(key, value Type) Type {
	return Type{Root: TypeMap, Nullable: true, Elem: &key, Value: &value}
}

// MultisetType is MULTISET<elem>: its values are maps of the distinct
// elements to their counts (Value is INT NOT NULL).
func MultisetType(elem Type) Type {
	c := IntType().NotNull()
	return Type{Root: TypeMultiset, Nullable: true, Elem: &elem, Value: &c}
}

// IsMapLike reports whether t's values are maps: MAP and MULTISET.
func (t Type) IsMapLike() bool { return t.Root == TypeMap || t.Root == TypeMultiset }

// RowType is ROW<fields...>.
func RowType(fields ...Field) Type { return Type{Root: TypeRow, Nullable: true, Fields: fields} }

// NullType is the type of an untyped NULL.
func NullType() Type { return Type{Root: TypeNull, Nullable: true} }

// NotNull returns t without nullability.
func (t Type) NotNull() Type { t.Nullable = false; return t }

// WithNullable returns t with the given nullability.
func (t Type) WithNullable(n bool) Type { t.Nullable = n; return t }

// IsNumeric reports whether t is an exact or approximate number.
func (t Type) IsNumeric() bool {
	switch t.Root {
	case TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt, TypeFloat, TypeDouble, TypeDecimal:
		return true
	}
	return false
}

// IsInteger reports whether t is TINYINT, SMALLINT, INT or BIGINT.
func (t Type) IsInteger() bool {
	switch t.Root {
	case TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt:
		return true
	}
	return false
}

// IsString reports whether t is CHAR or VARCHAR.
func (t Type) IsString() bool { return t.Root == TypeChar || t.Root == TypeVarChar }

// IsBinary reports whether t is BINARY or VARBINARY.
func (t Type) IsBinary() bool { return t.Root == TypeBinary || t.Root == TypeVarBinary }

// IsTimestamp reports whether t is TIMESTAMP or TIMESTAMP_LTZ.
func (t Type) IsTimestamp() bool { return t.Root == TypeTimestamp || t.Root == TypeTimestampLTZ }

// IsCompactDecimal reports whether t is a DECIMAL held in an int64.
func (t Type) IsCompactDecimal() bool {
	return t.Root == TypeDecimal && t.Precision <= MaxCompactDecimalPrecision
}

// Equal reports whether t and u are the same type, nullability and time
// attribute included.
func (t Type) Equal(u Type) bool {
	if t.Root != u.Root || t.Nullable != u.Nullable || t.Precision != u.Precision ||
		t.Scale != u.Scale || t.TimeAttr != u.TimeAttr || len(t.Fields) != len(u.Fields) {
		return false
	}
	if (t.Elem == nil) != (u.Elem == nil) || (t.Value == nil) != (u.Value == nil) {
		return false
	}
	if t.Elem != nil && !t.Elem.Equal(*u.Elem) {
		return false
	}
	if t.Value != nil && !t.Value.Equal(*u.Value) {
		return false
	}
	for i := range t.Fields {
		if t.Fields[i].Name != u.Fields[i].Name || !t.Fields[i].Type.Equal(u.Fields[i].Type) {
			return false
		}
	}
	return true
}

// String prints t as Flink's DataType.toString does: "BIGINT NOT NULL",
// "STRING", "DECIMAL(10, 2)", "TIMESTAMP(3) *ROWTIME*", "ROW<`a` INT>".
func (t Type) String() string {
	var b strings.Builder
	t.format(&b)
	return b.String()
}

func (t Type) format(b *strings.Builder) { t.write(b, false) }

// write prints t as String does, or, with serial, as
// SerializableString does (types_serial.go).
func (t Type) write(b *strings.Builder, serial bool) {
	switch t.Root {
	case TypeNull:
		b.WriteString("NULL")
		return // NULL is always nullable
	case TypeBoolean:
		b.WriteString("BOOLEAN")
	case TypeTinyInt:
		b.WriteString("TINYINT")
	case TypeSmallInt:
		b.WriteString("SMALLINT")
	case TypeInt:
		b.WriteString("INT")
	case TypeBigInt:
		b.WriteString("BIGINT")
	case TypeFloat:
		b.WriteString("FLOAT")
	case TypeDouble:
		b.WriteString("DOUBLE")
	case TypeDecimal:
		fmt.Fprintf(b, "DECIMAL(%d, %d)", t.Precision, t.Scale)
	case TypeChar:
		fmt.Fprintf(b, "CHAR(%d)", t.Precision)
	case TypeVarChar:
		if t.Precision == MaxLength && !serial {
			b.WriteString("STRING")
		} else {
			fmt.Fprintf(b, "VARCHAR(%d)", t.Precision)
		}
	case TypeBinary:
		fmt.Fprintf(b, "BINARY(%d)", t.Precision)
	case TypeVarBinary:
		if t.Precision == MaxLength && !serial {
			b.WriteString("BYTES")
		} else {
			fmt.Fprintf(b, "VARBINARY(%d)", t.Precision)
		}
	case TypeDate:
		b.WriteString("DATE")
	case TypeTime:
		fmt.Fprintf(b, "TIME(%d)", t.Precision)
	case TypeTimestamp:
		fmt.Fprintf(b, "TIMESTAMP(%d)", t.Precision)
	case TypeTimestampLTZ:
		if serial {
			// LocalZonedTimestampType.asSerializableString; TIMESTAMP_LTZ
			// is its summary form only.
			fmt.Fprintf(b, "TIMESTAMP(%d) WITH LOCAL TIME ZONE", t.Precision)
		} else {
			fmt.Fprintf(b, "TIMESTAMP_LTZ(%d)", t.Precision)
		}
	case TypeIntervalYearMonth:
		b.WriteString("INTERVAL YEAR(2) TO MONTH")
	case TypeIntervalDayTime:
		fmt.Fprintf(b, "INTERVAL DAY(2) TO SECOND(%d)", t.Precision)
	case TypeArray:
		b.WriteString("ARRAY<")
		t.Elem.write(b, serial)
		b.WriteByte('>')
	case TypeMap:
		b.WriteString("MAP<")
		t.Elem.write(b, serial)
		b.WriteString(", ")
		t.Value.write(b, serial)
		b.WriteByte('>')
	case TypeMultiset:
		b.WriteString("MULTISET<")
		t.Elem.write(b, serial)
		b.WriteByte('>')
	case TypeVariant:
		b.WriteString("VARIANT")
	case TypeRow:
		b.WriteString("ROW<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			if serial {
				b.WriteString("`" + strings.ReplaceAll(f.Name, "`", "``") + "`")
			} else {
				b.WriteString(QuoteIdent(f.Name))
			}
			b.WriteByte(' ')
			f.Type.write(b, serial)
		}
		b.WriteByte('>')
	default:
		fmt.Fprintf(b, "Root(%d)", t.Root)
	}
	if !t.Nullable {
		b.WriteString(" NOT NULL")
	}
	if serial {
		return
	}
	switch t.TimeAttr {
	case Rowtime:
		b.WriteString(" *ROWTIME*")
	case Proctime:
		b.WriteString(" *PROCTIME*")
	}
}

// QuoteIdent quotes an identifier with backquotes, doubling any backquote
// inside it.
func QuoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}
