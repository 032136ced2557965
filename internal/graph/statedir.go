package graph

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Local state directories: each run of a job makes run-* under
// Options.StateDir and holds an exclusive lock on its .lock file while it
// runs. A process killed with SIGKILL cannot remove its directory; the next
// run removes every run-* whose lock nobody holds (a directory without a
// lock file is left alone for a minute: its owner may be creating it).

const stateLockFile = ".lock"

// makeRunDir creates and locks this run's state directory under root, and
// removes the directories of dead runs.
func makeRunDir(root string, log *slog.Logger) (dir string, unlock func(), err error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", nil, fmt.Errorf("weir: state directory: %w", err)
	}
	dir, err = os.MkdirTemp(root, "run-")
	if err != nil {
		return "", nil, fmt.Errorf("weir: state directory: %w", err)
	}
	unlock, err = lockDir(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("weir: state directory: %w", err)
	}
	removeDeadRuns(root, dir, log)
	return dir, unlock, nil
}

// removeDeadRuns deletes run-* directories of root (but keep) that no live
// process holds.
func removeDeadRuns(root, keep string, log *slog.Logger) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		dir := filepath.Join(root, e.Name())
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "run-") || dir == keep {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, stateLockFile)); errors.Is(err, fs.ErrNotExist) {
			if info, err := e.Info(); err != nil || time.Since(info.ModTime()) < time.Minute {
				continue
			}
		}
		unlock, err := tryLockDir(dir)
		if err != nil || unlock == nil {
			continue // held by a live run, or not ours to judge
		}
		log.Info("weir: removing the state directory of a run that did not end cleanly", "dir", dir)
		_ = os.RemoveAll(dir)
		unlock()
	}
}
