package checkpoint

import (
	"context"

	blob "github.com/weirstream/weir/checkpoint"
)

// Internals the external tests (package checkpoint_test, which can import
// checkpoint/s3 to run the suite over S3) use.

// Store returns the blob store at Dir.
func (s *Storage) Store(ctx context.Context) (blob.BlobStore, error) { return s.store(ctx) }

var (
	ReadObject     = readObject
	FileCRC        = fileCRC
	IsURL          = isURL
	ParentLocation = parentLocation
	RecordFile     = recordFile
	MetaFile       = metaFile
	CopyFile       = copyFile
)
