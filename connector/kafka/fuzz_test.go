package kafka

import (
	"encoding/json"
	"slices"
	"testing"
)

func sameCommittable(a, b committable) bool {
	return a.subtask == b.subtask && a.parallelism == b.parallelism && a.seq == b.seq &&
		a.producerID == b.producerID && a.epoch == b.epoch && a.txnID == b.txnID && slices.Equal(a.parts, b.parts)
}

// FuzzDecodeCommittable checks that decoding arbitrary bytes never panics
// and that whatever decodes encodes back to the same committable.
func FuzzDecodeCommittable(f *testing.F) {
	f.Add(committable{subtask: 1, parallelism: 2, seq: 3, producerID: 4, epoch: 5, txnID: "p-1-3",
		parts: []txnPart{{"t", 1, 7}, {"u", 0, 9}}}.encode())
	f.Add(append([]byte{1, 1, 2, 6, 8, 10}, "p-1-3"...)) // version 1
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCommittable(b)
		if err != nil {
			return
		}
		c2, err := decodeCommittable(c.encode())
		if err != nil || !sameCommittable(c2, c) {
			t.Fatalf("%+v round-trips to %+v (%v)", c, c2, err)
		}
	})
}

// FuzzDecodePosition does the same for source positions.
func FuzzDecodePosition(f *testing.F) {
	f.Add(position{tp: topicPartition{"t", 3}, start: StartOffset{kind: startExact, ts: 99}}.encode())
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePosition(b)
		if err != nil {
			return
		}
		p2, err := decodePosition(p.encode())
		if err != nil || p2 != p {
			t.Fatalf("%+v round-trips to %+v (%v)", p, p2, err)
		}
	})
}

func jsonValid(b []byte) bool { return json.Valid(b) }
