package connector

import (
	"context"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// countRows is a scan of n rows (values unused while skipping).
type countRows struct{ n, at int }

func (c *countRows) Next() bool {
	if c.at >= c.n {
		return false
	}
	c.at++
	return true
}
func (c *countRows) Row() (row.Row, error) { return row.Row{Fields: []row.Value{}}, nil }
func (c *countRows) Err() error            { return nil }
func (c *countRows) Close() error          { return nil }

// While a restored reader skips the rows emitted before the checkpoint
// (more than one poll's worth), a checkpoint stores the restored
// position: the polls so far emitted nothing.
func TestJDBCSnapshotWhileSkipping(t *testing.T) {
	url := "jdbc:postgresql://127.0.0.1:5432/test"
	const restored = 3000 // about three polls of skipping
	// No record is collected while skipping: a zero SourceOutput does.
	out := &weir.SourceOutput[row.Row]{}
	s := jdbcFPOneScan(t, url, "t", []int{0}, 1, "5", false)
	s.open = func(context.Context) (scanRows, error) { return &countRows{n: 10000}, nil }
	item := jdbcFPOneItem(t, s, restored)
	r, err := s.CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{item}})
	if err != nil {
		t.Fatal(err)
	}
	for poll := 1; poll <= 2; poll++ {
		if st, err := r.Poll(context.Background(), out); err != nil || st != weir.MoreAvailable {
			t.Fatalf("poll %d: %v, %v", poll, st, err)
		}
		items, err := r.(*jdbcScanReader).SnapshotState(int64(poll))
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.decodeScanPosition(items[0]); err != nil || n != restored {
			t.Fatalf("one query, after poll %d of the skipping: position %d, %v; want %d", poll, n, err, restored)
		}
	}

	part := &jdbcPartScan{t: s.t, part: &jdbcPartition{num: 2, lower: 1, upper: 20}, queries: make([]jdbcSplitQuery, 2),
		open: func(context.Context, jdbcSplitQuery) (scanRows, error) { return &countRows{n: 10000}, nil }}
	items := [][]byte{part.encode(0, jdbcSplitState{emitted: 10, done: true}), part.encode(1, jdbcSplitState{emitted: restored})}
	pr, err := part.CreateReader(weir.SourceContext{Parallelism: 1, Restored: items})
	if err != nil {
		t.Fatal(err)
	}
	for poll := 1; poll <= 2; poll++ {
		if st, err := pr.Poll(context.Background(), out); err != nil || st != weir.MoreAvailable {
			t.Fatalf("partitioned, poll %d: %v, %v", poll, st, err)
		}
		got, err := pr.(*jdbcPartReader).SnapshotState(int64(poll))
		if err != nil {
			t.Fatal(err)
		}
		for i, it := range got {
			id, st, err := part.decode(it)
			if err != nil {
				t.Fatal(err)
			}
			want := map[int]jdbcSplitState{0: {emitted: 10, done: true}, 1: {emitted: restored}}[id]
			if st != want {
				t.Fatalf("partitioned, after poll %d of the skipping: item %d split %d %+v, want %+v", poll, i, id, st, want)
			}
		}
	}
}
