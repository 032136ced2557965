package keygroup

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"pgregory.net/rapid"
)

// Ranges of all subtasks tile [0, maxParallelism) in order, and Subtask
// maps every key group to the subtask whose range holds it (Flink's
// KeyGroupRangeAssignment).
func TestRangesTile(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxPar := rapid.IntRange(1, 4096).Draw(t, "max")
		par := rapid.IntRange(1, maxPar).Draw(t, "par")
		next := 0
		for i := 0; i < par; i++ {
			r := RangeFor(maxPar, par, i)
			if r.Start != next || r.End < r.Start {
				t.Fatalf("subtask %d range %+v after %d", i, r, next)
			}
			for kg := r.Start; kg < r.End; kg++ {
				if s := Subtask(maxPar, par, kg); s != i {
					t.Fatalf("key group %d in range of %d but assigned to %d", kg, i, s)
				}
			}
			next = r.End
		}
		if next != maxPar {
			t.Fatalf("ranges end at %d, want %d", next, maxPar)
		}
	})
}

type compound struct {
	A string
	B [2]int32
}

type named string

// Hashes are stable across processes: these values are part of the
// checkpoint format (a key must land in the same group after a restore).
func TestHashesAreStable(t *testing.T) {
	if got := Of(Hasher[string]()("payment-42"), 128); got != Of(Hasher[named]()("payment-42"), 128) {
		t.Fatalf("named string type hashes differently from string")
	}
	cases := []struct {
		name string
		got  int
		want int
	}{
		// The format: xxhash64 of the key's bytes — a string's bytes, an
		// integer's 8 little-endian bytes, a struct's fields in order
		// (strings length-prefixed) — modulo the max parallelism.
		{"string", Of(Hasher[string]()("account-7"), 128), int(xxhash.Sum64String("account-7") % 128)},
		{"int", Of(Hasher[int]()(12345), 128), int(xxhash.Sum64(binary.LittleEndian.AppendUint64(nil, 12345)) % 128)},
		{"uint32", Of(Hasher[uint32]()(7), 128), int(xxhash.Sum64(binary.LittleEndian.AppendUint64(nil, 7)) % 128)},
		{"struct", Of(Hasher[compound]()(compound{"x", [2]int32{1, 2}}), 128), int(xxhash.Sum64([]byte{
			1, 'x', 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}) % 128)},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: key group %d, want %d (the hash changed: old checkpoints would restore wrongly)", c.name, c.got, c.want)
		}
	}
	if err := CheckKeyType[map[string]int](); err == nil {
		t.Fatal("map key type accepted")
	}
	if err := CheckKeyType[compound](); err != nil {
		t.Fatal(err)
	}
	type withTime struct {
		User string
		Day  time.Time
	}
	if err := CheckKeyType[withTime](); err == nil || !strings.Contains(err.Error(), "field Day: time.Time is not a valid key field") || !strings.Contains(err.Error(), "UnixMilli") {
		t.Fatalf("time.Time in a key: %v, want an error naming the field and saying to use UnixMilli", err)
	}
}
