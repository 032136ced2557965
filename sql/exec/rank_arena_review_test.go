package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// reviewTopNTypes are the columns of the review's Top-N input: the
// partition, a nullable BIGINT, a nullable short string (many ties), a
// nullable TIMESTAMP(3) and a payload string, now and then 20 KB long.
var reviewTopNTypes = []row.Type{row.String(), row.BigInt(), row.String(), row.TimestampType(3), row.String()}

// reviewTopNLog returns n +I rows over parts partitions, partition i
// getting about twice as many rows as partition i+1 (so some hold many
// more rows than any N tested, others fewer).
func reviewTopNLog(seed uint64, n, parts int) []row.Row {
	rng := rand.New(rand.NewPCG(seed, 7))
	maybeNull := func(v row.Value) row.Value {
		if rng.IntN(9) == 0 {
			return row.Null()
		}
		return v
	}
	log := make([]row.Row, n)
	for i := range log {
		p := 0
		for p < parts-1 && rng.IntN(2) == 0 {
			p++
		}
		payload := fmt.Sprintf("row-%d-", i)
		if rng.IntN(40) == 0 {
			payload += strings.Repeat(string(rune('a'+i%26)), 20000)
		} else {
			payload += strings.Repeat("x", rng.IntN(60))
		}
		log[i] = row.Of(
			row.Str(fmt.Sprintf("p%d", p)),
			maybeNull(row.Int(int64(rng.IntN(40)))),
			maybeNull(row.Str([]string{"", "a", "ab", "b", "\u00e9", "zz"}[rng.IntN(6)])),
			maybeNull(row.Timestamp(1_700_000_000_000+int64(rng.IntN(30))*1000, 0)),
			row.Str(payload))
	}
	return log
}

// modelCompare orders a and b by keys, written from Flink's ORDER BY
// semantics independently of compareByKeys: NULLs first unless NullsLast
// (for DESC too), then the value, reversed for DESC.
func modelCompare(a, b row.Row, keys []OrderKey) int {
	for _, o := range keys {
		x, y := a.Fields[o.Col], b.Fields[o.Col]
		if x.IsNull() || y.IsNull() {
			if x.IsNull() && y.IsNull() {
				continue
			}
			if x.IsNull() != o.NullsLast {
				return -1
			}
			return 1
		}
		var c int
		switch reviewTopNTypes[o.Col].Root {
		case row.TypeBigInt:
			c = cmpInt(x.Int(), y.Int())
		case row.TypeTimestamp:
			c = cmpInt(x.Millis(), y.Millis())
		default:
			c = strings.Compare(x.Str(), y.Str())
		}
		if o.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// modelTopN is an independent model of Flink's AppendOnlyTopNFunction:
// per partition the rows in rank order, a row going after every row it
// ties with (arrival order); its changelog is the difference of the top
// N before and after a row: without row number and offset, -D of the row
// pushed out then +I of the new one; otherwise per rank in start..end,
// ascending, +I where a rank is filled for the first time and -U (if
// wanted) and +U where another row now holds it.
func modelTopN(spec RankSpec, log []row.Row) map[string][]string {
	type kept struct {
		r  row.Row
		id int
	}
	tops := map[string][]kept{}
	outTypes := slices.Clone(reviewTopNTypes)
	if spec.OutputRankNumber {
		outTypes = append(outTypes, row.BigInt())
	}
	out := map[string][]string{}
	n := int(spec.RankEnd)
	for id, in := range log {
		p := in.Fields[0].Str()
		old := tops[p]
		pos := 0
		for pos < len(old) && modelCompare(old[pos].r, in, spec.OrderBy) <= 0 {
			pos++
		}
		if pos >= n {
			continue
		}
		next := slices.Insert(slices.Clone(old), pos, kept{in, id})
		if len(next) > n {
			next = next[:n]
		}
		tops[p] = next
		emit := func(k row.Kind, r row.Row, rank int) {
			fs := slices.Clone(r.Fields)
			if spec.OutputRankNumber {
				fs = append(fs, row.Int(int64(rank)))
			}
			out[p] = append(out[p], k.String()+row.FormatRow(row.Row{Kind: k, Fields: fs}, outTypes))
		}
		if !spec.OutputRankNumber && spec.RankStart <= 1 {
			if len(old) == n {
				emit(row.Delete, old[n-1].r, n)
			}
			emit(row.Insert, in, pos+1)
			continue
		}
		for rank := 1; rank <= len(next); rank++ {
			if rank < int(spec.RankStart) {
				continue
			}
			switch {
			case rank > len(old):
				emit(row.Insert, next[rank-1].r, rank)
			case old[rank-1].id != next[rank-1].id:
				if spec.GenerateUpdateBefore {
					emit(row.UpdateBefore, old[rank-1].r, rank)
				}
				emit(row.UpdateAfter, next[rank-1].r, rank)
			}
		}
	}
	return out
}

// TestRankArenaAgainstModel runs the append-only Top-N in the arena form
// (the heap without TTL) against modelTopN: Top-1 without row number (as
// q9), ties on mixed ASC/DESC keys over nullable integers, strings and
// timestamps, offsets with and without the row number (down to a single
// rank), N = 50 ordered by a timestamp alone (many ties), and N = 1000 over
// partitions of up to about 2000 rows, some 20 KB long (so arenas regrow
// and rows move). The operator's output rows are kept by the capturing
// sink and formatted only after the job: an emitted row whose strings
// share arena bytes written again later (a regrowth, a row pushed out)
// would no longer match. Each configuration's
// snapshot taken in the middle is restored into Pebble at another
// parallelism, whose snapshot in turn is restored into the heap.
func TestRankArenaAgainstModel(t *testing.T) {
	log := reviewTopNLog(3, 4000, 6)
	for _, v := range []struct {
		name string
		spec RankSpec
	}{
		{"top1-no-rownum", RankSpec{RankStart: 1, RankEnd: 1,
			OrderBy: []OrderKey{{Col: 1, Desc: true, NullsLast: true}, {Col: 3}}}},
		{"top3-rownum-ub-mixed", RankSpec{RankStart: 1, RankEnd: 3, OutputRankNumber: true, GenerateUpdateBefore: true,
			OrderBy: []OrderKey{{Col: 2, Desc: true}, {Col: 3, Desc: true, NullsLast: true}, {Col: 1}}}},
		{"offset-rownum", RankSpec{RankStart: 4, RankEnd: 9, OutputRankNumber: true,
			OrderBy: []OrderKey{{Col: 3, NullsLast: true}, {Col: 2}}}},
		{"offset-no-rownum-ub", RankSpec{RankStart: 2, RankEnd: 6, GenerateUpdateBefore: true,
			OrderBy: []OrderKey{{Col: 1}}}},
		{"rank5-only-no-rownum", RankSpec{RankStart: 5, RankEnd: 5,
			OrderBy: []OrderKey{{Col: 3, Desc: true}}}},
		{"top50-rownum-ts-ties", RankSpec{RankStart: 1, RankEnd: 50, OutputRankNumber: true,
			OrderBy: []OrderKey{{Col: 3, Desc: true, NullsLast: true}}}},
		{"top1000-no-rownum", RankSpec{RankStart: 1, RankEnd: 1000,
			OrderBy: []OrderKey{{Col: 2, NullsLast: true}, {Col: 1, Desc: true}}}},
	} {
		t.Run(v.name, func(t *testing.T) {
			spec := v.spec
			spec.Types, spec.PartitionKeys = reviewTopNTypes, []int{0}
			outTypes := slices.Clone(reviewTopNTypes)
			if spec.OutputRankNumber {
				outTypes = append(outTypes, row.BigInt())
			}
			want := modelTopN(spec, log)
			format := func(rows []row.Row) map[string][]string {
				got := map[string][]string{}
				for _, r := range rows {
					p := r.Fields[0].Str()
					got[p] = append(got[p], r.Kind.String()+row.FormatRow(r, outTypes))
				}
				return got
			}
			run := func(backend string, p int, snap *weirtest.Snapshot, rows []row.Row) ([]row.Row, weirtest.Snapshot) {
				out, s := runRankStage(t, spec, backend, p, snap, rows, true)
				return out, *s
			}
			got, _ := run(weir.StateHeap, 2, nil, log)
			if diff := cmp.Diff(want, format(got)); diff != "" {
				t.Fatalf("arena form's changelog per partition differs from the model's (-want +got):\n%.4000s", diff)
			}
			third := len(log) / 3
			a, snap := run(weir.StateHeap, 2, nil, log[:third])
			b, snap := run(weir.StatePebble, 3, &snap, log[third:2*third])
			c, _ := run(weir.StateHeap, 1, &snap, log[2*third:])
			if diff := cmp.Diff(want, format(slices.Concat(a, b, c))); diff != "" {
				t.Fatalf("heap -> Pebble p3 -> heap p1: changelog per partition differs from the model's (-want +got):\n%.4000s", diff)
			}
		})
	}
}

// TestRankArenaRefusesRetractions: rows other than +I (and +U, which
// accumulates) on the arena form's input fail the job, as they did with
// decoded rows, whether the partition has a top or not.
func TestRankArenaRefusesRetractions(t *testing.T) {
	for _, k := range []row.Kind{row.Delete, row.UpdateBefore} {
		for _, first := range []bool{true, false} {
			h := weirtest.New(weir.Options{Parallelism: 1, StateBackend: weir.StateHeap})
			in := weirtest.NewInput[row.Row](h)
			out, err := Rank(in.Stream(), RankSpec{Types: reviewTopNTypes, PartitionKeys: []int{0}, RankStart: 1, RankEnd: 2,
				OrderBy: []OrderKey{{Col: 1}}})
			if err != nil {
				t.Fatal(err)
			}
			o := weirtest.Capture(h, out)
			h.Start(t)
			r := reviewTopNLog(1, 1, 1)[0]
			if !first {
				if err := in.Push(r, weir.NoTimestamp); err != nil {
					t.Fatal(err)
				}
			}
			err = in.Push(r.WithKind(k), weir.NoTimestamp)
			if err == nil {
				err = in.End()
			}
			if err == nil || !strings.Contains(err.Error(), "append-only Top-N input") {
				t.Fatalf("%s row (partition has a top: %v): error %v, want the append-only input's refusal", k, !first, err)
			}
			if got := len(o.Values()); got != map[bool]int{true: 0, false: 1}[first] {
				t.Fatalf("%s row: %d rows out", k, got)
			}
		}
	}
}

// TestRankArenaAsyncSnapshots drives the arena form's state changes (as
// processArena makes them: rows entering full and growing tops, arenas
// regrowing, 4 KB rows now and then) on the heap backend while
// snapshots are written on other goroutines, two at a time, and while
// the strings of "emitted" rows (decoded from the arena as emitKept
// does) are kept: each snapshot, restored, must hold the tops as they
// were at its capture, the live tops the model's at the end, and every
// kept string what it was when read.
func TestRankArenaAsyncSnapshots(t *testing.T) {
	types := []row.Type{row.BigInt(), row.String()}
	const n = 5
	f := newRankAppendFn(RankSpec{Types: types, RankStart: 1, RankEnd: n, OrderBy: []OrderKey{{Col: 0, Desc: true}}})
	newState := newRankTopState
	show := func(rows []row.Row) string {
		var s []string
		for _, r := range rows {
			s = append(s, fmt.Sprintf("%d:%.20s/%d", r.Fields[0].Int(), r.Fields[1].Str(), len(r.Fields[1].Str())))
		}
		return strings.Join(s, " ")
	}
	kc, b, v := newState()
	rng := rand.New(rand.NewPCG(11, 12))
	model := map[string][]row.Row{}
	keys := []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"}
	type snapshot struct {
		want   map[string]string
		groups map[int][]byte
		err    error
		done   chan struct{}
	}
	var snaps []*snapshot
	var inflight []*snapshot
	type keptStr struct{ got, want string }
	var emitted []keptStr
	var wg sync.WaitGroup
	for step := range 6000 {
		if step%150 == 0 {
			if len(inflight) == 2 {
				<-inflight[0].done
				inflight = inflight[1:]
			}
			s := &snapshot{want: map[string]string{}, groups: map[int][]byte{}, done: make(chan struct{})}
			for k, rows := range model {
				s.want[k] = show(rows)
			}
			write, err := b.SnapshotAsync()
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(s.done)
				s.err = write(func(kg int, sec []byte) { s.groups[kg] = append(s.groups[kg], sec...) })
			}()
			snaps, inflight = append(snaps, s), append(inflight, s)
		}
		key := keys[rng.IntN(len(keys))]
		payload := fmt.Sprintf("s%d-", step) + strings.Repeat("y", rng.IntN(30))
		if rng.IntN(50) == 0 {
			payload += strings.Repeat("z", 4096)
		}
		in := row.Of(row.Int(int64(step/4+rng.IntN(300))), row.Str(payload))
		// processArena's state changes.
		_ = kc.Set(key)
		top, _ := v.Value()
		a := top.ar
		if a == nil {
			a = &topArena{}
			v.Update(rankTop{codec: f.codec, ar: a})
		}
		if len(a.spans) >= n && f.compareKept(a, n-1, in) <= 0 {
			continue
		}
		pos := f.positionArena(a, in)
		for i := pos; i < len(a.spans); i++ {
			// The rows emitEntering emits (-U/+U, -D), sharing the arena.
			r, _, err := f.codec.DecodeStringInto(make([]row.Value, 2), a.str(i))
			if err != nil {
				t.Fatal(err)
			}
			emitted = append(emitted, keptStr{r.Fields[1].Str(), strings.Clone(r.Fields[1].Str())})
		}
		if err := f.arenaInsert(a, pos, in, f.codec.Append(nil, in)); err != nil {
			t.Fatal(err)
		}
		m := model[key]
		p := 0
		for p < len(m) && m[p].Fields[0].Int() >= in.Fields[0].Int() {
			p++
		}
		m = slices.Insert(m, p, in)
		model[key] = m[:min(len(m), n)]
	}
	wg.Wait()
	for i, s := range snaps {
		if s.err != nil {
			t.Fatal(s.err)
		}
		rkc, rb, rv := newState()
		if err := rb.SetRestore(s.groups); err != nil {
			t.Fatal(err)
		}
		if err := rb.Seal(); err != nil {
			t.Fatal(err)
		}
		for _, key := range keys {
			_ = rkc.Set(key)
			top, _ := rv.Value()
			rows, err := f.load(&top)
			if err != nil {
				t.Fatal(err)
			}
			if got := show(rows); got != s.want[key] {
				t.Fatalf("snapshot %d's top of %s:\n got %s\nwant %s (as at the capture)", i, key, got, s.want[key])
			}
		}
	}
	for _, key := range keys {
		_ = kc.Set(key)
		top, _ := v.Value()
		var rows []row.Row
		for i := range top.ar.spans {
			r, _, err := f.codec.Decode(top.ar.bytes(i))
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r)
		}
		if got, want := show(rows), show(model[key]); got != want {
			t.Fatalf("live top of %s:\n got %s\nwant %s", key, got, want)
		}
	}
	for _, e := range emitted {
		if e.got != e.want {
			t.Fatalf("an emitted row's string changed after it was emitted: %.40q, was %.40q", e.got, e.want)
		}
	}
	if len(emitted) < 1000 || len(snaps) < 30 {
		t.Fatalf("%d emitted rows, %d snapshots: the test would prove little", len(emitted), len(snaps))
	}
}
