package expr

import "github.com/weirstream/weir/row"

// Type rules: Flink's LogicalTypeMerging and Calcite's type coercion, as
// far as the built-ins here need them.

// integerDecimalPrecision is the precision of the DECIMAL that holds every
// value of an integer type (Flink's LogicalTypeMerging uses it when an
// integer meets a DECIMAL).
func integerDecimalPrecision(r row.Root) int {
	switch r {
	case row.TypeTinyInt:
		return 3
	case row.TypeSmallInt:
		return 5
	case row.TypeInt:
		return 10
	}
	return 19
}

// asDecimal returns the DECIMAL view of an exact numeric type.
func asDecimal(t row.Type) row.Type {
	if t.Root == row.TypeDecimal {
		return t
	}
	return row.DecimalType(integerDecimalPrecision(t.Root), 0).WithNullable(t.Nullable)
}

// adjustDecimal caps a derived DECIMAL(p, s) at precision 38 the way
// Flink's LogicalTypeMerging.adjustPrecisionScale does: the integer part
// is kept and the scale shrinks, but not below min(s, 6).
func adjustDecimal(p, s int) row.Type {
	if p <= row.MaxDecimalPrecision {
		return row.DecimalType(p, s)
	}
	intDigits := p - s
	minScale := min(s, 6)
	s = max(row.MaxDecimalPrecision-intDigits, minScale)
	return row.DecimalType(row.MaxDecimalPrecision, s)
}

// integerRank orders the integer types by width.
func integerRank(r row.Root) int {
	switch r {
	case row.TypeTinyInt:
		return 1
	case row.TypeSmallInt:
		return 2
	case row.TypeInt:
		return 3
	case row.TypeBigInt:
		return 4
	}
	return 0
}

// anyNullable reports whether any of ts is nullable.
func anyNullable(ts ...row.Type) bool {
	for _, t := range ts {
		if t.Nullable {
			return true
		}
	}
	return false
}

// numericCommon is the type two numbers are brought to: DOUBLE if either
// is DOUBLE, FLOAT if either is FLOAT, the merged DECIMAL if either is a
// DECIMAL, else the wider integer type.
func numericCommon(a, b row.Type) row.Type {
	n := a.Nullable || b.Nullable
	switch {
	case a.Root == row.TypeDouble || b.Root == row.TypeDouble:
		return row.Double().WithNullable(n)
	case a.Root == row.TypeFloat || b.Root == row.TypeFloat:
		return row.FloatType().WithNullable(n)
	case a.Root == row.TypeDecimal || b.Root == row.TypeDecimal:
		da, db := asDecimal(a), asDecimal(b)
		s := max(da.Scale, db.Scale)
		ip := max(da.Precision-da.Scale, db.Precision-db.Scale)
		t := row.DecimalType(min(ip+s, row.MaxDecimalPrecision), s)
		if ip+s > row.MaxDecimalPrecision {
			t = adjustDecimal(ip+s, s)
		}
		return t.WithNullable(n)
	}
	if integerRank(a.Root) >= integerRank(b.Root) {
		return a.WithNullable(n)
	}
	return b.WithNullable(n)
}

// LeastRestrictive returns the common type of ts that each can be
// implicitly cast to (Flink's LogicalTypeMerging.findCommonType, the type
// of CASE, COALESCE, IN, comparison operands, ARRAY elements): NULL
// types are absorbed; numbers widen; CHAR of one length stays CHAR,
// strings of different lengths or kinds become VARCHAR of the longest;
// TIMESTAMPs of different precisions take the largest; DATE with
// TIMESTAMP is TIMESTAMP. ok is false when the types have no common type.
// The result is nullable if any input is.
func LeastRestrictive(ts ...row.Type) (t row.Type, ok bool) {
	var cur row.Type
	have := false
	nullable := false
	for _, x := range ts {
		nullable = nullable || x.Nullable
		if x.Root == row.TypeNull {
			continue
		}
		if !have {
			cur, have = x, true
			continue
		}
		var ok bool
		cur, ok = merge2(cur, x)
		if !ok {
			return row.Type{}, false
		}
	}
	if !have {
		return row.NullType(), true
	}
	cur.TimeAttr = row.NoTimeAttr
	return cur.WithNullable(nullable), true
}

func merge2(a, b row.Type) (row.Type, bool) {
	n := a.Nullable || b.Nullable
	switch {
	case a.IsNumeric() && b.IsNumeric():
		return numericCommon(a, b), true
	case a.IsString() && b.IsString():
		if a.Root == row.TypeChar && b.Root == row.TypeChar && a.Precision == b.Precision {
			return a.WithNullable(n), true
		}
		return row.VarChar(max(a.Precision, b.Precision)).WithNullable(n), true
	case a.IsBinary() && b.IsBinary():
		if a.Root == row.TypeBinary && b.Root == row.TypeBinary && a.Precision == b.Precision {
			return a.WithNullable(n), true
		}
		return row.VarBinary(max(a.Precision, b.Precision)).WithNullable(n), true
	case a.Root == b.Root:
		switch a.Root {
		case row.TypeBoolean, row.TypeDate, row.TypeIntervalYearMonth, row.TypeVariant:
			return a.WithNullable(n), true
		case row.TypeTime, row.TypeTimestamp, row.TypeTimestampLTZ, row.TypeIntervalDayTime:
			a.Precision = max(a.Precision, b.Precision)
			return a.WithNullable(n), true
		case row.TypeArray:
			e, ok := merge2(*a.Elem, *b.Elem)
			if !ok {
				return row.Type{}, false
			}
			e.Nullable = a.Elem.Nullable || b.Elem.Nullable
			return row.ArrayType(e).WithNullable(n), true
		case row.TypeMap:
			k, ok1 := merge2(*a.Elem, *b.Elem)
			v, ok2 := merge2(*a.Value, *b.Value)
			if !ok1 || !ok2 {
				return row.Type{}, false
			}
			k.Nullable = a.Elem.Nullable || b.Elem.Nullable
			v.Nullable = a.Value.Nullable || b.Value.Nullable
			return row.MapType(k, v).WithNullable(n), true
		case row.TypeMultiset:
			return mergeMultiset(a, b)
		case row.TypeRow:
			if len(a.Fields) != len(b.Fields) {
				return row.Type{}, false
			}
			fs := make([]row.Field, len(a.Fields))
			for i := range fs {
				ft, ok := merge2(a.Fields[i].Type, b.Fields[i].Type)
				if !ok {
					return row.Type{}, false
				}
				ft.Nullable = a.Fields[i].Type.Nullable || b.Fields[i].Type.Nullable
				fs[i] = row.Field{Name: a.Fields[i].Name, Type: ft}
			}
			return row.RowType(fs...).WithNullable(n), true
		}
	case a.Root == row.TypeDate && b.Root == row.TypeTimestamp:
		return b.WithNullable(n), true
	case a.Root == row.TypeTimestamp && b.Root == row.TypeDate:
		return a.WithNullable(n), true
	}
	return row.Type{}, false
}

// sameIgnoringNull reports whether a and b are the same type apart from
// nullability (and time attributes).
func sameIgnoringNull(a, b row.Type) bool {
	a.Nullable, b.Nullable = true, true
	a.TimeAttr, b.TimeAttr = row.NoTimeAttr, row.NoTimeAttr
	return a.Equal(b)
}

// coerce returns e implicitly cast to t (nullability taken from e), or e
// itself when it already has that type. Untyped NULL literals become typed
// NULL literals.
func coerce(e Expr, t row.Type) Expr {
	et := e.Type()
	t.Nullable = et.Nullable
	t.TimeAttr = row.NoTimeAttr
	if l, ok := e.(*Literal); ok && l.Value.IsNull() {
		return &Literal{T: t.WithNullable(true)}
	}
	if sameIgnoringNull(et, t) {
		return e
	}
	return &Cast{Arg: e, T: t, Implicit: true}
}
