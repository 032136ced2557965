package expr

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// bigExp is e^x to 300 bits: the Taylor series of x/2^12, squared 12
// times.
func bigExp(x float64) *big.Float {
	const prec = 300
	y := new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(x).SetPrec(prec), -12)
	sum := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	for n := int64(1); n < 200; n++ {
		term.Mul(term, y)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(n))
		sum.Add(sum, term)
	}
	for i := 0; i < 12; i++ {
		sum.Mul(sum, sum)
	}
	return sum
}

// trueHyperbolic returns exp, sinh, cosh and tanh of x rounded to the
// nearest double from 300-bit values.
func trueHyperbolic(x float64) (e, s, c, t float64) {
	const prec = 300
	ep := bigExp(x)
	em := new(big.Float).SetPrec(prec).Quo(new(big.Float).SetPrec(prec).SetInt64(1), ep)
	sp := new(big.Float).SetPrec(prec).Sub(ep, em)
	sp.SetMantExp(sp, -1)
	cp := new(big.Float).SetPrec(prec).Add(ep, em)
	cp.SetMantExp(cp, -1)
	tp := new(big.Float).SetPrec(prec).Quo(sp, cp)
	e, _ = ep.Float64()
	s, _ = sp.Float64()
	c, _ = cp.Float64()
	t, _ = tp.Float64()
	return e, s, c, t
}

// ulps is the distance between a and b in units in the last place.
func ulps(a, b float64) uint64 {
	x, y := int64(math.Float64bits(a)), int64(math.Float64bits(b))
	if x < 0 {
		x = math.MinInt64 - x
	}
	if y < 0 {
		y = math.MinInt64 - y
	}
	if x > y {
		return uint64(x - y)
	}
	return uint64(y - x)
}

func TestFdlibmExpKnownValues(t *testing.T) {
	// Java's StrictMath.exp(1.0) is 2.7182818284590455, one ulp above
	// Math.E; Go's math.Exp(1) is Math.E.
	cases := []struct{ x, want float64 }{
		{1, 2.7182818284590455},
		{0, 1},
		{math.Inf(1), math.Inf(1)},
		{math.Inf(-1), 0},
		{710, math.Inf(1)},
		{-746, 0},
		{1e-30, 1},
	}
	for _, c := range cases {
		if got := fdlibmExp(c.x); got != c.want {
			t.Errorf("fdlibmExp(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if !math.IsNaN(fdlibmExp(math.NaN())) {
		t.Errorf("fdlibmExp(NaN) is not NaN")
	}
	// Subnormal results go through the 2^-1000 path.
	if got, want := fdlibmExp(-740), math.Exp(-740); ulps(got, want) > 1 {
		t.Errorf("fdlibmExp(-740) = %v, math.Exp %v", got, want)
	}
}

// The fdlibm functions are within the bounds Java's Math documents of
// the true value (exp 1 ulp; sinh, cosh, tanh 2.5 ulps, so 3 ulps from
// the rounded true value), keep their symmetries and special values.
func TestFdlibmHyperbolic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		// Magnitudes from 2^-60 to about 700, both signs.
		x := math.Ldexp(1+r.Float64(), r.IntN(69)-60)
		if x > 700 {
			x = 700 * r.Float64()
		}
		if r.IntN(2) == 0 {
			x = -x
		}
		te, ts, tc, tt := trueHyperbolic(x)
		e, s, c, th := fdlibmExp(x), fdlibmSinh(x), fdlibmCosh(x), fdlibmTanh(x)
		if ulps(e, te) > 1 || ulps(s, ts) > 3 || ulps(c, tc) > 3 || ulps(th, tt) > 3 {
			t.Fatalf("x=%v: exp %v/%v sinh %v/%v cosh %v/%v tanh %v/%v (fdlibm/true)", x, e, te, s, ts, c, tc, th, tt)
		}
		if fdlibmSinh(-x) != -s || fdlibmCosh(-x) != c || fdlibmTanh(-x) != -th {
			t.Fatalf("x=%v: symmetry broken", x)
		}
	}
	special := []struct {
		name      string
		got, want float64
	}{
		{"sinh(+Inf)", fdlibmSinh(math.Inf(1)), math.Inf(1)},
		{"sinh(-Inf)", fdlibmSinh(math.Inf(-1)), math.Inf(-1)},
		{"sinh(800)", fdlibmSinh(800), math.Inf(1)},
		{"cosh(-Inf)", fdlibmCosh(math.Inf(-1)), math.Inf(1)},
		{"cosh(800)", fdlibmCosh(800), math.Inf(1)},
		{"cosh(0)", fdlibmCosh(0), 1},
		{"tanh(+Inf)", fdlibmTanh(math.Inf(1)), 1},
		{"tanh(-Inf)", fdlibmTanh(math.Inf(-1)), -1},
		{"tanh(30)", fdlibmTanh(30), 1},
	}
	for _, c := range special {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if z := fdlibmSinh(math.Copysign(0, -1)); z != 0 || !math.Signbit(z) {
		t.Errorf("sinh(-0) = %v, want -0", z)
	}
	if z := fdlibmTanh(math.Copysign(0, -1)); z != 0 || !math.Signbit(z) {
		t.Errorf("tanh(-0) = %v, want -0", z)
	}
	for _, f := range []func(float64) float64{fdlibmSinh, fdlibmCosh, fdlibmTanh, fdlibmExp} {
		if !math.IsNaN(f(math.NaN())) {
			t.Errorf("NaN in, not NaN out")
		}
	}
}

// bigAtan is atan(x) to 300 bits.
func bigAtan(x float64) *big.Float { return bigAtanBig(new(big.Float).SetPrec(300).SetFloat64(x)) }

// trueAtan is atan(x) rounded from 300 bits (atan(x) = pi/2 - atan(1/x)
// above 1).
func trueAtan(x float64) float64 {
	ax := math.Abs(x)
	var v *big.Float
	if ax <= 1 {
		v = bigAtan(ax)
	} else {
		// 1/ax is inexact as a double; do the division in big.
		const prec = 300
		inv := new(big.Float).SetPrec(prec).Quo(new(big.Float).SetPrec(prec).SetInt64(1), new(big.Float).SetPrec(prec).SetFloat64(ax))
		f, _ := inv.Float64()
		if new(big.Float).SetPrec(prec).SetFloat64(f).Cmp(inv) != 0 {
			// Evaluate the series on the exact big value instead.
			v = bigAtanBig(inv)
		} else {
			v = bigAtan(f)
		}
		halfPi := bigAtan(1)
		halfPi.SetMantExp(halfPi, 1)
		v = new(big.Float).SetPrec(prec).Sub(halfPi, v)
	}
	f, _ := v.Float64()
	if x < 0 {
		f = -f
	}
	return f
}

// bigAtanBig is atan(y0) to 300 bits for |y0| <= 1: atan(y) =
// 2*atan(y/(1+sqrt(1+y^2))) halves the argument eight times, then the
// Taylor series converges fast.
func bigAtanBig(y0 *big.Float) *big.Float {
	const prec = 300
	one := new(big.Float).SetPrec(prec).SetInt64(1)
	y := new(big.Float).SetPrec(prec).Set(y0)
	for i := 0; i < 8; i++ {
		s := new(big.Float).SetPrec(prec).Mul(y, y)
		s.Add(s, one)
		s.Sqrt(s)
		s.Add(s, one)
		y.Quo(y, s)
	}
	y2 := new(big.Float).SetPrec(prec).Mul(y, y)
	term := new(big.Float).SetPrec(prec).Set(y)
	sum := new(big.Float).SetPrec(prec).Set(y)
	for n := int64(1); n < 60; n++ {
		term.Mul(term, y2)
		term.Neg(term)
		q := new(big.Float).SetPrec(prec).Quo(term, new(big.Float).SetPrec(prec).SetInt64(2*n+1))
		sum.Add(sum, q)
	}
	return sum.SetMantExp(sum, 8)
}

// fdlibm's atan is within one ulp (Java's Math.atan bound) of the true
// value; atan2 keeps the quadrant rules of Java's Math.atan2.
func TestFdlibmAtan(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		x := math.Ldexp(1+r.Float64(), r.IntN(80)-40)
		if r.IntN(2) == 0 {
			x = -x
		}
		got, want := fdlibmAtan(x), trueAtan(x)
		if ulps(got, want) > 1 {
			t.Fatalf("atan(%v) = %v, true %v", x, got, want)
		}
		if fdlibmAtan(-x) != -got {
			t.Fatalf("atan(-%v) is not -atan(%v)", x, x)
		}
		// atan2(y, 1) is atan(y); atan2(y, x) for x > 0 near atan(y/x).
		if fdlibmAtan2(x, 1) != got {
			t.Fatalf("atan2(%v, 1) != atan(%v)", x, x)
		}
	}
	negZero := math.Copysign(0, -1)
	inf := math.Inf(1)
	cases := []struct {
		y, x, want float64
	}{
		{0, 1, 0}, {0, -1, math.Pi}, {negZero, -1, -math.Pi}, {1, 0, math.Pi / 2}, {-1, 0, -math.Pi / 2},
		{inf, inf, math.Pi / 4}, {-inf, inf, -math.Pi / 4}, {inf, -inf, 3 * math.Pi / 4}, {-inf, -inf, -3 * math.Pi / 4},
		{1, inf, 0}, {1, -inf, math.Pi}, {-1, -inf, -math.Pi}, {inf, 5, math.Pi / 2}, {-inf, 5, -math.Pi / 2},
		{1, 1, 0.7853981633974483}, {-1, -1, -2.356194490192345}, {1e300, 1e-300, math.Pi / 2}, {1e-300, -1e300, math.Pi},
	}
	for _, c := range cases {
		if got := fdlibmAtan2(c.y, c.x); got != c.want {
			t.Errorf("atan2(%v, %v) = %v, want %v", c.y, c.x, got, c.want)
		}
	}
	if z := fdlibmAtan2(negZero, 1); z != 0 || !math.Signbit(z) {
		t.Errorf("atan2(-0, 1) = %v, want -0", z)
	}
	if !math.IsNaN(fdlibmAtan2(math.NaN(), 1)) || !math.IsNaN(fdlibmAtan(math.NaN())) {
		t.Errorf("NaN in, not NaN out")
	}
}
