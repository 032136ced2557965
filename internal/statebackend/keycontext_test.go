package statebackend

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
)

// TestSetRouted: the hash a keyed exchange sends with a record sets the
// same key group as hashing the key; a hash that is not the key's (a
// non-deterministic key selector) fails within checkRouted calls.
func TestSetRouted(t *testing.T) {
	hash := keygroup.Hasher[string]()
	kc := NewKeyContext(hash, 128, keygroup.Range{Start: 0, End: 128})
	ref := NewKeyContext(hash, 128, keygroup.Range{Start: 0, End: 128})
	keys := []string{"a", "b", "key-3", ""}
	for i := range 3 * checkRouted {
		k := keys[i%len(keys)]
		if err := kc.SetRouted(k, hash(k)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if err := ref.Set(k); err != nil {
			t.Fatal(err)
		}
		if kc.Key != ref.Key || kc.KeyGroup != ref.KeyGroup || kc.Index != ref.Index {
			t.Fatalf("key %q: routed (%q, %d, %d), hashed (%q, %d, %d)", k, kc.Key, kc.KeyGroup, kc.Index, ref.Key, ref.KeyGroup, ref.Index)
		}
	}
	var err error
	calls := 0
	for err == nil && calls < 2*checkRouted {
		calls++
		err = kc.SetRouted("selected again", hash("routed by"))
	}
	if err == nil || !strings.Contains(err.Error(), "same key for the same record") {
		t.Fatalf("after %d calls with another key's hash: %v", calls, err)
	}
	if calls > checkRouted {
		t.Fatalf("a wrong hash went unnoticed for %d calls, want at most %d", calls, checkRouted)
	}
	// A routed hash outside the subtask's range fails at once, as Set.
	part := NewKeyContext(hash, 128, keygroup.Range{Start: 0, End: 1})
	for _, k := range keys {
		if kg := keygroup.Of(hash(k), 128); kg != 0 {
			if err := part.SetRouted(k, hash(k)); err == nil {
				t.Fatalf("key %q of group %d accepted by range [0,1)", k, kg)
			}
			break
		}
	}
}
