package replayid

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/weirstream/weir/codec"
)

// ids returns the next n ids of s.
func ids(s *Seq, n int) []string {
	var out []string
	for range n {
		out = append(out, string(s.Next(nil)))
	}
	return out
}

// TestRestore checks where a restored writer's numbering continues.
func TestRestore(t *testing.T) {
	// A first run of subtask 1 of 2: three records, checkpoint 4, one
	// more, checkpoint 5 (its committable is the restored one).
	first := New("job", 1, 2, "r1")
	if got := ids(first, 3); strings.Join(got, " ") != "job/1/fr1/0 job/1/fr1/1 job/1/fr1/2" {
		t.Fatalf("fresh ids %q", got)
	}
	c4 := first.Committable(4)
	first.Next(nil)
	c5 := first.Committable(5)
	other := New("job", 0, 2, "r1").Committable(5) // subtask 0's

	tests := []struct {
		name        string
		subtask     int
		parallelism int
		items       [][]byte
		want        string // the first id
	}{
		{"same subtask continues at the latest position", 1, 2, [][]byte{other, c4, c5}, "job/1/fr1/4"},
		{"older pending committable alone", 1, 2, [][]byte{c4}, "job/1/fr1/3"},
		{"rescale starts a chain of its own", 1, 3, [][]byte{other, c5}, "job/1/6p3fr2/0"},
		{"subtask without a position at the same parallelism", 0, 2, [][]byte{c5}, "job/0/6p2fr2/0"},
		{"older version's committables (checkpoint id only), one per old subtask", 1, 2, [][]byte{binary.AppendVarint(nil, 7), binary.AppendVarint(nil, 7)}, "job/1/8/0"},
		{"fresh job", 1, 2, nil, "job/1/fr2/0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New("job", tc.subtask, tc.parallelism, "r2") // a later run of the job
			if err := s.Restore(tc.items); err != nil {
				t.Fatal(err)
			}
			if got := string(s.Next(nil)); got != tc.want {
				t.Fatalf("first id %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFreshRunsApart: two jobs (or runs) that did not restore never
// give their records the same ids, whatever their prefix.
func TestFreshRunsApart(t *testing.T) {
	a, b := New("job", 0, 1, NewRun()), New("job", 0, 1, NewRun())
	if ia, ib := string(a.Next(nil)), string(b.Next(nil)); ia == ib {
		t.Fatalf("two runs both start with id %q", ia)
	}
}

// TestLaterCommitsIgnored: once numbering started, committables handed
// back at checkpoint completion change nothing.
func TestLaterCommitsIgnored(t *testing.T) {
	s := New("job", 0, 1, "r1")
	s.Next(nil)
	c := s.Committable(3)
	s.Next(nil)
	if err := s.Restore([][]byte{c}); err != nil {
		t.Fatal(err)
	}
	if got := string(s.Next(nil)); got != "job/0/fr1/2" {
		t.Fatalf("id after a completion %q, want job/0/fr1/2", got)
	}
}

func TestCorrupt(t *testing.T) {
	good := New("job", 0, 1, "r1").Committable(3)
	for _, b := range [][]byte{nil, {0x80}, append(binary.AppendVarint(nil, 3), 9), good[:len(good)-1], append(good, 0)} {
		if err := New("job", 0, 1, "r2").Restore([][]byte{b}); !errors.Is(err, codec.ErrCorrupt) {
			t.Errorf("Restore(%x) = %v, want ErrCorrupt", b, err)
		}
	}
}

// TestCheckpointBeforeFirstRecord: a checkpoint taken right after a
// restore, before any record, stores the restored position, so that a
// restore from it continues there too.
func TestCheckpointBeforeFirstRecord(t *testing.T) {
	first := New("job", 0, 1, "r1")
	ids(first, 3)
	c4 := first.Committable(4)
	second := New("job", 0, 1, "r2")
	if err := second.Restore([][]byte{c4}); err != nil {
		t.Fatal(err)
	}
	c5 := second.Committable(5)
	third := New("job", 0, 1, "r2")
	if err := third.Restore([][]byte{c5}); err != nil {
		t.Fatal(err)
	}
	if got, want := string(third.Next(nil)), string(first.Next(nil)); got != want {
		t.Fatalf("after a restore of a checkpoint taken before any record: id %q, want %q", got, want)
	}
}
