package states_test

import (
	"math/rand/v2"
	"testing"

	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/states"
)

// entriesLine is the current key's entries as AppendEntries gives them
// (appended after a prefix that must survive), or through All for a
// backend without it.
func entriesLine(t *testing.T, m statebackend.Map[struct{}, string, int64]) string {
	t.Helper()
	a, ok := m.(statebackend.EntryAppender[string, int64])
	if !ok {
		return mapLine(m.All())
	}
	prefix := []statebackend.Entry[string, int64]{{Key: "prefix", Value: -1}}
	got := a.AppendEntries(prefix)
	if len(got) == 0 || got[0] != prefix[0] {
		t.Fatalf("AppendEntries changed what dst held: %v", got)
	}
	return mapLine(func(yield func(string, int64) bool) {
		for _, e := range got[1:] {
			if !yield(e.Key, e.Value) {
				return
			}
		}
	})
}

// ttlCases are the TTL settings the random state tests run under: none,
// and each update type with each visibility.
func ttlCases() map[string]statebackend.TTL {
	return map[string]statebackend.TTL{
		"none":                  {},
		"never-expired":         {TTLMillis: 50, Update: statebackend.OnCreateAndWrite, Visibility: statebackend.NeverReturnExpired},
		"read-refresh":          {TTLMillis: 50, Update: statebackend.OnReadAndWrite, Visibility: statebackend.NeverReturnExpired},
		"return-expired":        {TTLMillis: 50, Update: statebackend.OnReadAndWrite, Visibility: statebackend.ReturnExpiredIfNotCleanedUp},
		"return-expired-create": {TTLMillis: 50, Update: statebackend.OnCreateAndWrite, Visibility: statebackend.ReturnExpiredIfNotCleanedUp},
	}
}

// TestMapAppendEntries: AppendEntries gives the entries All gives, over
// random puts, removes, clears and key switches, with and without TTL
// (expired entries left out when they must not be returned, and removed).
func TestMapAppendEntries(t *testing.T) {
	ttls := ttlCases()
	forKinds(t, func(t *testing.T, kind string) {
		for name, ttl := range ttls {
			t.Run(name, func(t *testing.T) {
				clk := &clock{}
				e := newEnv[string](t, kind, full, clk)
				m := states.NewMap[string, struct{}, string, int64](e.b, ttl)
				m.SetName("m")
				e.seal()
				if _, ok := m.(statebackend.EntryAppender[string, int64]); !ok && kind == "heap" {
					t.Fatal("the heap map state does not implement EntryAppender")
				}
				r := rand.New(rand.NewPCG(1, 2))
				keys := []string{"k0", "k1", "k2"}
				e.set(keys[0])
				for i := range 800 {
					switch op := r.IntN(10); {
					case op < 5:
						m.Put(string(rune('a'+r.IntN(8))), int64(i))
					case op < 7:
						m.Remove(string(rune('a' + r.IntN(8))))
					case op == 7:
						e.set(keys[r.IntN(len(keys))])
					case op == 8:
						clk.now += int64(r.IntN(20))
					default:
						if r.IntN(20) == 0 {
							m.Clear()
						}
					}
					// All first: for TTL it removes what it leaves out, so
					// compare against a second All after AppendEntries too.
					want := mapLine(m.All())
					if got := entriesLine(t, m); got != want {
						t.Fatalf("op %d: AppendEntries = %s, All = %s", i, got, want)
					}
					if again := mapLine(m.All()); again != want {
						t.Fatalf("op %d: All after AppendEntries = %s, before = %s", i, again, want)
					}
				}
			})
		}
	})
}

// TestMapAppendEntriesDropsExpired: AppendEntries on a map whose entries
// expired (never returned) leaves them out and removes them, as All does.
func TestMapAppendEntriesDropsExpired(t *testing.T) {
	clk := &clock{}
	e := newEnv[string](t, "heap", full, clk)
	ttl := statebackend.TTL{TTLMillis: 10, Update: statebackend.OnCreateAndWrite, Visibility: statebackend.NeverReturnExpired}
	m := states.NewMap[string, struct{}, string, int64](e.b, ttl)
	m.SetName("m")
	e.seal()
	e.set("k")
	m.Put("old", 1)
	clk.now = 5
	m.Put("new", 2)
	clk.now = 12 // "old" expired at 10, "new" expires at 15
	if got := entriesLine(t, m); got != "{new:2}" {
		t.Fatalf("entries at 12 = %s, want {new:2}", got)
	}
	clk.now = 0 // the expired entry must be gone, not merely hidden
	if got := mapLine(m.All()); got != "{new:2}" {
		t.Fatalf("All after AppendEntries met an expired entry = %s, want {new:2}", got)
	}
}
