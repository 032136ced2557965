//go:build unix

package graph

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes the exclusive lock of dir's lock file, held until unlock.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, stateLockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// tryLockDir takes dir's lock if nobody holds it; it returns nil, nil if
// someone does.
func tryLockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, stateLockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
