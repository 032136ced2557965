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

// Java's Math.atan and Math.atan2 are StrictMath's, fdlibm's s_atan.c and
// e_atan2.c; Go's math.Atan is Cephes' atan, which differs in the last
// bit for some inputs.

var (
	fdAtanHi = [4]float64{4.63647609000806093515e-01, 7.85398163397448278999e-01, 9.82793723247329054082e-01, 1.57079632679489655800e+00}
	fdAtanLo = [4]float64{2.26987774529616870924e-17, 3.06161699786838301793e-17, 1.39033110312309984516e-17, 6.12323399573676603587e-17}
	fdAT     = [11]float64{
		3.33333333333329318027e-01, -1.99999999998764832476e-01, 1.42857142725034663711e-01,
		-1.11111104054623557880e-01, 9.09088713343650656196e-02, -7.69187620504482999495e-02,
		6.66107313738753120669e-02, -5.83357013379057348645e-02, 4.97687799461593236017e-02,
		-3.65315727442169155270e-02, 1.62858201153657823623e-02,
	}
)

// fdlibmAtan is fdlibm's atan: |x| reduced to one of four intervals
// around atan(0.5), atan(1), atan(1.5) and pi/2, then an odd polynomial
// of degree 22 split in even and odd parts.
func fdlibmAtan(x float64) float64 {
	ix := highWord(x)
	neg := math.Signbit(x)
	if ix >= 0x44100000 { // |x| >= 2^66
		if math.IsNaN(x) {
			return x + x
		}
		if neg {
			return -fdAtanHi[3] - fdAtanLo[3]
		}
		return fdAtanHi[3] + fdAtanLo[3]
	}
	id := -1
	if ix < 0x3fdc0000 { // |x| < 0.4375
		if ix < 0x3e200000 { // |x| < 2^-29
			return x
		}
	} else {
		x = math.Abs(x)
		switch {
		case ix < 0x3fe60000: // |x| < 0.6875
			id, x = 0, (2.0*x-1.0)/(2.0+x)
		case ix < 0x3ff30000: // |x| < 1.1875
			id, x = 1, (x-1.0)/(x+1.0)
		case ix < 0x40038000: // |x| < 2.4375
			id, x = 2, (x-1.5)/(1.0+1.5*x)
		default:
			id, x = 3, -1.0/x
		}
	}
	z := x * x
	w := z * z
	s1 := z * (fdAT[0] + w*(fdAT[2]+w*(fdAT[4]+w*(fdAT[6]+w*(fdAT[8]+w*fdAT[10])))))
	s2 := w * (fdAT[1] + w*(fdAT[3]+w*(fdAT[5]+w*(fdAT[7]+w*fdAT[9]))))
	if id < 0 {
		return x - x*(s1+s2)
	}
	z = fdAtanHi[id] - ((x*(s1+s2) - fdAtanLo[id]) - x)
	if neg {
		return -z
	}
	return z
}

// fdlibmAtan2 is fdlibm's __ieee754_atan2(y, x) (Java's Math.atan2).
func fdlibmAtan2(y, x float64) float64 {
	const (
		piO4 = 7.8539816339744827900e-01
		piO2 = 1.5707963267948965580e+00
		pi   = 3.1415926535897931160e+00
		piLo = 1.2246467991473531772e-16
	)
	if math.IsNaN(x) || math.IsNaN(y) {
		return x + y
	}
	if x == 1 {
		return fdlibmAtan(y)
	}
	m := 0 // 2*sign(x) + sign(y)
	if math.Signbit(y) {
		m |= 1
	}
	if math.Signbit(x) {
		m |= 2
	}
	if y == 0 {
		switch m {
		case 0, 1:
			return y // atan(±0, +anything) = ±0
		case 2:
			return pi
		default:
			return -pi
		}
	}
	if x == 0 {
		if m&1 != 0 {
			return -piO2
		}
		return piO2
	}
	if math.IsInf(x, 0) {
		if math.IsInf(y, 0) {
			return [4]float64{piO4, -piO4, 3.0 * piO4, -3.0 * piO4}[m]
		}
		return [4]float64{0, math.Copysign(0, -1), pi, -pi}[m]
	}
	if math.IsInf(y, 0) {
		if m&1 != 0 {
			return -piO2
		}
		return piO2
	}
	k := (int32(highWord(y)) - int32(highWord(x))) >> 20
	var z float64
	switch {
	case k > 60: // |y/x| > 2^60
		z = piO2 + 0.5*piLo
	case m&2 != 0 && k < -60: // |y|/x < -2^60
		z = 0
	default:
		z = fdlibmAtan(math.Abs(y / x))
	}
	switch m {
	case 0:
		return z
	case 1:
		return -z
	case 2:
		return pi - (z - piLo)
	default:
		return (z - piLo) - pi
	}
}
