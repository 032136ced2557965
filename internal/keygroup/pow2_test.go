package keygroup

import "testing"

// TestPowerOfTwoFastPath checks that Of and Subtask give the key group and
// subtask of the plain modulo and division whether or not the maximum
// parallelism is a power of two (which takes the mask and shift path).
func TestPowerOfTwoFastPath(t *testing.T) {
	hashes := []uint64{0, 1, 127, 128, 129, 1<<63 - 1, 1 << 63, ^uint64(0), 0x9e3779b97f4a7c15}
	for h := uint64(1); h < 1<<20; h = h*3 + 7 {
		hashes = append(hashes, h, hash8(h))
	}
	for _, maxPar := range []int{1, 2, 3, 64, 100, 128, 129, 256, 1000, 1024, 32768} {
		for _, h := range hashes {
			if got, want := Of(h, maxPar), int(h%uint64(maxPar)); got != want {
				t.Fatalf("Of(%#x, %d) = %d, want %d", h, maxPar, got, want)
			}
		}
		for par := 1; par <= maxPar && par <= 300; par++ {
			for kg := 0; kg < maxPar; kg++ {
				if got, want := Subtask(maxPar, par, kg), kg*par/maxPar; got != want {
					t.Fatalf("Subtask(%d, %d, %d) = %d, want %d", maxPar, par, kg, got, want)
				}
				if r := RangeFor(maxPar, par, Subtask(maxPar, par, kg)); !r.Contains(kg) {
					t.Fatalf("key group %d: subtask %d of %d owns %v", kg, Subtask(maxPar, par, kg), par, r)
				}
			}
		}
	}
}
