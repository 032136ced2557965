package expr

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestFormatCacheSameText formats walks of nearby times (as a stream's
// rows carry them, across day, hour and minute boundaries, before and
// after the epoch) and random far times through formatCache, and
// requires the text of an uncached Format for every one.
func TestFormatCacheSameText(t *testing.T) {
	patterns := []string{"yyyy-MM-dd", "HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.SSS",
		"EEE, d MMM yy h a", "D u", "yyyyMMddHH", "''yyyy'' G", "mm:ss", "yyyy-MM-dd'T'HH:mmXXX"}
	rng := rand.New(rand.NewPCG(1, 2))
	var times []int64
	for _, start := range []int64{-86_400_000 - 5_000, -1, 0, 1_436_918_400_000 - 61_000, 253_402_300_799_000 - 90_000_000} {
		ms := start
		for range 3000 {
			times = append(times, ms)
			ms += rng.Int64N(40_000)
		}
		// back in time too: a cache must not trust order
		for range 300 {
			times = append(times, ms)
			ms -= rng.Int64N(400_000)
		}
	}
	for range 2000 {
		times = append(times, rng.Int64N(2*253_402_300_799_000)-253_402_300_799_000)
	}
	cachedUnits := 0
	for _, p := range patterns {
		pat, err := ParseDateTimePattern(p)
		if err != nil {
			t.Fatal(err)
		}
		c := formatCache{unit: pat.cacheUnit()}
		if c.unit != 0 {
			cachedUnits++
		}
		for i, ms := range times {
			nano := time.Duration(i % 1_000_000)
			want := pat.Format(time.UnixMilli(ms).UTC().Add(nano))
			if got := c.format(pat, ms, nano); got != want {
				t.Fatalf("%q at %d ms + %d ns: %q, want %q", p, ms, nano, got, want)
			}
		}
	}
	if cachedUnits != 8 {
		t.Fatalf("%d of the patterns are cached, want 8 (all but fractions and offsets)", cachedUnits)
	}
	units := []int64{}
	for _, p := range []string{"yyyy-MM-dd", "yyyy-MM-dd h a", "HH:mm", "mm:ss", "SSS"} {
		pat, _ := ParseDateTimePattern(p)
		units = append(units, pat.cacheUnit())
	}
	if want := []int64{86_400_000, 3_600_000, 60_000, 1_000, 0}; !slices.Equal(units, want) {
		t.Fatalf("cache units %v, want %v", units, want)
	}
}
