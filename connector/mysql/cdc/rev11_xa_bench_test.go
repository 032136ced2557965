package cdc

import (
	"fmt"
	"testing"
)

// preparedState is a position holding one prepared XA transaction of n
// row changes (id, v, u BIGINT and a 32-byte string).
func preparedState(n int) state {
	tx := &xaTx{XID: "1:70:", File: "mariadb-bin.000001", Pos: 4, GTID: "0-1-1"}
	for i := range n {
		tx.Changes = append(tx.Changes, xaChange{Table: 0, Row: i, After: []any{int64(i), int64(i * 7), int64(0), fmt.Sprintf("%032d", i)}})
	}
	return state{File: "mariadb-bin.000001", Pos: 1000, GTID: "0-1-5", Table: 1, Tables: []string{"d.t"}, XA: []*xaTx{tx}}
}

// BenchmarkRev11CheckpointPreparedXA: the reader's checkpoints
// (SnapshotState) of a position holding a prepared XA transaction of
// 100,000 row changes, undecided between checkpoints (after the first
// checkpoint holding it, outside the timing).
func BenchmarkRev11CheckpointPreparedXA(b *testing.B) {
	r := &reader{st: preparedState(100000)}
	if _, err := r.SnapshotState(1); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		enc, err := r.SnapshotState(1)
		if err != nil {
			b.Fatal(err)
		}
		n = len(enc[0])
	}
	b.ReportMetric(float64(n), "bytes/checkpoint")
}
