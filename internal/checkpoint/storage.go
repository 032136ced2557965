package checkpoint

import (
	"bytes"
	"context"
	"encoding/json"
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
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/weirstream/weir/internal/errkind"
)

// FormatVersion is the version of the checkpoint layout in
// docs/format/checkpoint.md.
const FormatVersion = 1

// Metadata describes one completed checkpoint: where each operator
// subtask's state is, and a checksum of every file.
type Metadata struct {
	Version        int               `json:"version"`
	ID             int64             `json:"id"`
	Timestamp      time.Time         `json:"timestamp"`
	Savepoint      bool              `json:"savepoint,omitempty"`
	MaxParallelism int               `json:"max_parallelism"`
	Operators      []OperatorMeta    `json:"operators"`
	Files          map[string]uint32 `json:"files"` // file name -> CRC-32C
}

// OperatorMeta locates the state of one operator's subtasks.
type OperatorMeta struct {
	UID         string        `json:"uid"`
	Name        string        `json:"name"`
	Parallelism int           `json:"parallelism"`
	Subtasks    []SubtaskMeta `json:"subtasks"`
}

// SubtaskMeta locates one operator subtask's state: blocks of a data file,
// and keyed state in a backend's native format.
type SubtaskMeta struct {
	Subtask   int         `json:"subtask"`
	File      string      `json:"file"`
	KeyGroups []BlockMeta `json:"key_groups,omitempty"`
	Items     []BlockMeta `json:"items,omitempty"`
	// Native is the subtask's keyed state as a native snapshot (an
	// incremental Pebble checkpoint), when its backend writes one.
	Native *NativeMeta `json:"native,omitempty"`
}

// BlockMeta is a byte range of a file; KeyGroup is set for keyed blocks.
type BlockMeta struct {
	KeyGroup int   `json:"kg,omitempty"`
	Offset   int64 `json:"off"`
	Length   int64 `json:"len"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Storage keeps checkpoints under a root: chk-<id>/ holding data files and
// a _metadata object written last, atomically, and shared/ holding the
// files of native state snapshots that several checkpoints reference (see
// PutShared). The root is Dir:
//
//   - a directory path: files in a local (or mounted) filesystem; data
//     files are written and fsynced, _metadata is written to a temporary
//     file, fsynced, renamed into place and the directory fsynced;
//   - s3://bucket/prefix: objects in S3-compatible object storage, with
//     the same names as keys below prefix, configured by S3. A PUT is
//     atomic, so _metadata is simply put last.
//
// Either way a checkpoint is complete when its _metadata exists.
//
// A Storage is made with a struct literal and must not be copied after
// first use. Its methods are safe for concurrent use, except as SweepShared
// says. The methods without a context use context.Background().
type Storage struct {
	// Dir is the root: a directory, or an s3://bucket/prefix URL.
	Dir string
	// Logger receives why checkpoints are skipped or removed (nil:
	// discard).
	Logger *slog.Logger
	// S3 configures the client for s3:// locations (Dir, and the locations
	// given to the *Location methods).
	S3 S3Options

	mu struct {
		sync.Mutex
		client *s3.Client              // made on first use of an s3:// location
		shared map[string]sharedObject // shared objects known to exist (see PutShared)
	}
}

func (s *Storage) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// storeAt returns the blob store rooted at loc: a directory, or an s3://
// URL served by the Storage's S3 client.
func (s *Storage) storeAt(ctx context.Context, loc string) (blobStore, error) {
	if !isS3(loc) {
		return localStore{root: loc}, nil
	}
	bucket, prefix, err := parseS3(loc)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.client == nil {
		c, err := s.S3.newClient(ctx)
		if err != nil {
			return nil, err
		}
		s.mu.client = c
	}
	return s3Store{client: s.mu.client, bucket: bucket, prefix: prefix}, nil
}

// store returns the blob store rooted at Dir.
func (s *Storage) store(ctx context.Context) (blobStore, error) { return s.storeAt(ctx, s.Dir) }

// parentLocation is the location loc is in: the root whose shared/ holds
// the shared objects of the checkpoint at loc.
func parentLocation(loc string) string {
	if !isS3(loc) {
		return filepath.Dir(loc)
	}
	bucket, prefix, err := parseS3(loc)
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
	return s3Scheme + joinName(bucket, prefix)
}

// chkName is the directory of checkpoint id relative to the root.
func chkName(id int64) string { return fmt.Sprintf("chk-%d", id) }

// ChkDir is the location of checkpoint id: a directory, or an s3:// URL
// when Dir is one. The *Location methods take it.
func (s *Storage) ChkDir(id int64) string {
	if isS3(s.Dir) {
		return strings.TrimRight(s.Dir, "/") + "/" + chkName(id)
	}
	return filepath.Join(s.Dir, chkName(id))
}

// WriteFile writes a data file of checkpoint id and returns its checksum.
func (s *Storage) WriteFile(id int64, name string, data []byte) (uint32, error) {
	return s.WriteFileContext(context.Background(), id, name, data)
}

// WriteFileContext writes a data file of checkpoint id and returns its
// checksum.
func (s *Storage) WriteFileContext(ctx context.Context, id int64, name string, data []byte) (uint32, error) {
	st, err := s.store(ctx)
	if err != nil {
		return 0, err
	}
	return putData(ctx, st, joinName(chkName(id), name), data)
}

// WriteFileLocation writes a data file into the checkpoint or savepoint at
// loc (a directory or an s3:// URL) and returns its checksum.
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

func putData(ctx context.Context, st blobStore, name string, data []byte) (uint32, error) {
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
func (s *Storage) WriteMetadata(m *Metadata) error {
	return s.WriteMetadataContext(context.Background(), m)
}

// WriteMetadataContext completes checkpoint m.ID, as WriteMetadata.
func (s *Storage) WriteMetadataContext(ctx context.Context, m *Metadata) error {
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
// directory or an s3:// URL).
func (s *Storage) WriteMetadataLocation(ctx context.Context, loc string, m *Metadata) error {
	st, err := s.storeAt(ctx, loc)
	if err != nil {
		return err
	}
	return writeMeta(ctx, st, "", m)
}

// WriteMetadataIn completes the checkpoint or savepoint in the local
// directory dir. Storage.WriteMetadataLocation also takes s3:// locations.
func WriteMetadataIn(dir string, m *Metadata) error {
	return writeMeta(context.Background(), localStore{root: dir}, "", m)
}

// EncodeMetadata returns m as stored in _metadata, setting m.Version.
func EncodeMetadata(m *Metadata) ([]byte, error) {
	m.Version = FormatVersion
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	// The metadata carries its own checksum on the last line.
	return appendChecksum(append(b, '\n')), nil
}

func writeMeta(ctx context.Context, st blobStore, dir string, m *Metadata) error {
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

// DecodeMetadata parses and verifies a metadata file.
func DecodeMetadata(b []byte) (*Metadata, error) {
	body, err := cutChecksum(b, "metadata")
	if err != nil {
		return nil, err
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: metadata: %v", ErrCorrupt, err)
	}
	if m.Version != FormatVersion {
		return nil, fmt.Errorf("%w: metadata version %d, this Weir reads %d", ErrCorrupt, m.Version, FormatVersion)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// validate checks what readers rely on: file and object names stay inside
// the checkpoint, and native state is well formed.
func (m *Metadata) validate() error {
	for name := range m.Files {
		if !validName(name) {
			return fmt.Errorf("%w: metadata names file %q", ErrCorrupt, name)
		}
	}
	for _, op := range m.Operators {
		for _, st := range op.Subtasks {
			n := st.Native
			if n == nil {
				continue
			}
			if n.Kind == "" || n.KeyGroupStart < 0 || n.KeyGroupEnd < n.KeyGroupStart {
				return fmt.Errorf("%w: operator %s subtask %d: native state %q key groups [%d,%d)",
					ErrCorrupt, op.UID, st.Subtask, n.Kind, n.KeyGroupStart, n.KeyGroupEnd)
			}
			for _, f := range n.Files {
				if !validName(f.Name) || strings.Contains(f.Name, "/") || f.Size < 0 {
					return fmt.Errorf("%w: operator %s subtask %d: native file %q", ErrCorrupt, op.UID, st.Subtask, f.Name)
				}
				if f.Shared != "" {
					if !validName(f.Shared) {
						return fmt.Errorf("%w: operator %s subtask %d: shared object %q", ErrCorrupt, op.UID, st.Subtask, f.Shared)
					}
					continue
				}
				if sum, ok := m.Files[f.File]; !ok || sum != f.CRC {
					return fmt.Errorf("%w: operator %s subtask %d: native file %s: data file %q is not in the checkpoint with CRC %08x",
						ErrCorrupt, op.UID, st.Subtask, f.Name, f.File, f.CRC)
				}
			}
		}
	}
	return nil
}

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
// its recorded size (FetchShared verifies their checksums).
func (s *Storage) Read(id int64) (*Metadata, map[string][]byte, error) {
	return s.ReadContext(context.Background(), id)
}

// ReadContext loads checkpoint id, as Read.
// A chk-<id> that is a pointer (WritePointer) reads what it points to.
func (s *Storage) ReadContext(ctx context.Context, id int64) (*Metadata, map[string][]byte, error) {
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

// ReadLocation loads the checkpoint or savepoint at loc (a directory or an
// s3:// URL), as Read. Its shared objects are looked for in the shared/
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
func readCheckpoint(ctx context.Context, st blobStore, dir string, root blobStore, bad func(string) bool) (*Metadata, map[string][]byte, error) {
	m, files, err := readCheckpointMeta(ctx, st, dir, root, bad)
	if err != nil {
		return nil, nil, err
	}
	return m, files, nil
}

// readCheckpointMeta is readCheckpoint that also returns the metadata when
// it decoded but something else failed. Errors name the damaged file.
func readCheckpointMeta(ctx context.Context, st blobStore, dir string, root blobStore, bad func(string) bool) (*Metadata, map[string][]byte, error) {
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

// Completed lists the IDs of checkpoints that have metadata, newest first.
func (s *Storage) Completed() ([]int64, error) { return s.CompletedContext(context.Background()) }

// CompletedContext lists the IDs of completed checkpoints, as Completed.
func (s *Storage) CompletedContext(ctx context.Context) ([]int64, error) {
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
func isComplete(ctx context.Context, st blobStore, d string) (bool, error) {
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
// Find without a fallback.
func (s *Storage) Latest() (*Metadata, map[string][]byte, error) {
	return s.LatestContext(context.Background())
}

// LatestContext loads the newest usable checkpoint, as Latest. An error
// that does not make a checkpoint unusable (object storage that cannot be
// reached) is returned rather than skipped over.
func (s *Storage) LatestContext(ctx context.Context) (*Metadata, map[string][]byte, error) {
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
func (s *Storage) RemovePartial() error { return s.RemovePartialContext(context.Background()) }

// RemovePartialContext deletes incomplete checkpoints, as RemovePartial.
func (s *Storage) RemovePartialContext(ctx context.Context) error {
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
func (s *Storage) Discard(id int64) error { return s.DiscardContext(context.Background(), id) }

// DiscardContext deletes checkpoint id, as Discard.
func (s *Storage) DiscardContext(ctx context.Context, id int64) error {
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
// or an s3:// URL), such as an aborted savepoint.
func (s *Storage) RemoveLocation(ctx context.Context, loc string) error {
	st, err := s.storeAt(ctx, loc)
	if err != nil {
		return err
	}
	return st.DeleteDir(ctx, "")
}

// Block returns the bytes of b in files.
func Block(files map[string][]byte, file string, b BlockMeta) ([]byte, error) {
	data, ok := files[file]
	if !ok || b.Offset < 0 || b.Length < 0 || b.Offset > int64(len(data)) || b.Length > int64(len(data))-b.Offset {
		return nil, fmt.Errorf("%w: block %s[%d:+%d] out of range", ErrCorrupt, file, b.Offset, b.Length)
	}
	return data[b.Offset : b.Offset+b.Length], nil
}
