package exec

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	wcodec "github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/heap"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// keptRows returns k's rows as a fresh slice of copied strings.
func keptRows(k *joinKept) []string {
	var out []string
	for _, s := range k.appendRows(nil) {
		out = append(out, strings.Clone(s))
	}
	return out
}

// TestJoinKept: rows of sizes from 0 to 5000 bytes added to joinKept
// values (through the head's growth, into tail segments, rows larger than
// any segment) read back in order; the strings read earlier keep their
// bytes; a copy made as the heap does while a snapshot is written keeps
// taking rows while the original reads and encodes as at the copy; the
// encoding round-trips and every truncation of it is codec.ErrCorrupt.
func TestJoinKept(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for ki := range 40 {
		k := &joinKept{}
		var want []string
		var handed []string // strings read along the way, not copied
		var handedWant []string
		var snap *joinKept
		var snapWant []string
		n := 1 + rng.IntN(120)
		if ki < 10 {
			n = 1 + ki%5 // small keys: head only
		}
		for i := range n {
			size := rng.IntN(200)
			switch {
			case ki < 10:
				size = rng.IntN(100) // at most 5 rows: head only
			case rng.IntN(20) == 0:
				size = 0
			case rng.IntN(20) == 0:
				size = 600 + rng.IntN(5000)
			}
			r := strings.Repeat(string(rune('a'+i%26)), size)
			k.add([]byte(r))
			want = append(want, r)
			if rng.IntN(4) == 0 {
				rs := k.appendRows(nil)
				handed = append(handed, rs[len(rs)-1])
				handedWant = append(handedWant, r)
			}
			if snap == nil && i == n/2 {
				// As the heap: the snapshot keeps the original, the
				// task goes on with the copy.
				snap, k = k, k.CopyState()
				snapWant = slices.Clone(want)
			}
		}
		if got := keptRows(k); !slices.Equal(got, want) {
			t.Fatalf("key %d: %d rows read back differ from the %d added", ki, len(got), len(want))
		}
		if !slices.Equal(handed, handedWant) {
			t.Fatalf("key %d: a string handed out changed", ki)
		}
		if ki < 10 && k.tail != nil {
			t.Fatalf("key %d: %d rows of at most 200 bytes went past the head", ki, n)
		}
		if ki < 10 && len(want) > 0 && cap(k.head) > 2*k.size()+64 {
			t.Fatalf("key %d: head of %d bytes for %d", ki, cap(k.head), k.size())
		}
		if snap != nil {
			if got := keptRows(snap); !slices.Equal(got, snapWant) {
				t.Fatalf("key %d: the captured value reads %d rows, want the %d at the copy", ki, len(got), len(snapWant))
			}
			var dec joinKept
			enc := snap.AppendState(nil)
			if m, err := dec.DecodeState(enc); err != nil || m != len(enc) {
				t.Fatalf("key %d: decode: %d of %d, %v", ki, m, len(enc), err)
			}
			if got := keptRows(&dec); !slices.Equal(got, snapWant) {
				t.Fatalf("key %d: the captured value's encoding holds %d rows, want %d", ki, len(got), len(snapWant))
			}
		}
		enc := k.AppendState(nil)
		var dec joinKept
		if m, err := dec.DecodeState(enc); err != nil || m != len(enc) {
			t.Fatalf("key %d: decode: %d of %d, %v", ki, m, len(enc), err)
		}
		if got := keptRows(&dec); !slices.Equal(got, want) {
			t.Fatalf("key %d: round trip differs", ki)
		}
		if ki%8 == 0 {
			for cut := range len(enc) {
				var d joinKept
				if _, err := d.DecodeState(enc[:cut]); !errors.Is(err, wcodec.ErrCorrupt) {
					t.Fatalf("key %d: encoding cut at %d of %d: %v, want ErrCorrupt", ki, cut, len(enc), err)
				}
			}
		}
	}
}

// TestJoinKeptSnapshotInFlight drives the heap backend's copy-on-write as
// a list side keeps rows: a snapshot is written on another goroutine
// while the task keeps 300 more rows on each key (in a head with room, in
// a head that moves, in tail segments, on new keys); the snapshot
// restores exactly the rows at its capture, and the task's values have
// all rows. The race detector sees bytes shared with the writer.
func TestJoinKeptSnapshotInFlight(t *testing.T) {
	newState := func() (*statebackend.KeyContext[string], *heap.Backend[string], *heap.Value[string, struct{}, *joinKept]) {
		kc := statebackend.NewKeyContext(keygroup.Hasher[string](), 128, keygroup.Range{Start: 0, End: 128})
		b := heap.New(kc, func() int64 { return 0 })
		v := heap.NewValue[string, struct{}, *joinKept](b, statebackend.TTL{})
		v.SetName("join-left-kept")
		return kc, b, v
	}
	kc, b, v := newState()
	side := &listSide{kept: v, inPlace: true, checked: true}
	want := map[string][]string{}
	keep := func(key, r string) {
		_ = kc.Set(key)
		side.keep([]byte(r), nil)
		want[key] = append(want[key], r)
	}
	keys := []string{"one", "two", "head", "tail"}
	keep("one", "x")
	keep("two", "ab")
	keep("two", "cd")
	for i := range 4 {
		keep("head", fmt.Sprint("h", i, strings.Repeat("-", 50)))
	}
	for i := range 30 {
		keep("tail", fmt.Sprint("t", i, strings.Repeat("=", 90)))
	}
	captured := map[string][]string{}
	for k, rs := range want {
		captured[k] = slices.Clone(rs)
	}
	write, err := b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[int][]byte{}
	done := make(chan error, 1)
	go func() {
		done <- write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) })
	}()
	for i := range 300 {
		for _, k := range keys {
			keep(k, fmt.Sprint(k, i, strings.Repeat("+", i%70)))
		}
		keep(fmt.Sprint("new", i%7), fmt.Sprint("n", i))
		if i%50 == 0 {
			// A probe reads (and may fork) while the writer runs.
			_ = kc.Set("tail")
			if got := side.appendRows(nil); len(got) != len(want["tail"]) {
				t.Fatalf("live tail reads %d rows, want %d", len(got), len(want["tail"]))
			}
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rkc, rb, rv := newState()
	if err := rb.SetRestore(groups); err != nil {
		t.Fatal(err)
	}
	if err := rb.Seal(); err != nil {
		t.Fatal(err)
	}
	rside := &listSide{kept: rv, inPlace: true, checked: true}
	for _, k := range append(keys, "new0") {
		_ = rkc.Set(k)
		if diff := cmp.Diff(captured[k], rside.appendRows(nil)); diff != "" {
			t.Fatalf("snapshot's key %s (-at the capture +restored):\n%s", k, diff)
		}
	}
	for k, rs := range want {
		_ = kc.Set(k)
		if got := side.appendRows(nil); !slices.Equal(got, rs) {
			t.Fatalf("live key %s: %d rows, want %d", k, len(got), len(rs))
		}
	}
}

// joinListBackend is a backend of TestJoinKeptRestoresListLayout: heap
// with kept values, heap with the list layout, Pebble (list).
type joinListBackend struct {
	name, backend string
	list          bool
}

var joinListBackends = []joinListBackend{
	{"heap", weir.StateHeap, false},
	{"heap-list", weir.StateHeap, true},
	{"pebble", weir.StatePebble, false},
}

// joinListModel is the join of joinListFixtureSpec run row by row: each
// side's rows per key in arrival order.
type joinListModel struct {
	rows [2]map[int64][]row.Row
}

func newJoinListModel(steps []joinListStep) *joinListModel {
	m := &joinListModel{rows: [2]map[int64][]row.Row{{}, {}}}
	for _, s := range steps {
		m.add(s)
	}
	return m
}

func (m *joinListModel) add(s joinListStep) {
	k := s.r.Fields[0].Int()
	m.rows[s.in][k] = append(m.rows[s.in][k], s.r)
}

// pairs returns the pairs s's row makes, in the arrival order of the rows
// of the other side it joins, formatted; then adds the row.
func (m *joinListModel) pairs(s joinListStep) []string {
	var out []string
	types := append(slices.Clone(joinListFixtureTypes), joinListFixtureTypes...)
	for _, o := range m.rows[1-s.in][s.r.Fields[0].Int()] {
		l, r := s.r, o
		if s.in == 1 {
			l, r = o, s.r
		}
		if ok, _ := joinListFixtureCond(l.Fields, r.Fields); ok {
			out = append(out, row.FormatRow(joinRows(row.Insert, l.Fields, r.Fields), types))
		}
	}
	m.add(s)
	return out
}

// joinListRun is a running join of joinListFixtureSpec.
type joinListRun struct {
	h   *weirtest.Harness
	ins []*weirtest.Input[row.Row]
	out *weirtest.Output[row.Row]
}

func startJoinListRun(t *testing.T, h *weirtest.Harness, list bool) *joinListRun {
	t.Helper()
	l, r := weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
	spec := joinListFixtureSpec()
	spec.listLayout = list
	out, err := RegularJoin(l.Stream(), r.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	run := &joinListRun{h: h, ins: []*weirtest.Input[row.Row]{l, r}, out: weirtest.Capture(h, out.UID("join"))}
	h.Start(t)
	return run
}

// push feeds steps one by one; each must emit exactly its pairs of the
// model, in order.
func (run *joinListRun) push(t *testing.T, m *joinListModel, steps []joinListStep) int {
	t.Helper()
	types := append(slices.Clone(joinListFixtureTypes), joinListFixtureTypes...)
	n := 0
	for i, s := range steps {
		if err := run.ins[s.in].Push(s.r, 0); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range run.out.Take() {
			got = append(got, row.FormatRow(o, types))
		}
		want := m.pairs(s)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("step %d (input %d, key %d): pairs differ (-model +job):\n%s", i, s.in, s.r.Fields[0].Int(), diff)
		}
		n += len(got)
	}
	return n
}

// TestJoinKeptRestoresListLayout restores joinListFixture (list rows,
// written by e52cd41) on the heap (kept values: a key's list rows move
// into them before its first new row), on the heap with the list layout,
// and on Pebble, at parallelism 1 and 3; a quarter of the steps runs; a
// snapshot of that job is restored on each of the three at parallelism 2
// (heap ↔ Pebble, kept ↔ list, rescaling, keys left in both layouts) and
// the last quarter runs. Every row must emit exactly its pairs, with the
// rows of the other side in their arrival order.
func TestJoinKeptRestoresListLayout(t *testing.T) {
	steps := joinListFixtureSteps()
	half, threeq := len(steps)/2, 3*len(steps)/4
	fixture, err := filepath.Abs(joinListFixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, b1 := range joinListBackends {
		for _, p := range []int{1, 3} {
			for _, b2 := range joinListBackends {
				t.Run(fmt.Sprintf("%s-p%d/%s-p2", b1.name, p, b2.name), func(t *testing.T) {
					m := newJoinListModel(steps[:half])
					run := startJoinListRun(t, restoreFixture(t, fixture, p, b1.backend), b1.list)
					n := run.push(t, m, steps[half:threeq])
					snap, err := run.h.Snapshot()
					if err != nil {
						t.Fatal(err)
					}
					run = startJoinListRun(t, weirtest.Restore(config{p: 2, backend: b2.backend}.options(t), snap), b2.list)
					n += run.push(t, m, steps[threeq:])
					if n < 2000 {
						t.Fatalf("only %d pairs after the fixture", n)
					}
				})
			}
		}
	}
}

// TestJoinKeptTTLSwitch: a state TTL keeps the list layout (per-row
// expiry). Rows kept on the heap without TTL (kept values), restored into
// a job with a left TTL (heap and Pebble), stay and come first, as
// restored list rows without expiry did; a row kept under the TTL expires;
// restored on the heap without TTL again, the rows come out in arrival
// order.
func TestJoinKeptTTLSwitch(t *testing.T) {
	types := []row.Type{row.BigInt(), row.String()}
	outTypes := append(slices.Clone(types), types...)
	start := func(h *weirtest.Harness, ttl time.Duration) *joinListRun {
		l, r := weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
		spec := JoinSpec{Type: InnerJoin, LeftTypes: types, RightTypes: types, LeftKeys: []int{0}, RightKeys: []int{0},
			LeftAppendOnly: true, RightAppendOnly: true, LeftStateTTL: ttl}
		out, err := RegularJoin(l.Stream(), r.Stream(), spec)
		if err != nil {
			t.Fatal(err)
		}
		run := &joinListRun{h: h, ins: []*weirtest.Input[row.Row]{l, r}, out: weirtest.Capture(h, out.UID("join"))}
		h.Start(t)
		return run
	}
	push := func(run *joinListRun, in int, s string) []string {
		t.Helper()
		if err := run.ins[in].Push(row.Of(row.Int(1), row.Str(s)), 0); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range run.out.Take() {
			got = append(got, row.FormatRow(o, outTypes))
		}
		return got
	}
	pair := func(l, r string) string { return fmt.Sprintf("+I[1, %s, 1, %s]", l, r) }
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		t.Run(backend, func(t *testing.T) {
			run := start(weirtest.New(config{p: 1, backend: weir.StateHeap}.options(t)), 0)
			push(run, 0, "a")
			push(run, 0, "b")
			snap, err := run.h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			run = start(weirtest.Restore(config{p: 2, backend: backend}.options(t), snap), 10*time.Second)
			push(run, 0, "c")
			if err := run.h.SetProcessingTime(run.h.ProcessingTime() + 20_000); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{pair("a", "x"), pair("b", "x")}, push(run, 1, "x")); diff != "" {
				t.Fatalf("with TTL, after c expired (-want +got):\n%s", diff)
			}
			if snap, err = run.h.Snapshot(); err != nil {
				t.Fatal(err)
			}
			run = start(weirtest.Restore(config{p: 1, backend: weir.StateHeap}.options(t), snap), 0)
			push(run, 0, "d")
			if diff := cmp.Diff([]string{pair("a", "y"), pair("b", "y"), pair("d", "y")}, push(run, 1, "y")); diff != "" {
				t.Fatalf("without TTL again (-want +got):\n%s", diff)
			}
		})
	}
}
