package keygroup

import (
	"math/bits"
	"testing"

	"pgregory.net/rapid"
)

// oldOf and oldSubtask are the formulas before the power-of-two fast path
// (c002832): savepoints and rescaling depend on the new code giving
// exactly their results.
func oldOf(hash uint64, maxParallelism int) int { return int(hash % uint64(maxParallelism)) }

func oldSubtask(maxParallelism, parallelism, kg int) int { return kg * parallelism / maxParallelism }

// TestPowerOfTwoSubtaskExhaustive compares Subtask with the division for
// every power-of-two maximum parallelism up to 32768 (the limit) and every
// parallelism 1..max, powers of two or not: on every key group up to a
// maximum of 1024, above it on the first and last key groups of every
// subtask's range (Subtask and the division are both non-decreasing in
// the key group, so agreeing where the owner changes leaves no room for a
// difference in between) and on every key group for the parallelisms
// that are powers of two, max-1 and every 97th. Above a maximum of 4096,
// the boundaries are checked for parallelisms up to 512, the last 512 and
// every 31st (TestKeyToSubtaskMatchesDivision draws the others).
func TestPowerOfTwoSubtaskExhaustive(t *testing.T) {
	check := func(m, par, kg int) {
		if got, want := Subtask(m, par, kg), oldSubtask(m, par, kg); got != want {
			t.Fatalf("Subtask(%d, %d, %d) = %d, want %d", m, par, kg, got, want)
		}
	}
	for m := 1; m <= 32768; m <<= 1 {
		for par := 1; par <= m; par++ {
			if m <= 1024 || par%97 == 0 || par == m-1 || bits.OnesCount(uint(par)) == 1 {
				for kg := 0; kg < m; kg++ {
					check(m, par, kg)
				}
				continue
			}
			if m > 4096 && par > 512 && par < m-512 && par%31 != 0 {
				continue // (the rapid test below draws from these)
			}
			// The owner changes at kg = ceil(i*m/par): check both sides.
			for i := 1; i < par; i++ {
				b := (i*m + par - 1) / par
				check(m, par, b-1)
				check(m, par, b)
			}
			check(m, par, 0)
			check(m, par, m-1)
		}
	}
}

// TestPowerOfTwoOfEveryBit compares Of with the modulo for every maximum
// parallelism 1..32768 on hashes with every single bit set or cleared and
// every low 16-bit pattern under a fixed high half.
func TestPowerOfTwoOfEveryBit(t *testing.T) {
	var hashes []uint64
	for b := 0; b < 64; b++ {
		hashes = append(hashes, 1<<b, ^uint64(1<<b), 1<<b-1)
	}
	for m := 1; m <= 32768; m++ {
		for _, h := range hashes {
			if got, want := Of(h, m), oldOf(h, m); got != want {
				t.Fatalf("Of(%#x, %d) = %d, want %d", h, m, got, want)
			}
		}
	}
	for m := 1; m <= 32768; m <<= 1 {
		for lo := uint64(0); lo < 1<<16; lo++ {
			h := 0xdeadbeef_cafe0000 | lo
			if got, want := Of(h, m), oldOf(h, m); got != want {
				t.Fatalf("Of(%#x, %d) = %d, want %d", h, m, got, want)
			}
		}
	}
}

// TestKeyToSubtaskMatchesDivision: key -> key group -> subtask, through the
// hashers the exchange and the keyed operators use, is the old division
// for any maximum parallelism (power of two or not), parallelism and key.
func TestKeyToSubtaskMatchesDivision(t *testing.T) {
	hInt, hStr := Hasher[int](), Hasher[string]()
	rapid.Check(t, func(t *rapid.T) {
		m := rapid.OneOf(
			rapid.Custom(func(t *rapid.T) int { return 1 << rapid.IntRange(0, 15).Draw(t, "log2max") }),
			rapid.IntRange(1, 32768),
		).Draw(t, "max")
		par := rapid.IntRange(1, m).Draw(t, "par")
		for _, h := range []uint64{
			hInt(rapid.Int().Draw(t, "ikey")),
			hStr(rapid.String().Draw(t, "skey")),
			rapid.Uint64().Draw(t, "hash"),
		} {
			kg, want := Of(h, m), oldOf(h, m)
			if kg != want {
				t.Fatalf("Of(%#x, %d) = %d, want %d", h, m, kg, want)
			}
			s := Subtask(m, par, kg)
			if w := oldSubtask(m, par, want); s != w {
				t.Fatalf("Subtask(%d, %d, %d) = %d, want %d", m, par, kg, s, w)
			}
			if r := RangeFor(m, par, s); !r.Contains(kg) {
				t.Fatalf("key group %d routed to subtask %d of %d, whose range is %v", kg, s, par, r)
			}
		}
	})
}
