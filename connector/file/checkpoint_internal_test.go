package file

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirstream/weir"
)

func TestPositionCodec(t *testing.T) {
	for _, p := range []filePos{{}, {off: 1 << 40, line: 12345, header: true}, {off: 7, line: 2, done: true}} {
		rel, got, err := decodePos(encodePos("dir/ü.csv", p))
		if err != nil || rel != "dir/ü.csv" || got != p {
			t.Fatalf("round trip of %+v: %q %+v %v", p, rel, got, err)
		}
	}
	good := encodePos("a", filePos{off: 3, line: 1})
	for name, b := range map[string][]byte{
		"empty":      nil,
		"version":    append([]byte{9}, good[1:]...),
		"short name": good[:2],
		"no flags":   good[:len(good)-1],
		"extra":      append(append([]byte{}, good...), 0),
		"bad flags":  append(append([]byte{}, good[:len(good)-1]...), 0x80),
		"bad varint": {posVersion, 1, 'a', 0x80},
	} {
		if _, _, err := decodePos(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	if _, err := decodePositions([][]byte{good, encodePos("a", filePos{off: 4, line: 2})}); err == nil {
		t.Error("two different positions of one file decoded")
	}
}

// TestRestoreAssignment: after a restore each reader owns the files of its
// subtask under the new parallelism, with their stored positions; a file
// the checkpoint was reading must still exist.
func TestRestoreAssignment(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.jsonl", "b.jsonl", "c.jsonl", "sub/d.jsonl"} {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}\n{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	items := [][]byte{
		encodePos("a.jsonl", filePos{off: 3, line: 1}),
		encodePos("c.jsonl", filePos{off: 6, line: 2, done: true}),
		encodePos("sub/d.jsonl", filePos{off: 3, line: 1}),
		encodePos("gone.jsonl", filePos{off: 3, line: 1, done: true}), // finished, then deleted: fine
	}
	src := JSONSource[map[string]any](dir, SourceOptions{})
	type split struct {
		rel string
		pos filePos
	}
	var got [][]split
	for sub := range 2 {
		r, err := src.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: 2, Restored: items})
		if err != nil {
			t.Fatal(err)
		}
		var s []split
		for _, f := range r.(*reader[map[string]any]).files {
			s = append(s, split{f.rel, f.pos})
		}
		got = append(got, s)
	}
	want := [][]split{
		{{"a.jsonl", filePos{off: 3, line: 1}}, {"c.jsonl", filePos{off: 6, line: 2, done: true}}},
		{{"b.jsonl", filePos{}}, {"sub/d.jsonl", filePos{off: 3, line: 1}}},
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("subtask %d: %v, want %v", i, got[i], want[i])
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("subtask %d: %v, want %v", i, got[i], want[i])
			}
		}
	}
	items = append(items, encodePos("lost.jsonl", filePos{off: 3, line: 1}))
	_, err := src.CreateReader(weir.SourceContext{Subtask: 0, Parallelism: 1, Restored: items, RestoredFrom: 7})
	if err == nil || !strings.Contains(err.Error(), "lost.jsonl") || !strings.Contains(err.Error(), "checkpoint 7") {
		t.Fatalf("restoring with a file gone: %v", err)
	}
}
