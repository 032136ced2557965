package expr

import (
	"math"
	"math/big"
	"testing"

	"github.com/weirstream/weir/row"
)

// TestDecimalArith64 checks the int64 fast path of DECIMAL +, - and *
// against the big.Rat path: same value and representation, or no answer.
func TestDecimalArith64(t *testing.T) {
	dec := func(p, s int) row.Type { return row.DecimalType(p, s) }
	val := func(u int64, ty row.Type) row.Value {
		if ty.IsCompactDecimal() {
			return row.Int(u)
		}
		return row.BigDecimal(big.NewInt(u))
	}
	for _, tc := range []struct {
		op     arithKind
		x      int64
		tx     row.Type
		y      int64
		ty, rt row.Type
	}{
		{opMul, 908, dec(4, 3), 12345, dec(19, 0), dec(23, 3)},
		{opMul, -908, dec(4, 3), 12345, dec(19, 0), dec(23, 3)},
		{opMul, math.MaxInt64, dec(19, 0), 2, dec(4, 0), dec(23, 0)},
		{opMul, 99, dec(2, 1), 99, dec(2, 1), dec(4, 2)},
		{opAdd, 15, dec(2, 1), 1, dec(3, 0), dec(5, 1)},
		{opSub, 15, dec(2, 1), 7, dec(3, 2), dec(6, 2)},
		{opSub, -9999, dec(4, 0), 1, dec(4, 0), dec(4, 0)}, // overflows the precision: NULL
		{opAdd, math.MaxInt64, dec(19, 0), 1, dec(19, 0), dec(20, 0)},
	} {
		a, b := val(tc.x, tc.tx), val(tc.y, tc.ty)
		got, ok := decimalArith64(tc.op, a, tc.tx, b, tc.ty, tc.rt)
		x, y := row.DecimalRat(a, tc.tx), row.DecimalRat(b, tc.ty)
		switch tc.op {
		case opAdd:
			x.Add(x, y)
		case opSub:
			x.Sub(x, y)
		case opMul:
			x.Mul(x, y)
		}
		want, wok := row.DecimalFromRat(x, tc.rt)
		if !ok {
			continue // the big.Rat path answers
		}
		if !wok || !row.Equal(got, want, tc.rt) || (got.BigInt() == nil) != (want.BigInt() == nil) {
			t.Errorf("%v %d %d: got %v (%v), want %v (%v)", tc.op, tc.x, tc.y, row.DecimalString(got, tc.rt), ok, row.DecimalString(want, tc.rt), wok)
		}
	}
}

// TestCastToWideDecimal checks the casts that skip big.Rat (an integer,
// or a DECIMAL of the same scale, to a wider DECIMAL) against the value
// and representation big.Rat gives.
func TestCastToWideDecimal(t *testing.T) {
	for _, tc := range []struct {
		v    row.Value
		from row.Type
		to   row.Type
		rat  *big.Rat
	}{
		{row.Int(math.MaxInt64), row.BigInt(), row.DecimalType(19, 0), new(big.Rat).SetInt64(math.MaxInt64)},
		{row.Int(-42), row.BigInt(), row.DecimalType(20, 1), big.NewRat(-42, 1)},
		{row.Int(908), row.DecimalType(4, 3), row.DecimalType(23, 3), big.NewRat(908, 1000)},
		{row.Int(-7), row.DecimalType(4, 3), row.DecimalType(5, 3), big.NewRat(-7, 1000)},
		{row.BigDecimal(big.NewInt(123456)), row.DecimalType(20, 2), row.DecimalType(30, 2), big.NewRat(123456, 100)},
	} {
		got, err := Eval(nil, &Cast{Arg: Lit(tc.v, tc.from), T: tc.to}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := row.DecimalFromRat(tc.rat, tc.to)
		if !row.Equal(got, want, tc.to) || (got.BigInt() == nil) != (want.BigInt() == nil) {
			t.Errorf("CAST(%v AS %s): got %s, want %s", tc.v, tc.to, row.DecimalString(got, tc.to), row.DecimalString(want, tc.to))
		}
	}
}
