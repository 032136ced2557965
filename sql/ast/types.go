package ast

// DataType is a data type as written in SQL, unresolved.
//
// Name is upper-cased for built-in types (INT, INTEGER, VARCHAR, STRING, DECIMAL, TIMESTAMP,
// TIMESTAMP_LTZ, ARRAY, MAP, MULTISET, ROW, INTERVAL, ...) as the user wrote it (INT and
// INTEGER stay distinct; DOUBLE PRECISION becomes DOUBLE); a user-defined type keeps its
// (possibly qualified) name in UserName and Name is empty.
type DataType struct {
	Pos
	Name     string
	UserName *Name
	// Params are the numeric parameters: length, precision (and scale).
	Params []int
	// Elem are the element types: one for ARRAY and MULTISET, key and value for MAP.
	Elem []*DataType
	// Fields are the fields of ROW.
	Fields []*RowField
	// WithLocalTimeZone is TIMESTAMP(p) WITH LOCAL TIME ZONE (and TIME ... likewise).
	WithLocalTimeZone bool
	// IntervalFrom and IntervalTo are the units of INTERVAL types (IntervalTo may be empty).
	IntervalFrom, IntervalTo TimeUnit
	// IntervalPrecision is the leading field precision (DAY(2)), IntervalFracPrecision the
	// fractional second precision (SECOND(3)); 0 when not written.
	IntervalPrecision, IntervalFracPrecision int
	NotNull                                  bool
}

// RowField is a field name type ['description'] of a ROW type.
type RowField struct {
	Pos
	Name        *Ident
	Type        *DataType
	Description *string
}
