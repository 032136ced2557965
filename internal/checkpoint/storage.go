package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
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

// SubtaskMeta locates one operator subtask's state in a file.
type SubtaskMeta struct {
	Subtask   int         `json:"subtask"`
	File      string      `json:"file"`
	KeyGroups []BlockMeta `json:"key_groups,omitempty"`
	Items     []BlockMeta `json:"items,omitempty"`
}

// BlockMeta is a byte range of a file; KeyGroup is set for keyed blocks.
type BlockMeta struct {
	KeyGroup int   `json:"kg,omitempty"`
	Offset   int64 `json:"off"`
	Length   int64 `json:"len"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Storage keeps checkpoints in a directory: chk-<id>/ holding data files
// and a _metadata file written last, atomically.
type Storage struct {
	Dir    string
	Logger *slog.Logger
}

func (s *Storage) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// ChkDir is the directory of checkpoint id.
func (s *Storage) ChkDir(id int64) string { return filepath.Join(s.Dir, fmt.Sprintf("chk-%d", id)) }

// WriteFile writes a data file of checkpoint id and returns its checksum.
func (s *Storage) WriteFile(id int64, name string, data []byte) (uint32, error) {
	return WriteFileIn(s.ChkDir(id), name, data)
}

// WriteFileIn writes a data file into dir (a checkpoint or savepoint
// directory) and returns its checksum.
func WriteFileIn(dir, name string, data []byte) (uint32, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	if err := writeSync(filepath.Join(dir, name), data); err != nil {
		return 0, err
	}
	return crc32.Checksum(data, castagnoli), nil
}

func writeSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint: sync %s: %w", path, err)
	}
	return f.Close()
}

// metaFile is the metadata's name inside a checkpoint directory.
const metaFile = "_metadata"

// WriteMetadata completes checkpoint m.ID: the metadata goes to a temporary
// file, is synced, renamed into place, and the directory synced, so a crash
// leaves either no metadata or a whole one.
func (s *Storage) WriteMetadata(m *Metadata) error {
	return WriteMetadataIn(s.ChkDir(m.ID), m)
}

// WriteMetadataIn completes the checkpoint or savepoint in dir.
func WriteMetadataIn(dir string, m *Metadata) error {
	m.Version = FormatVersion
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	// The metadata carries its own checksum on the last line.
	b = append(b, '\n')
	b = strconv.AppendUint(b, uint64(crc32.Checksum(b, castagnoli)), 10)
	b = append(b, '\n')
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	tmp := filepath.Join(dir, metaFile+".tmp")
	if err := writeSync(tmp, b); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, metaFile)); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return syncDir(dir)
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

// ErrCorrupt marks a checkpoint that cannot be used.
var ErrCorrupt = errors.New("checkpoint: corrupt")

// ErrNoCheckpoint is returned when a directory holds no usable checkpoint.
var ErrNoCheckpoint = errors.New("checkpoint: no completed checkpoint")

// DecodeMetadata parses and verifies a metadata file.
func DecodeMetadata(b []byte) (*Metadata, error) {
	body, sum, ok := cutLastLine(b)
	if !ok {
		return nil, fmt.Errorf("%w: metadata has no checksum line", ErrCorrupt)
	}
	want, err := strconv.ParseUint(sum, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: metadata checksum %q", ErrCorrupt, sum)
	}
	if got := crc32.Checksum(body, castagnoli); uint64(got) != want {
		return nil, fmt.Errorf("%w: metadata checksum mismatch", ErrCorrupt)
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: metadata: %v", ErrCorrupt, err)
	}
	if m.Version != FormatVersion {
		return nil, fmt.Errorf("%w: metadata version %d, this Weir reads %d", ErrCorrupt, m.Version, FormatVersion)
	}
	return &m, nil
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
// the metadata and the files' contents.
func (s *Storage) Read(id int64) (*Metadata, map[string][]byte, error) {
	return readDir(s.ChkDir(id))
}

// ReadPath loads the checkpoint in directory dir (a chk-<id> directory or a
// savepoint directory).
func ReadPath(dir string) (*Metadata, map[string][]byte, error) { return readDir(dir) }

func readDir(dir string) (*Metadata, map[string][]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	m, err := DecodeMetadata(b)
	if err != nil {
		return nil, nil, err
	}
	files := map[string][]byte{}
	for name, sum := range m.Files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if got := crc32.Checksum(data, castagnoli); got != sum {
			return nil, nil, fmt.Errorf("%w: file %s checksum %08x, metadata says %08x", ErrCorrupt, name, got, sum)
		}
		files[name] = data
	}
	return m, files, nil
}

// Completed lists the IDs of checkpoints that have metadata, newest first.
func (s *Storage) Completed() ([]int64, error) {
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var ids []int64
	for _, e := range ents {
		n, ok := strings.CutPrefix(e.Name(), "chk-")
		if !ok || !e.IsDir() {
			continue
		}
		id, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(s.Dir, e.Name(), metaFile)); err == nil {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
	return ids, nil
}

// Latest loads the newest checkpoint that is whole and uncorrupted; it logs
// why it skips any newer one.
func (s *Storage) Latest() (*Metadata, map[string][]byte, error) {
	ids, err := s.Completed()
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		m, files, err := s.Read(id)
		if err == nil {
			return m, files, nil
		}
		s.log().Warn("weir: skipping unusable checkpoint, trying the previous one", "checkpoint", id, "err", err)
	}
	return nil, nil, fmt.Errorf("%w in %s", ErrNoCheckpoint, s.Dir)
}

// RemovePartial deletes checkpoint directories without metadata: what a
// run that stopped in the middle of a checkpoint left behind. Call it only
// when no job writes to the directory.
func (s *Storage) RemovePartial() error {
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "chk-") {
			continue
		}
		dir := filepath.Join(s.Dir, e.Name())
		if _, err := os.Stat(filepath.Join(dir, metaFile)); errors.Is(err, fs.ErrNotExist) {
			s.log().Info("weir: removing unfinished checkpoint", "dir", dir)
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("checkpoint: %w", err)
			}
		}
	}
	return nil
}

// Discard deletes checkpoint id.
func (s *Storage) Discard(id int64) error {
	if err := os.RemoveAll(s.ChkDir(id)); err != nil {
		return fmt.Errorf("checkpoint: discard %d: %w", id, err)
	}
	return nil
}

// Block returns the bytes of b in files.
func Block(files map[string][]byte, file string, b BlockMeta) ([]byte, error) {
	data, ok := files[file]
	if !ok || b.Offset < 0 || b.Length < 0 || b.Offset+b.Length > int64(len(data)) {
		return nil, fmt.Errorf("%w: block %s[%d:+%d] out of range", ErrCorrupt, file, b.Offset, b.Length)
	}
	return data[b.Offset : b.Offset+b.Length], nil
}
