package checkpoint_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/weirstream/weir/internal/checkpoint"
)

// completed writes checkpoint id as the driver does: metadata, then the
// root's record.
func completed(t *testing.T, s *Storage, id int64, payload string) {
	t.Helper()
	checkpointWith(t, s, id, payload, nil)
	if err := s.NoteCompleted(t.Context(), id, time.Unix(id, 0), true); err != nil {
		t.Fatal(err)
	}
}

// savepointAt writes a savepoint with id and payload at loc.
func savepointAt(t *testing.T, s *Storage, loc string, id int64, payload string) {
	t.Helper()
	ctx := t.Context()
	sum, err := s.WriteFileLocation(ctx, loc, "task-0.bin", []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	m := &Metadata{ID: id, Timestamp: time.Unix(id, 0).UTC(), Savepoint: true, MaxParallelism: 128,
		Operators: []OperatorMeta{{UID: "op", Name: "Op", Parallelism: 1, Subtasks: []SubtaskMeta{{
			Subtask: 0, File: "task-0.bin", Items: []BlockMeta{{Offset: 0, Length: int64(len(payload))}}}}}},
		Files: map[string]uint32{"task-0.bin": sum}}
	if err := s.WriteMetadataLocation(ctx, loc, m); err != nil {
		t.Fatal(err)
	}
}

func payloadOf(t *testing.T, r *Restored) string {
	t.Helper()
	b, err := Block(r.Files, "task-0.bin", r.Meta.Operators[0].Subtasks[0].Items[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A stop-with-savepoint (or a restored savepoint) leaves a pointer that
// "latest" honours; retention deletes the pointer, never the savepoint.
func TestStoragePointer(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, _ *bytes.Buffer) {
		ctx := t.Context()
		completed(t, s, 1, "one")
		completed(t, s, 2, "two")
		sp := strings.TrimSuffix(s.Dir, "/chk") + "/savepoints/savepoint-3"
		if !strings.Contains(sp, "savepoints") {
			sp = s.Dir + "-savepoints/savepoint-3"
		}
		savepointAt(t, s, sp, 3, "three")
		if err := s.WritePointer(ctx, 3, sp); err != nil {
			t.Fatal(err)
		}
		if err := s.NoteCompleted(ctx, 3, time.Unix(3, 0), true); err != nil {
			t.Fatal(err)
		}
		if err := s.RemovePartial(ctx); err != nil {
			t.Fatal(err)
		}
		if ids, err := s.Completed(ctx); err != nil || !slices.Equal(ids, []int64{3, 2, 1}) {
			t.Fatalf("completed = %v, %v", ids, err)
		}
		r, err := s.Find(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if r.Meta.ID != 3 || r.Location != sp || payloadOf(t, r) != "three" || !r.Meta.Savepoint {
			t.Fatalf("Find = %+v (%q), want the savepoint at %s", r, payloadOf(t, r), sp)
		}
		if r.Shared.Dir != ParentLocation(sp) {
			t.Fatalf("shared objects looked for in %s, want beside the savepoint", r.Shared.Dir)
		}
		if m, _, err := s.Read(ctx, 3); err != nil || m.ID != 3 {
			t.Fatalf("Read(3) = %v, %v", m, err)
		}
		if n, err := s.MaxID(ctx); err != nil || n != 3 {
			t.Fatalf("MaxID = %d, %v", n, err)
		}
		// Retention removes the pointer only.
		if err := s.Discard(ctx, 3); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ReadLocation(ctx, sp); err != nil {
			t.Fatalf("the savepoint went with its pointer: %v", err)
		}
		// A savepoint gone from under its pointer is a completed
		// checkpoint that cannot be read.
		if err := s.WritePointer(ctx, 4, sp+"-gone"); err != nil {
			t.Fatal(err)
		}
		mustFallback(t, s, 2, "chk-4", "savepoint-3-gone")
	})
}

// _latest keeps what the checkpoints' own files cannot: that a checkpoint
// completed (an emptied or deleted chk-<id> still counts), and the
// highest id used.
func TestStorageRecord(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, logs *bytes.Buffer) {
		ctx := t.Context()
		if _, err := s.Find(ctx, false); !errors.Is(err, ErrNoCheckpoint) {
			t.Fatalf("empty root: %v", err)
		}
		completed(t, s, 1, "one")
		completed(t, s, 2, "two")
		// A savepoint that commits nothing raises only the highest id.
		if err := s.NoteCompleted(ctx, 7, time.Unix(7, 0), false); err != nil {
			t.Fatal(err)
		}
		if n, err := s.MaxID(ctx); err != nil || n != 7 {
			t.Fatalf("MaxID = %d, %v; want 7", n, err)
		}
		mustLatest(t, s, 2)
		// A partial checkpoint (crash before its metadata) is no reason to
		// refuse, and its id counts.
		if _, err := s.WriteFile(ctx, 9, "task-0.bin", []byte("half")); err != nil {
			t.Fatal(err)
		}
		mustLatest(t, s, 2)
		if n, _ := s.MaxID(ctx); n != 9 {
			t.Fatalf("MaxID = %d; want 9 (a partial checkpoint's id)", n)
		}
		// Checkpoint 2 emptied: known complete, so refused.
		if err := s.Discard(ctx, 2); err != nil {
			t.Fatal(err)
		}
		mustFallback(t, s, 1, "checkpoint 2", "_metadata is missing", "taken 1970-01-01T00:00:02Z")
		wantLogs(t, logs, "level=ERROR", "checkpoint=2")
		// Every checkpoint gone, but the record remembers: no fresh start.
		if err := s.Discard(ctx, 1); err != nil {
			t.Fatal(err)
		}
		mustNoneUsable(t, s, "checkpoint 2", "_metadata is missing")
		// A damaged record: whether a newer checkpoint completed is
		// unknown.
		completed(t, s, 3, "three")
		rewrite(t, s, RecordFile, flipFirst)
		r := mustFallback(t, s, 3, "_latest", "unknown whether a newer checkpoint completed")
		if payloadOf(t, r) != "three" {
			t.Fatalf("restored %q", payloadOf(t, r))
		}
		// The next completion replaces it.
		if err := s.NoteCompleted(ctx, 10, time.Unix(10, 0), false); err != nil {
			t.Fatal(err)
		}
		mustLatest(t, s, 3)
	})
}

func TestStorageOwns(t *testing.T) {
	s := &Storage{Dir: "/data/chk"}
	for loc, want := range map[string]bool{
		"/data/chk/chk-4":          true,
		"/data/chk/chk-4/":         true,
		"/data/chk/../chk/chk-12":  true,
		"/data/chk/chk-x":          false,
		"/data/chk/chk-04":         false,
		"/data/chk/savepoint-4-x":  false,
		"/data/other/chk-4":        false,
		"/data/chk/sub/chk-4":      false,
		"s3://bucket/data/chk/chk": false,
	} {
		if got := s.Owns(loc); got != want {
			t.Errorf("Owns(%q) = %v, want %v", loc, got, want)
		}
	}
	rel := &Storage{Dir: "chk"}
	if !rel.Owns(filepath.Join("chk", "chk-3")) {
		t.Error("a relative root does not own its chk-3")
	}
	s3 := &Storage{Dir: "s3://b/jobs/one/"}
	if !s3.Owns("s3://b/jobs/one/chk-3") || s3.Owns("s3://b/jobs/two/chk-3") || s3.Owns("/jobs/one/chk-3") {
		t.Error("Owns on s3 locations")
	}
}

// A pointer written with a relative location (a relative --savepoint-dir,
// or --restore of a relative path) still names the savepoint when the
// next run starts in another working directory.
func TestStoragePointerRelative(t *testing.T) {
	base := t.TempDir()
	s := &Storage{Dir: filepath.Join(base, "chk")}
	completed(t, s, 1, "one")
	t.Chdir(base)
	savepointAt(t, s, filepath.Join("sp", "savepoint-2"), 2, "two")
	if err := s.WritePointer(t.Context(), 2, filepath.Join("sp", "savepoint-2")); err != nil {
		t.Fatal(err)
	}
	if err := s.NoteCompleted(t.Context(), 2, time.Unix(2, 0), true); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	r, err := reopen(s).Find(t.Context(), false)
	if err != nil {
		t.Fatalf("Find from another working directory: %v", err)
	}
	if r.Meta.ID != 2 || payloadOf(t, r) != "two" {
		t.Fatalf("Find = checkpoint %d (%q), want the savepoint", r.Meta.ID, payloadOf(t, r))
	}
}

// The refusal lists a stop-with-savepoint as chk-<id> of the root and
// suggests restoring by path: that path must read the savepoint it
// points to, with its shared objects beside the savepoint.
func TestStorageResolvePointerLocation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, _ *bytes.Buffer) {
		ctx := t.Context()
		completed(t, s, 1, "one")
		sp := s.Dir + "-savepoints/savepoint-2"
		savepointAt(t, s, sp, 2, "two")
		if err := s.WritePointer(ctx, 2, sp); err != nil {
			t.Fatal(err)
		}
		loc, err := s.ResolveLocation(ctx, s.ChkDir(2))
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := filepath.Abs(sp); loc != sp && loc != want {
			t.Fatalf("ResolveLocation(chk-2) = %s, want %s", loc, sp)
		}
		from := &Storage{Dir: ParentLocation(loc), Remote: s.Remote}
		m, _, err := from.ReadLocation(ctx, loc)
		if err != nil || m.ID != 2 || !m.Savepoint {
			t.Fatalf("ReadLocation(%s) = %v, %v", loc, m, err)
		}
		// Not a pointer: the location itself.
		if loc, err := s.ResolveLocation(ctx, s.ChkDir(1)); err != nil || loc != s.ChkDir(1) {
			t.Fatalf("ResolveLocation(chk-1) = %s, %v", loc, err)
		}
		if loc, err := s.ResolveLocation(ctx, sp); err != nil || loc != sp {
			t.Fatalf("ResolveLocation(savepoint) = %s, %v", loc, err)
		}
	})
}

// A refused fallback to a pointer names the pointer's chk-<id> of the
// root, not the id inside the savepoint's metadata (a savepoint of
// another root has its own numbering: that chk-<id> may not exist, or be
// another checkpoint).
func TestStorageFallbackToPointerNamesEntry(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, logs *bytes.Buffer) {
		ctx := t.Context()
		completed(t, s, 1, "one")
		sp := s.Dir + "-savepoints/savepoint-3"
		savepointAt(t, s, sp, 3, "three")
		if err := s.WritePointer(ctx, 7, sp); err != nil {
			t.Fatal(err)
		}
		if err := s.NoteCompleted(ctx, 7, time.Unix(7, 0), true); err != nil {
			t.Fatal(err)
		}
		completed(t, s, 8, "eight")
		rewrite(t, s, "chk-8/_metadata", flipFirst)
		_, err := s.Find(ctx, false)
		var fe *FallbackError
		if !errors.As(err, &fe) {
			t.Fatalf("Find = %v; want a refusal", err)
		}
		if fe.Usable != 7 || strings.Contains(err.Error(), "checkpoint 3") {
			t.Fatalf("refusal names checkpoint %d as the usable one, want 7 (the pointer chk-7):\n%v", fe.Usable, err)
		}
		r, err := s.Find(ctx, true)
		if err != nil || payloadOf(t, r) != "three" {
			t.Fatalf("Find with fallback = %v, %v", r, err)
		}
		if strings.Contains(logs.String(), "checkpoint=3") {
			t.Fatalf("fallback log names checkpoint 3, not the pointer chk-7:\n%s", logs.String())
		}
	})
}
