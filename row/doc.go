// Package row is the boundary between Weir's SQL layer and its runtime: a
// Row is one changelog entry (a RowKind and a slice of field Values), and
// Type is a Flink logical type (BOOLEAN, BIGINT, DECIMAL(p, s),
// TIMESTAMP(p), ARRAY<T>, ROW<...>, ...) that says how each Value is held.
//
// # Values
//
// A Value is a small tagged-by-type union: which of its members holds the
// datum is fixed by the column's Type, not stored in the Value, so a row of
// scalars allocates nothing beyond its field slice. The zero Value is SQL
// NULL. The layout (see Value) follows Flink's internal data structures:
//
//	BOOLEAN                         Int() 0 or 1 (Bool())
//	TINYINT, SMALLINT, INT, BIGINT  Int()
//	FLOAT, DOUBLE                   Float() (a FLOAT is rounded to float32)
//	DECIMAL(p, s), p <= 18          the unscaled value, Int()
//	DECIMAL(p, s), p > 18           the unscaled value, BigInt()
//	CHAR, VARCHAR, STRING           Str()
//	BINARY, VARBINARY, BYTES        Str() (the bytes, immutable)
//	DATE                            Int(): days since 1970-01-01
//	TIME(p)                         Int(): nanoseconds of the day
//	TIMESTAMP(p), TIMESTAMP_LTZ(p)  Millis() and NanoOfMilli(), as Flink's
//	                                TimestampData (epoch milliseconds, UTC
//	                                wall clock for TIMESTAMP)
//	INTERVAL YEAR TO MONTH          Int(): months
//	INTERVAL DAY TO SECOND          Int(): milliseconds
//	ARRAY<T>                        Elems()
//	MAP<K, V>                       MapOf(): keys and values in insertion order
//	ROW<...>                        Elems(): the nested fields
//	VARIANT                         Str(): its canonical encoding (variant.go;
//	                                ParseJSONVariant, VariantJSON, VariantField)
//
// Values are immutable once built; a Row's Fields slice may be reused by
// the operator that owns it, so an operator that keeps a row past the call
// that handed it over must Clone it. A row handed over is read-only to the
// operator that receives it unless the plan makes it that operator's alone
// (a Calc over a source scan or a regular join writes over its input's
// fields): its producer may still hold the fields (the append-only Top-N
// keeps the fields of the rows it emits in its state).
//
// # Kinds
//
// Kind is Flink's RowKind: +I (insert), -U (update before), +U (update
// after), -D (delete). An append-only stream holds only +I rows.
//
// # Encoding
//
// Codec encodes rows of a fixed list of types to bytes, for state and
// checkpoints; AppendKey encodes chosen fields to a compact key string that
// groups equal values (as Flink's binary row keys do: two values are the
// same key exactly when their encodings are equal).
//
// The package has no mutable package state and its functions are safe for
// concurrent use.
package row
