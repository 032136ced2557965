//go:build !unix

package graph

import (
	"io/fs"
	"os/user"
	"strings"
)

// userTag names the current user in the default state directory: the user
// name, made safe for a file name.
func userTag() string {
	u, err := user.Current()
	if err != nil || u.Username == "" {
		return "user"
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' {
			return '_'
		}
		return r
	}, u.Username)
}

// checkPrivate cannot check ownership without unix permissions: the
// system's temporary directory is per user there (Windows).
func checkPrivate(fs.FileInfo) error { return nil }

// lockDir does nothing where flock is missing: dead runs' directories are
// then left for the user to remove.
func lockDir(string) (func(), error) { return func() {}, nil }

// tryLockDir never claims a directory where flock is missing.
func tryLockDir(string) (func(), error) { return nil, nil }
