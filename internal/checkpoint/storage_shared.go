package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"

	blob "github.com/weirstream/weir/checkpoint"
)

// sharedDir is the directory of shared objects below a root.
const sharedDir = "shared"

// sharedObject is what a Storage knows of a shared object.
type sharedObject struct {
	crc  uint32
	size int64
	bad  bool // FetchShared found it does not match: PutShared stores it again
}

func (s *Storage) sharedLookup(object string) (sharedObject, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.mu.shared[object]
	return o, ok
}

func (s *Storage) sharedSet(object string, o sharedObject) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sharedSetLocked(object, o)
}

func (s *Storage) sharedSetLocked(object string, o sharedObject) {
	if s.mu.shared == nil {
		s.mu.shared = map[string]sharedObject{}
	}
	s.mu.shared[object] = o
}

// sharedBad reports whether FetchShared found object corrupt.
func (s *Storage) sharedBad(object string) bool {
	o, ok := s.sharedLookup(object)
	return ok && o.bad
}

// PutShared stores the local file at localPath as <root>/shared/<object>
// unless it is there already, and returns the file's CRC-32C and size for
// its FileRef. The file must not change afterwards (a local root may
// hard-link it), and an object name must always name the same content.
//
// The Storage remembers the objects it stored or learnt of (NoteShared,
// WriteMetadata), so an incremental checkpoint neither reads nor uploads
// a file stored before; an object found in storage but unknown is checked
// by size and the local file's CRC computed once. A local root hard-links
// the file when it is on the same filesystem, else copies it through a
// temporary file, fsynced and renamed; S3 uploads it.
func (s *Storage) PutShared(ctx context.Context, object, localPath string) (crc uint32, size int64, err error) {
	if !validName(object) {
		return 0, 0, fmt.Errorf("checkpoint: invalid shared object name %q", object)
	}
	known, ok := s.sharedLookup(object)
	if ok && !known.bad {
		fi, err := os.Stat(localPath)
		if err != nil {
			return 0, 0, fmt.Errorf("checkpoint: %w", err)
		}
		if fi.Size() != known.size {
			return 0, 0, fmt.Errorf("checkpoint: shared object %s holds %d bytes, but %s has %d: an object name must always name the same content",
				object, known.size, localPath, fi.Size())
		}
		return known.crc, known.size, nil
	}
	crc, size, err = fileCRC(localPath)
	if err != nil {
		return 0, 0, err
	}
	st, err := s.store(ctx)
	if err != nil {
		return 0, 0, err
	}
	name := joinName(sharedDir, object)
	store := true
	if !ok {
		stored, err := st.Stat(ctx, name)
		switch {
		case err == nil && stored == size:
			store = false
		case err == nil:
			s.log().Warn("weir: replacing a shared object of another size that no known checkpoint references",
				"object", st.Location(name), "size", stored, "file", localPath, "file_size", size)
		case !errors.Is(err, fs.ErrNotExist):
			return 0, 0, err
		}
	}
	if store {
		if err := st.PutFile(ctx, name, localPath); err != nil {
			return 0, 0, err
		}
	}
	s.sharedSet(object, sharedObject{crc: crc, size: size})
	return crc, size, nil
}

// fileCRC returns the CRC-32C and size of the file at path.
func fileCRC(path string) (uint32, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, 0, fmt.Errorf("checkpoint: read %s: %w", path, err)
	}
	return h.Sum32(), n, nil
}

// NoteShared tells the Storage that the shared objects refs names exist
// (they are referenced by a checkpoint read back), so PutShared does not
// store them again. Objects FetchShared found corrupt stay marked so.
func (s *Storage) NoteShared(refs []FileRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range refs {
		if r.Shared == "" {
			continue
		}
		if o, ok := s.mu.shared[r.Shared]; ok && o.bad {
			continue
		}
		s.sharedSetLocked(r.Shared, sharedObject{crc: r.CRC, size: r.Size})
	}
}

// noteMeta notes the shared objects m references.
func (s *Storage) noteMeta(m *Metadata) {
	for _, op := range m.Operators {
		for _, st := range op.Subtasks {
			if st.Native != nil {
				s.NoteShared(st.Native.Files)
			}
		}
	}
}

// FetchShared materialises the shared object ref names as the local file
// dstPath, which must not exist: a local root hard-links it when it can
// (treat dstPath as read-only), else copies it; S3 downloads it. It
// verifies size and CRC-32C; a mismatch, or a missing object, is an error
// wrapping ErrCorrupt, removes dstPath, and makes Read and Latest skip
// every checkpoint referencing the object until PutShared stores it again.
func (s *Storage) FetchShared(ctx context.Context, ref FileRef, dstPath string) error {
	if ref.Shared == "" || !validName(ref.Shared) {
		return fmt.Errorf("checkpoint: FetchShared of %s: %q is not a shared object", ref.Name, ref.Shared)
	}
	st, err := s.store(ctx)
	if err != nil {
		return err
	}
	name := joinName(sharedDir, ref.Shared)
	if err := st.GetFile(ctx, name, dstPath); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return err
	}
	crc, size, err := fileCRC(dstPath)
	if err != nil {
		return err
	}
	if crc != ref.CRC || size != ref.Size {
		os.Remove(dstPath)
		s.sharedSet(ref.Shared, sharedObject{crc: ref.CRC, size: ref.Size, bad: true})
		return fmt.Errorf("%w: shared object %s has %d bytes with CRC %08x, metadata says %d bytes with CRC %08x",
			ErrCorrupt, st.Location(name), size, crc, ref.Size, ref.CRC)
	}
	s.sharedSet(ref.Shared, sharedObject{crc: crc, size: size})
	return nil
}

// SweepShared deletes every object under shared/ that no completed
// checkpoint (any retained chk-<id>/_metadata) references. Checkpoints
// whose metadata is corrupt keep nothing alive.
//
// Objects uploaded for a checkpoint are referenced only once its metadata
// is written, so SweepShared must never run while a checkpoint is between
// its first PutShared and its WriteMetadata: the caller serialises them
// (sweep after a checkpoint completes or is discarded, before the next
// one uploads).
func (s *Storage) SweepShared(ctx context.Context) error {
	st, err := s.store(ctx)
	if err != nil {
		return err
	}
	ids, err := s.Completed(ctx)
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, id := range ids {
		b, err := readObject(ctx, st, joinName(chkName(id), metaFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue // discarded meanwhile
		}
		if err != nil {
			return err
		}
		m, err := DecodeMetadata(b)
		if err != nil {
			s.log().Warn("weir: sweeping shared objects: unusable checkpoint keeps none alive", "checkpoint", id, "err", err)
			continue
		}
		for _, r := range sharedRefs(m) {
			live[r.Shared] = true
		}
	}
	objs, err := st.List(ctx, sharedDir)
	if err != nil {
		return err
	}
	deleted := 0
	for _, o := range objs {
		object := o.Name[len(sharedDir)+1:]
		if live[object] {
			continue
		}
		if err := st.Delete(ctx, o.Name); err != nil {
			return err
		}
		s.mu.Lock()
		delete(s.mu.shared, object)
		s.mu.Unlock()
		deleted++
	}
	if deleted > 0 {
		s.log().Info("weir: deleted unreferenced shared objects", "count", deleted, "kept", len(objs)-deleted)
	}
	return nil
}

// sharedRefs returns the shared files m references.
func sharedRefs(m *Metadata) []FileRef {
	var refs []FileRef
	for _, op := range m.Operators {
		for _, st := range op.Subtasks {
			if st.Native == nil {
				continue
			}
			for _, f := range st.Native.Files {
				if f.Shared != "" {
					refs = append(refs, f)
				}
			}
		}
	}
	return refs
}

// checkShared verifies that every shared object m references is in root's
// shared/ with its recorded size, and is not known to be corrupt (bad may
// be nil).
func checkShared(ctx context.Context, root blob.BlobStore, m *Metadata, bad func(string) bool) error {
	refs := sharedRefs(m)
	if len(refs) == 0 {
		return nil
	}
	objs, err := root.List(ctx, sharedDir)
	if err != nil {
		return err
	}
	sizes := make(map[string]int64, len(objs))
	for _, o := range objs {
		sizes[o.Name[len(sharedDir)+1:]] = o.Size
	}
	for _, r := range refs {
		size, ok := sizes[r.Shared]
		loc := root.Location(joinName(sharedDir, r.Shared))
		switch {
		case !ok:
			return &SharedError{Object: r.Shared, Location: loc, Err: fmt.Errorf("%w: missing (local file %s)", ErrCorrupt, r.Name)}
		case size != r.Size:
			return &SharedError{Object: r.Shared, Location: loc, Err: fmt.Errorf("%w: %d bytes, metadata says %d", ErrCorrupt, size, r.Size)}
		case bad != nil && bad(r.Shared):
			return &SharedError{Object: r.Shared, Location: loc, Err: fmt.Errorf("%w: it failed its checksum", ErrCorrupt)}
		}
	}
	return nil
}
