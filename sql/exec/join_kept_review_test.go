package exec

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/heap"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/weirtest"
)

// keptStage is one subtask's list side on the heap backend: the list and
// the kept values, in the layout new rows go to (inPlace: kept values;
// otherwise the list, as on Pebble or with a TTL).
type keptStage struct {
	kc   *statebackend.KeyContext[string]
	b    *heap.Backend[string]
	side *listSide
}

// newKeptStage opens a stage, restored from groups if not nil.
func newKeptStage(t *testing.T, inPlace bool, groups map[int][]byte) *keptStage {
	t.Helper()
	kc := statebackend.NewKeyContext(keygroup.Hasher[string](), 128, keygroup.Range{Start: 0, End: 128})
	b := heap.New(kc, func() int64 { return 0 })
	rows := heap.NewList[string, struct{}, string](b, statebackend.TTL{})
	rows.SetName("join-left-rows")
	kept := heap.NewValue[string, struct{}, *joinKept](b, statebackend.TTL{})
	kept.SetName("join-left-kept")
	if groups != nil {
		if err := b.SetRestore(groups); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Seal(); err != nil {
		t.Fatal(err)
	}
	return &keptStage{kc: kc, b: b, side: &listSide{rows: rows, kept: kept, inPlace: inPlace}}
}

// add keeps r for key as process does: kept values where inPlace, else
// the list.
func (s *keptStage) add(t *testing.T, key, r string) {
	t.Helper()
	if err := s.kc.Set(key); err != nil {
		t.Fatal(err)
	}
	if err := s.side.check(); err != nil {
		t.Fatal(err)
	}
	if s.side.inPlace {
		// A buffer the caller reuses, as process's keptEnc.
		enc := append(make([]byte, 0, len(r)+8), r...)
		s.side.keep(enc, nil)
		clear(enc)
		return
	}
	s.side.rows.Add(strings.Clone(r))
}

// rows returns key's rows as a probe reads them (not copied).
func (s *keptStage) rows(t *testing.T, key string) []string {
	t.Helper()
	if err := s.kc.Set(key); err != nil {
		t.Fatal(err)
	}
	if err := s.side.check(); err != nil {
		t.Fatal(err)
	}
	return s.side.appendRows(nil)
}

// keys returns the keys with rows in either layout.
func (s *keptStage) keys(t *testing.T) map[string]bool {
	t.Helper()
	ks := map[string]bool{}
	for _, st := range []any{s.side.rows, s.side.kept} {
		if err := state.KeysOf(st, func(k string) { ks[k] = true }); err != nil {
			t.Fatal(err)
		}
	}
	return ks
}

// keptSnap is a snapshot of a keptStage being written: the model's rows
// at its capture, and its writer (run on its own goroutine once started).
type keptSnap struct {
	want  map[string][]string
	write func(put func(kg int, section []byte)) error
	done  chan map[int][]byte
}

func cloneModel(m map[string][]string) map[string][]string {
	c := make(map[string][]string, len(m))
	for k, rs := range m {
		c[k] = slices.Clone(rs)
	}
	return c
}

// TestJoinKeptModelSnapshotsInFlight is a seeded random test of a list
// side on the heap backend against a map from key to its rows: hot keys
// grow across the head's 512 bytes and fill tail segments, hundreds of
// cold keys of one or two rows share the slabs, rows are empty, tiny,
// near the segment sizes or larger than any segment (up to 9 KB). Up to
// three snapshots are in flight at once, their writers started at once or
// only after more rows were kept (each on its own goroutine, so the race
// detector sees the writer read what the task appends past, and slab
// neighbours change while a captured header is read). Each snapshot must
// restore exactly the rows at its capture, in order, and no other key;
// now and then the job goes on from a finished snapshot in the kept or the
// list layout (heap ↔ Pebble / TTL), so keys get rows in both layouts and
// restored list rows move into kept values. Strings handed out by probes
// must never change. Fails with a CopyState returning its receiver or
// sharing the tail's segment list, without moving restored list rows
// before a key's first kept row, with the heap forking a value once per
// run of overlapping snapshots instead of once per snapshot, with a
// head's old array written over when it moves, with a slab reused for
// new keys.
func TestJoinKeptModelSnapshotsInFlight(t *testing.T) {
	for seed := range 5 {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			testKeptModel(t, uint64(seed))
		})
	}
}

func testKeptModel(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x6b657074))
	live := newKeptStage(t, true, nil)
	model := map[string][]string{}
	var handed, handedWant []string
	var pending []*keptSnap // captured, writer not started
	var running []*keptSnap
	defer func() {
		// No writer outlives the test.
		for _, s := range pending {
			_ = s.write(func(int, []byte) {})
		}
		for _, s := range running {
			<-s.done
		}
	}()
	// What the run went through: snapshots restored and checked, of them
	// with a writer started late or beside another; stages that found
	// rows in both layouts; keys with tail segments.
	var restored, overlapped, mixed, tails int
	seq := 0
	rowOf := func(key string) string {
		seq++
		var size int
		switch p := rng.IntN(100); {
		case p < 5:
			return ""
		case p < 60:
			size = rng.IntN(100)
		case p < 85:
			size = 100 + rng.IntN(500)
		case p < 92:
			size = []int{126, 127, 128, 510, 511, 512, 513, 1024, 4095, 4096, 4097}[rng.IntN(11)]
		default:
			size = 4000 + rng.IntN(5000)
		}
		r := fmt.Sprintf("%s#%d|", key, seq)
		if len(r) < size {
			r += strings.Repeat(string(rune('a'+seq%26)), size-len(r))
		}
		return r
	}
	check := func(what string, st *keptStage, want map[string][]string) {
		t.Helper()
		got := st.keys(t)
		for k := range want {
			if !got[k] {
				t.Fatalf("%s: key %s missing", what, k)
			}
		}
		for k := range got {
			if diff := cmp.Diff(want[k], st.rows(t, k)); diff != "" {
				t.Fatalf("%s: key %s (-model +state):\n%s", what, k, diff)
			}
		}
	}
	startWriter := func(s *keptSnap) {
		go func() {
			groups := map[int][]byte{}
			err := s.write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) })
			if err != nil {
				groups = nil
			}
			s.done <- groups
		}()
		running = append(running, s)
	}
	for op := range 1500 {
		var key string
		if rng.IntN(3) == 0 {
			key = fmt.Sprint("hot", rng.IntN(4))
		} else {
			key = fmt.Sprint("cold", rng.IntN(700))
		}
		switch p := rng.IntN(100); {
		case p < 75:
			r := rowOf(key)
			live.add(t, key, r)
			model[key] = append(model[key], r)
		case p < 88:
			got := live.rows(t, key)
			if diff := cmp.Diff(model[key], got); diff != "" {
				t.Fatalf("op %d: probe of %s (-model +state):\n%s", op, key, diff)
			}
			if len(got) > 0 {
				i := rng.IntN(len(got))
				handed, handedWant = append(handed, got[i]), append(handedWant, model[key][i])
			}
		case p < 93 && len(pending)+len(running) < 3:
			if len(pending)+len(running) > 0 {
				overlapped++
			}
			w, err := live.b.SnapshotAsync()
			if err != nil {
				t.Fatal(err)
			}
			s := &keptSnap{want: cloneModel(model), write: w, done: make(chan map[int][]byte, 1)}
			n := 0
			for k := range model {
				_ = live.kc.Set(k)
				if v, ok := live.side.kept.Value(); ok && v.tail != nil && len(*v.tail) > 1 {
					n++
				}
			}
			tails = max(tails, n)
			if rng.IntN(2) == 0 {
				startWriter(s)
			} else {
				pending = append(pending, s)
			}
		case p < 96 && len(pending) > 0:
			startWriter(pending[0])
			pending = pending[1:]
		case len(running) > 0:
			s := running[0]
			running = running[1:]
			groups := <-s.done
			if groups == nil {
				t.Fatalf("op %d: snapshot writer failed", op)
			}
			inPlace := rng.IntN(2) == 0
			st := newKeptStage(t, inPlace, groups)
			check(fmt.Sprintf("op %d: snapshot restored (kept layout %v)", op, inPlace), st, s.want)
			restored++
			if st.side.mixed {
				mixed++
			}
			if rng.IntN(8) == 0 {
				// The job goes on from this snapshot, in either layout
				// (mostly kept); snapshots of the old one still being
				// written go on.
				live = newKeptStage(t, rng.IntN(3) > 0, groups)
				model = cloneModel(s.want)
			}
		}
	}
	check("live", live, model)
	t.Logf("%d snapshots restored, %d taken while another was in flight, %d restores in both layouts, at most %d keys with several tail segments at a capture",
		restored, overlapped, mixed, tails)
	if restored < 10 || overlapped < 5 || mixed < 2 || tails < 2 {
		t.Fatalf("the run did not go through enough snapshots")
	}
	for i := range handed {
		if handed[i] != handedWant[i] {
			t.Fatalf("string %d handed out by a probe changed", i)
		}
	}
}

// joinChainStage is one job of TestJoinKeptChainModel.
type joinChainStage struct {
	backend string
	p       int
	// list: the list layout on the heap (JoinSpec.listLayout); ttl: a
	// state TTL no row reaches (the list layout, per-row expiry);
	// batch: a mini-batch of that many rows (0: none).
	list  bool
	ttl   time.Duration
	batch int64
}

func (c joinChainStage) String() string {
	return fmt.Sprintf("%s-p%d-list%v-ttl%v-batch%d", c.backend, c.p, c.list, c.ttl > 0, c.batch)
}

// TestJoinKeptChainModel is a seeded random test of a regular join whose
// two sides are list sides, against a row-by-row model (each side's rows
// per key in arrival order): a chain of jobs, each restored from the last
// one's snapshot on the heap (kept values), the heap with the list layout,
// Pebble, or either with a state TTL no row reaches, at parallelism 1 to
// 3, some with a mini-batch; so keys carry rows in both layouts across
// restores (heap → Pebble → heap), restored list rows move into kept
// values, rows kept without a TTL are read with one and back. Payloads are
// NULL, empty, small, or larger than any tail segment (to 9 KB); hot keys
// take hundreds of rows, hundreds of cold keys a few. After every row the
// job must emit exactly the model's pairs in the other side's arrival
// order (with a mini-batch: at each flush, those of the held rows in the
// order the flush joins them). Every emitted row is kept, as a sink
// downstream might, and must read the same at the end (their strings
// share the kept rows' bytes). A LEFT join runs the first chain too (its
// right side a list side, its outer left side the map with match counts,
// against a model of padded rows and their retractions). Fails without
// moving restored list rows before a key's first kept row, with the list
// read before the kept rows, with the list layout ignoring restored kept
// rows, with a head's old array written over when it moves (emitted rows
// change), with DecodeState sharing the restore's buffer instead of
// copying it; the LEFT chain also with its outer side kept as a list.
func TestJoinKeptChainModel(t *testing.T) {
	hp := func(p int) joinChainStage { return joinChainStage{backend: weir.StateHeap, p: p} }
	peb := func(p int) joinChainStage { return joinChainStage{backend: weir.StatePebble, p: p} }
	ttl := func(c joinChainStage) joinChainStage { c.ttl = time.Hour; return c }
	batch := func(c joinChainStage, n int64) joinChainStage { c.batch = n; return c }
	list := func(c joinChainStage) joinChainStage { c.list = true; return c }
	chains := [][]joinChainStage{
		// heap → Pebble → heap, parallelism 1 → 3 → 2; then a TTL, a
		// mini-batch on kept values, the heap's list layout.
		{hp(1), peb(3), hp(2), ttl(hp(3)), batch(hp(1), 7), list(hp(2)), hp(3)},
		{batch(hp(1), 3), ttl(peb(2)), hp(3), ttl(hp(1)), hp(2), peb(1), batch(hp(1), 11)},
		{list(hp(2)), hp(1), batch(ttl(peb(1)), 5), hp(3), peb(2), ttl(hp(2)), hp(1)},
	}
	for i, chain := range chains {
		t.Run(fmt.Sprint("chain", i), func(t *testing.T) {
			testJoinChain(t, uint64(i), chain, InnerJoin)
		})
	}
	// A LEFT join: the right side is a list side, the left (outer) one
	// keeps its map with each row's match count.
	t.Run("left", func(t *testing.T) {
		testJoinChain(t, 7, chains[0], LeftJoin)
	})
}

// leftJoinModel is the LEFT join of joinListFixtureSpec row by row, as
// StreamingJoinOperator: a left row without a match is emitted padded
// with NULLs, and retracted before its first pair; the left rows a right
// row meets come in the order of their encodings (the map state's order,
// sortMatches), the right rows a left row meets in arrival order.
type leftJoinModel struct {
	left  map[int64][]*leftModelRow
	right map[int64][]row.Row
	codec *row.Codec
	types []row.Type
	nulls []row.Value
}

type leftModelRow struct {
	r     row.Row
	enc   string
	assoc int
}

func newLeftJoinModel() *leftJoinModel {
	return &leftJoinModel{left: map[int64][]*leftModelRow{}, right: map[int64][]row.Row{},
		codec: row.NewCodec(joinListFixtureTypes), types: append(slices.Clone(joinListFixtureTypes), joinListFixtureTypes...),
		nulls: make([]row.Value, len(joinListFixtureTypes))}
}

func (m *leftJoinModel) pairs(s joinListStep) []string {
	var out []string
	k := s.r.Fields[0].Int()
	emit := func(kind row.Kind, l, r []row.Value) {
		out = append(out, row.FormatRow(joinRows(kind, l, r), m.types))
	}
	if s.in == 0 {
		n := 0
		for _, o := range m.right[k] {
			if ok, _ := joinListFixtureCond(s.r.Fields, o.Fields); ok {
				emit(row.Insert, s.r.Fields, o.Fields)
				n++
			}
		}
		if n == 0 {
			emit(row.Insert, s.r.Fields, m.nulls)
		}
		m.left[k] = append(m.left[k], &leftModelRow{r: s.r, enc: string(m.codec.Append(nil, s.r.WithKind(row.Insert))), assoc: n})
		return out
	}
	ls := slices.Clone(m.left[k])
	slices.SortFunc(ls, func(a, b *leftModelRow) int { return strings.Compare(a.enc, b.enc) })
	for _, l := range ls {
		if ok, _ := joinListFixtureCond(l.r.Fields, s.r.Fields); !ok {
			continue
		}
		if l.assoc == 0 {
			emit(row.Delete, l.r.Fields, m.nulls)
		}
		emit(row.Insert, l.r.Fields, s.r.Fields)
		l.assoc++
	}
	m.right[k] = append(m.right[k], s.r)
	return out
}

func testJoinChain(t *testing.T, seed uint64, stages []joinChainStage, typ JoinType) {
	rng := rand.New(rand.NewPCG(seed, 0x636861696e))
	types := append(slices.Clone(joinListFixtureTypes), joinListFixtureTypes...)
	var m interface{ pairs(joinListStep) []string } = newJoinListModel(nil)
	if typ == LeftJoin {
		m = newLeftJoinModel()
	}
	var kept []row.Row // every emitted row
	var keptWant []string
	seq := 0
	newStep := func() joinListStep {
		seq++
		k := int64(3 + rng.IntN(300))
		if rng.IntN(2) == 0 {
			k = int64(rng.IntN(3))
		}
		var pay row.Value
		switch p := rng.IntN(100); {
		case p < 5:
			pay = row.Null()
		case p < 10:
			pay = row.Str("")
		case p < 90:
			pay = row.Str(fmt.Sprintf("p%d-", seq) + strings.Repeat(string(rune('a'+seq%26)), rng.IntN(300)))
		default:
			pay = row.Str(fmt.Sprintf("p%d-", seq) + strings.Repeat(string(rune('A'+seq%26)), 4000+rng.IntN(5000)))
		}
		return joinListStep{in: rng.IntN(2), r: row.Of(row.Int(k), row.Int(int64(seq)), pay)}
	}
	var snap weirtest.Snapshot
	pairs := 0
	for stage, c := range stages {
		// (A mini-batch's job has one subtask: the model knows when its
		// one batch is full.)
		opts := config{p: c.p, backend: c.backend}.options(t)
		h := weirtest.New(opts)
		if stage > 0 {
			h = weirtest.Restore(opts, snap)
		}
		l, r := weirtest.NewInput[row.Row](h), weirtest.NewInput[row.Row](h)
		spec := joinListFixtureSpec()
		spec.Type, spec.listLayout, spec.StateTTL = typ, c.list, c.ttl
		if c.batch > 0 {
			spec.MiniBatch = MiniBatch{Interval: time.Hour, Size: c.batch}
		}
		s, err := RegularJoin(l.Stream(), r.Stream(), spec)
		if err != nil {
			t.Fatal(err)
		}
		out := weirtest.Capture(h, s.UID("join"))
		h.Start(t)
		ins := []*weirtest.Input[row.Row]{l, r}
		var held []joinListStep
		// flush runs the held rows through the model in the order the
		// mini-batch joins them: the right side's, then the left's, each
		// by key in the order of its first row.
		flush := func() []string {
			var want []string
			for _, in := range []int{1, 0} {
				var keys []int64
				byKey := map[int64][]joinListStep{}
				for _, st := range held {
					if st.in != in {
						continue
					}
					k := st.r.Fields[0].Int()
					if _, ok := byKey[k]; !ok {
						keys = append(keys, k)
					}
					byKey[k] = append(byKey[k], st)
				}
				for _, k := range keys {
					for _, st := range byKey[k] {
						want = append(want, m.pairs(st)...)
					}
				}
			}
			held = held[:0]
			return want
		}
		take := func(what string, want []string) {
			t.Helper()
			var got []string
			for _, o := range out.Take() {
				f := row.FormatRow(o, types)
				got = append(got, f)
				kept, keptWant = append(kept, o), append(keptWant, f)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("stage %d (%v), %s: pairs differ (-model +job):\n%s", stage, c, what, diff)
			}
			pairs += len(got)
		}
		n := 60 + rng.IntN(100)
		for i := range n {
			st := newStep()
			if err := ins[st.in].Push(st.r, 0); err != nil {
				t.Fatal(err)
			}
			var want []string
			if c.batch == 0 {
				want = m.pairs(st)
			} else if held = append(held, st); int64(len(held)) >= c.batch {
				want = flush()
			}
			take(fmt.Sprintf("row %d (input %d, key %d)", i, st.in, st.r.Fields[0].Int()), want)
		}
		if snap, err = h.Snapshot(); err != nil {
			t.Fatal(err)
		}
		take("the snapshot's flush", flush())
	}
	runtime.GC()
	for i, o := range kept {
		if f := row.FormatRow(o, types); f != keptWant[i] {
			t.Fatalf("emitted row %d changed:\n was %.200s\n now %.200s", i, keptWant[i], f)
		}
	}
	if pairs < 1000 {
		t.Fatalf("only %d pairs", pairs)
	}
}

// asyncJoinRow is the datagen row of sequence number s: a key (a quarter
// of the rows on 4 hot keys, the rest on 2,000 cold ones), s, a payload of
// up to 300 bytes, now and then 5 KB, empty or NULL. asyncJoinLeft says
// which input it goes to.
func asyncJoinRow(s int64) row.Row {
	x := datagen.Mix(11, s)
	k := int64(4 + x%2000)
	if x>>12%4 == 0 {
		k = int64(x >> 16 % 4)
	}
	pay := row.Str(fmt.Sprintf("p%d-", s) + strings.Repeat(string(rune('a'+s%26)), int(x>>20%300)))
	switch x >> 32 % 40 {
	case 0:
		pay = row.Null()
	case 1:
		pay = row.Str("")
	case 2:
		pay = row.Str(strings.Repeat("z", 5000))
	}
	return row.Of(row.Int(k), row.Int(s), pay)
}

func asyncJoinLeft(r row.Row) bool { return datagen.Mix(12, r.Fields[1].Int())%2 == 0 }

// TestJoinKeptAsyncCheckpoints runs a join of two list sides for real
// (not stepwise) on the heap, its source at 25,000 rows a second,
// checkpointing every millisecond (tens of checkpoints; three are
// restored), so that snapshots of kept values are encoded on other
// goroutines while the task keeps rows (heads moving, tail segments
// filling, slab neighbours created). Restored from a checkpoint, the job
// must emit exactly the uninterrupted run's pairs that have a row after
// the checkpoint's position (the smallest such row is found from the
// output): a row lost or torn in a snapshot loses or changes its pairs
// with later rows. Under -race, bytes a snapshot encodes while the task
// writes them are reported. Fails with a CopyState returning its
// receiver or sharing the tail's segment list, with a head's old array
// written over when it moves, with a slab reused for new keys.
func TestJoinKeptAsyncCheckpoints(t *testing.T) {
	const n = 12000
	types := append(slices.Clone(joinListFixtureTypes), joinListFixtureTypes...)
	type pair struct{ l, r int64 }
	run := func(dir, restore string) map[pair]string {
		var mu sync.Mutex
		out := map[pair]string{}
		env := weir.NewEnvironment(weir.Options{Parallelism: 2, StateBackend: weir.StateHeap, Restore: restore,
			Checkpoints: weir.CheckpointOptions{Interval: time.Millisecond, Dir: dir, Retained: 1000}})
		src := weir.FromSource[row.Row](env, datagen.New(asyncJoinRow, datagen.Options{Count: n, BatchSize: 32, RecordsPerSecond: 25000}), weir.WatermarkStrategy[row.Row]{}, "gen").SetParallelism(1).UID("gen")
		spec := joinListFixtureSpec()
		spec.Condition = func(l, r []row.Value) (bool, error) {
			d := l[1].Int() - r[1].Int()
			return d > -200 && d < 200, nil
		}
		j, err := RegularJoin(src.Filter(asyncJoinLeft).UID("l"), src.Filter(func(r row.Row) bool { return !asyncJoinLeft(r) }).UID("r"), spec)
		if err != nil {
			t.Fatal(err)
		}
		j.UID("join").SinkTo(weir.SinkFunc[row.Row](func(_ context.Context, r row.Row, _ int64) error {
			p := pair{r.Fields[1].Int(), r.Fields[4].Int()}
			f := row.FormatRow(r, types)
			mu.Lock()
			defer mu.Unlock()
			if _, ok := out[p]; ok {
				f = "twice: " + f
			}
			out[p] = f
			return nil
		})).UID("sink")
		if err := env.Execute(t.Context()); err != nil {
			t.Fatal(err)
		}
		return out
	}
	dir := t.TempDir()
	full := run(dir, "")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var chks []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "_metadata")); strings.HasPrefix(e.Name(), "chk-") && err == nil {
			chks = append(chks, filepath.Join(dir, e.Name()))
		}
	}
	t.Logf("%d pairs, %d checkpoints", len(full), len(chks))
	if len(chks) < 3 {
		t.Skipf("only %d checkpoints completed", len(chks))
	}
	step := max(1, len(chks)/3)
	for i := 0; i < len(chks); i += step {
		rest := run(t.TempDir(), chks[i])
		from := int64(n)
		for p := range rest {
			from = min(from, max(p.l, p.r))
		}
		want := map[pair]string{}
		for p, f := range full {
			if max(p.l, p.r) >= from {
				want[p] = f
			}
		}
		if diff := cmp.Diff(want, rest); diff != "" {
			t.Fatalf("restored %s (rows from %d on): pairs (-uninterrupted +restored):\n%.3000s", filepath.Base(chks[i]), from, diff)
		}
	}
}
