package row

import (
	"errors"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/weirstream/weir/codec"
	"pgregory.net/rapid"
)

func TestFormat(t *testing.T) {
	ts := func(s string) Value {
		tm, err := time.Parse("2006-01-02 15:04:05.999999999", s)
		if err != nil {
			t.Fatal(err)
		}
		return TimestampNanos(tm.UnixNano())
	}
	dec := func(s string, p, sc int) Value {
		v, err := ParseDecimal(s, DecimalType(p, sc))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		v    Value
		t    Type
		want string
	}{
		{Null(), BigInt(), "NULL"},
		{Bool(true), Boolean(), "TRUE"},
		{Int(-42), IntType(), "-42"},
		{Float(1), Double(), "1.0"},
		{Float(1e7), Double(), "1.0E7"},
		{Float(1.5e-4), Double(), "1.5E-4"},
		{Float(0.001), Double(), "0.001"},
		{Float(123.456), Double(), "123.456"},
		{Float(math.Inf(-1)), Double(), "-Infinity"},
		{Float(float64(float32(0.1))), FloatType(), "0.1"},
		{dec("12.5", 10, 2), DecimalType(10, 2), "12.50"},
		{dec("-0.05", 10, 2), DecimalType(10, 2), "-0.05"},
		{dec("2.345", 5, 2), DecimalType(5, 2), "2.35"},
		{dec("-2.345", 5, 2), DecimalType(5, 2), "-2.35"},
		{dec("12345678901234567890.123", 30, 3), DecimalType(30, 3), "12345678901234567890.123"},
		{dec("-1.5", 30, 0), DecimalType(30, 0), "-2"},
		{dec("7", 3, 0), DecimalType(3, 0), "7"},
		{Str("abc"), String(), "abc"},
		{Bytes([]byte{0x0a, 0xff}), BytesType(), "x'0aff'"},
		{Int(18367), DateType(), "2020-04-15"},
		{Int(-1), DateType(), "1969-12-31"},
		{Int((10*3600+5)*1e9 + 120e6), TimeType(0), "10:00:05"},
		{Int((10*3600+5)*1e9 + 120e6), TimeType(3), "10:00:05.120"},
		{ts("2020-04-15 08:05:00"), TimestampType(3), "2020-04-15 08:05:00.000"},
		{ts("2020-04-15 08:05:00.123456789"), TimestampType(9), "2020-04-15 08:05:00.123456789"},
		{ts("1969-12-31 23:59:59.999"), TimestampType(3), "1969-12-31 23:59:59.999"},
		{ts("2020-04-15 08:05:00.5"), TimestampType(0), "2020-04-15 08:05:00"},
		{Int(14), IntervalYearMonth(), "+1-02"},
		{Int(-(86400000 + 36000000)), IntervalDayTime(), "-1 10:00:00.000"},
		{Array([]Value{Int(1), Null()}), ArrayType(IntType()), "[1, NULL]"},
		{Map([]Value{Str("a")}, []Value{Int(1)}), MapType(String(), IntType()), "{a=1}"},
		{Nested([]Value{Int(1), Str("x")}), RowType(Col("a", IntType()), Col("b", String())), "(1, x)"},
	}
	for _, c := range cases {
		if got := Format(c.v, c.t); got != c.want {
			t.Errorf("Format(%s) = %q, want %q", c.t, got, c.want)
		}
	}
}

func TestTypeString(t *testing.T) {
	ts := TimestampType(3)
	ts.TimeAttr = Rowtime
	cases := map[string]Type{
		"BIGINT NOT NULL":                      BigInt().NotNull(),
		"STRING":                               String(),
		"VARCHAR(10)":                          VarChar(10),
		"BYTES":                                BytesType(),
		"DECIMAL(10, 2)":                       DecimalType(10, 2),
		"TIMESTAMP(3) *ROWTIME*":               ts,
		"TIMESTAMP_LTZ(3)":                     TimestampLTZType(3),
		"ARRAY<INT NOT NULL>":                  ArrayType(IntType().NotNull()),
		"MAP<STRING, BIGINT>":                  MapType(String(), BigInt()),
		"ROW<`a` INT, `b``c` STRING> NOT NULL": RowType(Col("a", IntType()), Col("b`c", String())).NotNull(),
		"INTERVAL DAY(2) TO SECOND(3)":         IntervalDayTime(),
	}
	for want, typ := range cases {
		if got := typ.String(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestCompare(t *testing.T) {
	if Compare(Float(math.Copysign(0, -1)), Float(0.0), Double()) != -1 {
		t.Error("-0.0 should sort before 0.0")
	}
	if Compare(Float(math.NaN()), Float(math.Inf(1)), Double()) != 1 {
		t.Error("NaN should sort after +Inf")
	}
	if Compare(Null(), Int(math.MinInt64), BigInt()) != -1 || Compare(Null(), Null(), BigInt()) != 0 {
		t.Error("NULL should sort first and equal NULL")
	}
	if Compare(Timestamp(5, 1), Timestamp(5, 0), TimestampType(9)) != 1 {
		t.Error("nanos ignored")
	}
	wide := DecimalType(30, 0)
	a, _ := ParseDecimal("-100000000000000000000", wide)
	b, _ := ParseDecimal("3", wide)
	if Compare(a, b, wide) != -1 {
		t.Error("wide decimal order")
	}
	if Compare(Str("a"), Str("ab"), String()) != -1 || Compare(Str("é"), Str("z"), String()) != 1 {
		t.Error("string order is bytewise")
	}
}

func TestDecimalOverflow(t *testing.T) {
	if _, err := ParseDecimal("1000", DecimalType(5, 2)); err == nil {
		t.Error("1000 fits DECIMAL(5, 2)?")
	}
	if _, ok := DecimalFromInt64Unscaled(99999, DecimalType(5, 2)); !ok {
		t.Error("999.99 should fit DECIMAL(5, 2)")
	}
	if _, ok := DecimalFromInt64Unscaled(-100000, DecimalType(5, 2)); ok {
		t.Error("-1000.00 should not fit DECIMAL(5, 2)")
	}
	if got := Rescale(big.NewInt(-25), 1, 0); got.Int64() != -3 {
		t.Errorf("Rescale(-2.5) = %v, want -3 (half up)", got)
	}
}

// genType draws a random type, nested up to depth.
func genType(t *rapid.T, depth int) Type {
	roots := []Root{TypeBoolean, TypeTinyInt, TypeInt, TypeBigInt, TypeDouble, TypeDecimal,
		TypeVarChar, TypeVarBinary, TypeDate, TypeTime, TypeTimestamp, TypeTimestampLTZ,
		TypeIntervalDayTime}
	if depth > 0 {
		roots = append(roots, TypeArray, TypeMap, TypeRow)
	}
	switch r := rapid.SampledFrom(roots).Draw(t, "root"); r {
	case TypeDecimal:
		p := rapid.IntRange(1, 38).Draw(t, "p")
		return DecimalType(p, rapid.IntRange(0, p).Draw(t, "s"))
	case TypeArray:
		return ArrayType(genType(t, depth-1))
	case TypeMap:
		return MapType(genType(t, depth-1), genType(t, depth-1))
	case TypeRow:
		n := rapid.IntRange(0, 3).Draw(t, "n")
		fs := make([]Field, n)
		for i := range fs {
			fs[i] = Col("f", genType(t, depth-1))
		}
		return RowType(fs...)
	default:
		return Type{Root: r, Nullable: true, Precision: 9}
	}
}

func genValue(t *rapid.T, typ Type) Value {
	if rapid.IntRange(0, 5).Draw(t, "null") == 0 {
		return Null()
	}
	switch typ.Root {
	case TypeBoolean:
		return Bool(rapid.Bool().Draw(t, "b"))
	case TypeDouble:
		return Float(rapid.Float64().Draw(t, "f"))
	case TypeVarChar, TypeVarBinary:
		return Str(rapid.String().Draw(t, "s"))
	case TypeTimestamp, TypeTimestampLTZ:
		return Timestamp(rapid.Int64().Draw(t, "ms"), rapid.Int32Range(0, 999999).Draw(t, "ns"))
	case TypeDecimal:
		digits := rapid.StringMatching(`-?[0-9]{1,38}`).Draw(t, "d")
		u, _ := new(big.Int).SetString(digits, 10)
		for digitsOf(u) > typ.Precision {
			u.Quo(u, big.NewInt(10))
		}
		v, ok := DecimalFromUnscaled(u, typ)
		if !ok {
			t.Fatalf("%v does not fit %v", u, typ)
		}
		return v
	case TypeArray:
		n := rapid.IntRange(0, 3).Draw(t, "n")
		e := make([]Value, n)
		for i := range e {
			e[i] = genValue(t, *typ.Elem)
		}
		return Array(e)
	case TypeMap:
		n := rapid.IntRange(0, 3).Draw(t, "n")
		k, v := make([]Value, n), make([]Value, n)
		for i := range k {
			k[i], v[i] = genValue(t, *typ.Elem), genValue(t, *typ.Value)
		}
		return Map(k, v)
	case TypeRow:
		e := make([]Value, len(typ.Fields))
		for i := range e {
			e[i] = genValue(t, typ.Fields[i].Type)
		}
		return Nested(e)
	}
	return Int(rapid.Int64().Draw(t, "i"))
}

func digitsOf(u *big.Int) int { return digits(u) }

// genRow draws up to 12 column types and a row of them, of any kind.
func genRow(t *rapid.T) ([]Type, Row) {
	n := rapid.IntRange(0, 12).Draw(t, "cols")
	types := make([]Type, n)
	fields := make([]Value, n)
	for i := range types {
		types[i] = genType(t, 2)
		fields[i] = genValue(t, types[i])
	}
	return types, Row{Kind: Kind(rapid.IntRange(0, 3).Draw(t, "kind")), Fields: fields}
}

func TestCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		types, r := genRow(t)
		c := NewCodec(types)
		b := c.Append([]byte{7}, r)
		got, used, err := c.Decode(b[1:])
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if used != len(b)-1 {
			t.Fatalf("used %d of %d bytes", used, len(b)-1)
		}
		if !EqualRows(got, r, types) {
			t.Fatalf("round trip: got %s, want %s", FormatRow(got, types), FormatRow(r, types))
		}
		// Equal rows give equal keys; a changed field changes the key.
		idx := make([]int, len(types))
		for i := range idx {
			idx[i] = i
		}
		k1 := AppendKey(nil, r, idx, types)
		k2 := AppendKey(nil, got, idx, types)
		if string(k1) != string(k2) {
			t.Fatalf("equal rows, different keys")
		}
	})
}

func FuzzCodecDecode(f *testing.F) {
	types := []Type{BigInt(), String(), DecimalType(30, 2), TimestampType(9),
		ArrayType(MapType(String(), Double())), RowType(Col("a", Boolean()))}
	c := NewCodec(types)
	f.Add(c.Append(nil, Of(Int(1), Str("x"), BigDecimal(big.NewInt(-5)), Timestamp(1, 2),
		Array([]Value{Map([]Value{Str("k")}, []Value{Float(1)})}), Nested([]Value{Bool(true)}))))
	f.Add([]byte{0, 6, 0x3f})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, n, err := c.Decode(b)
		if err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error %v does not wrap codec.ErrCorrupt", err)
			}
			return
		}
		if n > len(b) {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
		again := c.Append(nil, r)
		r2, _, err := c.Decode(again)
		if err != nil || !EqualRows(r, r2, types) {
			t.Fatalf("re-encoding does not round-trip: %v", err)
		}
	})
}

func TestZeroAllocScalars(t *testing.T) {
	fields := make([]Value, 4)
	allocs := testing.AllocsPerRun(100, func() {
		fields[0] = Int(123456789)
		fields[1] = Float(3.5)
		fields[2] = Bool(true)
		fields[3] = Timestamp(1700000000000, 0)
	})
	if allocs != 0 {
		t.Errorf("building scalar values allocates %.1f times", allocs)
	}
}
