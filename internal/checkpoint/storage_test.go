package checkpoint_test

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/weirstream/weir/internal/checkpoint"
)

func writeCheckpoint(t *testing.T, s *Storage, id int64, payload string) {
	t.Helper()
	sum, err := s.WriteFile(t.Context(), id, "task-0.bin", []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	m := &Metadata{ID: id, Timestamp: time.Unix(int64(id), 0).UTC(), MaxParallelism: 128,
		Operators: []OperatorMeta{{UID: "op", Name: "Op", Parallelism: 1, Subtasks: []SubtaskMeta{{
			Subtask: 0, File: "task-0.bin", Items: []BlockMeta{{Offset: 0, Length: int64(len(payload))}}}}}},
		Files: map[string]uint32{"task-0.bin": sum}}
	if err := s.WriteMetadata(t.Context(), m); err != nil {
		t.Fatal(err)
	}
}

func TestLatestFallsBackOverCorruption(t *testing.T) {
	var logs bytes.Buffer
	s := &Storage{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if _, _, err := s.Latest(t.Context()); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("empty dir: %v", err)
	}
	writeCheckpoint(t, s, 1, "one")
	writeCheckpoint(t, s, 2, "two")
	writeCheckpoint(t, s, 3, "three")
	m, files, err := s.Latest(t.Context())
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
	mp := filepath.Join(s.ChkDir(2), MetaFile)
	md, _ := os.ReadFile(mp)
	os.WriteFile(mp, md[:len(md)/2], 0o644)

	if _, _, err = s.Latest(t.Context()); !errors.Is(err, ErrFallback) {
		t.Fatalf("Latest after corruption = %v; want a refusal to go back past checkpoints 3 and 2", err)
	}
	r, err := s.Find(t.Context(), true)
	if err != nil || r.Meta.ID != 1 {
		t.Fatalf("Find with fallback after corruption = %v, %v; want checkpoint 1", r, err)
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
	if _, err := s.WriteFile(t.Context(), 2, "task-0.bin", []byte("half")); err != nil {
		t.Fatal(err)
	}
	if err := s.RemovePartial(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.ChkDir(2)); !os.IsNotExist(err) {
		t.Fatalf("partial checkpoint 2 still there: %v", err)
	}
	ids, _ := s.Completed(t.Context())
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
	if err := s.WriteMetadata(f.Context(), m); err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(s.ChkDir(7), MetaFile))
	f.Add(good)
	m.ID = 8
	m.Operators[0].Subtasks[0].Native = &NativeMeta{Kind: "pebble", KeyGroupStart: 0, KeyGroupEnd: 64, Files: []FileRef{
		{Name: "000004.sst", Shared: "op/000004.sst", CRC: 9, Size: 100},
		{Name: "MANIFEST-000001", File: "a", CRC: 1, Size: 30}}}
	if err := s.WriteMetadata(f.Context(), m); err != nil {
		f.Fatal(err)
	}
	native, _ := os.ReadFile(filepath.Join(s.ChkDir(8), MetaFile))
	if _, err := DecodeMetadata(native); err != nil {
		f.Fatal(err)
	}
	f.Add(native)
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

func TestDecodeMetadataRejectsBadNative(t *testing.T) {
	base := func() *Metadata {
		return &Metadata{ID: 1, Files: map[string]uint32{"a": 1}, Operators: []OperatorMeta{{UID: "x", Subtasks: []SubtaskMeta{{
			Native: &NativeMeta{Kind: "pebble", KeyGroupEnd: 4, Files: []FileRef{{Name: "M", File: "a", CRC: 1}}}}}}}}
	}
	for name, edit := range map[string]func(m *Metadata){
		"file outside":      func(m *Metadata) { m.Files["../a"] = 1 },
		"no kind":           func(m *Metadata) { m.Operators[0].Subtasks[0].Native.Kind = "" },
		"key groups":        func(m *Metadata) { m.Operators[0].Subtasks[0].Native.KeyGroupStart = 5 },
		"name with slash":   func(m *Metadata) { m.Operators[0].Subtasks[0].Native.Files[0].Name = "d/M" },
		"shared outside":    func(m *Metadata) { m.Operators[0].Subtasks[0].Native.Files[0].Shared = "../x" },
		"private not there": func(m *Metadata) { m.Operators[0].Subtasks[0].Native.Files[0].File = "b" },
		"private crc":       func(m *Metadata) { m.Operators[0].Subtasks[0].Native.Files[0].CRC = 2 },
		"negative size":     func(m *Metadata) { m.Operators[0].Subtasks[0].Native.Files[0].Size = -1 },
	} {
		m := base()
		b, err := EncodeMetadata(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeMetadata(b); err != nil {
			t.Fatalf("base: %v", err)
		}
		edit(m)
		b, _ = EncodeMetadata(m)
		if _, err := DecodeMetadata(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSharedLocalHardLinks(t *testing.T) {
	ctx := t.Context()
	root, work := t.TempDir(), t.TempDir()
	s := &Storage{Dir: root}
	src := writeLocal(t, work, "000001.sst", "immutable")
	crc, size, err := s.PutShared(ctx, "000001.sst", src)
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b string) bool {
		fa, err1 := os.Stat(a)
		fb, err2 := os.Stat(b)
		return err1 == nil && err2 == nil && os.SameFile(fa, fb)
	}
	if !same(src, filepath.Join(root, "shared", "000001.sst")) {
		t.Fatal("PutShared did not hard-link on one filesystem")
	}
	dst := filepath.Join(work, "restored.sst")
	if err := s.FetchShared(ctx, FileRef{Name: "000001.sst", Shared: "000001.sst", CRC: crc, Size: size}, dst); err != nil {
		t.Fatal(err)
	}
	if !same(dst, src) {
		t.Fatal("FetchShared did not hard-link on one filesystem")
	}
}

func TestCopyFile(t *testing.T) {
	dir := t.TempDir()
	src := writeLocal(t, dir, "src", "data")
	dst := writeLocal(t, dir, "dst", "old content")
	if err := CopyFile(src, dst, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "data" {
		t.Fatalf("copied %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("copy left temporary files: %v", ents)
	}
	if err := CopyFile(filepath.Join(dir, "missing"), dst, false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("copy of a missing file: %v", err)
	}
}

// The package functions for local directories find shared objects beside
// the checkpoint directory.
func TestReadPathShared(t *testing.T) {
	root := t.TempDir()
	s := &Storage{Dir: root}
	src := writeLocal(t, t.TempDir(), "x.sst", "xx")
	crc, size, err := s.PutShared(t.Context(), "x.sst", src)
	if err != nil {
		t.Fatal(err)
	}
	dir := s.ChkDir(3)
	sum, err := WriteFileIn(dir, "task-0.bin", []byte("t"))
	if err != nil {
		t.Fatal(err)
	}
	m := &Metadata{ID: 3, Files: map[string]uint32{"task-0.bin": sum}, Operators: []OperatorMeta{{UID: "u", Subtasks: []SubtaskMeta{{
		File: "task-0.bin", Native: &NativeMeta{Kind: "pebble", KeyGroupEnd: 1, Files: []FileRef{{Name: "x.sst", Shared: "x.sst", CRC: crc, Size: size}}}}}}}}
	if err := WriteMetadataIn(dir, m); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadPath(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "shared", "x.sst")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadPath(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ReadPath without its shared object: %v", err)
	}
}
