package kafka

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/graph"
)

func sameCommittable(a, b committable) bool {
	return a.subtask == b.subtask && a.parallelism == b.parallelism && a.seq == b.seq &&
		a.producerID == b.producerID && a.epoch == b.epoch && a.txnID == b.txnID && slices.Equal(a.parts, b.parts)
}

// FuzzDecodeCommittable checks that decoding arbitrary bytes never panics,
// that an accepted committable holds exactly the numbers its bytes spell
// (nothing truncated into range) within the limits a sink writes, and that
// whatever decodes encodes back to the same committable.
func FuzzDecodeCommittable(f *testing.F) {
	f.Add(committable{subtask: 1, parallelism: 2, seq: 3, producerID: 4, epoch: 5, txnID: "p-1-3",
		parts: []txnPart{{"t", 1, 7}, {"u", 0, 9}}}.encode())
	f.Add(append([]byte{1, 1, 2, 6, 8, 10}, "p-1-3"...)) // version 1
	f.Add([]byte{1})
	f.Add(committable{subtask: 0, parallelism: 1, epoch: -1, txnID: "x"}.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCommittable(b)
		if err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		// The numbers as the bytes spell them.
		rest := b[1:]
		var vals [5]int64
		for i := range vals {
			var n int
			if i < 2 {
				var u uint64
				u, n = binary.Uvarint(rest)
				if u > math.MaxInt64 {
					t.Fatalf("%x: accepted %d as a count", b, u)
				}
				vals[i] = int64(u)
			} else {
				vals[i], n = binary.Varint(rest)
			}
			rest = rest[n:]
		}
		if int64(c.subtask) != vals[0] || int64(c.parallelism) != vals[1] || int64(c.epoch) != vals[4] {
			t.Fatalf("%x decoded as %+v, its numbers are %v", b, c, vals)
		}
		if c.subtask < 0 || c.subtask >= c.parallelism || c.parallelism > graph.MaxMaxParallelism {
			t.Fatalf("%x decoded as subtask %d of %d", b, c.subtask, c.parallelism)
		}
		c2, err := decodeCommittable(c.encode())
		if err != nil || !sameCommittable(c2, c) {
			t.Fatalf("%+v round-trips to %+v (%v)", c, c2, err)
		}
	})
}

// FuzzDecodePosition does the same for source positions: a partition is
// an int32 as written, and an accepted position followed by a byte is
// refused.
func FuzzDecodePosition(f *testing.F) {
	f.Add(position{tp: topicPartition{"t", 3}, start: StartOffset{kind: startExact, ts: 99}}.encode())
	f.Add([]byte{0})
	f.Add(position{tp: topicPartition{"", math.MaxInt32}, start: StartOffset{kind: startEarliest, ts: -1}}.encode())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f}) // a topic of 2^60 bytes
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePosition(b)
		if err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		l, n := binary.Uvarint(b)
		part, _ := binary.Varint(b[n+int(l):])
		if int64(p.tp.partition) != part || part < 0 {
			t.Fatalf("%x decoded as partition %d, the bytes say %d", b, p.tp.partition, part)
		}
		p2, err := decodePosition(p.encode())
		if err != nil || p2 != p {
			t.Fatalf("%+v round-trips to %+v (%v)", p, p2, err)
		}
		if _, err := decodePosition(append(b[:len(b):len(b)], 0)); err == nil {
			t.Fatalf("%x with a byte more decoded", b)
		}
	})
}

// FuzzSubtaskOf checks the parser of transactional ids, which decides the
// open transactions a restore aborts: an id parses only if it is the id
// TransactionalID gives that subtask (and a slot), and every such id
// parses.
func FuzzSubtaskOf(f *testing.F) {
	f.Add("weir-sink", "weir-sink-3-5", 3, int64(5))
	f.Add("p", "p-+3-1", 0, int64(0))
	f.Add("p", "p-03-1", 7, int64(-1))
	f.Add("p", "p-3-9", 1, int64(9))
	f.Add("a-b", "a-b-1-1", 0, int64(1))
	f.Fuzz(func(t *testing.T, prefix, id string, sub int, seq int64) {
		if sub >= 0 && seq >= 0 {
			if s, ok := subtaskOf(prefix, TransactionalID(prefix, sub, seq)); !ok || s != sub {
				t.Fatalf("%q: subtask %d, %v", TransactionalID(prefix, sub, seq), s, ok)
			}
		}
		s, ok := subtaskOf(prefix, id)
		if !ok {
			return
		}
		for slot := range int64(TransactionSlots) {
			if TransactionalID(prefix, s, slot) == id {
				return
			}
		}
		t.Fatalf("%q (prefix %q) parsed as subtask %d, which has no such id", id, prefix, s)
	})
}

func jsonValid(b []byte) bool { return json.Valid(b) }
