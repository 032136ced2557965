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
// runs (taken before the directory gets its run-* name). A process killed
// with SIGKILL cannot remove its directory; the next run removes every
// run-* whose lock nobody holds.

const stateLockFile = ".lock"

// DefaultStateDir is the state root of jobs that name none: a directory of
// the current user's own under the system's temporary directory,
// weir-state-<uid>. (One name shared by all users let one user read,
// replace or remove another's state.) Build makes it private with
// Options.PrivateStateDir.
func DefaultStateDir() string {
	return filepath.Join(os.TempDir(), "weir-state-"+userTag())
}

// ensurePrivateDir creates dir with mode 0700, or checks that the existing
// dir is a real directory (not a symlink), owned by the current user, that
// no other user may read, write or enter. It does not repair a directory
// that fails: someone else may have put files in it.
func ensurePrivateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("weir: state directory: %w", err)
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("weir: state directory: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("weir: state directory %s is not a directory (%s); remove it, or set Options.StateDir", dir, info.Mode().Type())
	}
	if err := checkPrivate(info); err != nil {
		return fmt.Errorf("weir: state directory %s %w; remove it, or set Options.StateDir", dir, err)
	}
	return nil
}

// makeRunDir creates and locks this run's state directory under root, and
// removes the directories of dead runs.
func makeRunDir(root string, log *slog.Logger) (dir string, unlock func(), err error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", nil, fmt.Errorf("weir: state directory: %w", err)
	}
	// The directory is locked before it is named run-*: another run
	// looking for dead runs must never see it unlocked.
	tmp, err := os.MkdirTemp(root, newRunPrefix)
	if err != nil {
		return "", nil, fmt.Errorf("weir: state directory: %w", err)
	}
	unlock, err = lockDir(tmp)
	if err != nil {
		_ = os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("weir: state directory: %w", err)
	}
	dir = filepath.Join(root, "run-"+strings.TrimPrefix(filepath.Base(tmp), newRunPrefix))
	if err := os.Rename(tmp, dir); err != nil {
		unlock()
		_ = os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("weir: state directory: %w", err)
	}
	removeDeadRuns(root, dir, log)
	return dir, unlock, nil
}

// newRunPrefix names a run directory being created (not yet locked).
const newRunPrefix = ".new-run-"

// removeDeadRuns deletes run-* directories of root (but keep) that no live
// process holds.
func removeDeadRuns(root, keep string, log *slog.Logger) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		dir := filepath.Join(root, e.Name())
		creating := strings.HasPrefix(e.Name(), newRunPrefix)
		if !e.IsDir() || !(creating || strings.HasPrefix(e.Name(), "run-")) || dir == keep {
			continue
		}
		// A directory being created is left alone for a minute (its owner
		// may not have locked it yet); so is a run-* without a lock file.
		_, err := os.Stat(filepath.Join(dir, stateLockFile))
		if creating || errors.Is(err, fs.ErrNotExist) {
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
