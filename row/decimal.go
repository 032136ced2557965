package row

import (
	"fmt"
	"math/big"
	"strings"
)

// pow10 holds 10^0 .. 10^18.
var pow10 = [19]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// DecimalUnscaled returns the unscaled value of a DECIMAL of type t as a
// big.Int (a new one for compact decimals).
func DecimalUnscaled(v Value, t Type) *big.Int {
	if t.IsCompactDecimal() {
		return big.NewInt(v.i)
	}
	if b := v.BigInt(); b != nil {
		return b
	}
	return big.NewInt(v.Int())
}

// DecimalInt64 returns the unscaled value of a DECIMAL of type t if it
// fits an int64, without allocating.
func DecimalInt64(v Value, t Type) (int64, bool) {
	if b := v.BigInt(); b != nil {
		if t.IsCompactDecimal() || !b.IsInt64() {
			return 0, false
		}
		return b.Int64(), true
	}
	return v.Int(), true
}

// DecimalFromUnscaled makes a DECIMAL of type t from an unscaled value
// already at t's scale; ok is false if it has more digits than t's
// precision (Flink then yields NULL, or an error for strict casts).
func DecimalFromUnscaled(u *big.Int, t Type) (v Value, ok bool) {
	if digits(u) > t.Precision {
		return Value{}, false
	}
	if t.IsCompactDecimal() {
		return Int(u.Int64()), true
	}
	return BigDecimal(new(big.Int).Set(u)), true
}

// DecimalFromInt64Unscaled is DecimalFromUnscaled for an int64.
func DecimalFromInt64Unscaled(u int64, t Type) (Value, bool) {
	if t.IsCompactDecimal() {
		if u <= -pow10[t.Precision] || u >= pow10[t.Precision] {
			return Value{}, false
		}
		return Int(u), true
	}
	return DecimalFromUnscaled(big.NewInt(u), t)
}

func digits(u *big.Int) int {
	if u.Sign() == 0 {
		return 1
	}
	a := new(big.Int).Abs(u)
	return len(a.Text(10))
}

// Rescale changes the scale of an unscaled value from `from` to `to`,
// rounding half away from zero (Java's RoundingMode.HALF_UP, as Flink).
func Rescale(u *big.Int, from, to int) *big.Int {
	if from == to {
		return new(big.Int).Set(u)
	}
	if to > from {
		m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(to-from)), nil)
		return new(big.Int).Mul(u, m)
	}
	d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(from-to)), nil)
	q, r := new(big.Int).QuoRem(u, d, new(big.Int))
	// |r|*2 >= d rounds away from zero.
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(d) >= 0 {
		if u.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// ParseDecimal parses a decimal literal ("-12.345", "1e3", "7") into a
// DECIMAL of type t, rounding half up to t's scale.
func ParseDecimal(s string, t Type) (Value, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return Value{}, fmt.Errorf("row: %q is not a decimal number", s)
	}
	v, ok := DecimalFromRat(r, t)
	if !ok {
		return Value{}, fmt.Errorf("row: %s does not fit in %s", s, t)
	}
	return v, nil
}

// DecimalFromRat rounds r half up to t's scale; ok is false if the result
// has more digits than t's precision.
func DecimalFromRat(r *big.Rat, t Type) (Value, bool) {
	m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Scale)), nil)
	num := new(big.Int).Mul(r.Num(), m)
	den := r.Denom()
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	rem.Abs(rem).Lsh(rem, 1)
	if rem.Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return DecimalFromUnscaled(q, t)
}

// DecimalRat returns a DECIMAL of type t as an exact rational.
func DecimalRat(v Value, t Type) *big.Rat {
	d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Scale)), nil)
	return new(big.Rat).SetFrac(DecimalUnscaled(v, t), d)
}

// DecimalString prints a DECIMAL of type t with exactly t.Scale fractional
// digits ("12.50", "-0.05", "7"), as Flink casts a DECIMAL to STRING.
func DecimalString(v Value, t Type) string {
	var digits string
	neg := false
	if u, ok := DecimalInt64(v, t); ok {
		if u < 0 {
			neg = true
			digits = new(big.Int).Neg(big.NewInt(u)).Text(10)
		} else {
			digits = big.NewInt(u).Text(10)
		}
	} else {
		u := DecimalUnscaled(v, t)
		neg = u.Sign() < 0
		digits = new(big.Int).Abs(u).Text(10)
	}
	if t.Scale > 0 {
		if len(digits) <= t.Scale {
			digits = strings.Repeat("0", t.Scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-t.Scale] + "." + digits[len(digits)-t.Scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}
