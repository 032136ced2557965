package cdc

import (
	"errors"
	"testing"

	"github.com/jackc/pglogrepl"

	"github.com/weirstream/weir/codec"
)

func TestCompareKey(t *testing.T) {
	tb := &Table{Columns: []Column{{Name: "a", OID: oidInt8}, {Name: "b", OID: 25}, {Name: "n", OID: oidNumeric}}, Key: []int{0, 1}}
	for _, tc := range []struct {
		a, b []string
		want int
	}{
		{[]string{"9", "z"}, []string{"10", "a"}, -1}, // numeric, not text, order
		{[]string{"10", "b"}, []string{"10", "a"}, 1},
		{[]string{"-5", "a"}, []string{"-5", "a"}, 0},
		{[]string{"1", "B"}, []string{"1", "a"}, -1}, // COLLATE "C": bytes
	} {
		if got := compareKey(tb, tc.a, tc.b); got != tc.want {
			t.Errorf("compareKey(%v, %v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	for _, tc := range []struct {
		a, b string
		want int
	}{{"1.50", "1.5", 0}, {"NaN", "1e9", 1}, {"-2", "1", -1}} {
		if got := compareKeyPart(oidNumeric, tc.a, tc.b); got != tc.want {
			t.Errorf("numeric %s vs %s = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestReadAt: a row's snapshot LSN is that of the last boundary before it.
func TestReadAt(t *testing.T) {
	tb := &Table{Columns: []Column{{Name: "k", OID: oidInt4}}, Key: []int{0}}
	bounds := []boundary{{Table: 0, After: []string{"100"}, LSN: 20}, {Table: 0, After: []string{"250"}, LSN: 30}, {Table: 1, LSN: 40}}
	for _, tc := range []struct {
		ti   int
		key  string
		want uint64
	}{{0, "5", 10}, {0, "100", 10}, {0, "101", 20}, {0, "250", 20}, {0, "251", 30}, {1, "1", 40}, {2, "1", 40}} {
		if got := readAt(10, bounds, tb, tc.ti, []string{tc.key}); uint64(got) != tc.want {
			t.Errorf("table %d key %s read at %d, want %d", tc.ti, tc.key, got, tc.want)
		}
	}
}

func TestPositionRoundTrip(t *testing.T) {
	p := position{Phase: phaseSnapshot, Start: 5, Tables: []string{"public.a", "public.b"}, Table: 1, LastKey: []string{"7"},
		Bounds: []boundary{{Table: 1, After: []string{"3"}, LSN: 9}}, Done: 5, PartCommit: 11, PartN: 2}
	got, err := decodePosition(p.encode())
	if err != nil || got.Table != 1 || got.LastKey[0] != "7" || got.Bounds[0].LSN != 9 || got.PartN != 2 || got.Start != 5 {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{`{`, `{"v":1,"phase":"x"}`, `{"v":2,"phase":"stream"}`, `{"v":1,"phase":"stream","table":3,"tables":["a"]}`} {
		if _, err := decodePosition([]byte(bad)); !errors.Is(err, codec.ErrCorrupt) {
			t.Errorf("%s: %v, want corrupt", bad, err)
		}
	}
}

// FuzzDecodeText: no text value makes the decoder panic, and what a
// type that decodes to a string gets back is the text itself.
func FuzzDecodeText(f *testing.F) {
	for _, s := range []string{"1", "-1.5e3", "t", "2024-02-29", "2024-02-29 12:00:00.5+02", `\xdead`, `{"a":1}`, "infinity", "NaN"} {
		f.Add(uint32(oidDate), []byte(s))
	}
	f.Fuzz(func(t *testing.T, oid uint32, b []byte) {
		v, err := decodeText(oid, b)
		if err != nil {
			return
		}
		if s, ok := v.(string); ok && oid != oidNumeric && s != string(b) {
			t.Fatalf("%d %q decoded to %q", oid, b, s)
		}
	})
}

func TestTempSlotName(t *testing.T) {
	long := "s0123456789012345678901234567890123456789012345678901234567890"
	if n := tempSlotName(long); len(n) > 63 {
		t.Fatalf("%q: %d bytes", n, len(n))
	}
}

// TestInSnapshot: a transaction whose commit record starts exactly at a
// snapshot's consistent point is streamed by the slot and not visible to
// its exported snapshot: the stream must not drop it as already read.
func TestInSnapshot(t *testing.T) {
	for _, tc := range []struct {
		commit, at uint64
		want       bool
	}{{99, 100, true}, {100, 100, false}, {101, 100, false}} {
		if got := inSnapshot(pglogrepl.LSN(tc.commit), pglogrepl.LSN(tc.at)); got != tc.want {
			t.Errorf("commit %d, consistent point %d: in snapshot %v, want %v", tc.commit, tc.at, got, tc.want)
		}
	}
}
