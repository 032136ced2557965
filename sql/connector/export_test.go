package connector

import (
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/row"
)

// LocalToInstant exposes localToInstant to the external tests.
var LocalToInstant = localToInstant

// FilesystemSinkFormat returns the part-file format the filesystem sink
// of the table ctx writes, for the external tests.
func FilesystemSinkFormat(ctx Context) (file.BulkFormat[row.Row], error) {
	t, err := Filesystem{}.create(ctx, true)
	if err != nil {
		return nil, err
	}
	if t.parquet != nil {
		return parquetFormat{c: t.parquet}, nil
	}
	return lineFormat{c: t.codec}, nil
}
