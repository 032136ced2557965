package heap

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
)

// TestMapSnapshotFromEntryLayout restores map state sections written by
// 78d61ca, whose inner maps held (value, expiry) entries, into today's
// layout (values, and expiries in a map of their own): a state with TTL
// (keys a, b, c with 1, 2, 3 entries, put at 5, 6, 7 with a TTL of 1000 ms)
// and one without (the same user keys, values 1, 2, 3). Every entry, with
// its expiry, must come back; a snapshot of the restored state must restore
// the same again; and key group 91 (key a alone, one entry per state) must
// be written byte for byte as 78d61ca wrote it, since the format did not
// change.
func TestMapSnapshotFromEntryLayout(t *testing.T) {
	raw, err := os.ReadFile("testdata/map-snapshot-78d61ca.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden map[int][]byte
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	type states struct {
		b     *Backend[string]
		ttl   *Map[string, struct{}, int64, string]
		plain *Map[string, struct{}, int64, uint8]
		now   *int64
	}
	restore := func(groups map[int][]byte) states {
		s := states{now: new(int64)}
		s.b = New(statebackend.NewKeyContext(keygroup.Hasher[string](), 128, keygroup.Range{Start: 0, End: 128}), func() int64 { return *s.now })
		s.ttl = NewMap[string, struct{}, int64, string](s.b, statebackend.TTL{TTLMillis: 1000})
		s.ttl.SetName("ttl")
		s.plain = NewMap[string, struct{}, int64, uint8](s.b, statebackend.TTL{})
		s.plain.SetName("plain")
		if err := s.b.SetRestore(groups); err != nil {
			t.Fatal(err)
		}
		if err := s.b.Seal(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	type dump map[string]map[int64]string
	read := func(s states) (ttl, plain dump, exps map[int64]int64) {
		ttl, plain, exps = dump{}, dump{}, map[int64]int64{}
		for _, k := range []string{"a", "b", "c"} {
			if err := s.b.kc.Set(k); err != nil {
				t.Fatal(err)
			}
			for uk, v := range s.ttl.All() {
				if ttl[k] == nil {
					ttl[k] = map[int64]string{}
				}
				ttl[k][uk] = v
			}
			for uk, v := range s.plain.All() {
				if plain[k] == nil {
					plain[k] = map[int64]string{}
				}
				plain[k][uk] = string('0' + rune(v))
			}
			in := s.ttl.read()[k]
			for uk := range in.m {
				exps[uk] = in.expOf(uk)
			}
			if in := s.plain.read()[k]; in.exp != nil {
				t.Errorf("key %s: the state without TTL restored expiries %v", k, in.exp)
			}
		}
		return ttl, plain, exps
	}
	wantTTL := dump{"a": {0: "a"}, "b": {100: "b", 101: "b"}, "c": {200: "c", 201: "c", 202: "c"}}
	wantPlain := dump{"a": {0: "1"}, "b": {100: "1", 101: "2"}, "c": {200: "1", 201: "2", 202: "3"}}
	wantExp := map[int64]int64{0: 1005, 100: 1005, 101: 1006, 200: 1005, 201: 1006, 202: 1007}

	s := restore(golden)
	ttl, plain, exps := read(s)
	if diff := cmp.Diff(wantTTL, ttl); diff != "" {
		t.Errorf("TTL state (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantPlain, plain); diff != "" {
		t.Errorf("state without TTL (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantExp, exps); diff != "" {
		t.Errorf("expiries (-want +got):\n%s", diff)
	}

	write, err := s.b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	again := map[int][]byte{}
	if err := write(func(kg int, sec []byte) { again[kg] = append(again[kg], sec...) }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again[91], golden[91]) {
		t.Errorf("key group 91 written as\n%x\nwant (78d61ca)\n%x", again[91], golden[91])
	}
	ttl, plain, exps = read(restore(again))
	if diff := cmp.Diff(wantTTL, ttl); diff != "" {
		t.Errorf("TTL state after a second snapshot (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantPlain, plain); diff != "" {
		t.Errorf("state without TTL after a second snapshot (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantExp, exps); diff != "" {
		t.Errorf("expiries after a second snapshot (-want +got):\n%s", diff)
	}
	// At 1006 the entries put at 5 have expired (expiry 1005 <= now).
	*s.now = 1006
	if err := s.b.kc.Set("b"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.ttl.Get(100); ok {
		t.Error("restored entry 100 (expiry 1005) read at 1006")
	}
	if v, ok := s.ttl.Get(101); ok {
		t.Errorf("restored entry 101 (expiry 1006) read at 1006: %q", v)
	}
	if v, ok := s.ttl.Get(102); ok {
		t.Errorf("user key 102 of key b was never put, read %q", v)
	}
	if v, ok := s.plain.Get(101); !ok || v != 2 {
		t.Errorf("state without TTL: Get(101) = %d, %v", v, ok)
	}
}
