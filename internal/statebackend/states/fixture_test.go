package states_test

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/states"
	"github.com/weirstream/weir/window"
)

// Types the fixture stores.

type win = window.TimeWindow

// rec is a struct value with a slice (the heap encodes such states when a
// snapshot is captured).
type rec struct {
	Name string
	N    int64
	Tags []string
}

// skey is a struct key.
type skey struct {
	Region string
	ID     int64
}

// avg is an aggregator computing a mean.
type avg struct{}

type avgAcc struct{ Sum, Count int64 }

func (avg) CreateAccumulator() avgAcc { return avgAcc{} }
func (avg) Add(a avgAcc, v int64) (avgAcc, error) {
	return avgAcc{a.Sum + v, a.Count + 1}, nil
}
func (avg) Result(a avgAcc) (float64, error) {
	if a.Count == 0 {
		return 0, fmt.Errorf("empty accumulator")
	}
	return float64(a.Sum) / float64(a.Count), nil
}
func (avg) Merge(a, b avgAcc) (avgAcc, error) { return avgAcc{a.Sum + b.Sum, a.Count + b.Count}, nil }

func sum(a, b int64) (int64, error) { return a + b, nil }

// keyGen makes the i-th test key of a key type.
type keyGen[K comparable] func(i int) K

func stringKeys(i int) string { return fmt.Sprintf("key-%d", i) }
func int64Keys(i int) int64   { return int64(i)*7919 - 100000 }
func structKeys(i int) skey   { return skey{Region: []string{"eu", "us", "ap"}[i%3], ID: int64(i)} }

func keysOf[K comparable](gen keyGen[K], n int) []K {
	ks := make([]K, n)
	for i := range ks {
		ks[i] = gen(i)
	}
	return ks
}

// fixture is one operator's states, of every kind, with and without
// namespaces.
type fixture[K comparable] struct {
	e      *env[K]
	timers *fakeTimers
	count  statebackend.Value[struct{}, int64]
	label  statebackend.Value[win, string]
	ev     statebackend.List[struct{}, string]
	recs   statebackend.List[win, rec]
	attrs  statebackend.Map[struct{}, string, rec]
	wmap   statebackend.Map[win, int64, string]
	sum    statebackend.Reducing[win, int64]
	avg    statebackend.Aggregating[struct{}, int64, avgAcc, float64]
	ttl    statebackend.Value[struct{}, string]
}

// fixtureTTL is the TTL of the fixture's "ttl" state.
const fixtureTTL = 1000

// fixtureNames are the names of the fixture's states in registration
// order.
var fixtureNames = []string{"count", "label", "events", "recs", "attrs", "wmap", "sum", "avg", "ttl"}

// newFixture registers the fixture's states on e (in reverse order if
// reverse, so that Pebble gives them other ids), leaving out those in
// skip, and seals the backend after restoring img (if not nil).
func newFixture[K comparable](e *env[K], reverse bool, skip map[string]bool, img *image) *fixture[K] {
	f := &fixture[K]{e: e}
	b := e.b
	reg := map[string]func(){
		"count": func() { f.count = states.NewValue[K, struct{}, int64](b, statebackend.TTL{}); f.count.SetName("count") },
		"label": func() { f.label = states.NewValue[K, win, string](b, statebackend.TTL{}); f.label.SetName("label") },
		"events": func() {
			f.ev = states.NewList[K, struct{}, string](b, statebackend.TTL{})
			f.ev.SetName("events")
		},
		"recs": func() { f.recs = states.NewList[K, win, rec](b, statebackend.TTL{}); f.recs.SetName("recs") },
		"attrs": func() {
			f.attrs = states.NewMap[K, struct{}, string, rec](b, statebackend.TTL{})
			f.attrs.SetName("attrs")
		},
		"wmap": func() { f.wmap = states.NewMap[K, win, int64, string](b, statebackend.TTL{}); f.wmap.SetName("wmap") },
		"sum":  func() { f.sum = states.NewReducing[K, win, int64](b, statebackend.TTL{}, sum); f.sum.SetName("sum") },
		"avg": func() {
			f.avg = states.NewAggregating[K, struct{}, int64, avgAcc, float64](b, statebackend.TTL{}, avg{})
			f.avg.SetName("avg")
		},
		"ttl": func() {
			f.ttl = states.NewValue[K, struct{}, string](b, statebackend.TTL{TTLMillis: fixtureTTL})
			f.ttl.SetName("ttl")
		},
	}
	f.timers = &fakeTimers{r: e.kc.Range, groups: map[int][]byte{}}
	b.Register(f.timers)
	names := slices.Clone(fixtureNames)
	if reverse {
		slices.Reverse(names)
	}
	for _, n := range names {
		if !skip[n] {
			reg[n]()
		}
	}
	if img != nil {
		e.restore(*img)
	}
	e.seal()
	return f
}

// windows are the namespaces the fixture uses.
var windows = []win{{Start: 0, End: 10}, {Start: 10, End: 20}, {Start: 5, End: 15}}

// fill writes state for every key of keys this backend owns, different per
// key and with gaps (not every key has every state).
func (f *fixture[K]) fill(keys []K, salt int) {
	for i, k := range keys {
		if !f.e.owns(k) {
			continue
		}
		f.e.set(k)
		x := int64(i + salt)
		f.count.Update(x)
		if i%5 != 0 {
			f.label.SetNamespace(windows[i%3])
			f.label.Update(fmt.Sprintf("label-%d", x))
			f.label.SetNamespace(windows[(i+1)%3])
			f.label.Update(fmt.Sprintf("other-%d", x))
		}
		for j := 0; j < i%4; j++ {
			f.ev.Add(fmt.Sprintf("ev-%d-%d", x, j))
		}
		if i%3 == 0 {
			f.ev.AddAll([]string{"all-a", "all-b"})
		}
		if i%10 == 0 { // elements around and past 127 bytes
			f.ev.Add(strings.Repeat("x", 100+i%200))
			f.ev.AddAll([]string{strings.Repeat("y", 127+i%3), strings.Repeat("z", 3000)})
		}
		f.timers.add(f.e.kc.KeyGroup, fmt.Sprintf("%v@%d", k, x))
		f.recs.SetNamespace(windows[i%2])
		f.recs.Add(rec{Name: fmt.Sprint(k), N: x, Tags: []string{"t", fmt.Sprint(i)}})
		if i%2 == 0 {
			f.recs.Add(rec{Name: "second", N: -x})
		}
		if i%7 != 3 {
			f.attrs.Put("name", rec{Name: fmt.Sprint(k)})
			f.attrs.Put(fmt.Sprintf("attr-%d", i%4), rec{N: x, Tags: []string{"a"}})
		}
		for j := 0; j < 3; j++ {
			f.wmap.SetNamespace(windows[j])
			f.wmap.Put(int64(j), fmt.Sprintf("w%d-%d", j, x))
			f.wmap.Put(x, "x")
		}
		f.wmap.SetNamespace(windows[2])
		f.wmap.Remove(int64(2))
		f.sum.SetNamespace(windows[i%3])
		for j := int64(0); j < 3; j++ {
			if err := f.sum.Add(x + j); err != nil {
				panic(err)
			}
		}
		if i%4 != 1 {
			for j := int64(0); j <= int64(i%3); j++ {
				if err := f.avg.Add(x * j); err != nil {
					panic(err)
				}
			}
		}
		if i%2 == 1 {
			f.ttl.Update(fmt.Sprintf("ttl-%d", x))
		}
	}
}

// dump reads every state of every key of keys this backend owns through
// the accessors, one line per key, sorted.
func (f *fixture[K]) dump(keys []K) []string {
	var out []string
	for _, k := range keys {
		if !f.e.owns(k) {
			continue
		}
		f.e.set(k)
		var b strings.Builder
		fmt.Fprintf(&b, "%v:", k)
		if f.count != nil {
			v, ok := f.count.Value()
			fmt.Fprintf(&b, " count=%d/%v", v, ok)
		}
		if f.label != nil {
			for _, w := range windows {
				f.label.SetNamespace(w)
				v, ok := f.label.Value()
				fmt.Fprintf(&b, " label%v=%q/%v", w, v, ok)
			}
		}
		if f.ev != nil {
			fmt.Fprintf(&b, " events=%q", f.ev.Get())
		}
		if f.recs != nil {
			for _, w := range windows {
				f.recs.SetNamespace(w)
				fmt.Fprintf(&b, " recs%v=%+v", w, f.recs.Get())
			}
		}
		if f.attrs != nil {
			fmt.Fprintf(&b, " attrs=%s empty=%v", mapLine(f.attrs.All()), f.attrs.IsEmpty())
		}
		if f.wmap != nil {
			for _, w := range windows {
				f.wmap.SetNamespace(w)
				fmt.Fprintf(&b, " wmap%v=%s", w, mapLine(f.wmap.All()))
			}
		}
		if f.sum != nil {
			for _, w := range windows {
				f.sum.SetNamespace(w)
				v, ok := f.sum.Get()
				fmt.Fprintf(&b, " sum%v=%d/%v", w, v, ok)
			}
		}
		if f.avg != nil {
			acc, ok := f.avg.Accumulator()
			fmt.Fprintf(&b, " avg=%+v/%v", acc, ok)
		}
		if f.ttl != nil {
			v, ok := f.ttl.Value()
			fmt.Fprintf(&b, " ttl=%q/%v", v, ok)
		}
		out = append(out, b.String())
	}
	out = append(out, f.timers.lines()...)
	sort.Strings(out)
	return out
}

// fakeTimers stands in for a timer service: a Snapshottable the backend
// keeps in canonical form (Register), holding strings per key group.
type fakeTimers struct {
	r      keygroup.Range
	groups map[int][]byte // index in r -> uvarint-prefixed strings
}

func (*fakeTimers) StateName() string   { return "timers" }
func (*fakeTimers) StateKind() byte     { return statebackend.KindTimers }
func (*fakeTimers) StateSchema() string { return "fake-timers/1" }

func (ft *fakeTimers) add(kg int, s string) {
	idx := kg - ft.r.Start
	ft.groups[idx] = append(binary.AppendUvarint(ft.groups[idx], uint64(len(s))), s...)
}

// Freeze copies the groups: later adds are not in the snapshot.
func (ft *fakeTimers) Freeze() (func(dst []byte, idx int) ([]byte, error), error) {
	frozen := map[int][]byte{}
	for idx, b := range ft.groups {
		frozen[idx] = slices.Clone(b)
	}
	return func(dst []byte, idx int) ([]byte, error) { return append(dst, frozen[idx]...), nil }, nil
}

func (ft *fakeTimers) RestoreGroup(idx int, src []byte) error {
	if idx < 0 || idx >= ft.r.Len() {
		return fmt.Errorf("fake timers: key group index %d outside %v", idx, ft.r)
	}
	ft.groups[idx] = append(ft.groups[idx], src...)
	return nil
}

// lines lists the timers, one line per key group with the strings sorted.
func (ft *fakeTimers) lines() []string {
	var out []string
	for idx, b := range ft.groups {
		var ss []string
		for len(b) > 0 {
			n, k := binary.Uvarint(b)
			ss = append(ss, string(b[k:k+int(n)]))
			b = b[k+int(n):]
		}
		sort.Strings(ss)
		out = append(out, fmt.Sprintf("~timers kg=%d %q", ft.r.Start+idx, ss))
	}
	return out
}

// mapLine formats a map state's entries sorted by key.
func mapLine[UK comparable, UV any](all func(yield func(UK, UV) bool)) string {
	var es []string
	for k, v := range all {
		es = append(es, fmt.Sprintf("%v:%+v", k, v))
	}
	sort.Strings(es)
	return "{" + strings.Join(es, " ") + "}"
}
