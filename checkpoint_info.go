package weir

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	icheckpoint "github.com/weirstream/weir/internal/checkpoint"
)

// CheckpointInfo is what the metadata of a completed checkpoint or
// savepoint says of it, and the bytes its own files take.
type CheckpointInfo struct {
	// ID is the checkpoint's id.
	ID int64
	// Timestamp is when the checkpoint was triggered.
	Timestamp time.Time
	// Savepoint says it is a savepoint.
	Savepoint bool
	// Size is the total size in bytes of the files in the checkpoint's
	// directory (its metadata and the parts tasks wrote there; shared
	// files of incremental snapshots are not counted).
	Size int64
}

// ReadCheckpointInfo reads the metadata of the completed checkpoint or
// savepoint in the local directory dir (a chk-<id> directory or a
// savepoint's), without reading or verifying its state files. It is for
// tools that show checkpoint history, such as the REST server.
func ReadCheckpointInfo(dir string) (CheckpointInfo, error) {
	b, err := os.ReadFile(filepath.Join(dir, "_metadata"))
	if err != nil {
		return CheckpointInfo{}, fmt.Errorf("weir: checkpoint info: %w", err)
	}
	m, err := icheckpoint.DecodeMetadata(b)
	if err != nil {
		return CheckpointInfo{}, fmt.Errorf("weir: checkpoint info of %s: %w", dir, err)
	}
	info := CheckpointInfo{ID: m.ID, Timestamp: m.Timestamp, Savepoint: m.Savepoint}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return CheckpointInfo{}, fmt.Errorf("weir: checkpoint info: %w", err)
	}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			info.Size += fi.Size()
		}
	}
	return info, nil
}
