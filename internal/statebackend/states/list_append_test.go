package states_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/states"
)

// appendListOf reads l through AppendList after a prefix that must
// survive (through Get for a backend without it), and scribbles over the
// returned elements afterwards: the state must not share them.
func appendListOf(t *testing.T, l statebackend.List[struct{}, string], dst []string) ([]string, []string) {
	t.Helper()
	a, ok := l.(statebackend.ListAppender[string])
	if !ok {
		return l.Get(), dst
	}
	dst = append(dst[:0], "prefix")
	got := a.AppendList(dst)
	if len(got) == 0 || got[0] != "prefix" {
		t.Fatalf("AppendList changed what dst held: %q", got)
	}
	out := slices.Clone(got[1:])
	for i := range got {
		got[i] = "scribbled"
	}
	return out, got
}

// listModel is a list state with TTL as documented: each element expires
// TTL after it was written; a read drops expired elements (returning them
// too with ReturnExpiredIfNotCleanedUp) and, with OnReadAndWrite, moves
// the expiry of the others.
type listModel struct {
	ttl   statebackend.TTL
	lists map[string][]modelElem
}

type modelElem struct {
	v   string
	exp int64
}

func (m *listModel) exp(now int64) int64 {
	if m.ttl.TTLMillis <= 0 {
		return 0
	}
	return now + m.ttl.TTLMillis
}

func (m *listModel) add(k, v string, now int64) {
	m.lists[k] = append(m.lists[k], modelElem{v, m.exp(now)})
}

func (m *listModel) read(k string, now int64) []string {
	var out []string
	var kept []modelElem
	for _, e := range m.lists[k] {
		if e.exp != 0 && e.exp <= now {
			if m.ttl.Visibility == statebackend.ReturnExpiredIfNotCleanedUp {
				out = append(out, e.v)
			}
			continue
		}
		if e.exp != 0 && m.ttl.Update == statebackend.OnReadAndWrite {
			e.exp = m.exp(now)
		}
		out = append(out, e.v)
		kept = append(kept, e)
	}
	m.lists[k] = kept
	return out
}

// TestListAppendList: AppendList (into a reused slice) and Get read what
// a model of the list state reads, with the same effects: two lists
// receive the same random adds, updates, clears, key switches and clock
// steps; one is read with Get, the other with AppendList, each against
// its own model, with and without TTL (expired elements dropped or still
// returned, refreshed on read).
func TestListAppendList(t *testing.T) {
	ttls := ttlCases()
	forKinds(t, func(t *testing.T, kind string) {
		for name, ttl := range ttls {
			t.Run(name, func(t *testing.T) {
				clk := &clock{}
				e := newEnv[string](t, kind, full, clk)
				byGet := states.NewList[string, struct{}, string](e.b, ttl)
				byGet.SetName("get")
				byAppend := states.NewList[string, struct{}, string](e.b, ttl)
				byAppend.SetName("append")
				e.seal()
				if _, ok := byAppend.(statebackend.ListAppender[string]); !ok && kind == "heap" {
					t.Fatal("the heap list state does not implement ListAppender")
				}
				mGet := &listModel{ttl: ttl, lists: map[string][]modelElem{}}
				mAppend := &listModel{ttl: ttl, lists: map[string][]modelElem{}}
				r := rand.New(rand.NewPCG(3, 4))
				keys := []string{"k0", "k1", "k2"}
				k := keys[0]
				e.set(k)
				var dst []string
				for i := range 800 {
					v := fmt.Sprint(i)
					switch op := r.IntN(20); {
					case op < 8:
						byGet.Add(v)
						byAppend.Add(v)
						mGet.add(k, v, clk.now)
						mAppend.add(k, v, clk.now)
					case op < 10:
						byGet.AddAll([]string{v, v + "b"})
						byAppend.AddAll([]string{v, v + "b"})
						for _, m := range []*listModel{mGet, mAppend} {
							m.add(k, v, clk.now)
							m.add(k, v+"b", clk.now)
						}
					case op == 10:
						byGet.Update([]string{v})
						byAppend.Update([]string{v})
						for _, m := range []*listModel{mGet, mAppend} {
							m.lists[k] = nil
							m.add(k, v, clk.now)
						}
					case op == 11:
						byGet.Clear()
						byAppend.Clear()
						mGet.lists[k], mAppend.lists[k] = nil, nil
					case op < 15:
						k = keys[r.IntN(len(keys))]
						e.set(k)
					case op < 18:
						clk.now += int64(r.IntN(20))
					}
					// Read each list only sometimes, apart: reads refresh
					// (OnReadAndWrite) and remove.
					switch r.IntN(4) {
					case 0:
						if got, want := byGet.Get(), mGet.read(k, clk.now); !slices.Equal(got, want) {
							t.Fatalf("op %d: Get = %q, want %q", i, got, want)
						}
					case 1:
						var got []string
						got, dst = appendListOf(t, byAppend, dst)
						if want := mAppend.read(k, clk.now); !slices.Equal(got, want) {
							t.Fatalf("op %d: AppendList = %q, want %q", i, got, want)
						}
					}
				}
			})
		}
	})
}

// TestListAppendListNoAlloc: on the heap backend, reading a list into a
// slice with room allocates nothing (Get allocates a copy per call), and
// nor does IsEmpty of a map.
func TestListAppendListNoAlloc(t *testing.T) {
	e := newEnv[string](t, "heap", full, &clock{})
	l := states.NewList[string, struct{}, string](e.b, statebackend.TTL{})
	l.SetName("l")
	lt := states.NewList[string, struct{}, string](e.b, statebackend.TTL{TTLMillis: 1000, Update: statebackend.OnCreateAndWrite, Visibility: statebackend.NeverReturnExpired})
	lt.SetName("lt")
	m := states.NewMap[string, struct{}, string, int64](e.b, statebackend.TTL{})
	m.SetName("m")
	e.seal()
	e.set("k")
	for _, v := range []string{"a", "b", "c"} {
		l.Add(v)
		lt.Add(v)
	}
	m.Put("x", 1)
	dst := make([]string, 0, 8)
	for name, st := range map[string]statebackend.List[struct{}, string]{"no TTL": l, "TTL, nothing expired": lt} {
		a := st.(statebackend.ListAppender[string])
		if n := testing.AllocsPerRun(100, func() { dst = a.AppendList(dst[:0]) }); n != 0 {
			t.Errorf("%s: AppendList allocates %v times per call", name, n)
		}
		if !slices.Equal(dst, []string{"a", "b", "c"}) {
			t.Errorf("%s: AppendList = %q", name, dst)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = m.IsEmpty() }); n != 0 {
		t.Errorf("IsEmpty of a non-empty map allocates %v times per call", n)
	}
	e.set("other")
	if n := testing.AllocsPerRun(100, func() { _ = m.IsEmpty() }); n != 0 {
		t.Errorf("IsEmpty of an empty map allocates %v times per call", n)
	}
}

// TestMapIsEmptyDropsExpired: IsEmpty of a map whose entries all expired
// (never returned) reports it empty and removes them.
func TestMapIsEmptyDropsExpired(t *testing.T) {
	forKinds(t, func(t *testing.T, kind string) {
		clk := &clock{}
		e := newEnv[string](t, kind, full, clk)
		ttl := statebackend.TTL{TTLMillis: 10, Update: statebackend.OnCreateAndWrite, Visibility: statebackend.NeverReturnExpired}
		m := states.NewMap[string, struct{}, string, int64](e.b, ttl)
		m.SetName("m")
		e.seal()
		e.set("k")
		m.Put("a", 1)
		m.Put("b", 2)
		clk.now = 5
		m.Put("c", 3)
		clk.now = 12 // a, b expired at 10; c expires at 15
		if m.IsEmpty() {
			t.Fatal("IsEmpty with a live entry")
		}
		// (Which expired entries it met and removed depends on the map's
		// order; the live one stays.)
		clk.now = 0
		if got := mapLine(m.All()); !strings.Contains(got, "c:3") {
			t.Fatalf("All after IsEmpty = %s, lost c:3", got)
		}
		clk.now = 20
		if !m.IsEmpty() {
			t.Fatal("IsEmpty with every entry expired = false")
		}
		clk.now = 0
		if got := mapLine(m.All()); got != "{}" {
			t.Fatalf("All after IsEmpty met only expired entries = %s, want {}", got)
		}
	})
}
