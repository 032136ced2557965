package heap

import (
	"math/rand/v2"
	"testing"
)

// checkTable checks a packed table's invariants against model: its count,
// every model entry found with its value, and every slot reachable from
// its key's home slot without crossing an empty slot (what lookups and
// deletion's back-shift rely on).
func checkTable(t *testing.T, p []uint64, sh uint, model map[uint64]uint64) {
	t.Helper()
	if int(p[0]) != len(model) {
		t.Fatalf("count %d, model has %d", p[0], len(model))
	}
	s := p[1:]
	mask := uint64(len(s) - 1)
	used := 0
	for i, w := range s {
		if w == 0 {
			continue
		}
		used++
		x := uint64(int64(w) >> sh)
		for j := home(x, mask); j != uint64(i); j = (j + 1) & mask {
			if s[j] == 0 {
				t.Fatalf("slot %d (key %#x, home %d) behind the empty slot %d", i, x, home(x, mask), j)
			}
		}
	}
	if used != len(model) {
		t.Fatalf("%d slots used, model has %d entries", used, len(model))
	}
	for x, v := range model {
		i := pfind(p, x, sh)
		if i < 0 {
			t.Fatalf("key %#x not found", x)
		}
		if got := p[1+i] >> 1 & (1<<(sh-1) - 1); got != v {
			t.Fatalf("key %#x: value %d, want %d", x, got, v)
		}
	}
}

// TestPackedTableWrapAround fills the last slots of small tables with
// keys whose home slots are at the end, so that probe runs wrap around to
// the first slots, and removes them in every order, checking the table's
// invariants after each step; then random operations on a small key
// domain, growth included, against a Go map.
func TestPackedTableWrapAround(t *testing.T) {
	const sh = 9 // uint8 values
	const mask = 7
	// Keys homed at slots 5, 6 and 7 (two each): runs wrap past slot 7.
	var keys []uint64
	count := map[uint64]int{}
	for x := uint64(0); len(keys) < 6; x++ {
		if h := home(x, mask); h >= 5 && count[h] < 2 {
			count[h]++
			keys = append(keys, x)
		}
	}
	var perm func(rest []uint64, order []uint64)
	perm = func(rest, order []uint64) {
		if len(rest) == 0 {
			p := newPacked(0)
			model := map[uint64]uint64{}
			for i, x := range keys {
				p, _ = pput(p, x, uint64(i), sh)
				model[x] = uint64(i)
			}
			if len(p) != 1+8 {
				t.Fatalf("table grew to %d slots", len(p)-1)
			}
			checkTable(t, p, sh, model)
			for _, x := range order {
				i := pfind(p, x, sh)
				if i < 0 {
					t.Fatalf("order %v: key %#x lost", order, x)
				}
				pdelete(p, i, sh)
				delete(model, x)
				checkTable(t, p, sh, model)
			}
			return
		}
		for i := range rest {
			next := append(append([]uint64(nil), rest[:i]...), rest[i+1:]...)
			perm(next, append(order, rest[i]))
		}
	}
	perm(keys, nil)

	rng := rand.New(rand.NewPCG(3, 4))
	p := newPacked(0)
	model := map[uint64]uint64{}
	for step := range 20000 {
		// Sign-extended keys, negative ones included.
		x := uint64(int64(rng.IntN(64) - 32))
		if rng.IntN(3) == 0 {
			if i := pfind(p, x, sh); i >= 0 {
				pdelete(p, i, sh)
			}
			delete(model, x)
		} else {
			v := uint64(rng.IntN(256))
			p, _ = pput(p, x, v, sh)
			model[x] = v
		}
		if step%97 == 0 {
			checkTable(t, p, sh, model)
		}
	}
	checkTable(t, p, sh, model)
}

// BenchmarkPackedTable puts then looks up n keys in one packed table:
// sequential keys, random ones, and keys whose low 40 bits are zero.
func BenchmarkPackedTable(b *testing.B) {
	const n = 4096
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		name string
		key  func(i int) uint64
	}{
		{"sequential", func(i int) uint64 { return uint64(i) }},
		{"random", func(int) uint64 { return uint64(rng.Int64N(1 << 50)) }},
		{"shifted40", func(i int) uint64 { return uint64(i) << 40 }},
	} {
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = c.key(i)
		}
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				p := newPacked(0)
				for _, x := range keys {
					p, _ = pput(p, x, 1, 9)
				}
				for _, x := range keys {
					if pfind(p, x, 9) < 0 {
						b.Fatal("lost")
					}
				}
			}
		})
	}
}

// TestPackedHomeSpreadsHighBits checks that keys differing only in high
// bits do not share a home slot: with the product's bits 32 and up as the
// hash, 1000 keys that are multiples of 2^44 all had home slot 0, one probe
// run of 1000 slots (every lookup walked it, each insert made it longer).
func TestPackedHomeSpreadsHighBits(t *testing.T) {
	for _, shift := range []uint{0, 20, 32, 40, 44} { // i<<44 still fits a slot (55 bits)
		p := newPacked(0)
		for i := range uint64(1000) {
			p, _ = pput(p, i<<shift, 1, 9)
		}
		s := p[1:]
		longest, run := 0, 0
		for i := 0; i < 2*len(s); i++ { // twice round: runs that wrap
			if s[i%len(s)] == 0 {
				run = 0
				continue
			}
			run++
			longest = max(longest, run)
		}
		if longest > 64 {
			t.Errorf("keys i<<%d: a probe run of %d slots in %d", shift, longest, len(s))
		}
	}
}
