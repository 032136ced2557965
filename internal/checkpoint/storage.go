package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	blob "github.com/weirstream/weir/checkpoint"
	"github.com/weirstream/weir/internal/errkind"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Storage keeps checkpoints under a root: chk-<id>/ holding data files and
// a _metadata object written last, atomically, and shared/ holding the
// files of native state snapshots that several checkpoints reference (see
// PutShared). The root is Dir:
//
//   - a directory path: files in a local (or mounted) filesystem; data
//     files are written and fsynced, _metadata is written to a temporary
//     file, fsynced, renamed into place and the directory fsynced;
//   - a URL, scheme://bucket/prefix: objects in the blob store the
//     Remote for the scheme opens (s3:// with package checkpoint/s3), with
//     the same names as keys below prefix. A PUT is atomic, so _metadata
//     is simply put last.
//
// Either way a checkpoint is complete when its _metadata exists.
//
// A Storage is made with a struct literal and must not be copied after
// first use. Its methods are safe for concurrent use, except as SweepShared
// says.
type Storage struct {
	// Dir is the root: a directory, or a URL such as s3://bucket/prefix.
	Dir string
	// Logger receives why checkpoints are skipped or removed (nil:
	// discard).
	Logger *slog.Logger
	// Remote opens the locations that are URLs (Dir, and the locations
	// given to the *Location methods), one Remote per scheme.
	Remote []blob.Remote

	mu struct {
		sync.Mutex
		shared map[string]sharedObject // shared objects known to exist (see PutShared)
	}
}

func (s *Storage) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// storeAt returns the blob store rooted at loc: a directory, or a URL
// served by the Remote for its scheme.
func (s *Storage) storeAt(ctx context.Context, loc string) (blob.BlobStore, error) {
	if !isURL(loc) {
		return localStore{root: loc}, nil
	}
	return s.openRemote(ctx, loc)
}

// store returns the blob store rooted at Dir.
func (s *Storage) store(ctx context.Context) (blob.BlobStore, error) { return s.storeAt(ctx, s.Dir) }

// parentLocation is the location loc is in: the root whose shared/ holds
// the shared objects of the checkpoint at loc.
func parentLocation(loc string) string {
	if !isURL(loc) {
		return filepath.Dir(loc)
	}
	scheme, bucket, prefix, err := parseLocation(loc)
	if err != nil {
		return loc
	}
	// Keys are not paths: cut at the last slash, keeping the rest as it
	// is (path.Dir would turn a//b into a/b, another prefix).
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		prefix = prefix[:i]
	} else {
		prefix = ""
	}
	return scheme + schemeSep + joinName(bucket, prefix)
}

// chkName is the directory of checkpoint id relative to the root.
func chkName(id int64) string { return fmt.Sprintf("chk-%d", id) }

// ChkDir is the location of checkpoint id: a directory, or a URL when Dir
// is one. The *Location methods take it.
func (s *Storage) ChkDir(id int64) string {
	if isURL(s.Dir) {
		return strings.TrimRight(s.Dir, "/") + "/" + chkName(id)
	}
	return filepath.Join(s.Dir, chkName(id))
}

// WriteFile writes a data file of checkpoint id and returns its checksum.
func (s *Storage) WriteFile(ctx context.Context, id int64, name string, data []byte) (uint32, error) {
	st, err := s.store(ctx)
	if err != nil {
		return 0, err
	}
	return putData(ctx, st, joinName(chkName(id), name), data)
}

// WriteFileLocation writes a data file into the checkpoint or savepoint at
// loc (a directory or a URL) and returns its checksum.
func (s *Storage) WriteFileLocation(ctx context.Context, loc, name string, data []byte) (uint32, error) {
	st, err := s.storeAt(ctx, loc)
	if err != nil {
		return 0, err
	}
	return putData(ctx, st, name, data)
}

// WriteFileIn writes a data file into dir (a local checkpoint or savepoint
// directory) and returns its checksum. Storage.WriteFileLocation also
// takes s3:// locations.
func WriteFileIn(dir, name string, data []byte) (uint32, error) {
	return putData(context.Background(), localStore{root: dir}, name, data)
}

func putData(ctx context.Context, st blob.BlobStore, name string, data []byte) (uint32, error) {
	if !validName(name) {
		return 0, fmt.Errorf("checkpoint: invalid file name %q", name)
	}
	if err := st.Put(ctx, name, bytes.NewReader(data), int64(len(data))); err != nil {
		return 0, err
	}
	return crc32.Checksum(data, castagnoli), nil
}

// validName reports whether name can name an object: slash-separated,
// relative, without "." or ".." elements.
func validName(name string) bool { return name != "." && fs.ValidPath(name) }

func writeSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return writeClose(f, path, bytes.NewReader(data))
}

// metaFile is the metadata's name inside a checkpoint directory.
const metaFile = "_metadata"

// WriteMetadata completes checkpoint m.ID: the metadata goes to a temporary
// file, is synced, renamed into place, and the directory synced, so a crash
// leaves either no metadata or a whole one (in S3, one atomic PUT).
func (s *Storage) WriteMetadata(ctx context.Context, m *Metadata) error {
	st, err := s.store(ctx)
	if err != nil {
		return err
	}
	if err := writeMeta(ctx, st, chkName(m.ID), m); err != nil {
		return err
	}
	s.noteMeta(m)
	return nil
}

// WriteMetadataLocation completes the checkpoint or savepoint at loc (a
// directory or a URL).
func (s *Storage) WriteMetadataLocation(ctx context.Context, loc string, m *Metadata) error {
	st, err := s.storeAt(ctx, loc)
	if err != nil {
		return err
	}
	return writeMeta(ctx, st, "", m)
}

// WriteMetadataIn completes the checkpoint or savepoint in the local
// directory dir. Storage.WriteMetadataLocation also takes URLs.
func WriteMetadataIn(dir string, m *Metadata) error {
	return writeMeta(context.Background(), localStore{root: dir}, "", m)
}

func writeMeta(ctx context.Context, st blob.BlobStore, dir string, m *Metadata) error {
	b, err := EncodeMetadata(m)
	if err != nil {
		return err
	}
	return st.Commit(ctx, joinName(dir, metaFile), b)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("checkpoint: sync %s: %w", dir, err)
	}
	return nil
}

// ErrCorrupt marks a checkpoint that cannot be used; it matches
// errkind.Corruption (weir.IsCorruption).
var ErrCorrupt = errkind.Mark(errors.New("checkpoint: corrupt"), errkind.Corruption)

// ErrNoCheckpoint is returned when a directory holds no usable checkpoint.
var ErrNoCheckpoint = errors.New("checkpoint: no completed checkpoint")

func cutLastLine(b []byte) (body []byte, last string, ok bool) {
	s := strings.TrimSuffix(string(b), "\n")
	i := strings.LastIndexByte(s, '\n')
	if i < 0 {
		return nil, "", false
	}
	return b[:i+1], s[i+1:], true
}

// Read loads checkpoint id and verifies every file's checksum; it returns
// the metadata and the contents of the checkpoint's data files. It also
// verifies that every shared object the checkpoint references exists with
// its recorded size (FetchShared verifies their checksums). A chk-<id>
// that is a pointer (WritePointer) reads what it points to.
func (s *Storage) Read(ctx context.Context, id int64) (*Metadata, map[string][]byte, error) {
	st, err := s.store(ctx)
	if err != nil {
		return nil, nil, err
	}
	r, _, err := s.readEntry(ctx, st, id)
	if err != nil {
		return nil, nil, err
	}
	return r.Meta, r.Files, nil
}

// ReadLocation loads the checkpoint or savepoint at loc (a directory or a
// URL), as Read. Its shared objects are looked for in the shared/
// beside loc: a chk-<id> of a root is read with the root's shared/.
func (s *Storage) ReadLocation(ctx context.Context, loc string) (*Metadata, map[string][]byte, error) {
	st, err := s.storeAt(ctx, loc)
	if err != nil {
		return nil, nil, err
	}
	root, err := s.storeAt(ctx, parentLocation(loc))
	if err != nil {
		return nil, nil, err
	}
	return readCheckpoint(ctx, st, "", root, nil)
}

// ReadPath loads the checkpoint in the local directory dir (a chk-<id>
// directory or a savepoint directory); shared objects are looked for in
// the shared/ directory beside dir. Storage.ReadLocation also takes s3://
// locations.
func ReadPath(dir string) (*Metadata, map[string][]byte, error) {
	return readCheckpoint(context.Background(), localStore{root: dir}, "", localStore{root: filepath.Dir(dir)}, nil)
}

// asCorrupt marks err, from reading a checkpoint, as ErrCorrupt when it
// says the checkpoint is broken (a missing or unreadable file), rather
// than that the storage could not be reached.
func asCorrupt(err error) error {
	var pe *fs.PathError
	if errors.Is(err, ErrCorrupt) || !(errors.As(err, &pe) || errors.Is(err, fs.ErrNotExist)) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

// readCheckpoint reads the checkpoint in dir of st; root holds its shared/,
// and bad (may be nil) says which shared objects are known to be corrupt.
func readCheckpoint(ctx context.Context, st blob.BlobStore, dir string, root blob.BlobStore, bad func(string) bool) (*Metadata, map[string][]byte, error) {
	m, files, err := readCheckpointMeta(ctx, st, dir, root, bad)
	if err != nil {
		return nil, nil, err
	}
	return m, files, nil
}

// readCheckpointMeta is readCheckpoint that also returns the metadata when
// it decoded but something else failed. Errors name the damaged file.
func readCheckpointMeta(ctx context.Context, st blob.BlobStore, dir string, root blob.BlobStore, bad func(string) bool) (*Metadata, map[string][]byte, error) {
	metaName := joinName(dir, metaFile)
	b, err := readObject(ctx, st, metaName)
	if err != nil {
		return nil, nil, asCorrupt(err)
	}
	m, err := DecodeMetadata(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", st.Location(metaName), err)
	}
	files := map[string][]byte{}
	for name, sum := range m.Files {
		data, err := readObject(ctx, st, joinName(dir, name))
		if err != nil {
			return m, nil, asCorrupt(err)
		}
		if got := crc32.Checksum(data, castagnoli); got != sum {
			return m, nil, fmt.Errorf("%w: file %s checksum %08x, metadata says %08x", ErrCorrupt, st.Location(joinName(dir, name)), got, sum)
		}
		files[name] = data
	}
	if err := checkShared(ctx, root, m, bad); err != nil {
		return m, nil, err
	}
	return m, files, nil
}

// Completed lists the IDs of checkpoints that have metadata (or are
// pointers), newest first.
func (s *Storage) Completed(ctx context.Context) ([]int64, error) {
	st, err := s.store(ctx)
	if err != nil {
		return nil, err
	}
	dirs, err := st.Dirs(ctx, "")
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, d := range dirs {
		id, ok := parseChkName(d)
		if !ok {
			continue
		}
		done, err := isComplete(ctx, st, d)
		if err != nil {
			return nil, err
		}
		if done {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
	return ids, nil
}

// isComplete reports whether checkpoint directory d has its metadata, or
// is a pointer (WritePointer).
func isComplete(ctx context.Context, st blob.BlobStore, d string) (bool, error) {
	for _, name := range []string{metaFile, pointerFile} {
		_, err := st.Stat(ctx, joinName(d, name))
		switch {
		case err == nil:
			return true, nil
		case !errors.Is(err, fs.ErrNotExist):
			return false, err
		}
	}
	return false, nil
}

// Latest loads the newest completed checkpoint, which must be whole: it is
// Find without a fallback. An error that does not make a checkpoint
// unusable (object storage that cannot be reached) is returned rather than
// skipped over.
func (s *Storage) Latest(ctx context.Context) (*Metadata, map[string][]byte, error) {
	r, err := s.Find(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	return r.Meta, r.Files, nil
}

// RemovePartial deletes checkpoint directories without metadata: what a
// run that stopped in the middle of a checkpoint left behind. Call it only
// when no job writes to the directory. Shared objects uploaded for them
// stay until SweepShared.
func (s *Storage) RemovePartial(ctx context.Context) error {
	st, err := s.store(ctx)
	if err != nil {
		return err
	}
	dirs, err := st.Dirs(ctx, "")
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if !strings.HasPrefix(d, "chk-") {
			continue
		}
		done, err := isComplete(ctx, st, d)
		if err != nil {
			return err
		}
		if done {
			continue
		}
		s.log().Info("weir: removing unfinished checkpoint", "dir", st.Location(d))
		if err := st.DeleteDir(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// Discard deletes checkpoint id. It leaves shared/ alone: SweepShared
// deletes the objects no retained checkpoint references any more.
func (s *Storage) Discard(ctx context.Context, id int64) error {
	st, err := s.store(ctx)
	if err != nil {
		return err
	}
	if err := st.DeleteDir(ctx, chkName(id)); err != nil {
		return fmt.Errorf("checkpoint: discard %d: %w", id, err)
	}
	return nil
}

// RemoveLocation deletes the checkpoint or savepoint at loc (a directory
// or a URL), such as an aborted savepoint.
func (s *Storage) RemoveLocation(ctx context.Context, loc string) error {
	st, err := s.storeAt(ctx, loc)
	if err != nil {
		return err
	}
	return st.DeleteDir(ctx, "")
}
