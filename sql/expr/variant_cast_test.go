package expr

import (
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/row"
)

// FuzzVariantCast: casting any JSON value from VARIANT to scalar and
// constructed types never panics, and the casts agree with each other and
// with item access: ARRAY<VARIANT> and MAP<STRING, VARIANT> shred one
// level into exactly the elements and fields v[i] and v['k'] give; an
// integer target that succeeds gives the same number as DOUBLE and
// DECIMAL(38, 0); DECIMAL(38, 2) succeeds exactly when DECIMAL(38, 0)
// or a non-integral DECIMAL with at most 2 digits of scale does; a
// ROW<a VARIANT> is the field a; ARRAY<STRING> is each element's STRING
// cast.
func FuzzVariantCast(f *testing.F) {
	for _, s := range []string{`1`, `-3.75`, `1.5e3`, `"x"`, `true`, `null`, `[1,null,"a",[2]]`, `{"a":1,"b":null}`,
		`{"a":{"b":[1.50,2]},"c":"d"}`, `9223372036854775807`, `-9.223372036854775808E18`, `12345678901234567890.25`, `[]`, `{}`} {
		f.Add(s)
	}
	ctx := &EvalContext{Location: time.UTC}
	cast := func(t *testing.T, enc string, to row.Type) (row.Value, bool) {
		t.Helper()
		fn := castFunc(row.VariantType(), to)
		if fn == nil {
			t.Fatalf("no cast from VARIANT to %s", to)
		}
		v, err := fn(ctx, row.Variant(enc))
		if err == errCastNull {
			return row.Value{}, true
		}
		if err != nil && !strings.HasPrefix(err.Error(), "expr: CAST: ") {
			t.Fatalf("cast to %s: unexpected error form %v", to, err)
		}
		return v, err == nil
	}
	strT := row.String()
	f.Fuzz(func(t *testing.T, js string) {
		enc, err := row.ParseJSONVariant(js, true)
		if err != nil {
			return
		}
		isNull := row.VariantKindOf(enc) == row.VariantNull

		arr, ok := cast(t, enc, row.ArrayType(row.VariantType()))
		elems, isArr := row.VariantElems(enc)
		if ok != (isArr || isNull) {
			t.Fatalf("%s: ARRAY<VARIANT> ok=%v, is array %v", js, ok, isArr)
		}
		if isArr {
			got := arr.Elems()
			if len(got) != len(elems) {
				t.Fatalf("%s: %d elements, want %d", js, len(got), len(elems))
			}
			for i, e := range elems {
				if got[i].Str() != e {
					t.Fatalf("%s: element %d differs", js, i)
				}
			}
			strs, ok := cast(t, enc, row.ArrayType(strT))
			for i, e := range elems {
				s, sok := cast(t, e, strT)
				if !sok && ok {
					t.Fatalf("%s: ARRAY<STRING> succeeded but element %d does not cast", js, i)
				}
				if ok && row.VariantKindOf(e) != row.VariantNull && strs.Elems()[i].Str() != s.Str() {
					t.Fatalf("%s: element %d %q, alone %q", js, i, strs.Elems()[i].Str(), s.Str())
				}
			}
		}

		m, ok := cast(t, enc, row.MapType(strT, row.VariantType()))
		keys, vals, isObj := row.VariantFields(enc)
		if ok != (isObj || isNull) {
			t.Fatalf("%s: MAP<STRING, VARIANT> ok=%v, is object %v", js, ok, isObj)
		}
		if isObj {
			md := m.MapOf()
			if len(md.Keys) != len(keys) {
				t.Fatalf("%s: %d keys, want %d", js, len(md.Keys), len(keys))
			}
			for i := range keys {
				if md.Keys[i].Str() != keys[i] || md.Values[i].Str() != vals[i] {
					t.Fatalf("%s: entry %d differs", js, i)
				}
			}
			r, ok := cast(t, enc, row.RowType(row.Field{Name: "a", Type: row.VariantType()}))
			a, has := row.VariantField(enc, "a")
			if ok != has || (has && r.Elems()[0].Str() != a) {
				t.Fatalf("%s: ROW<a VARIANT> ok=%v, field a present %v", js, ok, has)
			}
		}

		if isNull {
			return
		}
		i, iok := cast(t, enc, row.BigInt())
		d, dok := cast(t, enc, row.Double())
		d0, d0ok := cast(t, enc, row.DecimalType(38, 0))
		d2, d2ok := cast(t, enc, row.DecimalType(38, 2))
		if iok {
			if !dok || d.Float() != float64(i.Int()) {
				t.Fatalf("%s: BIGINT %d but DOUBLE %v (ok %v)", js, i.Int(), d.Float(), dok)
			}
			if _, isDouble := row.VariantFloat(enc); !isDouble && (!d0ok || row.DecimalUnscaled(d0, row.DecimalType(38, 0)).Int64() != i.Int()) {
				t.Fatalf("%s: BIGINT %d but DECIMAL(38, 0) ok %v", js, i.Int(), d0ok)
			}
		}
		if d0ok && !d2ok {
			u := row.DecimalUnscaled(d0, row.DecimalType(38, 0))
			if len(strings.TrimPrefix(u.String(), "-")) <= 36 {
				t.Fatalf("%s: DECIMAL(38, 0) fits but DECIMAL(38, 2) does not", js)
			}
		}
		if d2ok && dok {
			want := d.Float()
			got, _ := row.DecimalRat(d2, row.DecimalType(38, 2)).Float64()
			if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Fatalf("%s: DECIMAL(38, 2) %v, DOUBLE %v", js, got, want)
			}
		}
		_, _ = cast(t, enc, row.TinyInt())
		_, _ = cast(t, enc, row.FloatType())
		_, _ = cast(t, enc, row.Boolean())
		_, _ = cast(t, enc, row.VarChar(3))
		_, _ = cast(t, enc, row.DateType())
		_, _ = cast(t, enc, row.MapType(row.Char(1), row.ArrayType(row.DecimalType(5, 1))))
		_, _ = cast(t, enc, row.ArrayType(row.RowType(row.Field{Name: "a", Type: row.IntType().NotNull()})))
	})
}

// TestJavaBigDecimalString: the VARIANT cast errors print a DECIMAL as
// Java's BigDecimal.toString does (Flink's messages format the
// BigDecimal itself), plain down to an adjusted exponent of -6 and
// scientific below it.
func TestJavaBigDecimalString(t *testing.T) {
	for _, c := range []struct {
		unscaled int64
		scale    int
		want     string
	}{
		{123, 0, "123"}, {-5, 0, "-5"}, {150, 2, "1.50"}, {5, 3, "0.005"}, {-375, 2, "-3.75"},
		{1, 6, "0.000001"}, {1, 7, "1E-7"}, {123, 9, "1.23E-7"}, {-1, 8, "-1E-8"},
		{0, 2, "0.00"}, {0, 10, "0E-10"}, {1234567, 1, "123456.7"},
	} {
		if got := javaBigDecimalString(big.NewInt(c.unscaled), c.scale); got != c.want {
			t.Errorf("javaBigDecimalString(%d, %d) = %q, want %q", c.unscaled, c.scale, got, c.want)
		}
	}
}
