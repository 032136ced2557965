package row

import (
	"cmp"
	"math"
	"strings"
)

// Compare orders two values of type t: -1, 0 or +1. NULL sorts before
// every other value and equals NULL. Numbers compare numerically (DOUBLE
// as Java's Double.compare: -0.0 < 0.0, NaN above everything), strings
// and bytes bytewise (UTF-8 order, as Flink's binary strings), BOOLEAN
// false < true, ARRAY and ROW element by element, MAP by entries in
// order.
func Compare(a, b Value, t Type) int {
	an, bn := a.IsNull(), b.IsNull()
	switch {
	case an && bn:
		return 0
	case an:
		return -1
	case bn:
		return 1
	}
	switch t.Root {
	case TypeFloat, TypeDouble:
		return compareDouble(a.Float(), b.Float())
	case TypeChar, TypeVarChar, TypeBinary, TypeVarBinary, TypeVariant:
		// VARIANT: by encoding; only equality is meaningful (GROUP BY,
		// DISTINCT), SQL refuses to order variants.
		return strings.Compare(a.Str(), b.Str())
	case TypeDecimal:
		if t.IsCompactDecimal() || (a.tag == tagScalar && b.tag == tagScalar) {
			return cmp.Compare(a.i, b.i)
		}
		return DecimalUnscaled(a, t).Cmp(DecimalUnscaled(b, t))
	case TypeTimestamp, TypeTimestampLTZ:
		if c := cmp.Compare(a.i, b.i); c != 0 {
			return c
		}
		return cmp.Compare(a.NanoOfMilli(), b.NanoOfMilli())
	case TypeArray:
		return compareSeq(a.Elems(), b.Elems(), func(int) Type { return *t.Elem })
	case TypeRow:
		return compareSeq(a.Elems(), b.Elems(), func(i int) Type { return t.Fields[i].Type })
	case TypeMap, TypeMultiset:
		am, bm := a.MapOf(), b.MapOf()
		for i := 0; i < len(am.Keys) && i < len(bm.Keys); i++ {
			if c := Compare(am.Keys[i], bm.Keys[i], *t.Elem); c != 0 {
				return c
			}
			if c := Compare(am.Values[i], bm.Values[i], *t.Value); c != 0 {
				return c
			}
		}
		return cmp.Compare(len(am.Keys), len(bm.Keys))
	}
	return cmp.Compare(a.i, b.i)
}

func compareSeq(a, b []Value, typ func(int) Type) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := Compare(a[i], b[i], typ(i)); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func compareDouble(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	// Equal, or a NaN, or signed zeros: order by the bits as Java does,
	// with NaN the greatest.
	xn, yn := math.IsNaN(x), math.IsNaN(y)
	switch {
	case xn && yn:
		return 0
	case xn:
		return 1
	case yn:
		return -1
	}
	xb, yb := int64(math.Float64bits(x)), int64(math.Float64bits(y))
	return cmp.Compare(xb, yb)
}

// Equal reports whether two values of type t are equal by Compare.
func Equal(a, b Value, t Type) bool { return Compare(a, b, t) == 0 }

// EqualRows reports whether two rows of the given field types have the
// same kind and equal fields.
func EqualRows(a, b Row, types []Type) bool {
	if a.Kind != b.Kind || len(a.Fields) != len(b.Fields) || len(a.Fields) != len(types) {
		return false
	}
	for i, t := range types {
		if Compare(a.Fields[i], b.Fields[i], t) != 0 {
			return false
		}
	}
	return true
}
