package expr

import (
	"math"
	"math/bits"

	"github.com/weirstream/weir/row"
)

// decimalUnscaled64 returns the unscaled value of a DECIMAL if it fits an
// int64.
func decimalUnscaled64(v row.Value, t row.Type) (int64, bool) {
	return row.DecimalInt64(v, t)
}

// pow10s holds 10^0 .. 10^18.
var pow10s = [19]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// mul64 multiplies without overflow, or reports that it would overflow.
func mul64(x, y int64) (int64, bool) {
	neg := (x < 0) != (y < 0)
	ux, uy := uint64(x), uint64(y)
	if x < 0 {
		ux = -ux
	}
	if y < 0 {
		uy = -uy
	}
	hi, lo := bits.Mul64(ux, uy)
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(lo), true
	}
	return int64(lo), true
}

// add64 adds without overflow, or reports that it would overflow.
func add64(x, y int64) (int64, bool) {
	r := x + y
	if (x^r)&(y^r) < 0 {
		return 0, false
	}
	return r, true
}

// decimalArith64 computes a DECIMAL +, - or * exactly in int64 when both
// unscaled values and the result fit and the result needs no rounding
// (its scale is the exact one); ok is false otherwise, and the caller
// takes the big.Rat path. The result is the same value, in the same
// representation, as that path's.
func decimalArith64(op arithKind, a row.Value, ta row.Type, b row.Value, tb row.Type, rt row.Type) (row.Value, bool) {
	x, ok1 := decimalUnscaled64(a, ta)
	y, ok2 := decimalUnscaled64(b, tb)
	if !ok1 || !ok2 {
		return row.Value{}, false
	}
	var r int64
	switch op {
	case opMul:
		if rt.Scale != ta.Scale+tb.Scale {
			return row.Value{}, false
		}
		var ok bool
		if r, ok = mul64(x, y); !ok {
			return row.Value{}, false
		}
	case opAdd, opSub:
		s := max(ta.Scale, tb.Scale)
		if rt.Scale != s || s-ta.Scale > 18 || s-tb.Scale > 18 {
			return row.Value{}, false
		}
		var ok bool
		if x, ok = mul64(x, pow10s[s-ta.Scale]); !ok {
			return row.Value{}, false
		}
		if y, ok = mul64(y, pow10s[s-tb.Scale]); !ok {
			return row.Value{}, false
		}
		if op == opSub {
			if y == math.MinInt64 {
				return row.Value{}, false
			}
			y = -y
		}
		if r, ok = add64(x, y); !ok {
			return row.Value{}, false
		}
	default:
		return row.Value{}, false
	}
	if rt.IsCompactDecimal() {
		return row.DecimalFromInt64Unscaled(r, rt)
	}
	if rt.Precision < 19 {
		return row.Value{}, false
	}
	return row.BigDecimalInt64(r), true
}
