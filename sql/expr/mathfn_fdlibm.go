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
