package checkpoint_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	blob "github.com/weirstream/weir/checkpoint"
	"github.com/weirstream/weir/checkpoint/s3"
	. "github.com/weirstream/weir/internal/checkpoint"
)

// The storage conformance suite: every test runs over every blob store.

const testBucket = "weir-test"

// fakeS3 serves an in-process S3 with one bucket and returns its URL.
func fakeS3(t testing.TB) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return srv.URL
}

// storeKinds make a Storage over an empty root of each kind.
var storeKinds = []struct {
	name string
	new  func(t *testing.T, logger *slog.Logger) *Storage
}{
	{"local", func(t *testing.T, logger *slog.Logger) *Storage {
		return &Storage{Dir: filepath.Join(t.TempDir(), "chk"), Logger: logger}
	}},
	{"s3", func(t *testing.T, logger *slog.Logger) *Storage {
		return &Storage{Dir: "s3://" + testBucket + "/jobs/one", Logger: logger, Remote: []blob.Remote{s3.New(s3.Options{
			Endpoint: fakeS3(t), UsePathStyle: true, Region: "us-east-1",
			AccessKeyID: "key", SecretAccessKey: "secret"})}}
	}},
}

// forEachStore runs test over every kind of store, with a Storage logging
// into logs.
func forEachStore(t *testing.T, test func(t *testing.T, s *Storage, logs *bytes.Buffer)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			var logs bytes.Buffer
			test(t, k.new(t, slog.New(slog.NewTextHandler(&logs, nil))), &logs)
		})
	}
}

// reopen is a new Storage over s's root, without s's memory of shared
// objects: what the next run sees.
func reopen(s *Storage) *Storage { return &Storage{Dir: s.Dir, Logger: s.Logger, Remote: s.Remote} }

func blobs(t *testing.T, s *Storage) blob.BlobStore {
	t.Helper()
	st, err := s.Store(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// rewrite replaces object name with f(its content), as a new object (a
// local hard link's other names keep the old content).
func rewrite(t *testing.T, s *Storage, name string, f func([]byte) []byte) {
	t.Helper()
	st := blobs(t, s)
	b, err := ReadObject(t.Context(), st, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(t.Context(), name, f(bytes.Clone(b))); err != nil {
		t.Fatal(err)
	}
}

func flipFirst(b []byte) []byte { b[0] ^= 0xff; return b }

func names(t *testing.T, s *Storage, dir string) []string {
	t.Helper()
	objs, err := blobs(t, s).List(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		out = append(out, o.Name)
	}
	return out
}

// checkpointWith writes checkpoint id with one data file holding payload
// and, if native is set, a subtask with native state referencing it.
func checkpointWith(t *testing.T, s *Storage, id int64, payload string, native []FileRef) {
	t.Helper()
	ctx := t.Context()
	sum, err := s.WriteFile(ctx, id, "task-0.bin", []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	sub := SubtaskMeta{Subtask: 0, File: "task-0.bin", Items: []BlockMeta{{Offset: 0, Length: int64(len(payload))}}}
	if native != nil {
		sub.Native = &NativeMeta{Kind: "pebble", KeyGroupStart: 0, KeyGroupEnd: 128, Files: native}
	}
	m := &Metadata{ID: id, Timestamp: time.Unix(id, 0).UTC(), MaxParallelism: 128,
		Operators: []OperatorMeta{{UID: "op", Name: "Op", Parallelism: 1, Subtasks: []SubtaskMeta{sub}}},
		Files:     map[string]uint32{"task-0.bin": sum}}
	if err := s.WriteMetadata(ctx, m); err != nil {
		t.Fatal(err)
	}
}

func mustLatest(t *testing.T, s *Storage, want int64) (*Metadata, map[string][]byte) {
	t.Helper()
	m, files, err := s.Latest(t.Context())
	if err != nil || m.ID != want {
		t.Fatalf("Latest = %v, %v; want checkpoint %d", m, err, want)
	}
	return m, files
}

// mustFallback checks that restoring the latest checkpoint is refused, with
// an error wrapping ErrFallback that says each of want, and that allowing
// the fallback restores checkpoint id.
func mustFallback(t *testing.T, s *Storage, id int64, want ...string) *Restored {
	t.Helper()
	_, err := s.Find(t.Context(), false)
	var fe *FallbackError
	if !errors.As(err, &fe) || !errors.Is(err, ErrFallback) || errors.Is(err, ErrNoCheckpoint) || fe.Usable != id {
		t.Fatalf("Find without fallback = %v; want a refusal naming checkpoint %d as the usable one", err, id)
	}
	for _, w := range append(want, "allow-checkpoint-fallback") {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("refusal does not say %q:\n%v", w, err)
		}
	}
	r, err := s.Find(t.Context(), true)
	if err != nil || r.Meta.ID != id || len(r.Skipped) == 0 {
		t.Fatalf("Find with fallback = %+v, %v; want checkpoint %d", r, err, id)
	}
	return r
}

// mustNoneUsable checks that restoring the latest checkpoint fails even
// with a fallback allowed (never a fresh start), saying each of want.
func mustNoneUsable(t *testing.T, s *Storage, want ...string) {
	t.Helper()
	_, err := s.Find(t.Context(), true)
	if !errors.Is(err, ErrFallback) || errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("Find with nothing usable = %v; want an error, not a fresh start", err)
	}
	for _, w := range append(want, "no checkpoint in") {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error does not say %q:\n%v", w, err)
		}
	}
}

func wantLogs(t *testing.T, logs *bytes.Buffer, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(logs.String(), w) {
			t.Fatalf("log does not say %q:\n%s", w, logs.String())
		}
	}
}

func TestStorageWriteRead(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, _ *bytes.Buffer) {
		ctx := t.Context()
		if _, _, err := s.Latest(ctx); !errors.Is(err, ErrNoCheckpoint) {
			t.Fatalf("empty root: %v", err)
		}
		checkpointWith(t, s, 1, "one", nil)
		if _, err := s.WriteFile(ctx, 1, "task-1.bin", nil); err != nil { // empty files work too
			t.Fatal(err)
		}
		m, files, err := s.Read(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != 1 || m.Version != FormatVersion || !m.Timestamp.Equal(time.Unix(1, 0)) || len(files) != 1 {
			t.Fatalf("read back %+v, %d files", m, len(files))
		}
		if b, err := Block(files, "task-0.bin", m.Operators[0].Subtasks[0].Items[0]); err != nil || string(b) != "one" {
			t.Fatalf("block = %q, %v", b, err)
		}
		// The old, context-free methods see the same.
		if m, _, err := s.Read(t.Context(), 1); err != nil || m.ID != 1 {
			t.Fatalf("Read = %v, %v", m, err)
		}
		if _, err := s.WriteFile(t.Context(), 1, "../escape", []byte("x")); err == nil {
			t.Fatal("a file name leaving the checkpoint was accepted")
		}
		if got := names(t, s, ""); !slices.Equal(got, []string{"chk-1/_metadata", "chk-1/task-0.bin", "chk-1/task-1.bin"}) {
			t.Fatalf("objects = %v", got)
		}
	})
}

func TestStorageLatestFallsBackOverCorruption(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, logs *bytes.Buffer) {
		checkpointWith(t, s, 1, "one", nil)
		checkpointWith(t, s, 2, "two", nil)
		checkpointWith(t, s, 3, "three", nil)
		m, files := mustLatest(t, s, 3)
		if b, _ := Block(files, "task-0.bin", m.Operators[0].Subtasks[0].Items[0]); string(b) != "three" {
			t.Fatalf("block = %q", b)
		}
		// Checkpoint 3's data no longer matches its checksum; checkpoint
		// 2's metadata is cut short.
		rewrite(t, s, "chk-3/task-0.bin", flipFirst)
		rewrite(t, s, "chk-2/_metadata", func(b []byte) []byte { return b[:len(b)/2] })
		if _, _, err := s.Read(t.Context(), 3); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Read corrupt checkpoint: %v", err)
		}
		mustFallback(t, s, 1, "chk-3", "task-0.bin", "checksum", "chk-2/_metadata")
		wantLogs(t, logs, "level=ERROR", "checkpoint=3", "checksum", "checkpoint=2", "may be produced again")

		// With every checkpoint unusable, there is none: an error, not a
		// fresh start.
		rewrite(t, s, "chk-1/task-0.bin", flipFirst)
		mustNoneUsable(t, s, "chk-1", "chk-2", "chk-3")
	})
}

func TestStorageRemovePartial(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, logs *bytes.Buffer) {
		ctx := t.Context()
		checkpointWith(t, s, 1, "one", nil)
		if _, err := s.WriteFile(ctx, 2, "task-0.bin", []byte("half")); err != nil {
			t.Fatal(err)
		}
		if ids, err := s.Completed(ctx); err != nil || !slices.Equal(ids, []int64{1}) {
			t.Fatalf("completed = %v, %v", ids, err)
		}
		mustLatest(t, s, 1)
		if err := s.RemovePartial(ctx); err != nil {
			t.Fatal(err)
		}
		if got := names(t, s, ""); !slices.Equal(got, []string{"chk-1/_metadata", "chk-1/task-0.bin"}) {
			t.Fatalf("after RemovePartial: %v", got)
		}
		wantLogs(t, logs, "removing unfinished checkpoint", "chk-2")
	})
}

func TestStorageCompletedOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, _ *bytes.Buffer) {
		for _, id := range []int64{2, 10, 1, 3} {
			checkpointWith(t, s, id, fmt.Sprint(id), nil)
		}
		// Neither shared objects nor other names count.
		if err := blobs(t, s).Commit(t.Context(), "shared/x", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := blobs(t, s).Commit(t.Context(), "chk-x/_metadata", []byte("x")); err != nil {
			t.Fatal(err)
		}
		ids, err := s.Completed(t.Context())
		if err != nil || !slices.Equal(ids, []int64{10, 3, 2, 1}) {
			t.Fatalf("completed = %v, %v; want newest first", ids, err)
		}
		mustLatest(t, s, 10)
	})
}

func TestStorageDiscard(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, _ *bytes.Buffer) {
		ctx := t.Context()
		dir := t.TempDir()
		f := writeLocal(t, dir, "000001.sst", "sst one")
		crc, size, err := s.PutShared(ctx, "op/000001.sst", f)
		if err != nil {
			t.Fatal(err)
		}
		ref := []FileRef{{Name: "000001.sst", Shared: "op/000001.sst", CRC: crc, Size: size}}
		checkpointWith(t, s, 1, "one", ref)
		checkpointWith(t, s, 2, "two", ref)
		if err := s.Discard(ctx, 2); err != nil {
			t.Fatal(err)
		}
		if err := s.Discard(t.Context(), 7); err != nil { // absent: nothing to do
			t.Fatal(err)
		}
		if ids, _ := s.Completed(t.Context()); !slices.Equal(ids, []int64{1}) {
			t.Fatalf("completed = %v", ids)
		}
		want := []string{"chk-1/_metadata", "chk-1/task-0.bin", "shared/op/000001.sst"}
		if got := names(t, s, ""); !slices.Equal(got, want) {
			t.Fatalf("after Discard: %v, want %v", got, want)
		}
		mustLatest(t, s, 1)
	})
}

func writeLocal(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStorageSharedPutOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, _ *bytes.Buffer) {
		ctx := t.Context()
		dir := t.TempDir()
		f := writeLocal(t, dir, "000012.sst", "the sst")
		crc, size, err := s.PutShared(ctx, "a/000012.sst", f)
		if err != nil {
			t.Fatal(err)
		}
		if wantCRC, wantSize, _ := FileCRC(f); crc != wantCRC || size != wantSize || size != 7 {
			t.Fatalf("PutShared = %08x, %d; want %08x, %d", crc, size, wantCRC, wantSize)
		}
		// Change the stored object behind the Storage's back (same size):
		// putting the file again must not store it again, neither from
		// this Storage (it remembers) nor a new one (it finds the object).
		rewrite(t, s, "shared/a/000012.sst", flipFirst)
		for _, s := range []*Storage{s, reopen(s)} {
			if c, n, err := s.PutShared(ctx, "a/000012.sst", f); err != nil || c != crc || n != size {
				t.Fatalf("second PutShared = %08x, %d, %v", c, n, err)
			}
			b, _ := ReadObject(ctx, blobs(t, s), "shared/a/000012.sst")
			if string(b) == "the sst" {
				t.Fatal("stored the object a second time")
			}
		}
		// A file of another size under a known name is a caller's bug.
		g := writeLocal(t, dir, "other.sst", "another size")
		if _, _, err := s.PutShared(ctx, "a/000012.sst", g); err == nil {
			t.Fatal("PutShared of other content under a known name succeeded")
		}
		if _, _, err := s.PutShared(ctx, "../x", f); err == nil {
			t.Fatal("object name leaving shared/ accepted")
		}
		if _, _, err := s.PutShared(ctx, "b/missing.sst", filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("PutShared of a missing file: %v", err)
		}
	})
}

func TestStorageFetchShared(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, logs *bytes.Buffer) {
		ctx := t.Context()
		src, dst := t.TempDir(), t.TempDir()
		f := writeLocal(t, src, "000007.sst", "sst seven")
		crc, size, err := s.PutShared(ctx, "000007.sst", f)
		if err != nil {
			t.Fatal(err)
		}
		ref := FileRef{Name: "000007.sst", Shared: "000007.sst", CRC: crc, Size: size}
		checkpointWith(t, s, 1, "one", []FileRef{ref})
		checkpointWith(t, s, 2, "two", nil)
		checkpointWith(t, s, 3, "three", []FileRef{ref})

		// After a restart: the restored checkpoint's objects are known.
		s = reopen(s)
		m, _ := mustLatest(t, s, 3)
		s.NoteShared(m.Operators[0].Subtasks[0].Native.Files)
		out := filepath.Join(dst, "000007.sst")
		if err := s.FetchShared(ctx, ref, out); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(out); string(b) != "sst seven" {
			t.Fatalf("fetched %q", b)
		}
		if err := s.FetchShared(ctx, FileRef{Name: "x", Shared: "nope", Size: 1}, filepath.Join(dst, "x")); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("fetching a missing object: %v", err)
		}

		// A corrupt object (same size) fails the fetch, and then makes
		// Latest skip the checkpoints referencing it.
		rewrite(t, s, "shared/000007.sst", flipFirst)
		out2 := filepath.Join(dst, "again.sst")
		if err := s.FetchShared(ctx, ref, out2); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("fetching a corrupt object: %v", err)
		}
		if _, err := os.Stat(out2); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("corrupt fetch left its file: %v", err)
		}
		mustFallback(t, s, 2, "000007.sst", "failed its checksum", "referenced by checkpoints 3, 1")
		// Storing the file again (the next checkpoint) repairs it.
		if _, _, err := s.PutShared(ctx, "000007.sst", f); err != nil {
			t.Fatal(err)
		}
		mustLatest(t, s, 3)
		if err := s.FetchShared(ctx, ref, out2); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStorageSweepShared(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, logs *bytes.Buffer) {
		ctx := t.Context()
		dir := t.TempDir()
		ref := func(obj string) FileRef {
			crc, size, err := s.PutShared(ctx, obj, writeLocal(t, dir, strings.ReplaceAll(obj, "/", "_"), "content of "+obj))
			if err != nil {
				t.Fatal(err)
			}
			return FileRef{Name: filepath.Base(obj), Shared: obj, CRC: crc, Size: size}
		}
		a, b, c := ref("x/a.sst"), ref("x/b.sst"), ref("c.sst")
		ref("unreferenced.sst")
		checkpointWith(t, s, 1, "one", []FileRef{a, b})
		checkpointWith(t, s, 2, "two", []FileRef{b, c})
		if err := s.Discard(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		// An unusable checkpoint keeps nothing alive.
		checkpointWith(t, s, 3, "three", []FileRef{a})
		rewrite(t, s, "chk-3/_metadata", func(b []byte) []byte { return b[:10] })
		if err := s.SweepShared(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := names(t, s, "shared"), []string{"shared/c.sst", "shared/x/b.sst"}; !slices.Equal(got, want) {
			t.Fatalf("after sweep: %v, want %v", got, want)
		}
		wantLogs(t, logs, "count=2", "checkpoint=3")
		mustFallback(t, s, 2, "chk-3/_metadata")
		// The Storage forgot what it deleted: putting it again stores it.
		ref("x/a.sst")
		if got := names(t, s, "shared/x"); !slices.Equal(got, []string{"shared/x/a.sst", "shared/x/b.sst"}) {
			t.Fatalf("after putting a again: %v", got)
		}
		// Nothing completed: everything goes.
		for _, id := range []int64{2, 3} {
			if err := s.Discard(t.Context(), id); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SweepShared(ctx); err != nil {
			t.Fatal(err)
		}
		if got := names(t, s, "shared"); len(got) != 0 {
			t.Fatalf("sweep with no checkpoints left %v", got)
		}
	})
}

func TestStorageMissingSharedSkipped(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, logs *bytes.Buffer) {
		ctx := t.Context()
		dir := t.TempDir()
		put := func(obj, content string) FileRef {
			crc, size, err := s.PutShared(ctx, obj, writeLocal(t, dir, obj, content))
			if err != nil {
				t.Fatal(err)
			}
			return FileRef{Name: obj, Shared: obj, CRC: crc, Size: size}
		}
		a, b := put("a.sst", "aaa"), put("b.sst", "bbbb")
		checkpointWith(t, s, 1, "one", []FileRef{a})
		checkpointWith(t, s, 2, "two", []FileRef{a})
		checkpointWith(t, s, 3, "three", []FileRef{a, b})
		mustLatest(t, s, 3)
		// b's object shrinks, then vanishes: 3 is skipped.
		rewrite(t, s, "shared/b.sst", func(b []byte) []byte { return b[:1] })
		mustFallback(t, s, 2, "chk-3", "shared/b.sst", "1 bytes, metadata says 4", "referenced by checkpoints 3]")
		if err := blobs(t, s).Delete(ctx, "shared/b.sst"); err != nil {
			t.Fatal(err)
		}
		logs.Reset()
		mustFallback(t, s, 2, "chk-3", "shared/b.sst", "missing (local file b.sst)")
		wantLogs(t, logs, "checkpoint=3", "shared/b.sst")
		// Without a, none is usable.
		if err := blobs(t, s).Delete(ctx, "shared/a.sst"); err != nil {
			t.Fatal(err)
		}
		mustNoneUsable(t, s, "shared/a.sst", "referenced by checkpoints 3, 2, 1")
		var se *SharedError
		if _, err := s.Find(ctx, true); !errors.As(err, &se) || se.Object != "a.sst" {
			t.Fatalf("Find = %v; want it to unwrap to the SharedError of a.sst", err)
		}
	})
}

func TestStoragePrivateNativeFiles(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, _ *bytes.Buffer) {
		ctx := t.Context()
		sum, err := s.WriteFile(ctx, 4, "native-0-MANIFEST-000001", []byte("manifest"))
		if err != nil {
			t.Fatal(err)
		}
		checkpointWith(t, s, 4, "four", nil)
		// Rewrite the metadata with a private native file.
		m, _, err := s.Read(ctx, 4)
		if err != nil {
			t.Fatal(err)
		}
		m.Files["native-0-MANIFEST-000001"] = sum
		m.Operators[0].Subtasks[0].Native = &NativeMeta{Kind: "pebble", KeyGroupEnd: 128, Files: []FileRef{
			{Name: "MANIFEST-000001", File: "native-0-MANIFEST-000001", CRC: sum, Size: 8}}}
		if err := s.WriteMetadata(ctx, m); err != nil {
			t.Fatal(err)
		}
		m, files, err := s.Read(ctx, 4)
		if err != nil {
			t.Fatal(err)
		}
		if f := m.Operators[0].Subtasks[0].Native.Files[0]; string(files[f.File]) != "manifest" {
			t.Fatalf("private file = %q", files[f.File])
		}
		// A private file whose CRC disagrees with the checkpoint's.
		m.Operators[0].Subtasks[0].Native.Files[0].CRC++
		if err := s.WriteMetadata(ctx, m); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Read(ctx, 4); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("private file with a wrong CRC: %v", err)
		}
	})
}

func TestStorageLocations(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, _ *bytes.Buffer) {
		ctx := t.Context()
		f := writeLocal(t, t.TempDir(), "s.sst", "shared")
		crc, size, err := s.PutShared(ctx, "s.sst", f)
		if err != nil {
			t.Fatal(err)
		}
		checkpointWith(t, s, 5, "five", []FileRef{{Name: "s.sst", Shared: "s.sst", CRC: crc, Size: size}})
		// A retained checkpoint read by its location finds shared/ beside it.
		m, files, err := s.ReadLocation(ctx, s.ChkDir(5))
		if err != nil || m.ID != 5 || string(files["task-0.bin"]) != "five" {
			t.Fatalf("ReadLocation(%s) = %v, %v", s.ChkDir(5), m, err)
		}
		// A savepoint somewhere else.
		sp := filepath.Join(filepath.Dir(s.Dir), "savepoints", "sp-1")
		if IsURL(s.Dir) {
			sp = "s3://" + testBucket + "/savepoints/sp-1"
		}
		sum, err := s.WriteFileLocation(ctx, sp, "task-0.bin", []byte("saved"))
		if err != nil {
			t.Fatal(err)
		}
		sm := &Metadata{ID: 9, Savepoint: true, MaxParallelism: 128, Files: map[string]uint32{"task-0.bin": sum}}
		if err := s.WriteMetadataLocation(ctx, sp, sm); err != nil {
			t.Fatal(err)
		}
		m, files, err = s.ReadLocation(ctx, sp)
		if err != nil || !m.Savepoint || string(files["task-0.bin"]) != "saved" {
			t.Fatalf("ReadLocation(%s) = %+v, %v", sp, m, err)
		}
		if err := s.RemoveLocation(ctx, sp); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ReadLocation(ctx, sp); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("ReadLocation after RemoveLocation: %v", err)
		}
		// The savepoint was not among the checkpoints.
		if ids, _ := s.Completed(t.Context()); !slices.Equal(ids, []int64{5}) {
			t.Fatalf("completed = %v", ids)
		}
	})
}

// An injected client is used as is.
func TestStorageS3InjectedClient(t *testing.T) {
	c := awss3.New(awss3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(fakeS3(t)), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider("k", "s", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	s := &Storage{Dir: "s3://" + testBucket, Remote: []blob.Remote{s3.New(s3.Options{Client: c, Endpoint: "http://unused.invalid"})}}
	checkpointWith(t, s, 1, "one", nil)
	mustLatest(t, s, 1)
	if got := s.ChkDir(1); got != "s3://"+testBucket+"/chk-1" {
		t.Fatalf("ChkDir = %s", got)
	}
	if err := s.RemoveLocation(t.Context(), "s3://"+testBucket); err == nil {
		t.Fatal("RemoveLocation of a whole bucket was allowed")
	}
}

// Object storage that cannot be reached is an error, not a reason to
// restore an older checkpoint.
func TestStorageS3Unreachable(t *testing.T) {
	url := fakeS3(t)
	s := &Storage{Dir: "s3://" + testBucket + "/p", Remote: []blob.Remote{s3.New(s3.Options{Endpoint: url, UsePathStyle: true, AccessKeyID: "k", SecretAccessKey: "s"})}}
	checkpointWith(t, s, 1, "one", nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := s.Latest(ctx); err == nil || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("Latest with a cancelled context: %v", err)
	}
	if _, _, err := s.Read(ctx, 1); err == nil || errors.Is(err, ErrCorrupt) {
		t.Fatalf("Read with a cancelled context: %v", err)
	}
}

// Subtasks store their files at the same time.
func TestStorageSharedConcurrent(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Storage, _ *bytes.Buffer) {
		ctx := t.Context()
		dir := t.TempDir()
		const n = 8
		refs := make([]FileRef, 2*n)
		errs := make([]error, 2*n)
		var wg sync.WaitGroup
		for i := range 2 * n {
			obj := fmt.Sprintf("sub-%d.sst", i%n) // every object twice
			f := filepath.Join(dir, fmt.Sprint(i))
			if err := os.WriteFile(f, []byte(obj), 0o644); err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				crc, size, err := s.PutShared(ctx, obj, f)
				refs[i], errs[i] = FileRef{Name: obj, Shared: obj, CRC: crc, Size: size}, err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		checkpointWith(t, s, 1, "one", refs[:n])
		if err := s.SweepShared(ctx); err != nil {
			t.Fatal(err)
		}
		if got := names(t, s, "shared"); len(got) != n {
			t.Fatalf("shared objects %v, want %d", got, n)
		}
		for i, r := range refs {
			if err := s.FetchShared(ctx, r, filepath.Join(dir, fmt.Sprintf("out-%d", i))); err != nil {
				t.Fatal(err)
			}
		}
	})
}
