package states_test

// The conformance suite of keyed state backends (Flink's
// StateBackendTestBase): every test runs over the heap and the Pebble
// backend, created through package states as operators create them, and
// every snapshot test round-trips between the two.

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/states"
)

// forKinds runs fn as a subtest per backend kind.
func forKinds(t *testing.T, fn func(t *testing.T, kind string)) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) { fn(t, kind) })
	}
}

// forKeyTypes runs fn as a subtest per key type (string, int64, struct).
func forKeyTypes(t *testing.T, kind string, fn func(t *testing.T, kind string, keys any)) {
	t.Run("string", func(t *testing.T) { fn(t, kind, keygen(stringKeys)) })
	t.Run("int64", func(t *testing.T) { fn(t, kind, keygen(int64Keys)) })
	t.Run("struct", func(t *testing.T) { fn(t, kind, keygen(structKeys)) })
}

func keygen[K comparable](g keyGen[K]) keyGen[K] { return g }

// byKeyType dispatches a generic test body on the key generator's type.
func byKeyType(t *testing.T, keys any, str func(keyGen[string]), i64 func(keyGen[int64]), st func(keyGen[skey])) {
	switch g := keys.(type) {
	case keyGen[string]:
		str(g)
	case keyGen[int64]:
		i64(g)
	case keyGen[skey]:
		st(g)
	default:
		t.Fatalf("key generator %T", keys)
	}
}

func TestValueState(t *testing.T) {
	forKinds(t, func(t *testing.T, kind string) {
		forKeyTypes(t, kind, func(t *testing.T, kind string, keys any) {
			byKeyType(t, keys,
				func(g keyGen[string]) { testValue(t, kind, g) },
				func(g keyGen[int64]) { testValue(t, kind, g) },
				func(g keyGen[skey]) { testValue(t, kind, g) })
		})
	})
}

func testValue[K comparable](t *testing.T, kind string, gen keyGen[K]) {
	e := newEnv[K](t, kind, full, nil)
	v := states.NewValue[K, struct{}, string](e.b, statebackend.TTL{})
	v.SetName("v")
	nv := states.NewValue[K, win, rec](e.b, statebackend.TTL{})
	nv.SetName("nv")
	e.seal()
	k0, k1 := gen(0), gen(1)
	e.set(k0)
	if got, ok := v.Value(); ok || got != "" {
		t.Fatalf("empty Value() = %q, %v", got, ok)
	}
	v.Update("a")
	e.set(k1)
	if _, ok := v.Value(); ok {
		t.Fatal("value of another key is visible")
	}
	v.Update("b")
	v.Update("") // the zero value is a value
	e.set(k0)
	if got, ok := v.Value(); !ok || got != "a" {
		t.Fatalf("Value() = %q, %v; want a", got, ok)
	}
	e.set(k1)
	if got, ok := v.Value(); !ok || got != "" {
		t.Fatalf("Value() = %q, %v; want the empty string, true", got, ok)
	}
	v.Clear()
	if _, ok := v.Value(); ok {
		t.Fatal("Value() after Clear")
	}
	v.Clear() // clearing nothing is fine
	e.set(k0)
	if got, _ := v.Value(); got != "a" {
		t.Fatalf("Clear of one key removed another's: %q", got)
	}

	// Namespaces are independent.
	w1, w2 := windows[0], windows[1]
	nv.SetNamespace(w1)
	nv.Update(rec{Name: "w1", Tags: []string{"x"}})
	nv.SetNamespace(w2)
	if _, ok := nv.Value(); ok {
		t.Fatal("value of another namespace is visible")
	}
	nv.Update(rec{Name: "w2"})
	nv.SetNamespace(w1)
	if got, ok := nv.Value(); !ok || !cmp.Equal(got, rec{Name: "w1", Tags: []string{"x"}}) {
		t.Fatalf("Value() in w1 = %+v, %v", got, ok)
	}
	nv.Clear()
	nv.SetNamespace(w2)
	if got, ok := nv.Value(); !ok || got.Name != "w2" {
		t.Fatalf("Clear in w1 removed w2: %+v, %v", got, ok)
	}
	e.set(k1)
	if _, ok := nv.Value(); ok {
		t.Fatal("namespaced value of another key is visible")
	}
}

func TestListState(t *testing.T) {
	forKinds(t, func(t *testing.T, kind string) {
		forKeyTypes(t, kind, func(t *testing.T, kind string, keys any) {
			byKeyType(t, keys,
				func(g keyGen[string]) { testList(t, kind, g) },
				func(g keyGen[int64]) { testList(t, kind, g) },
				func(g keyGen[skey]) { testList(t, kind, g) })
		})
	})
}

func testList[K comparable](t *testing.T, kind string, gen keyGen[K]) {
	e := newEnv[K](t, kind, full, nil)
	l := states.NewList[K, struct{}, string](e.b, statebackend.TTL{})
	l.SetName("l")
	rl := states.NewList[K, win, rec](e.b, statebackend.TTL{})
	rl.SetName("rl")
	e.seal()
	k0, k1 := gen(0), gen(1)
	e.set(k0)
	if got := l.Get(); len(got) != 0 {
		t.Fatalf("empty Get() = %q", got)
	}
	l.Add("a")
	l.Add("b")
	l.AddAll([]string{"c", "d"})
	l.AddAll(nil)
	l.Add("")
	want := []string{"a", "b", "c", "d", ""}
	if got := l.Get(); !slices.Equal(got, want) {
		t.Fatalf("Get() = %q; want %q", got, want)
	}
	// Get returns a copy.
	got := l.Get()
	got[0] = "changed"
	_ = append(got[:1], "appended")
	if got := l.Get(); !slices.Equal(got, want) {
		t.Fatalf("changing the result of Get changed the state: %q", got)
	}
	e.set(k1)
	if got := l.Get(); len(got) != 0 {
		t.Fatalf("list of another key is visible: %q", got)
	}
	l.Update([]string{"x", "y"})
	if got := l.Get(); !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("Get() after Update = %q", got)
	}
	l.Add("z")
	if got := l.Get(); !slices.Equal(got, []string{"x", "y", "z"}) {
		t.Fatalf("Get() after Update and Add = %q", got)
	}
	l.Update(nil)
	if got := l.Get(); len(got) != 0 {
		t.Fatalf("Get() after Update(nil) = %q", got)
	}
	l.Add("again")
	l.Clear()
	if got := l.Get(); len(got) != 0 {
		t.Fatalf("Get() after Clear = %q", got)
	}
	e.set(k0)
	if got := l.Get(); !slices.Equal(got, want) {
		t.Fatalf("other key's changes reached k0: %q", got)
	}

	// Lists of structs in namespaces.
	w1, w2 := windows[0], windows[1]
	rl.SetNamespace(w1)
	rl.Add(rec{Name: "a", N: 1, Tags: []string{"t1", "t2"}})
	rl.AddAll([]rec{{Name: "b"}, {N: -3}})
	rl.SetNamespace(w2)
	rl.Update([]rec{{Name: "only"}})
	rl.SetNamespace(w1)
	wantR := []rec{{Name: "a", N: 1, Tags: []string{"t1", "t2"}}, {Name: "b"}, {N: -3}}
	if got := rl.Get(); !cmp.Equal(got, wantR) {
		t.Fatalf("Get() in w1 = %+v; want %+v", got, wantR)
	}
	rl.Clear()
	rl.SetNamespace(w2)
	if got := rl.Get(); !cmp.Equal(got, []rec{{Name: "only"}}) {
		t.Fatalf("Get() in w2 after clearing w1 = %+v", got)
	}
}

func TestMapState(t *testing.T) {
	forKinds(t, func(t *testing.T, kind string) {
		forKeyTypes(t, kind, func(t *testing.T, kind string, keys any) {
			byKeyType(t, keys,
				func(g keyGen[string]) { testMap(t, kind, g) },
				func(g keyGen[int64]) { testMap(t, kind, g) },
				func(g keyGen[skey]) { testMap(t, kind, g) })
		})
	})
}

func testMap[K comparable](t *testing.T, kind string, gen keyGen[K]) {
	e := newEnv[K](t, kind, full, nil)
	m := states.NewMap[K, struct{}, string, int64](e.b, statebackend.TTL{})
	m.SetName("m")
	wm := states.NewMap[K, win, skey, rec](e.b, statebackend.TTL{})
	wm.SetName("wm")
	e.seal()
	k0, k1 := gen(0), gen(1)
	e.set(k0)
	if !m.IsEmpty() {
		t.Fatal("new map is not empty")
	}
	if _, ok := m.Get("a"); ok || m.Contains("a") {
		t.Fatal("Get on an empty map found something")
	}
	m.Remove("a") // removing nothing is fine
	m.Put("a", 1)
	m.Put("b", 2)
	m.Put("", 0)
	m.Put("a", 10)
	if got, ok := m.Get("a"); !ok || got != 10 {
		t.Fatalf("Get(a) = %d, %v", got, ok)
	}
	if got, ok := m.Get(""); !ok || got != 0 {
		t.Fatalf("Get(\"\") = %d, %v", got, ok)
	}
	if !m.Contains("b") || m.Contains("c") || m.IsEmpty() {
		t.Fatal("Contains/IsEmpty wrong")
	}
	if got := mapLine(m.All()); got != "{:0 a:10 b:2}" {
		t.Fatalf("All() = %s", got)
	}
	// All stops when the body says so.
	n := 0
	for range m.All() {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("All() yielded %d times after break", n)
	}
	m.Remove("b")
	if m.Contains("b") {
		t.Fatal("Contains after Remove")
	}
	e.set(k1)
	if !m.IsEmpty() {
		t.Fatalf("map of another key is visible: %s", mapLine(m.All()))
	}
	m.Put("z", 26)
	m.Remove("z")
	if !m.IsEmpty() {
		t.Fatal("map not empty after removing its only entry")
	}
	m.Put("y", 25)
	m.Clear()
	if !m.IsEmpty() || m.Contains("y") {
		t.Fatal("map not empty after Clear")
	}
	e.set(k0)
	if got := mapLine(m.All()); got != "{:0 a:10}" {
		t.Fatalf("k0's map after changes to k1 = %s", got)
	}
	m.Clear()
	if !m.IsEmpty() {
		t.Fatal("Clear left entries")
	}

	// Struct user keys and values, in namespaces.
	w1, w2 := windows[0], windows[1]
	wm.SetNamespace(w1)
	wm.Put(skey{"a", 1}, rec{Name: "a1", Tags: []string{"t"}})
	wm.Put(skey{"a", 2}, rec{Name: "a2"})
	wm.SetNamespace(w2)
	wm.Put(skey{"a", 1}, rec{Name: "w2"})
	wm.SetNamespace(w1)
	if got, ok := wm.Get(skey{"a", 1}); !ok || !cmp.Equal(got, rec{Name: "a1", Tags: []string{"t"}}) {
		t.Fatalf("Get in w1 = %+v, %v", got, ok)
	}
	if got := mapLine(wm.All()); got != "{{a 1}:{Name:a1 N:0 Tags:[t]} {a 2}:{Name:a2 N:0 Tags:[]}}" {
		t.Fatalf("All() in w1 = %s", got)
	}
	wm.Clear()
	wm.SetNamespace(w2)
	if got := mapLine(wm.All()); got != "{{a 1}:{Name:w2 N:0 Tags:[]}}" {
		t.Fatalf("All() in w2 after clearing w1 = %s", got)
	}
}

func TestReducingAndAggregatingState(t *testing.T) {
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv[string](t, kind, full, nil)
		r := states.NewReducing[string, win, int64](e.b, statebackend.TTL{}, sum)
		r.SetName("r")
		fail := states.NewReducing[string, struct{}, int64](e.b, statebackend.TTL{}, func(a, b int64) (int64, error) {
			if b < 0 {
				return 0, errors.New("negative")
			}
			return max(a, b), nil
		})
		fail.SetName("max")
		a := states.NewAggregating[string, win, int64, avgAcc, float64](e.b, statebackend.TTL{}, avg{})
		a.SetName("a")
		e.seal()

		e.set("k")
		w1, w2 := windows[0], windows[1]
		r.SetNamespace(w1)
		if _, ok := r.Get(); ok {
			t.Fatal("empty reducing state has a value")
		}
		for _, v := range []int64{1, 2, 3} {
			if err := r.Add(v); err != nil {
				t.Fatal(err)
			}
		}
		r.SetNamespace(w2)
		if err := r.Add(100); err != nil {
			t.Fatal(err)
		}
		r.SetNamespace(w1)
		if got, ok := r.Get(); !ok || got != 6 {
			t.Fatalf("reduced = %d, %v; want 6", got, ok)
		}
		r.Clear()
		if _, ok := r.Get(); ok {
			t.Fatal("value after Clear")
		}
		r.SetNamespace(w2)
		if got, _ := r.Get(); got != 100 {
			t.Fatalf("other namespace = %d", got)
		}

		// A failing reduce function leaves the state as it was.
		for _, v := range []int64{5, 3} {
			if err := fail.Add(v); err != nil {
				t.Fatal(err)
			}
		}
		if err := fail.Add(-1); err == nil {
			t.Fatal("reduce error not returned")
		}
		if got, _ := fail.Get(); got != 5 {
			t.Fatalf("after a failed reduce = %d, want 5", got)
		}

		a.SetNamespace(w1)
		if _, ok, err := a.Get(); ok || err != nil {
			t.Fatalf("empty aggregating Get = %v, %v", ok, err)
		}
		if _, ok := a.Accumulator(); ok {
			t.Fatal("empty aggregating state has an accumulator")
		}
		for _, v := range []int64{2, 4, 9} {
			if err := a.Add(v); err != nil {
				t.Fatal(err)
			}
		}
		if got, ok, err := a.Get(); !ok || err != nil || got != 5 {
			t.Fatalf("aggregate = %v, %v, %v; want 5", got, ok, err)
		}
		if acc, ok := a.Accumulator(); !ok || acc != (avgAcc{15, 3}) {
			t.Fatalf("Accumulator() = %+v, %v", acc, ok)
		}
		a.SetAccumulator(avgAcc{Sum: 10, Count: 4})
		if got, _, _ := a.Get(); got != 2.5 {
			t.Fatalf("aggregate after SetAccumulator = %v", got)
		}
		a.SetNamespace(w2)
		if _, ok, _ := a.Get(); ok {
			t.Fatal("aggregate of another namespace is visible")
		}
		a.SetAccumulator(avgAcc{}) // Result fails on an empty accumulator
		if _, ok, err := a.Get(); !ok || err == nil {
			t.Fatalf("Get with a failing Result = %v, %v", ok, err)
		}
		a.SetNamespace(w1)
		a.Clear()
		if _, ok := a.Accumulator(); ok {
			t.Fatal("accumulator after Clear")
		}
		e.set("other")
		a.SetNamespace(w1)
		if _, ok := a.Accumulator(); ok {
			t.Fatal("accumulator of another key is visible")
		}
	})
}

// TestTTL checks the update types and visibilities on every state kind.
func TestTTL(t *testing.T) {
	type cfg struct {
		name string
		ttl  statebackend.TTL
	}
	cfgs := []cfg{
		{"create-never", statebackend.TTL{TTLMillis: 100, Update: statebackend.OnCreateAndWrite, Visibility: statebackend.NeverReturnExpired}},
		{"read-never", statebackend.TTL{TTLMillis: 100, Update: statebackend.OnReadAndWrite, Visibility: statebackend.NeverReturnExpired}},
		{"create-returnexpired", statebackend.TTL{TTLMillis: 100, Update: statebackend.OnCreateAndWrite, Visibility: statebackend.ReturnExpiredIfNotCleanedUp}},
		{"read-returnexpired", statebackend.TTL{TTLMillis: 100, Update: statebackend.OnReadAndWrite, Visibility: statebackend.ReturnExpiredIfNotCleanedUp}},
	}
	forKinds(t, func(t *testing.T, kind string) {
		for _, c := range cfgs {
			t.Run(c.name, func(t *testing.T) {
				onRead := c.ttl.Update == statebackend.OnReadAndWrite
				returnExpired := c.ttl.Visibility == statebackend.ReturnExpiredIfNotCleanedUp
				clk := &clock{}
				e := newEnv[string](t, kind, full, clk)
				v := states.NewValue[string, win, string](e.b, c.ttl)
				v.SetName("v")
				l := states.NewList[string, struct{}, string](e.b, c.ttl)
				l.SetName("l")
				m := states.NewMap[string, struct{}, string, int64](e.b, c.ttl)
				m.SetName("m")
				r := states.NewReducing[string, struct{}, int64](e.b, c.ttl, sum)
				r.SetName("r")
				e.seal()
				e.set("k")
				v.SetNamespace(windows[0])

				// Value: written at 0, read at 60, 120.
				v.Update("x")
				clk.now = 60
				if got, ok := v.Value(); !ok || got != "x" {
					t.Fatalf("value before expiry = %q, %v", got, ok)
				}
				clk.now = 120
				got, ok := v.Value()
				switch {
				case onRead: // refreshed at 60: expires at 160
					if !ok || got != "x" {
						t.Fatalf("value refreshed by a read = %q, %v", got, ok)
					}
					clk.now = 300
					got, ok = v.Value()
					if ok != returnExpired || (ok && got != "x") {
						t.Fatalf("expired value = %q, %v", got, ok)
					}
				default:
					if ok != returnExpired || (ok && got != "x") {
						t.Fatalf("expired value = %q, %v (returned: %v)", got, ok, returnExpired)
					}
				}
				if _, ok := v.Value(); ok {
					t.Fatal("expired value returned twice (it is removed when met)")
				}
				v.Update("y")
				if got, ok := v.Value(); !ok || got != "y" {
					t.Fatalf("value written after expiry = %q, %v", got, ok)
				}

				// List: each element expires on its own.
				clk.now = 1000
				l.Add("a")
				clk.now = 1060
				l.AddAll([]string{"b", "c"})
				clk.now = 1080
				if got := l.Get(); !slices.Equal(got, []string{"a", "b", "c"}) {
					t.Fatalf("list before expiry = %q", got)
				}
				clk.now = 1120
				gotL := l.Get()
				switch {
				case onRead: // all refreshed at 1080: expire at 1180
					if !slices.Equal(gotL, []string{"a", "b", "c"}) {
						t.Fatalf("list refreshed by a read = %q", gotL)
					}
					clk.now = 1300 // the Get at 1120 refreshed them again
					gotL = l.Get()
					if want := []string{"a", "b", "c"}; returnExpired != slices.Equal(gotL, want) || (!returnExpired && len(gotL) != 0) {
						t.Fatalf("expired list = %q", gotL)
					}
					if got := l.Get(); len(got) != 0 {
						t.Fatalf("list after its elements expired = %q", got)
					}
				default:
					want := []string{"b", "c"}
					if returnExpired {
						want = []string{"a", "b", "c"}
					}
					if !slices.Equal(gotL, want) {
						t.Fatalf("list with an expired element = %q; want %q", gotL, want)
					}
					if got := l.Get(); !slices.Equal(got, []string{"b", "c"}) {
						t.Fatalf("list after the expired element was met = %q", got)
					}
					clk.now = 1160
					if got := l.Get(); len(got) != 0 && !returnExpired {
						t.Fatalf("list after every element expired = %q", got)
					}
					if got := l.Get(); len(got) != 0 {
						t.Fatalf("list after every element expired and was met = %q", got)
					}
				}
				l.Update([]string{"u"})
				clk.now += 99
				if got := l.Get(); !slices.Equal(got, []string{"u"}) {
					t.Fatalf("list written by Update = %q", got)
				}

				// Map: each entry expires on its own.
				clk.now = 2000
				m.Put("a", 1)
				clk.now = 2060
				m.Put("b", 2)
				clk.now = 2080
				if got, ok := m.Get("a"); !ok || got != 1 { // refreshes a with OnReadAndWrite
					t.Fatalf("Get before expiry = %d, %v", got, ok)
				}
				clk.now = 2120
				gotA, okA := m.Get("a")
				switch {
				case onRead:
					if !okA || gotA != 1 {
						t.Fatalf("Get of an entry refreshed by a read = %d, %v", gotA, okA)
					}
				case okA != returnExpired:
					t.Fatalf("Get of an expired entry = %d, %v", gotA, okA)
				case m.Contains("a"):
					t.Fatal("expired entry still there after it was met")
				}
				if got, ok := m.Get("b"); !ok || got != 2 {
					t.Fatalf("live entry = %d, %v", got, ok)
				}
				if m.IsEmpty() {
					t.Fatal("map with a live entry is empty")
				}
				clk.now = 3000
				gotAll := mapLine(m.All())
				switch {
				case !returnExpired:
					if gotAll != "{}" || !m.IsEmpty() {
						t.Fatalf("All over expired entries = %s", gotAll)
					}
				case onRead:
					if gotAll != "{a:1 b:2}" {
						t.Fatalf("All over expired entries not cleaned up = %s", gotAll)
					}
				default:
					if gotAll != "{b:2}" {
						t.Fatalf("All over expired entries not cleaned up = %s", gotAll)
					}
				}

				// Reducing: an expired value is not folded into.
				clk.now = 4000
				if err := r.Add(5); err != nil {
					t.Fatal(err)
				}
				clk.now = 4050
				if err := r.Add(1); err != nil {
					t.Fatal(err)
				}
				clk.now = 4120 // written at 4050: live
				if got, ok := r.Get(); !ok || got != 6 {
					t.Fatalf("reduced = %d, %v", got, ok)
				}
				clk.now = 4500
				if err := r.Add(7); err != nil {
					t.Fatal(err)
				}
				got7, ok7 := r.Get()
				if returnExpired {
					// The expired 6 is returned once by the Get inside Add
					// and folded in (Flink does the same).
					if !ok7 || got7 != 13 {
						t.Fatalf("reduced over a returned expired value = %d, %v", got7, ok7)
					}
				} else if !ok7 || got7 != 7 {
					t.Fatalf("reduced after expiry = %d, %v; want 7", got7, ok7)
				}
			})
		}
	})
}

// TestTTLMapReadRefresh checks that Get refreshes a map entry with
// OnReadAndWrite and not with OnCreateAndWrite.
func TestTTLMapReadRefresh(t *testing.T) {
	forKinds(t, func(t *testing.T, kind string) {
		for _, upd := range []statebackend.TTLUpdate{statebackend.OnCreateAndWrite, statebackend.OnReadAndWrite} {
			t.Run(fmt.Sprint(upd), func(t *testing.T) {
				clk := &clock{}
				e := newEnv[string](t, kind, full, clk)
				m := states.NewMap[string, struct{}, string, int64](e.b, statebackend.TTL{TTLMillis: 100, Update: upd})
				m.SetName("m")
				e.seal()
				e.set("k")
				m.Put("a", 1)
				clk.now = 80
				if !m.Contains("a") {
					t.Fatal("entry expired early")
				}
				clk.now = 150
				_, ok := m.Get("a")
				if want := upd == statebackend.OnReadAndWrite; ok != want {
					t.Fatalf("Get at 150 after a read at 80 = %v, want %v", ok, want)
				}
			})
		}
	})
}

// TestIncrementalCleanup checks that expired entries of keys nobody reads
// again are removed by accesses to other keys.
func TestIncrementalCleanup(t *testing.T) {
	forKinds(t, func(t *testing.T, kind string) {
		for _, st := range []string{"value", "list", "map"} {
			t.Run(st, func(t *testing.T) {
				if kind == "heap" && st != "value" {
					// The heap backend cleans up value (and reducing and
					// aggregating) states incrementally; list and map
					// entries go only when read or snapshotted.
					t.Skip("heap: no incremental cleanup of list and map state")
				}
				clk := &clock{}
				e := newEnv[string](t, kind, full, clk)
				ttl := statebackend.TTL{TTLMillis: 100, CleanupPerAccess: 200, Visibility: statebackend.ReturnExpiredIfNotCleanedUp}
				var write func(i int)
				var lister statebackend.KeyLister[string, struct{}]
				switch st {
				case "value":
					v := states.NewValue[string, struct{}, int](e.b, ttl)
					write, lister = func(i int) { v.Update(i) }, v.(statebackend.KeyLister[string, struct{}])
				case "list":
					l := states.NewList[string, struct{}, int](e.b, ttl)
					write, lister = func(i int) { l.Add(i) }, l.(statebackend.KeyLister[string, struct{}])
				case "map":
					m := states.NewMap[string, struct{}, int, int](e.b, ttl)
					write, lister = func(i int) { m.Put(i%2, i) }, m.(statebackend.KeyLister[string, struct{}])
				}
				e.seal()
				for i := 0; i < 100; i++ {
					e.set(fmt.Sprintf("old-%d", i))
					write(i)
				}
				// Fresh keys covering every key group.
				fresh := map[int]string{}
				for i := 0; len(fresh) < maxPar; i++ {
					k := fmt.Sprintf("fresh-%d", i)
					if _, ok := fresh[e.kc.GroupOf(k)]; !ok {
						fresh[e.kc.GroupOf(k)] = k
					}
				}
				clk.now = 500
				for round := 0; round < 3; round++ {
					for kg := 0; kg < maxPar; kg++ {
						e.set(fresh[kg])
						write(round)
					}
				}
				var left []string
				if err := lister.ForEachKey(func(k string, _ struct{}) {
					if strings.HasPrefix(k, "old-") {
						left = append(left, k)
					}
				}); err != nil {
					t.Fatal(err)
				}
				if len(left) > 0 {
					sort.Strings(left)
					t.Fatalf("%d expired keys never accessed again are still stored: %v", len(left), left)
				}
			})
		}
	})
}

// TestForEachKey checks that KeyLister lists exactly the (key, namespace)
// pairs with entries.
func TestForEachKey(t *testing.T) {
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv[int64](t, kind, full, nil)
		v := states.NewValue[int64, struct{}, int](e.b, statebackend.TTL{})
		v.SetName("v")
		l := states.NewList[int64, win, int](e.b, statebackend.TTL{})
		l.SetName("l")
		m := states.NewMap[int64, win, string, int](e.b, statebackend.TTL{})
		m.SetName("m")
		r := states.NewReducing[int64, win, int64](e.b, statebackend.TTL{}, sum)
		r.SetName("r")
		a := states.NewAggregating[int64, struct{}, int64, avgAcc, float64](e.b, statebackend.TTL{}, avg{})
		a.SetName("a")
		e.seal()
		wantV, wantL, wantM, wantR, wantA := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
		for i := int64(0); i < 60; i++ {
			e.set(i)
			v.Update(int(i))
			wantV[fmt.Sprint(i)] = true
			if i%3 == 0 {
				v.Clear()
				delete(wantV, fmt.Sprint(i))
			}
			w := windows[i%3]
			l.SetNamespace(w)
			l.Add(1)
			wantL[fmt.Sprint(i, w)] = true
			if i%4 == 0 {
				l.Update(nil)
				delete(wantL, fmt.Sprint(i, w))
			}
			for _, w := range windows[:2] {
				m.SetNamespace(w)
				m.Put("a", 1)
				m.Put("b", 2)
				wantM[fmt.Sprint(i, w)] = true
			}
			if i%5 == 0 { // emptied entry by entry
				m.Remove("a")
				m.Remove("b")
				delete(wantM, fmt.Sprint(i, windows[1]))
			}
			if i%5 == 1 {
				m.Clear()
				delete(wantM, fmt.Sprint(i, windows[1]))
			}
			r.SetNamespace(w)
			_ = r.Add(i)
			wantR[fmt.Sprint(i, w)] = true
			if i%2 == 0 {
				_ = a.Add(i)
				wantA[fmt.Sprint(i)] = true
			}
		}
		check := func(name string, s any, want map[string]bool) {
			t.Helper()
			got := map[string]bool{}
			var err error
			switch s := s.(type) {
			case statebackend.KeyLister[int64, struct{}]:
				err = s.ForEachKey(func(k int64, _ struct{}) {
					if got[fmt.Sprint(k)] {
						t.Errorf("%s: key %d listed twice", name, k)
					}
					got[fmt.Sprint(k)] = true
				})
			case statebackend.KeyLister[int64, win]:
				err = s.ForEachKey(func(k int64, n win) {
					if got[fmt.Sprint(k, n)] {
						t.Errorf("%s: key %d %v listed twice", name, k, n)
					}
					got[fmt.Sprint(k, n)] = true
				})
			default:
				t.Errorf("%s: %T does not implement KeyLister", name, s)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: ForEachKey (-want +got):\n%s", name, diff)
			}
		}
		check("value", v, wantV)
		check("list", l, wantL)
		check("map", m, wantM)
		check("reducing", r, wantR)
		check("aggregating", a, wantA)
	})
}

// TestRoundTrip snapshots a fixture of every state kind and restores it on
// every path between the backends; the restored state reads the same,
// including TTL expiries.
func TestRoundTrip(t *testing.T) {
	for _, p := range paths {
		t.Run(p.String(), func(t *testing.T) {
			t.Run("string", func(t *testing.T) { testRoundTrip(t, p, keygen(stringKeys)) })
			t.Run("int64", func(t *testing.T) { testRoundTrip(t, p, keygen(int64Keys)) })
			t.Run("struct", func(t *testing.T) { testRoundTrip(t, p, keygen(structKeys)) })
		})
	}
}

func testRoundTrip[K comparable](t *testing.T, p path, gen keyGen[K]) {
	keys := keysOf(gen, 60)
	srcClock := &clock{now: 10}
	src := newFixture(newEnv[K](t, p.from, full, srcClock), false, nil, nil)
	src.fill(keys, 0)
	want := src.dump(keys)
	img := src.e.snapshot().form(p.form)

	dstClock := &clock{now: 10}
	dst := newFixture(newEnv[K](t, p.to, full, dstClock), true, nil, &img)
	if diff := cmp.Diff(want, dst.dump(keys)); diff != "" {
		t.Fatalf("restored state (-want +got):\n%s", diff)
	}
	// Expiries survive: past the TTL both lose the "ttl" state.
	srcClock.now, dstClock.now = 10+fixtureTTL, 10+fixtureTTL
	want = src.dump(keys)
	if !strings.Contains(strings.Join(want, "\n"), `ttl=""/false`) {
		t.Fatal("fixture has no expired ttl state at the TTL")
	}
	if diff := cmp.Diff(want, dst.dump(keys)); diff != "" {
		t.Fatalf("restored state past the TTL (-want +got):\n%s", diff)
	}
	// The restored backend snapshots what it restored: again, to the other
	// kind too.
	img2 := dst.e.snapshot().form(p.form)
	for _, kind := range kinds {
		again := newFixture(newEnv[K](t, kind, full, &clock{now: 10 + fixtureTTL}), false, nil, &img2)
		if diff := cmp.Diff(want, again.dump(keys)); diff != "" {
			t.Fatalf("second round trip into %s (-want +got):\n%s", kind, diff)
		}
	}
}

// TestRescale restores a snapshot of parallelism 1 at parallelism 3, those
// at 2, and those at 1: every subtask gets exactly its key groups and the
// state is the same throughout. Subtasks register their states in
// different orders (different Pebble state ids).
//
// Each chain starts from a backend of kind from, restores into to at
// parallelism 3, then alternates between the heap and Pebble (to heap →
// pebble → heap, to a Pebble kind → heap → pebble-nocache). By default a
// key type runs the chains of one permutation of the kinds, so every kind
// writes the first snapshot once and restores it once per key type, and
// the two permutations together start with every path between the heap
// and Pebble (heap→heap, heap→Pebble, Pebble→heap, Pebble→Pebble with
// different entry caches); the later hops of every chain cross between
// the heap and Pebble again. The 16 pairs per key type (32 chains, about
// 100 s of CI under -race) differ from these only in which entry cache
// sits in front of a backend's reads, which TestConformance runs for
// every kind: WEIR_STATES_ALL_PAIRS=1 runs all of them.
func TestRescale(t *testing.T) {
	type pair struct{ from, to string }
	stringPairs := []pair{{"heap", "heap"}, {"pebble", "pebble-cache3"}, {"pebble-cache3", "pebble-nocache"}, {"pebble-nocache", "pebble"}}
	structPairs := []pair{{"heap", "pebble"}, {"pebble", "heap"}, {"pebble-cache3", "pebble-cache3"}, {"pebble-nocache", "pebble-nocache"}}
	if allPairs() {
		stringPairs = nil
		for _, from := range kinds {
			for _, to := range kinds {
				stringPairs = append(stringPairs, pair{from, to})
			}
		}
		structPairs = stringPairs
	}
	for _, p := range stringPairs {
		t.Run(p.from+"-to-"+p.to+"/string", func(t *testing.T) { testRescale(t, p.from, p.to, keygen(stringKeys)) })
	}
	for _, p := range structPairs {
		t.Run(p.from+"-to-"+p.to+"/struct", func(t *testing.T) { testRescale(t, p.from, p.to, keygen(structKeys)) })
	}
	// Pebble savepoints (canonical) into Pebble.
	t.Run("pebble-savepoint-to-pebble", func(t *testing.T) {
		testRescaleForm(t, "pebble", "pebble", "savepoint", keygen(stringKeys))
	})
}

// allPairs reports whether WEIR_STATES_ALL_PAIRS=1 asks for every pair of
// backend kinds where a test runs a subset by default (TestRescale,
// TestSnapshotIsolation).
func allPairs() bool { return os.Getenv("WEIR_STATES_ALL_PAIRS") == "1" }

func testRescale[K comparable](t *testing.T, from, to string, gen keyGen[K]) {
	testRescaleForm(t, from, to, "checkpoint", gen)
}

func testRescaleForm[K comparable](t *testing.T, from, to, form string, gen keyGen[K]) {
	keys := keysOf(gen, 120)
	src := newFixture(newEnv[K](t, from, full, nil), false, nil, nil)
	src.fill(keys, 0)
	want := src.dump(keys)
	imgs := []image{src.e.snapshot().form(form)}

	kind := to
	for _, par := range []int{3, 2, 1} {
		whole := merge(imgs...)
		imgs = nil
		var got []string
		for i := 0; i < par; i++ {
			r := keygroup.RangeFor(maxPar, par, i)
			f := newFixture(newEnv[K](t, kind, r, nil), i%2 == 1, nil, &whole)
			lines := f.dump(keys)
			got = append(got, lines...)
			// Only the subtask's own keys are stored.
			var listed []K
			if err := f.count.(statebackend.KeyLister[K, struct{}]).ForEachKey(func(k K, _ struct{}) { listed = append(listed, k) }); err != nil {
				t.Fatal(err)
			}
			var mine []K
			for _, k := range keys {
				if f.e.owns(k) {
					mine = append(mine, k)
				}
			}
			if len(listed) != len(mine) {
				t.Fatalf("parallelism %d subtask %d %v: %d keys stored, owns %d", par, i, r, len(listed), len(mine))
			}
			for _, k := range listed {
				if !f.e.owns(k) {
					t.Fatalf("parallelism %d subtask %d %v stores key %v of group %d", par, i, r, k, f.e.kc.GroupOf(k))
				}
			}
			imgs = append(imgs, f.e.snapshot().form(form))
		}
		sort.Strings(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("restored at parallelism %d (-want +got):\n%s", par, diff)
		}
		// Alternate backends on the way back, so each restores the other's
		// snapshots.
		if kind == "heap" {
			kind = kinds[1+par%(len(kinds)-1)]
		} else {
			kind = "heap"
		}
	}
}

// TestSnapshotIsolation writes after a snapshot was captured, while its
// asynchronous part runs on another goroutine: the snapshot holds the state
// at the capture. A second snapshot is read only after the backend was
// closed (Pebble's snapshot directory outlives the database).
func TestSnapshotIsolation(t *testing.T) {
	forKinds(t, func(t *testing.T, kind string) {
		keys := keysOf(stringKeys, 100)
		src := newFixture(newEnv[string](t, kind, full, nil), false, nil, nil)
		src.fill(keys, 0)
		want := src.dump(keys)
		snap := src.e.capture()
		type result struct {
			st  stored
			err error
		}
		done := make(chan result, 1)
		storage := t.TempDir()
		go func() {
			st, err := finishTo(storage, snap)
			done <- result{st, err}
		}()
		src.fill(keys, 1000) // overwrite and add
		for i, k := range keys {
			src.e.set(k)
			if i%2 == 0 {
				src.count.Clear()
				src.attrs.Clear()
				src.ev.Update([]string{"new"})
			}
			src.wmap.SetNamespace(windows[0])
			src.wmap.Put(-1, "new")
		}
		res := <-done
		if res.err != nil {
			t.Fatal(res.err)
		}
		want2 := src.dump(keys)
		if diff := cmp.Diff(want, want2); diff == "" {
			t.Fatal("the writes after the snapshot changed nothing")
		}
		snap2 := src.e.capture()
		if err := src.e.b.Close(); err != nil {
			t.Fatal(err)
		}
		st2 := finish(t, snap2)
		// Both snapshots are read by a heap and a Pebble backend, in both
		// forms: what is checked is the snapshot's content, which the
		// entry cache of a Pebble target does not touch (all kinds with
		// WEIR_STATES_ALL_PAIRS=1).
		targets := []string{"heap", "pebble"}
		if allPairs() {
			targets = kinds
		}
		for _, c := range []struct {
			st   stored
			want []string
		}{{res.st, want}, {st2, want2}} {
			for _, to := range targets {
				for _, form := range []string{"checkpoint", "savepoint"} {
					img := c.st.form(form)
					dst := newFixture(newEnv[string](t, to, full, nil), false, nil, &img)
					if diff := cmp.Diff(c.want, dst.dump(keys)); diff != "" {
						t.Fatalf("%s restored into %s: not the state at the capture (-want +got):\n%s", form, to, diff)
					}
				}
			}
		}
	})
}

// TestEmpty snapshots backends without entries, and without states.
func TestEmpty(t *testing.T) {
	for _, p := range paths {
		t.Run(p.String(), func(t *testing.T) {
			keys := keysOf(stringKeys, 10)
			src := newFixture(newEnv[string](t, p.from, full, nil), false, nil, nil)
			want := src.dump(keys)
			img := src.e.snapshot().form(p.form)
			dst := newFixture(newEnv[string](t, p.to, full, nil), false, nil, &img)
			if diff := cmp.Diff(want, dst.dump(keys)); diff != "" {
				t.Fatalf("restored empty state (-want +got):\n%s", diff)
			}
			none := newEnv[string](t, p.from, full, nil)
			none.seal()
			img = none.snapshot().form(p.form)
			if len(img.groups) != 0 {
				t.Fatalf("a backend without states wrote %d key groups", len(img.groups))
			}
			dst = newFixture(newEnv[string](t, p.to, full, nil), false, nil, &img)
			if diff := cmp.Diff(want, dst.dump(keys)); diff != "" {
				t.Fatalf("restored from a backend without states (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOrphanedState restores into a job that does not register some
// states: their content survives that job's snapshots, at another
// parallelism too, and comes back when a later job registers them again.
func TestOrphanedState(t *testing.T) {
	skip := map[string]bool{"attrs": true, "recs": true, "sum": true}
	// Every path between the heap and Pebble, and the Pebble cache
	// variants in each position (all 64 triples of kinds took a minute of
	// CI under -race; the cache variants differ from "pebble" only in the
	// entry cache in front of reads, which TestConformance and TestRescale
	// run for every kind).
	var triples [][3]string
	for _, a := range []string{"heap", "pebble"} {
		for _, b := range []string{"heap", "pebble"} {
			for _, c := range []string{"heap", "pebble"} {
				triples = append(triples, [3]string{a, b, c})
			}
		}
	}
	triples = append(triples,
		[3]string{"pebble-cache3", "pebble-nocache", "heap"},
		[3]string{"heap", "pebble-cache3", "pebble-nocache"},
		[3]string{"pebble-nocache", "heap", "pebble-cache3"})
	for _, tr := range triples {
		a, b, c := tr[0], tr[1], tr[2]
		t.Run(a+"-"+b+"-"+c, func(t *testing.T) {
			keys := keysOf(stringKeys, 80)
			src := newFixture(newEnv[string](t, a, full, nil), false, nil, nil)
			src.fill(keys, 0)
			want := src.dump(keys)
			img := src.e.snapshot().checkpoint
			// Twice without the states, at parallelism 1 then 2:
			// orphans survive a snapshot of a backend that
			// restored them as orphans, and rescaling.
			for _, par := range []int{1, 2} {
				var imgs []image
				for i := 0; i < par; i++ {
					f := newFixture(newEnv[string](t, b, keygroup.RangeFor(maxPar, par, i), nil), i == 1, skip, &img)
					if f.attrs != nil {
						t.Fatal("fixture registered a skipped state")
					}
					imgs = append(imgs, f.e.snapshot().checkpoint)
				}
				img = merge(imgs...)
			}
			last := newFixture(newEnv[string](t, c, full, nil), false, nil, &img)
			if diff := cmp.Diff(want, last.dump(keys)); diff != "" {
				t.Fatalf("after a job that did not register some states (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIncompatibleState restores a state into one registered with another
// kind or value type: Seal fails naming the state.
func TestIncompatibleState(t *testing.T) {
	for _, p := range paths {
		t.Run(p.String(), func(t *testing.T) {
			src := newEnv[string](t, p.from, full, nil)
			v := states.NewValue[string, struct{}, int64](src.b, statebackend.TTL{})
			v.SetName("the-state")
			src.seal()
			src.set("k")
			v.Update(1)
			img := src.snapshot().form(p.form)

			reg := map[string]func(b statebackend.Backend[string]){
				"list": func(b statebackend.Backend[string]) {
					states.NewList[string, struct{}, int64](b, statebackend.TTL{}).SetName("the-state")
				},
				"map": func(b statebackend.Backend[string]) {
					states.NewMap[string, struct{}, string, int64](b, statebackend.TTL{}).SetName("the-state")
				},
				"value-type": func(b statebackend.Backend[string]) {
					states.NewValue[string, struct{}, string](b, statebackend.TTL{}).SetName("the-state")
				},
				"namespace-type": func(b statebackend.Backend[string]) {
					states.NewValue[string, win, int64](b, statebackend.TTL{}).SetName("the-state")
				},
			}
			for name, register := range reg {
				t.Run(name, func(t *testing.T) {
					dst := newEnv[string](t, p.to, full, nil)
					register(dst.b)
					dst.restore(img)
					err := dst.b.Seal()
					if err == nil || !strings.Contains(err.Error(), `"the-state"`) {
						t.Fatalf("Seal = %v; want an error naming the state", err)
					}
				})
			}
		})
	}
}

// TestDuplicateNames: two states of one name fail Seal.
func TestDuplicateNames(t *testing.T) {
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv[string](t, kind, full, nil)
		states.NewValue[string, struct{}, int64](e.b, statebackend.TTL{}).SetName("x")
		states.NewList[string, struct{}, int64](e.b, statebackend.TTL{}).SetName("x")
		if err := e.b.Seal(); err == nil || !strings.Contains(err.Error(), `"x"`) {
			t.Fatalf("Seal = %v; want an error naming the state", err)
		}
	})
}
