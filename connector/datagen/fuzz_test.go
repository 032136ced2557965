package datagen

import (
	"bytes"
	"math"
	"slices"
	"testing"
)

// FuzzRestoreSequences restores arbitrary items (split at 0xfe) as the
// positions of a generator: no panic; what restores is a whole set of
// sequences, each id below the stride and its next number one the
// sequence produces (id plus a multiple of the stride, or the end of
// numbers after an overflow), so that no number is produced twice; the
// subtasks of any parallelism share the sequences without overlap; and
// what the readers store again restores to the same sequences.
func FuzzRestoreSequences(f *testing.F) {
	f.Add(bytes.Join([][]byte{seqItem(0, 3, 9), seqItem(1, 3, 4), seqItem(2, 3, 2)}, []byte{0xfe}), uint8(2))
	f.Add(seqItem(0, 1, math.MaxInt64), uint8(1))
	f.Add(bytes.Join([][]byte{seqItem(0, 2, 1), seqItem(1, 2, 3)}, []byte{0xfe}), uint8(1))
	f.Add([]byte{seqVersion, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, par uint8) {
		parallelism := int(par)%8 + 1
		items := bytes.Split(b, []byte{0xfe})
		var all []sequence
		var step int64
		for s := range parallelism {
			seqs, st, err := restoreSequences(items, s, parallelism)
			if err != nil {
				return
			}
			step = st
			all = append(all, seqs...)
		}
		slices.SortFunc(all, func(a, b sequence) int { return a.id - b.id })
		if int64(len(all)) != step {
			t.Fatalf("%d sequences of stride %d over %d subtasks", len(all), step, parallelism)
		}
		for i, sq := range all {
			if sq.id != i {
				t.Fatalf("sequence ids %v", all)
			}
			if sq.next < 0 || (sq.next%step != int64(sq.id) && sq.next != math.MaxInt64) {
				t.Fatalf("sequence %d of stride %d at %d: not one of its numbers", sq.id, step, sq.next)
			}
		}
		r := &reader[int]{seqs: all, step: step}
		again, err := r.SnapshotState(0)
		if err != nil {
			t.Fatal(err)
		}
		seqs, st, err := restoreSequences(again, 0, 1)
		if err != nil || st != step || !slices.Equal(seqs, all) {
			t.Fatalf("%v stride %d restores as %v stride %d (%v)", all, step, seqs, st, err)
		}
	})
}
