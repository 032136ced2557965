package exec

import (
	"fmt"
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/heap"
	"github.com/weirstream/weir/row"
)

// TestRankTopSnapshotInFlight drives the heap backend's copy-on-write
// with rankTop's CopyState as rankAppendFn changes a top in place: a full
// top whose rows move within the slice (a row entering the middle), and a
// top that grows by append within its capacity. The snapshot is written
// on another goroutine while the task changes the tops (the race
// detector sees a shared slice), and holds the tops as they were at the
// capture; the task's tops have the changes.
func TestRankTopSnapshotInFlight(t *testing.T) {
	types := []row.Type{row.BigInt()}
	f := newRankAppendFn(RankSpec{Types: types, RankStart: 1, RankEnd: 4, OrderBy: []OrderKey{{Col: 0}}})
	newState := newRankTopState
	ints := func(rs []row.Row) string {
		var s []int64
		for _, r := range rs {
			s = append(s, r.Fields[0].Int())
		}
		return fmt.Sprint(s)
	}
	kc, b, v := newState()
	full := []row.Row{row.Of(row.Int(1)), row.Of(row.Int(3)), row.Of(row.Int(5)), row.Of(row.Int(7))}
	growing := make([]row.Row, 2, 4)
	growing[0], growing[1] = row.Of(row.Int(2)), row.Of(row.Int(4))
	_ = kc.Set("full")
	v.Update(rankTop{codec: f.codec, rows: full})
	_ = kc.Set("growing")
	v.Update(rankTop{codec: f.codec, rows: growing})

	write, err := b.SnapshotAsync()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[int][]byte{}
	done := make(chan error, 1)
	go func() {
		done <- write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) })
	}()
	for i := range 50 {
		// A row entering the full top at rank 2 (as ProcessElement).
		_ = kc.Set("full")
		top, _ := v.Value()
		rows, err := f.load(&top)
		if err != nil {
			t.Fatal(err)
		}
		copy(rows[2:], rows[1:3])
		rows[1] = row.Of(row.Int(int64(2 + i)))
		v.Update(rankTop{codec: f.codec, rows: rows})
		// A row appended to the growing top, in its capacity.
		_ = kc.Set("growing")
		top, _ = v.Value()
		if rows, err = f.load(&top); err != nil {
			t.Fatal(err)
		}
		if len(rows) < cap(rows) {
			rows = append(rows, row.Of(row.Int(int64(100+i))))
			v.Update(rankTop{codec: f.codec, rows: rows})
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
	for key, want := range map[string]string{"full": "[1 3 5 7]", "growing": "[2 4]"} {
		_ = rkc.Set(key)
		top, ok := rv.Value()
		rows, err := f.load(&top)
		if err != nil || !ok {
			t.Fatalf("%s: restored %v, %v", key, ok, err)
		}
		if got := ints(rows); got != want {
			t.Fatalf("snapshot's %s top %s, want %s (as at the capture)", key, got, want)
		}
	}
	_ = kc.Set("full")
	top, _ := v.Value()
	if got := ints(top.rows); got != "[1 51 50 49]" {
		t.Fatalf("live full top %s, want [1 51 50 49]", got)
	}
}

// newRankTopState returns a heap backend of 128 key groups (processing
// time 0) with the append-only Top-N's value state "rank-top", and its key
// context.
func newRankTopState() (*statebackend.KeyContext[string], *heap.Backend[string], *heap.Value[string, struct{}, rankTop]) {
	kc := statebackend.NewKeyContext(keygroup.Hasher[string](), 128, keygroup.Range{Start: 0, End: 128})
	b := heap.New(kc, func() int64 { return 0 })
	v := heap.NewValue[string, struct{}, rankTop](b, statebackend.TTL{})
	v.SetName("rank-top")
	return kc, b, v
}
