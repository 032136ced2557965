package checkpoint

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeCheckpoint(t *testing.T, s *Storage, id int64, payload string) {
	t.Helper()
	sum, err := s.WriteFile(id, "task-0.bin", []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	m := &Metadata{ID: id, Timestamp: time.Unix(int64(id), 0).UTC(), MaxParallelism: 128,
		Operators: []OperatorMeta{{UID: "op", Name: "Op", Parallelism: 1, Subtasks: []SubtaskMeta{{
			Subtask: 0, File: "task-0.bin", Items: []BlockMeta{{Offset: 0, Length: int64(len(payload))}}}}}},
		Files: map[string]uint32{"task-0.bin": sum}}
	if err := s.WriteMetadata(m); err != nil {
		t.Fatal(err)
	}
}

func TestLatestFallsBackOverCorruption(t *testing.T) {
	var logs bytes.Buffer
	s := &Storage{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if _, _, err := s.Latest(); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("empty dir: %v", err)
	}
	writeCheckpoint(t, s, 1, "one")
	writeCheckpoint(t, s, 2, "two")
	writeCheckpoint(t, s, 3, "three")
	m, files, err := s.Latest()
	if err != nil || m.ID != 3 {
		t.Fatalf("Latest = %v, %v", m, err)
	}
	if b, _ := Block(files, "task-0.bin", m.Operators[0].Subtasks[0].Items[0]); string(b) != "three" {
		t.Fatalf("block = %q", b)
	}

	// Flip a byte of checkpoint 3's data: its checksum no longer matches.
	p := filepath.Join(s.ChkDir(3), "task-0.bin")
	data, _ := os.ReadFile(p)
	data[0] ^= 0xff
	os.WriteFile(p, data, 0o644)
	// Truncate checkpoint 2's metadata.
	mp := filepath.Join(s.ChkDir(2), metaFile)
	md, _ := os.ReadFile(mp)
	os.WriteFile(mp, md[:len(md)/2], 0o644)

	m, _, err = s.Latest()
	if err != nil || m.ID != 1 {
		t.Fatalf("Latest after corruption = %v, %v; want checkpoint 1", m, err)
	}
	for _, want := range []string{"checkpoint=3", "checksum", "checkpoint=2"} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("log does not say why it skipped (%q):\n%s", want, logs.String())
		}
	}
}

func TestRemovePartial(t *testing.T) {
	s := &Storage{Dir: t.TempDir()}
	writeCheckpoint(t, s, 1, "one")
	if _, err := s.WriteFile(2, "task-0.bin", []byte("half")); err != nil {
		t.Fatal(err)
	}
	if err := s.RemovePartial(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.ChkDir(2)); !os.IsNotExist(err) {
		t.Fatalf("partial checkpoint 2 still there: %v", err)
	}
	ids, _ := s.Completed()
	if len(ids) != 1 || ids[0] != 1 {
		t.Fatalf("completed = %v", ids)
	}
}

func TestBlockBounds(t *testing.T) {
	files := map[string][]byte{"f": []byte("abc")}
	for _, b := range []BlockMeta{{Offset: 2, Length: 2}, {Offset: -1, Length: 1}, {Offset: 0, Length: -1}} {
		if _, err := Block(files, "f", b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("block %+v: %v", b, err)
		}
	}
	if _, err := Block(files, "g", BlockMeta{}); !errors.Is(err, ErrCorrupt) {
		t.Fatal("missing file accepted")
	}
}

func FuzzDecodeMetadata(f *testing.F) {
	s := &Storage{Dir: f.TempDir()}
	m := &Metadata{ID: 7, MaxParallelism: 128, Files: map[string]uint32{"a": 1},
		Operators: []OperatorMeta{{UID: "x", Subtasks: []SubtaskMeta{{File: "a", KeyGroups: []BlockMeta{{KeyGroup: 3, Offset: 1, Length: 2}}}}}}}
	if err := s.WriteMetadata(m); err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(s.ChkDir(7), metaFile))
	f.Add(good)
	f.Add([]byte("{}\n0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMetadata(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if m.Version != FormatVersion {
			t.Fatalf("accepted version %d", m.Version)
		}
	})
}
