//go:build unix

package graph

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// userTag names the current user in the default state directory: the uid.
func userTag() string { return strconv.Itoa(os.Getuid()) }

// checkPrivate reports why a directory is not private to the current user.
func checkPrivate(info fs.FileInfo) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("has no owner to check")
	}
	if uid := os.Getuid(); int(st.Uid) != uid {
		return fmt.Errorf("belongs to uid %d, not to this user (uid %d)", st.Uid, uid)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("is open to other users (mode %04o, want 0700)", perm)
	}
	return nil
}

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
