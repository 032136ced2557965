package cdc

import (
	"testing"
	"time"
)

// TestRowKeyTimesOutsideUnixNano: DATETIME key values 2^64 ns apart (both
// within 0000-9999) are different keys; UnixNano wrapped them onto one.
func TestRowKeyTimesOutsideUnixNano(t *testing.T) {
	tab := &Table{Columns: []Column{{Name: "id"}, {Name: "at"}}, Key: []int{0, 1}}
	a := time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	// 2^64 ns = 18446744073 s + 709551616 ns.
	b := time.Unix(a.Unix()+18446744073, 709551616).UTC()
	if b.Year() != 1584 {
		t.Fatalf("b is %v", b)
	}
	ka, kb := rowKey(tab, []any{int64(1), a}), rowKey(tab, []any{int64(1), b})
	if ka == kb {
		t.Fatalf("keys (1, %v) and (1, %v) are one key %q", a, b, ka)
	}
	// The same instant is the same key, whatever the location.
	if k := rowKey(tab, []any{int64(1), a.In(time.FixedZone("x", 3600))}); k != ka {
		t.Fatalf("same instant: key %q, want %q", k, ka)
	}
}
