package file

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/weirstream/weir"
)

// PartitionedSink writes records exactly once into part files under
// sub-directories of a directory, one per bucket (Flink's FileSink with a
// BucketAssigner; the filesystem SQL connector's partitions
// "dt=2024-01-01/hour=10"). Every bucket directory holds part files as an
// ExactlyOnceSink's directory does, with the same life cycle: in-progress
// files roll at every checkpoint and become visible when it completes.
//
// In-progress files an earlier attempt left in a bucket are removed when a
// subtask first writes to that bucket again after a restore; a bucket no
// subtask writes to again keeps them (hidden: their names start with '.').
type PartitionedSink[T any] struct {
	base   ExactlyOnceSink[T]
	bucket func(T) (string, error)
}

// PartitionedBulkSink writes the records of each bucket (the relative
// directory bucket returns: slash-separated, no "." or ".." components)
// to committed part files dir/<bucket>/part-<subtask>-<n>.<ext> in a bulk
// format. An error from bucket fails the write that caused it.
func PartitionedBulkSink[T any](dir string, f BulkFormat[T], bucket func(T) (string, error), opts ExactlyOnceOptions) *PartitionedSink[T] {
	return &PartitionedSink[T]{base: ExactlyOnceSink[T]{dir: dir, bulk: f, opts: opts}, bucket: bucket}
}

// CreateWriter returns the writer of one subtask.
func (s *PartitionedSink[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	// Check the options once.
	if _, err := s.base.CreateWriter(ctx); err != nil {
		return nil, err
	}
	return &bucketsWriter[T]{s: s, ctx: ctx, open: map[string]*eoWriter[T]{}, next: map[string]int64{}}, nil
}

// bucketsWriter is a subtask's writer: an eoWriter per bucket with records
// or commits since the last checkpoint.
type bucketsWriter[T any] struct {
	s    *PartitionedSink[T]
	ctx  weir.SinkContext
	open map[string]*eoWriter[T]
	// next is the next part number of buckets whose writer started (its
	// leftovers removed) and was dropped since: a new writer for it
	// starts there, without looking for leftovers again (its staged files
	// may wait for their commit).
	next map[string]int64
}

// checkBucket validates a bucket name.
func checkBucket(b string) error {
	if b == "" {
		return errors.New("empty bucket")
	}
	if strings.ContainsRune(b, '\\') || strings.HasPrefix(b, "/") {
		return fmt.Errorf("bucket %q is not a relative slash-separated path", b)
	}
	for _, c := range strings.Split(b, "/") {
		if c == "" || c == "." || c == ".." {
			return fmt.Errorf("bucket %q has a %q component", b, c)
		}
	}
	return nil
}

// writer returns the writer of bucket b, creating it.
func (w *bucketsWriter[T]) writer(b string) (*eoWriter[T], error) {
	if ew, ok := w.open[b]; ok {
		return ew, nil
	}
	if err := checkBucket(b); err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	s := w.s.base
	s.dir = filepath.Join(s.dir, filepath.FromSlash(b))
	sw, err := s.CreateWriter(w.ctx)
	if err != nil {
		return nil, err
	}
	ew := sw.(*eoWriter[T])
	if n, ok := w.next[b]; ok {
		ew.started, ew.part, ew.refs = true, n, nil
	}
	w.open[b] = ew
	return ew, nil
}

func (w *bucketsWriter[T]) Write(ctx context.Context, v T, ts int64) error {
	b, err := w.s.bucket(v)
	if err != nil {
		return err
	}
	ew, err := w.writer(b)
	if err != nil {
		return err
	}
	return ew.Write(ctx, v, ts)
}

func (w *bucketsWriter[T]) Flush(ctx context.Context, end bool) error {
	for _, ew := range w.open {
		if err := ew.Flush(ctx, end); err != nil {
			return err
		}
	}
	return nil
}

// bucketItemVersion starts a partitioned committable: the bucket, then an
// ExactlyOnceSink committable of the bucket's directory.
const bucketItemVersion = 2

func encodeBucketItem(b string, item []byte) []byte {
	out := []byte{bucketItemVersion}
	out = binary.AppendUvarint(out, uint64(len(b)))
	out = append(out, b...)
	return append(out, item...)
}

func decodeBucketItem(it []byte) (string, []byte, error) {
	bad := func(why string) (string, []byte, error) {
		return "", nil, weir.MarkError(fmt.Errorf("file: corrupt partitioned committable: %s", why), weir.ErrCorruption)
	}
	if len(it) == 0 || it[0] != bucketItemVersion {
		return bad("unknown version")
	}
	it = it[1:]
	l, n := binary.Uvarint(it)
	if n <= 0 || uint64(len(it)-n) < l {
		return bad("bucket")
	}
	b := string(it[n : n+int(l)])
	if err := checkBucket(b); err != nil {
		return bad(err.Error())
	}
	return b, it[n+int(l):], nil
}

// PreCommit stages every bucket's part files; writers of buckets left
// without an open file are dropped.
func (w *bucketsWriter[T]) PreCommit(ctx context.Context, id int64) ([][]byte, error) {
	var items [][]byte
	buckets := make([]string, 0, len(w.open))
	for b := range w.open {
		buckets = append(buckets, b)
	}
	slices.Sort(buckets)
	for _, b := range buckets {
		ew := w.open[b]
		its, err := ew.PreCommit(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, it := range its {
			items = append(items, encodeBucketItem(b, it))
		}
		if ew.started && ew.f == nil && len(ew.closed) == 0 {
			w.next[b] = ew.part
			delete(w.open, b)
		}
	}
	return items, nil
}

// groupByBucket splits staged commit items by their bucket, in the order
// the buckets first appear.
func groupByBucket(items [][]byte) (order []string, by map[string][][]byte, err error) {
	by = map[string][][]byte{}
	for _, it := range items {
		b, inner, err := decodeBucketItem(it)
		if err != nil {
			return nil, nil, err
		}
		if _, ok := by[b]; !ok {
			order = append(order, b)
		}
		by[b] = append(by[b], inner)
	}
	return order, by, nil
}

// Commit renames the staged part files of each bucket.
func (w *bucketsWriter[T]) Commit(ctx context.Context, items [][]byte) error {
	order, by, err := groupByBucket(items)
	if err != nil {
		return err
	}
	for _, b := range order {
		ew, err := w.writer(b)
		if err != nil {
			return err
		}
		if err := ew.Commit(ctx, by[b]); err != nil {
			return err
		}
	}
	return nil
}

// ProcessingTimeInterval is the check interval of the time-based rolling
// policies (weir.ProcessingTimeWriter).
func (w *bucketsWriter[T]) ProcessingTimeInterval() time.Duration {
	o := w.s.base.opts
	if o.RolloverInterval <= 0 && o.InactivityInterval <= 0 {
		return 0
	}
	if o.CheckInterval > 0 {
		return o.CheckInterval
	}
	return DefaultCheckInterval
}

// OnProcessingTime applies the time-based rolling policies to every
// bucket's in-progress part file.
func (w *bucketsWriter[T]) OnProcessingTime(ctx context.Context, now int64) error {
	for _, ew := range w.open {
		if err := ew.OnProcessingTime(ctx, now); err != nil {
			return err
		}
	}
	return nil
}

func (w *bucketsWriter[T]) Close() error {
	var errs []error
	for _, ew := range w.open {
		errs = append(errs, ew.Close())
	}
	return errors.Join(errs...)
}
