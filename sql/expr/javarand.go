package expr

// javaRandom is java.util.Random's generator, as its Javadoc specifies it
// (a 48-bit linear congruential generator): Flink's RAND(seed) and
// RAND_INTEGER(seed, bound) are new java.util.Random(seed).nextDouble()
// and .nextInt(bound), so a seeded call gives Java's sequence
// (RAND(1) is 0.7308781907032909).
type javaRandom struct{ seed int64 }

const (
	javaRandMult = 0x5DEECE66D
	javaRandAdd  = 0xB
	javaRandMask = (1 << 48) - 1
)

func newJavaRandom(seed int64) *javaRandom {
	return &javaRandom{seed: (seed ^ javaRandMult) & javaRandMask}
}

func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*javaRandMult + javaRandAdd) & javaRandMask
	return int32(r.seed >> (48 - bits))
}

// Float64 is Random.nextDouble.
func (r *javaRandom) Float64() float64 {
	return float64(int64(r.next(26))<<27+int64(r.next(27))) * 0x1p-53
}

// Int64N is Random.nextInt(bound) for 0 < bound <= MaxInt32.
func (r *javaRandom) Int64N(n int64) int64 {
	bound := int32(n)
	if bound&(-bound) == bound {
		return int64(int32((int64(bound) * int64(r.next(31))) >> 31))
	}
	for {
		bits := r.next(31)
		val := bits % bound
		if bits-val+(bound-1) >= 0 {
			return int64(val)
		}
	}
}
