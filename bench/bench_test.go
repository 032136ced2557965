package bench

import (
	"context"
	"testing"

	"github.com/weirstream/weir"
)

// TestScenariosAgree runs every scenario on a small input, at several
// parallelisms and with chaining off, and checks that the engine and the
// hand-written loop computed the same checksum (Run fails otherwise).
func TestScenariosAgree(t *testing.T) {
	for _, s := range Scenarios() {
		for _, opts := range []weir.Options{{}, {Parallelism: 2}, {Parallelism: 2, DisableChaining: true}} {
			r, err := Run(context.Background(), s, 30_000, opts)
			if err != nil {
				t.Fatalf("%s p=%d chaining=%v: %v", s.Name, opts.Parallelism, !opts.DisableChaining, err)
			}
			if r.Checksum.Records == 0 || r.Checksum.Sum == 0 {
				t.Fatalf("%s: empty checksum %+v", s.Name, r.Checksum)
			}
			if r.Engine.Records != 30_000 || r.Engine.CPU <= 0 {
				t.Fatalf("%s: bad measurement %+v", s.Name, r.Engine)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	if _, ok := Lookup("a"); !ok {
		t.Fatal("scenario a missing")
	}
	if _, ok := Lookup("zz"); ok {
		t.Fatal("unknown scenario found")
	}
}

// TestDivisor checks the reader's division without hardware divisions
// against the hardware's.
func TestDivisor(t *testing.T) {
	ns := []uint64{0, 1, 2, 3, 999, 1000, 1001, 1<<20 - 1, 1 << 20, 1<<63 - 1, 1 << 63, 1<<64 - 1}
	for i := uint64(0); i < 2000; i++ {
		ns = append(ns, splitmix64(i), i)
	}
	for _, d := range []uint64{1, 2, 3, 7, 10, 1000, 10_000, 100_000, 1 << 20, 1<<20 + 1, 1<<32 - 1, 1 << 40, 1<<63 + 5, 1<<64 - 1} {
		v := newDivisor(d)
		for _, n := range ns {
			if q, r := v.div(n), v.mod(n); q != n/d || r != n%d {
				t.Fatalf("%d / %d: got %d rem %d, want %d rem %d", n, d, q, r, n/d, n%d)
			}
		}
	}
}
