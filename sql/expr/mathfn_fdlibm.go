package expr

import "math"

// Flink evaluates ASIN and ACOS with Java's Math.asin and Math.acos,
// which are fdlibm's algorithms (StrictMath); Go's math.Asin and
// math.Acos use another formula whose results differ in the last bit
// for many inputs (math.Acos(0.5) is 1.0471975511965976, Java's is
// 1.0471975511965979, the double nearest pi/3). fdlibmAsin and
// fdlibmAcos follow fdlibm's e_asin.c and e_acos.c: a rational
// approximation of asin on [0, 0.5] and the half-angle reduction above.

const (
	fdPio2Hi = 1.57079632679489655800e+00
	fdPio2Lo = 6.12323399573676603587e-17
	fdPS0    = 1.66666666666666657415e-01
	fdPS1    = -3.25565818622400915405e-01
	fdPS2    = 2.01212532134862925881e-01
	fdPS3    = -4.00555345006794114027e-02
	fdPS4    = 7.91534994289814532176e-04
	fdPS5    = 3.47933107596021167570e-05
	fdQS1    = -2.40339491173441421878e+00
	fdQS2    = 2.02094576023350569471e+00
	fdQS3    = -6.88283971605453293030e-01
	fdQS4    = 7.70381505559019352791e-02
)

// fdlibmR is (asin(x) - x) / x^3 as a rational function of z = x*x.
func fdlibmR(z float64) float64 {
	p := z * (fdPS0 + z*(fdPS1+z*(fdPS2+z*(fdPS3+z*(fdPS4+z*fdPS5)))))
	q := 1.0 + z*(fdQS1+z*(fdQS2+z*(fdQS3+z*fdQS4)))
	return p / q
}

// clearLow zeroes the low 32 bits of x (fdlibm's SET_LOW_WORD(x, 0)).
func clearLow(x float64) float64 {
	return math.Float64frombits(math.Float64bits(x) &^ 0xffffffff)
}

func fdlibmAsin(x float64) float64 {
	ax := math.Abs(x)
	switch {
	case math.IsNaN(x) || ax > 1:
		return math.NaN()
	case ax == 1:
		return x * fdPio2Hi
	case ax < 0.5:
		if ax < 0x1p-26 {
			return x
		}
		return x + x*fdlibmR(x*x)
	}
	z := (1 - ax) * 0.5
	s := math.Sqrt(z)
	r := fdlibmR(z)
	var y float64
	if ax >= 0.975 {
		y = fdPio2Hi - (2*(s+s*r) - fdPio2Lo)
	} else {
		f := clearLow(s)
		c := (z - f*f) / (s + f)
		y = 0.5*fdPio2Hi - (2*s*r - (fdPio2Lo - 2*c) - (0.5*fdPio2Hi - 2*f))
	}
	if x < 0 {
		return -y
	}
	return y
}

func fdlibmAcos(x float64) float64 {
	ax := math.Abs(x)
	switch {
	case math.IsNaN(x) || ax > 1:
		return math.NaN()
	case x == 1:
		return 0
	case x == -1:
		return 2 * fdPio2Hi
	case ax < 0.5:
		if ax <= 0x1p-57 {
			return fdPio2Hi
		}
		return fdPio2Hi - (x - (fdPio2Lo - x*fdlibmR(x*x)))
	case x < 0:
		z := (1 + x) * 0.5
		s := math.Sqrt(z)
		w := fdlibmR(z)*s - fdPio2Lo
		return 2 * (fdPio2Hi - (s + w))
	}
	z := (1 - x) * 0.5
	s := math.Sqrt(z)
	df := clearLow(s)
	c := (z - df*df) / (s + df)
	w := fdlibmR(z)*s + c
	return 2 * (df + w)
}

// Java's Math.toDegrees and Math.toRadians multiply by these constants
// (180/pi and pi/180 rounded to doubles) once; x * 180 / math.Pi rounds
// twice and differs in the last digit for many x (DEGREES(44)).
const (
	radiansToDegrees = 57.29577951308232
	degreesToRadians = 0.017453292519943295
)

// Java's Math.sinh, Math.cosh and Math.tanh are StrictMath's, fdlibm's
// e_sinh.c, e_cosh.c and s_tanh.c over fdlibm's expm1 and exp. Go's
// math.Sinh/Cosh/Tanh use other formulas, and math.Exp is an assembly
// routine on amd64, so results differed in the last bit (Flink's
// ScalarFunctionsTest expects SINH(4.6) = 49.73713190309457 and COSH(-1)
// = 1.543080634815244, which Go's functions missed by one ulp). Go's
// math.Expm1 is a port of fdlibm's s_expm1.c (through FreeBSD) and is
// used as is; fdlibmExp follows e_exp.c.

const (
	fdExpP1      = 1.66666666666666019037e-01 // 0x3FC55555 5555553E (Go's exp uses ...55555555)
	fdExpP2      = -2.77777777770155933842e-03
	fdExpP3      = 6.61375632143793436117e-05
	fdExpP4      = -1.65339022054652515390e-06
	fdExpP5      = 4.13813679705723846039e-08
	fdLn2Hi      = 6.93147180369123816490e-01
	fdLn2Lo      = 1.90821492927058770002e-10
	fdInvLn2     = 1.44269504088896338700e+00
	fdExpOver    = 7.09782712893383973096e+02
	fdExpUnder   = -7.45133219101941108420e+02
	fdTwoM1000   = 9.33263618503218878990e-302 // 2^-1000
	fdHugeDouble = 1.0e300
)

// highWord is fdlibm's GET_HIGH_WORD without the sign bit.
func highWord(x float64) uint32 { return uint32(math.Float64bits(x)>>32) & 0x7fffffff }

// fdlibmExp is fdlibm's __ieee754_exp (Java's StrictMath.exp): x
// reduced to r = x - k*ln2 with |r| <= ln2/2 (k = ±1 directly for |x|
// below 1.5*ln2), a degree-5 rational approximation of exp(r), scaled
// by 2^k.
func fdlibmExp(x float64) float64 {
	bits := math.Float64bits(x)
	neg := bits>>63 != 0
	hx := highWord(x)
	if hx >= 0x40862E42 { // |x| >= 709.78
		if hx >= 0x7ff00000 {
			if math.IsNaN(x) {
				return x
			}
			if neg {
				return 0
			}
			return x
		}
		if x > fdExpOver {
			return math.Inf(1)
		}
		if x < fdExpUnder {
			return 0
		}
	}
	var hi, lo float64
	k := 0
	switch {
	case hx > 0x3fd62e42: // |x| > 0.5*ln2
		if hx < 0x3FF0A2B2 { // and < 1.5*ln2
			if neg {
				hi, lo, k = x+fdLn2Hi, -fdLn2Lo, -1
			} else {
				hi, lo, k = x-fdLn2Hi, fdLn2Lo, 1
			}
		} else {
			half := 0.5
			if neg {
				half = -0.5
			}
			k = int(fdInvLn2*x + half)
			t := float64(k)
			hi = x - t*fdLn2Hi
			lo = t * fdLn2Lo
		}
		x = hi - lo
	case hx < 0x3e300000: // |x| < 2^-28
		return 1 + x
	}
	t := x * x
	c := x - t*(fdExpP1+t*(fdExpP2+t*(fdExpP3+t*(fdExpP4+t*fdExpP5))))
	if k == 0 {
		return 1 - ((x*c)/(c-2.0) - x)
	}
	y := 1 - ((lo - (x*c)/(2.0-c)) - hi)
	if k >= -1021 {
		return math.Float64frombits(math.Float64bits(y) + uint64(int64(k))<<52)
	}
	return math.Float64frombits(math.Float64bits(y)+uint64(int64(k+1000))<<52) * fdTwoM1000
}

// beyondSinhOverflow reports whether |x| is above fdlibm's overflow
// threshold of sinh and cosh (0x408633CE 8FB9F87D, about 710.4758).
func beyondSinhOverflow(x float64) bool {
	return math.Float64bits(math.Abs(x)) > 0x408633CE8FB9F87D
}

// fdlibmSinh is fdlibm's __ieee754_sinh (Java's Math.sinh).
func fdlibmSinh(x float64) float64 {
	ix := highWord(x)
	if ix >= 0x7ff00000 {
		return x + x
	}
	h := 0.5
	if x < 0 {
		h = -0.5
	}
	ax := math.Abs(x)
	if ix < 0x40360000 { // |x| < 22
		if ix < 0x3e300000 { // |x| < 2^-28: sinh(x) is x
			return x
		}
		t := math.Expm1(ax)
		if ix < 0x3ff00000 {
			return h * (2.0*t - t*t/(t+1))
		}
		return h * (t + t/(t+1))
	}
	if ix < 0x40862E42 { // |x| < log(maxdouble)
		return h * fdlibmExp(ax)
	}
	if !beyondSinhOverflow(x) {
		w := fdlibmExp(0.5 * ax)
		t := h * w
		return t * w
	}
	return x * 1.0e307 // overflow: ±Inf
}

// fdlibmCosh is fdlibm's __ieee754_cosh (Java's Math.cosh).
func fdlibmCosh(x float64) float64 {
	ix := highWord(x)
	if ix >= 0x7ff00000 {
		return x * x
	}
	ax := math.Abs(x)
	if ix < 0x3fd62e43 { // |x| < 0.5*ln2
		t := math.Expm1(ax)
		w := 1 + t
		if ix < 0x3c800000 { // |x| < 2^-55
			return w
		}
		return 1 + (t*t)/(w+w)
	}
	if ix < 0x40360000 { // |x| < 22
		t := fdlibmExp(ax)
		return 0.5*t + 0.5/t
	}
	if ix < 0x40862E42 {
		return 0.5 * fdlibmExp(ax)
	}
	if !beyondSinhOverflow(x) {
		w := fdlibmExp(0.5 * ax)
		t := 0.5 * w
		return t * w
	}
	return math.Inf(1)
}

// fdlibmTanh is fdlibm's s_tanh.c (Java's Math.tanh).
func fdlibmTanh(x float64) float64 {
	ix := highWord(x)
	neg := math.Signbit(x)
	if ix >= 0x7ff00000 { // Inf or NaN
		if neg {
			return 1/x - 1
		}
		return 1/x + 1
	}
	var z float64
	if ix < 0x40360000 { // |x| < 22
		if ix < 0x3c800000 { // |x| < 2^-55
			return x * (1 + x)
		}
		if ix >= 0x3ff00000 { // |x| >= 1
			t := math.Expm1(2 * math.Abs(x))
			z = 1 - 2/(t+2)
		} else {
			t := math.Expm1(-2 * math.Abs(x))
			z = -t / (t + 2)
		}
	} else {
		z = 1 // 1 - tiny, rounded
	}
	if neg {
		return -z
	}
	return z
}
