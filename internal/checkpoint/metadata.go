package checkpoint

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The metadata of a checkpoint (its _metadata object): which operators it
// holds state for, where each subtask's part is and the checksum of every
// data file. Byte layout: docs/format/checkpoint.md.

// FormatVersion is the version of the checkpoint layout in
// docs/format/checkpoint.md that this Weir writes. Version 2 names a
// subtask by its vertex and index (SubtaskMeta.Vertex, data files
// task-<vertex>-<subtask>.bin) and has each task write its own part; a
// version-1 checkpoint (flat task numbers, task-<n>.bin) is read as well:
// its readers need nothing version 2 added.
const FormatVersion = 2

// minFormatVersion is the oldest version DecodeMetadata reads.
const minFormatVersion = 1

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
	// Vertex is the index, in the physical plan, of the chain of operators
	// the subtask ran in (absent in version 1). With Subtask it names the
	// task that wrote the part.
	Vertex    int         `json:"vertex"`
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

// FileRef is a file of a native (incremental) state snapshot.
type FileRef struct {
	// Name is the file's name in the backend's local directory (e.g.
	// "000012.sst", "MANIFEST-000001").
	Name string `json:"name"`
	// Shared is the object name under <root>/shared/ when the file is
	// shared between checkpoints; "" when it is a private file of this
	// checkpoint, stored in the checkpoint as the data file named File.
	Shared string `json:"shared,omitempty"`
	// File is, for private files, the data file in the checkpoint (listed
	// in Metadata.Files with its CRC, which equals CRC).
	File string `json:"file,omitempty"`
	// CRC is the file's CRC-32C (Castagnoli).
	CRC uint32 `json:"crc"`
	// Size is the file's length in bytes.
	Size int64 `json:"size"`
}

// NativeMeta locates a subtask's keyed state stored in a backend's native
// format.
type NativeMeta struct {
	Kind          string    `json:"kind"` // "pebble"
	KeyGroupStart int       `json:"kg_start"`
	KeyGroupEnd   int       `json:"kg_end"` // exclusive
	Files         []FileRef `json:"files"`
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
	if m.Version < minFormatVersion || m.Version > FormatVersion {
		return nil, fmt.Errorf("%w: metadata version %d, this Weir reads versions %d to %d", ErrCorrupt, m.Version, minFormatVersion, FormatVersion)
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

// Block returns the bytes of b in files.
func Block(files map[string][]byte, file string, b BlockMeta) ([]byte, error) {
	data, ok := files[file]
	if !ok || b.Offset < 0 || b.Length < 0 || b.Offset > int64(len(data)) || b.Length > int64(len(data))-b.Offset {
		return nil, fmt.Errorf("%w: block %s[%d:+%d] out of range", ErrCorrupt, file, b.Offset, b.Length)
	}
	return data[b.Offset : b.Offset+b.Length], nil
}
