// Package parquet writes exactly-once Parquet part files with the file
// connector's exactly-once sink (file.ExactlyOnceBulkSink), using
// github.com/parquet-go/parquet-go.
//
// Records are structs whose columns follow parquet-go's rules (exported
// fields, `parquet:"name,optional,..."` tags). Each part file is one
// Parquet file: rows are buffered in row groups and written when a row
// group fills (parquet.MaxRowsPerRowGroup) and when the part file rolls,
// at every checkpoint at the latest, as for Flink's bulk formats. Size-based
// rolling (file.ExactlyOnceOptions.MaxPartSize) counts the bytes written so
// far, so a part file may exceed it by up to a row group.
package parquet

import (
	"fmt"
	"io"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weirstream/weir/connector/file"
)

// Format is the Parquet bulk format for records of type T. Create it with
// NewFormat.
type Format[T any] struct {
	opts []pq.WriterOption
}

// NewFormat returns the Parquet format for T; opts configure parquet-go's
// writer (compression, row group size, ...).
func NewFormat[T any](opts ...pq.WriterOption) *Format[T] {
	return &Format[T]{opts: opts}
}

// Extension returns "parquet".
func (f *Format[T]) Extension() string { return "parquet" }

// NewWriter returns the encoder of one part file. A record type parquet-go
// cannot map to a schema is an error.
func (f *Format[T]) NewWriter(w io.Writer) (bw file.BulkWriter[T], err error) {
	defer func() {
		// parquet-go panics on a type it cannot make a schema of.
		if r := recover(); r != nil {
			bw, err = nil, fmt.Errorf("parquet: record type %T: %v", *new(T), r)
		}
	}()
	return &writer[T]{w: pq.NewGenericWriter[T](w, f.opts...), one: make([]T, 1)}, nil
}

type writer[T any] struct {
	w   *pq.GenericWriter[T]
	one []T
}

func (w *writer[T]) Write(v T) error {
	w.one[0] = v
	_, err := w.w.Write(w.one)
	var zero T
	w.one[0] = zero
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

func (w *writer[T]) Finish() error {
	if err := w.w.Close(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

// ExactlyOnceSink writes records of T to committed Parquet part files
// dir/part-<subtask>-<n>.parquet (see file.ExactlyOnceBulkSink).
func ExactlyOnceSink[T any](dir string, opts file.ExactlyOnceOptions, wopts ...pq.WriterOption) *file.ExactlyOnceSink[T] {
	return file.ExactlyOnceBulkSink[T](dir, NewFormat[T](wopts...), opts)
}
