package checkpoint_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	. "github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/crashtest"
)

// TestStorageOnFullDisk writes a checkpoint into a full filesystem (a
// real tmpfs, filled to its last byte): its data file, or its metadata,
// or the root's record of the latest checkpoint fails with ENOSPC, and
// what is left is never taken for a complete checkpoint: the previous one
// stays the latest, whole, and the unfinished one is removed at the next
// start.
func TestStorageOnFullDisk(t *testing.T) {
	disk := crashtest.NewSmallDisk(t, "storage-diskfull", 1<<20)
	s := &Storage{Dir: filepath.Join(disk.Path(disk.Dir), "chk")}
	ctx := t.Context()
	writeCheckpoint(t, s, 1, "one")
	if err := s.NoteCompleted(ctx, 1, time.Unix(1, 0), true); err != nil {
		t.Fatal(err)
	}
	// Checkpoint 2's data file fits; then the disk is full.
	sum, err := s.WriteFile(ctx, 2, "task-0.bin", []byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	disk.Fill(t, "filler")
	if _, err := s.WriteFile(ctx, 2, "task-1.bin", make([]byte, 64<<10)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("a data file on the full disk: %v, want ENOSPC", err)
	}
	m := &Metadata{ID: 2, Timestamp: time.Unix(2, 0).UTC(), MaxParallelism: 128,
		Operators: []OperatorMeta{{UID: "op", Name: "Op", Parallelism: 1, Subtasks: []SubtaskMeta{{
			Subtask: 0, File: "task-0.bin", Items: []BlockMeta{{Offset: 0, Length: 3}}}}}},
		Files: map[string]uint32{"task-0.bin": sum}}
	if err := s.WriteMetadata(ctx, m); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("the metadata on the full disk: %v, want ENOSPC", err)
	}
	if _, err := os.Stat(filepath.Join(s.ChkDir(2), MetaFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("checkpoint 2 has metadata after writing it failed: %v", err)
	}
	if err := s.NoteCompleted(ctx, 2, time.Unix(2, 0), true); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("the record of the latest on the full disk: %v, want ENOSPC", err)
	}
	ids, err := s.Completed(ctx)
	if err != nil || !slices.Equal(ids, []int64{1}) {
		t.Fatalf("completed = %v, %v; want [1]", ids, err)
	}
	r, err := s.Find(ctx, false)
	if err != nil || r.ID != 1 {
		t.Fatalf("Find on the full disk = %v, %v; want checkpoint 1, whole", r, err)
	}
	// The next start (with space or without: removing frees it).
	if err := s.RemovePartial(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.ChkDir(2)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unfinished checkpoint 2 left: %v", err)
	}
	disk.Free(t, "filler")
	writeCheckpoint(t, s, 3, "three")
	if err := s.NoteCompleted(ctx, 3, time.Unix(3, 0), true); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Find(ctx, false); err != nil || r.ID != 3 {
		t.Fatalf("Find after freeing the disk = %v, %v; want checkpoint 3", r, err)
	}
}
