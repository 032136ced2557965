// Package rowgen draws random row types and values with rapid, for the
// round-trip property tests of the formats. It holds no state.
package rowgen

import (
	"math"
	"math/big"
	"strconv"

	"pgregory.net/rapid"

	"github.com/weirstream/weir/row"
)

// Config limits what is drawn to what a format represents exactly.
type Config struct {
	// Nested allows ARRAY, MAP (STRING keys) and ROW at depth < 2.
	Nested bool
	// NoMap leaves MAP out.
	NoMap bool
	// ScalarsInArrays restricts ARRAY elements and ROW fields to scalars
	// (CSV).
	ScalarsInArrays bool
	// StringFilter, if set, rejects strings (for CSV's delimiters).
	StringFilter func(string) bool
	// NonNullStrings draws no NULL strings (CSV cannot tell them from "").
	NonNullStrings bool
	// NonEmptyBytes draws no empty binary values (an empty CSV array
	// element is NULL).
	NonEmptyBytes bool
}

var scalars = []row.Root{row.TypeBoolean, row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt,
	row.TypeFloat, row.TypeDouble, row.TypeDecimal, row.TypeVarChar, row.TypeVarBinary, row.TypeDate,
	row.TypeTime, row.TypeTimestamp, row.TypeTimestampLTZ}

// Type draws a type.
func Type(t *rapid.T, c Config, depth int) row.Type {
	roots := scalars
	if c.Nested && depth < 2 && !(c.ScalarsInArrays && depth > 0) {
		roots = append(append([]row.Root{}, scalars...), row.TypeArray, row.TypeRow)
		if !c.NoMap {
			roots = append(roots, row.TypeMap)
		}
	}
	switch r := rapid.SampledFrom(roots).Draw(t, "root"); r {
	case row.TypeDecimal:
		p := rapid.IntRange(1, 38).Draw(t, "p")
		return row.DecimalType(p, rapid.IntRange(0, p).Draw(t, "s"))
	case row.TypeVarChar:
		return row.String()
	case row.TypeVarBinary:
		return row.BytesType()
	case row.TypeTime:
		return row.TimeType(0)
	case row.TypeTimestamp:
		return row.TimestampType(rapid.IntRange(0, 9).Draw(t, "p"))
	case row.TypeTimestampLTZ:
		return row.TimestampLTZType(rapid.IntRange(0, 9).Draw(t, "p"))
	case row.TypeArray:
		return row.ArrayType(Type(t, c, depth+1))
	case row.TypeMap:
		return row.MapType(row.String(), Type(t, c, depth+1))
	case row.TypeRow:
		n := rapid.IntRange(1, 3).Draw(t, "n")
		fs := make([]row.Field, n)
		for i := range fs {
			fs[i] = row.Col("f"+strconv.Itoa(i), Type(t, c, depth+1))
		}
		return row.RowType(fs...)
	default:
		return row.Type{Root: r, Nullable: true}
	}
}

// Schema draws a schema of 1 to 5 columns c0, c1, ...
func Schema(t *rapid.T, c Config) row.Schema {
	n := rapid.IntRange(1, 5).Draw(t, "cols")
	cols := make([]row.Field, n)
	for i := range cols {
		cols[i] = row.Col("c"+strconv.Itoa(i), Type(t, c, 0))
	}
	return row.NewSchema(cols...)
}

// Value draws a value of type typ.
func Value(t *rapid.T, c Config, typ row.Type) row.Value {
	canNull := !(c.NonNullStrings && typ.IsString())
	if canNull && rapid.IntRange(0, 6).Draw(t, "null") == 0 {
		return row.Null()
	}
	switch typ.Root {
	case row.TypeBoolean:
		return row.Bool(rapid.Bool().Draw(t, "b"))
	case row.TypeTinyInt:
		return row.Int(int64(rapid.Int8().Draw(t, "i")))
	case row.TypeSmallInt:
		return row.Int(int64(rapid.Int16().Draw(t, "i")))
	case row.TypeInt:
		return row.Int(int64(rapid.Int32().Draw(t, "i")))
	case row.TypeBigInt:
		return row.Int(rapid.Int64().Draw(t, "i"))
	case row.TypeFloat:
		return row.Float(float64(rapid.Float32().Draw(t, "f")))
	case row.TypeDouble:
		return row.Float(rapid.Float64().Draw(t, "f"))
	case row.TypeDecimal:
		digits := rapid.StringMatching("[0-9]{1,38}").Draw(t, "digits")
		if len(digits) > typ.Precision {
			digits = digits[:typ.Precision]
		}
		u, _ := new(big.Int).SetString(digits, 10)
		if rapid.Bool().Draw(t, "neg") {
			u.Neg(u)
		}
		v, _ := row.DecimalFromUnscaled(u, typ)
		return v
	case row.TypeVarChar:
		s := rapid.String().Filter(func(s string) bool { return c.StringFilter == nil || c.StringFilter(s) }).Draw(t, "s")
		return row.Str(s)
	case row.TypeVarBinary:
		min := 0
		if c.NonEmptyBytes {
			min = 1
		}
		return row.Bytes(rapid.SliceOfN(rapid.Byte(), min, -1).Draw(t, "bytes"))
	case row.TypeDate:
		return row.Int(rapid.Int64Range(-719162, 2932896).Draw(t, "days"))
	case row.TypeTime:
		return row.Int(rapid.Int64Range(0, 86399).Draw(t, "secs") * 1e9)
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		sec := rapid.Int64Range(-62135596800, 253402300799).Draw(t, "sec")
		nanos := rapid.Int64Range(0, 999999999).Draw(t, "nanos")
		nanos -= nanos % int64(math.Pow10(9-typ.Precision))
		return row.Timestamp(sec*1000+nanos/1e6, int32(nanos%1e6))
	case row.TypeArray:
		n := rapid.IntRange(0, 3).Draw(t, "len")
		es := make([]row.Value, n)
		for i := range es {
			es[i] = Value(t, c, *typ.Elem)
		}
		return row.Array(es)
	case row.TypeMap:
		n := rapid.IntRange(0, 3).Draw(t, "len")
		seen := map[string]bool{}
		var ks, vs []row.Value
		for i := 0; i < n; i++ {
			k := rapid.String().Draw(t, "key")
			if seen[k] {
				continue
			}
			seen[k] = true
			ks = append(ks, row.Str(k))
			vs = append(vs, Value(t, c, *typ.Value))
		}
		return row.Map(ks, vs)
	case row.TypeRow:
		fs := make([]row.Value, len(typ.Fields))
		for i, f := range typ.Fields {
			fs[i] = Value(t, c, f.Type)
		}
		return row.Nested(fs)
	}
	return row.Null()
}

// Row draws an insert row of schema s.
func Row(t *rapid.T, c Config, s row.Schema) row.Row {
	fs := make([]row.Value, s.Len())
	for i, col := range s.Columns {
		fs[i] = Value(t, c, col.Type)
	}
	return row.Of(fs...)
}
