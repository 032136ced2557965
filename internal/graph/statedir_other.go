//go:build !unix

package graph

// lockDir does nothing where flock is missing: dead runs' directories are
// then left for the user to remove.
func lockDir(string) (func(), error) { return func() {}, nil }

// tryLockDir never claims a directory where flock is missing.
func tryLockDir(string) (func(), error) { return nil, nil }
