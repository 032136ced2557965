// Package checkpoint is the contract of remote checkpoint storage: the
// BlobStore a job writes checkpoints and savepoints to, and the Remote that
// opens one for a location URL such as s3://bucket/prefix.
//
// A job keeps checkpoints in a local (or mounted) directory without any
// of this. Locations that are URLs need a Remote for their scheme, passed
// explicitly in weir.CheckpointOptions.Remote: package checkpoint/s3
// serves s3:// URLs. The core engine links no object storage SDK; a
// program links one only by importing its package.
//
// Implementations must be safe for concurrent use: subtasks store their
// files at the same time.
package checkpoint

import (
	"context"
	"io"
)

// BlobStore is a namespace of objects named by slash-separated paths
// ("chk-12/task-0.bin", "shared/op-3-000012.sst") relative to a root (a
// directory, or a bucket and key prefix). Directories are implied by the
// names, as in S3.
//
// Missing objects are errors wrapping fs.ErrNotExist. Methods are safe for
// concurrent use on different names. Every method that does I/O takes the
// context first.
type BlobStore interface {
	// Put stores size bytes from r as object name, durably once it
	// returns. A crash during Put may leave a partial object behind (local
	// directory): objects are only reachable through a later Commit.
	Put(ctx context.Context, name string, r io.ReadSeeker, size int64) error
	// Commit stores data as object name atomically, and makes the objects
	// Put before it into the same directory durable: after a crash the
	// object is either whole or absent.
	Commit(ctx context.Context, name string, data []byte) error
	// PutFile stores the local file at path as object name, atomically,
	// replacing any object of that name. The file must never change
	// afterwards: a local store may hard-link it.
	PutFile(ctx context.Context, name, path string) error
	// Get opens object name and returns its size.
	Get(ctx context.Context, name string) (io.ReadCloser, int64, error)
	// GetFile materialises object name as the local file path (which must
	// not exist). A local store may hard-link it: treat path as read-only.
	GetFile(ctx context.Context, name, path string) error
	// Stat returns the size of object name.
	Stat(ctx context.Context, name string) (int64, error)
	// List returns every object below dir, at any depth, with names
	// relative to the root, sorted. A missing dir holds nothing.
	List(ctx context.Context, dir string) ([]BlobInfo, error)
	// Dirs returns the names of dir's immediate subdirectories ("" is the
	// root), sorted.
	Dirs(ctx context.Context, dir string) ([]string, error)
	// Delete removes object name; a missing object is not an error.
	Delete(ctx context.Context, name string) error
	// DeleteDir removes every object below dir; it refuses dir "" when
	// that would delete more than the checkpoints (a whole bucket).
	DeleteDir(ctx context.Context, dir string) error
	// Location is where name is, for messages and checkpoint paths: a
	// file path or a URL such as s3://bucket/prefix/name.
	Location(name string) string
}

// BlobInfo is an object in a listing.
type BlobInfo struct {
	Name string
	Size int64
}

// Remote opens the blob stores at the location URLs of one scheme:
// scheme://bucket/prefix. Weir parses and checks the URL (it refuses
// credentials in it) and hands Open the bucket and the key prefix.
type Remote interface {
	// Scheme is the URL scheme served, without "://", e.g. "s3".
	Scheme() string
	// Open returns the store rooted at prefix (no leading or trailing
	// slash; "" for the bucket's root) in bucket.
	Open(ctx context.Context, bucket, prefix string) (BlobStore, error)
}
