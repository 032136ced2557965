package heap

import (
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

// TestMapIterateChangedWhileShared changes a key's entries from inside
// All's loop while an async snapshot still reads them (so the first change
// clones the key's map), or clears the key from inside the loop, and checks
// Go map range semantics: an entry removed before it is reached is not
// produced, and an entry is produced with its value as it is when reached.
// Both layouts: Go maps (string user keys) and packed tables.
func TestMapIterateChangedWhileShared(t *testing.T) {
	t.Run("gomap", func(t *testing.T) {
		testIterateChangedWhileShared(t, func(i int) string { return string(rune('a' + i)) })
	})
	t.Run("packed", func(t *testing.T) { testIterateChangedWhileShared(t, func(i int) int64 { return int64(i) }) })
}

func testIterateChangedWhileShared[UK comparable](t *testing.T, ukOf func(int) UK) {
	newState := func() (*Backend[string], *Map[string, struct{}, UK, uint8]) {
		b := New(statebackend.NewKeyContext(keygroup.Hasher[string](), 128, keygroup.Range{Start: 0, End: 128}), func() int64 { return 0 })
		m := NewMap[string, struct{}, UK, uint8](b, statebackend.TTL{})
		m.SetName("m")
		if err := b.kc.Set("k"); err != nil {
			t.Fatal(err)
		}
		return b, m
	}
	for _, change := range []string{"remove", "put", "clear"} {
		t.Run(change, func(t *testing.T) {
			b, m := newState()
			a, c := ukOf(0), ukOf(1)
			m.Put(a, 1)
			m.Put(c, 1)
			write, err := b.SnapshotAsync() // in flight during the loop
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for uk, v := range m.All() {
				n++
				if n == 1 {
					other := a
					if uk == a {
						other = c
					}
					switch change {
					case "remove":
						m.Remove(other)
					case "put":
						m.Put(other, 2)
					default:
						m.Clear()
					}
					continue
				}
				if change != "put" {
					t.Fatalf("%s: produced %v=%d after it was removed in the loop", change, uk, v)
				}
				if v != 2 {
					t.Fatalf("put: produced %v=%d, its value is 2 since the loop changed it", uk, v)
				}
			}
			if want := map[string]int{"remove": 1, "put": 2, "clear": 1}[change]; n != want {
				t.Fatalf("%s: %d entries produced, want %d", change, n, want)
			}
			if err := write(func(int, []byte) {}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
