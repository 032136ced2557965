package file

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/operator"
)

// Partition commit, after the partition commit of Flink's filesystem SQL
// connector (PartitionCommitter, PartitionCommitTrigger,
// PartitionCommitPolicy): once the data a checkpoint wrote into a bucket
// (a partition directory) is committed and a trigger says the partition
// is ready, policies run for it — SuccessFile writes an empty _SUCCESS
// file into it, telling readers the partition is complete.
//
// Topology (Flink's StreamingFileWriter -> PartitionCommitter ->
// DiscardingSink): the writer operator does what the sink operator does
// for a PartitionedSink (same two-phase commit, same operator state
// layout) and, when a checkpoint's barrier reaches it, also emits a
// PartitionCommitInfo with the committables it staged for that
// checkpoint. One committer subtask receives them; barrier alignment
// puts every writer's info for checkpoint n before barrier n, so the
// committer's snapshot n holds all of them. When checkpoint n completes
// the committer first makes sure the data of checkpoints <= n is
// committed (it commits the committables itself — commits are
// idempotent, as after a restore — so it never depends on the order in
// which the writers' and its own notifications run), then adds their
// buckets to its pending partitions and asks the trigger which are ready.
// A restore commits the data named by the restored infos before anything
// else; the pending partitions are in the committer's state, so a
// restore neither loses nor repeats a policy run of a completed
// checkpoint. At the end of input every pending partition is committed
// (Flink's endInput), after the data: with checkpoints, when the final
// checkpoint completes; without, when the committer finishes.
// A bucket written again after its commit is committed again.

// PartitionCommitTrigger says when a partition whose data is committed is
// ready for its policies.
type PartitionCommitTrigger int

const (
	// ProcessTimeTrigger (Flink's 'process-time', the default): a
	// partition is ready once the processing time passed the time the
	// committer first saw it committed plus the delay (at once with no
	// delay).
	ProcessTimeTrigger PartitionCommitTrigger = iota
	// PartitionTimeTrigger (Flink's 'partition-time'): a partition is
	// ready once the watermark the committer had at the checkpoint is
	// past the partition's time plus the delay.
	PartitionTimeTrigger
)

// PartitionCommitPolicy acts on a partition that is ready (Flink's
// PartitionCommitPolicy). dir is the sink's directory and bucket the
// partition's relative directory. A policy may run more than once for a
// partition (after a restore, or when later data arrives), so it must be
// idempotent.
type PartitionCommitPolicy interface {
	CommitPartition(ctx context.Context, dir, bucket string) error
}

// SuccessFile is Flink's success-file policy: it writes an empty file of
// that name (Flink's default is _SUCCESS) into the partition directory.
type SuccessFile string

// CommitPartition creates (or truncates) the success file and syncs it.
func (s SuccessFile) CommitPartition(_ context.Context, dir, bucket string) error {
	p := filepath.Join(dir, filepath.FromSlash(bucket), string(s))
	f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("file: success file of partition %s: %w", bucket, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("file: success file of partition %s: %w", bucket, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("file: success file of partition %s: %w", bucket, err)
	}
	return nil
}

// PartitionCommitOptions configure partition commit.
type PartitionCommitOptions struct {
	// Trigger decides when a partition is ready (default
	// ProcessTimeTrigger).
	Trigger PartitionCommitTrigger
	// Delay is added to the partition's creation time (process-time) or
	// partition time (partition-time).
	Delay time.Duration
	// PartitionTime returns the time of a bucket in milliseconds since the
	// epoch; required by PartitionTimeTrigger. An error fails the job.
	PartitionTime func(bucket string) (int64, error)
	// Policies run in order for every ready partition; at least one.
	Policies []PartitionCommitPolicy
}

// PartitionCommitInfo is what a writer subtask staged for a checkpoint:
// the sink's committables (each names its bucket and a part file).
type PartitionCommitInfo struct {
	Checkpoint int64
	Subtask    int
	Items      [][]byte
}

// WithPartitionCommit writes in to the sink as SinkTo does and commits
// the partitions it writes. It returns the writer's stream (give it the
// UID the sink operator had: its state is the sink operator's) and the
// committer's stream, which runs on one subtask, and whose DataSink
// discards nothing but ends the job graph.
func (s *PartitionedSink[T]) WithPartitionCommit(in weir.Stream[T], opts PartitionCommitOptions) (writer weir.Stream[PartitionCommitInfo], committer weir.Stream[struct{}], err error) {
	if len(opts.Policies) == 0 {
		return writer, committer, optionError("PartitionCommitOptions.Policies", "at least one policy is needed", nil)
	}
	if opts.Trigger != ProcessTimeTrigger && opts.Trigger != PartitionTimeTrigger {
		return writer, committer, optionError("PartitionCommitOptions.Trigger", fmt.Sprintf("unknown trigger %d", opts.Trigger), nil)
	}
	if opts.Trigger == PartitionTimeTrigger && opts.PartitionTime == nil {
		return writer, committer, optionError("PartitionCommitOptions.PartitionTime", "required by PartitionTimeTrigger", nil)
	}
	if opts.Delay < 0 {
		return writer, committer, optionError("PartitionCommitOptions.Delay", "must not be negative", nil)
	}
	writer = weir.Transform(in, "PartitionWriter", func(out operator.Output[PartitionCommitInfo]) operator.OneInput[T] {
		return &partitionWriterOp[T]{sink: s, out: out}
	})
	committer = weir.Transform(writer, "PartitionCommitter", func(out operator.Output[struct{}]) operator.OneInput[PartitionCommitInfo] {
		return &partitionCommitterOp{dir: s.base.dir, opts: opts, out: out, ext: s.base.ext(), merge: s.base.merger()}
	}).SetParallelism(1)
	return writer, committer, nil
}

// partitionWriterOp is the sink operator of a PartitionedSink that also
// emits, at each checkpoint, what it staged.
type partitionWriterOp[T any] struct {
	sink *PartitionedSink[T]
	out  operator.Output[PartitionCommitInfo]
	ctx  *operator.Context
	w    *bucketsWriter[T]
	// pending are committables staged for checkpoints not yet complete.
	pending []stagedCommit
	lastID  int64
}

// stagedCommit is a checkpoint's committables. Its operator-state item
// is the sink operator's: the checkpoint id as a varint, then every
// committable with its length (a uvarint).
type stagedCommit struct {
	id    int64
	items [][]byte
}

func (p stagedCommit) encode() []byte {
	b := binary.AppendVarint(nil, p.id)
	for _, it := range p.items {
		b = binary.AppendUvarint(b, uint64(len(it)))
		b = append(b, it...)
	}
	return b
}

func decodeStagedCommit(b []byte) (stagedCommit, error) {
	id, n := binary.Varint(b)
	if n <= 0 {
		return stagedCommit{}, fmt.Errorf("file: %w: staged commit id", codec.ErrCorrupt)
	}
	p := stagedCommit{id: id}
	b = b[n:]
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return stagedCommit{}, fmt.Errorf("file: %w: staged committable", codec.ErrCorrupt)
		}
		p.items = append(p.items, b[n:n+int(l)])
		b = b[n+int(l):]
	}
	return p, nil
}

func taskCtx(c *operator.Context) context.Context {
	if c != nil && c.Context != nil {
		return c.Context
	}
	return context.Background()
}

func (o *partitionWriterOp[T]) Open(ctx *operator.Context) error {
	o.ctx = ctx
	sw, err := o.sink.CreateWriter(weir.SinkContext{Subtask: ctx.Subtask, Parallelism: ctx.Parallelism, OperatorName: ctx.Name, Time: ctx.Time})
	if err != nil {
		return err
	}
	o.w = sw.(*bucketsWriter[T])
	weir.ScheduleProcessingTime(ctx, o.w, func() context.Context { return taskCtx(o.ctx) })
	if ctx.Restore == nil {
		return nil
	}
	o.lastID = ctx.Restore.CheckpointID
	// Everything staged in the restored checkpoint belongs to a completed
	// checkpoint: commit it (again, if it already was).
	for _, it := range ctx.Restore.Items {
		p, err := decodeStagedCommit(it)
		if err != nil {
			return fmt.Errorf("file: restoring staged commits: %w", err)
		}
		if err := o.w.Commit(taskCtx(ctx), p.items); err != nil {
			return fmt.Errorf("file: committing staged output of checkpoint %d after restore: %w", p.id, err)
		}
	}
	return nil
}

func (o *partitionWriterOp[T]) ProcessElement(v T, ts int64) error {
	return o.w.Write(taskCtx(o.ctx), v, ts)
}

func (o *partitionWriterOp[T]) ProcessWatermark(wm int64) error {
	o.ctx.Metrics.CurrentWatermark = wm
	return o.out.ProcessWatermark(wm)
}

func (o *partitionWriterOp[T]) ProcessWatermarkStatus(idle bool) error {
	return o.out.ProcessWatermarkStatus(idle)
}

// stage pre-commits for checkpoint id and tells the committer.
func (o *partitionWriterOp[T]) stage(id int64) error {
	items, err := o.w.PreCommit(taskCtx(o.ctx), id)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	o.pending = append(o.pending, stagedCommit{id: id, items: items})
	return o.out.ProcessElement(PartitionCommitInfo{Checkpoint: id, Subtask: o.ctx.Subtask, Items: items}, operator.NoTimestamp)
}

// PrepareSnapshotPreBarrier stages the checkpoint's output and sends the
// info before the barrier. The final snapshot (id 0) staged in Finish.
func (o *partitionWriterOp[T]) PrepareSnapshotPreBarrier(id int64) error {
	if id == 0 {
		return nil
	}
	o.lastID = id
	return o.stage(id)
}

func (o *partitionWriterOp[T]) SnapshotState(_ int64, w *operator.StateWriter) error {
	for _, p := range o.pending {
		w.AddItem(p.encode())
	}
	return nil
}

func (o *partitionWriterOp[T]) NotifyCheckpointComplete(id int64) error {
	kept := o.pending[:0]
	for _, p := range o.pending {
		if p.id > id {
			kept = append(kept, p)
			continue
		}
		if err := o.w.Commit(taskCtx(o.ctx), p.items); err != nil {
			return fmt.Errorf("file: commit of checkpoint %d: %w", p.id, err)
		}
	}
	o.pending = kept
	return nil
}

func (o *partitionWriterOp[T]) NotifyCheckpointAborted(int64) error { return nil }

// Finish flushes and stages the last output: for the first checkpoint
// after the last barrier (the final one), or, without checkpoints,
// commits it at once. Either way the committer hears of it before the
// end of input.
func (o *partitionWriterOp[T]) Finish() error {
	ctx := taskCtx(o.ctx)
	if err := o.w.Flush(ctx, true); err != nil {
		return err
	}
	if o.ctx.Checkpointing {
		return o.stage(o.lastID + 1)
	}
	items, err := o.w.PreCommit(ctx, 0)
	if err != nil {
		return err
	}
	if err := o.w.Commit(ctx, items); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	return o.out.ProcessElement(PartitionCommitInfo{Checkpoint: math.MaxInt64, Subtask: o.ctx.Subtask, Items: items}, operator.NoTimestamp)
}

func (o *partitionWriterOp[T]) Close() error {
	if o.w == nil {
		return nil
	}
	return o.w.Close()
}

// partitionCommitterOp commits partitions; it runs on one subtask.
type partitionCommitterOp struct {
	dir  string
	opts PartitionCommitOptions
	// ext and merge are the sink's part-file extension and merge
	// function: committing a compaction unit merges its files.
	ext   string
	merge func(io.Writer, []*os.File) error
	out   operator.Output[struct{}]
	ctx   *operator.Context

	// staged are the writers' infos whose checkpoint has not completed.
	staged []stagedCommit
	// parts are the partitions whose data is committed and that wait for
	// the trigger, with the processing time the committer saw them
	// committed first.
	parts map[string]int64
	// wm is the current watermark; wmAt the watermark at each checkpoint
	// the committer snapshotted and that has not completed (Flink's
	// checkpoint-id-to-watermark).
	wm   int64
	wmAt map[int64]int64
	// ended: the input ended; every partition is committed once its data
	// is.
	ended bool
}

// Committer state items: a tag byte, then a stagedCommit (tag 1) or a
// pending partition (tag 2: created time as a varint, then the bucket).
const (
	committerStaged    = 1
	committerPartition = 2
)

func (c *partitionCommitterOp) Open(ctx *operator.Context) error {
	c.ctx = ctx
	c.parts = map[string]int64{}
	c.wmAt = map[int64]int64{}
	c.wm = operator.MinWatermark
	if ctx.Restore == nil {
		return nil
	}
	var staged []stagedCommit
	for _, it := range ctx.Restore.Items {
		if len(it) == 0 {
			return fmt.Errorf("file: partition committer: %w: empty state item", codec.ErrCorrupt)
		}
		switch it[0] {
		case committerStaged:
			p, err := decodeStagedCommit(it[1:])
			if err != nil {
				return fmt.Errorf("file: partition committer: %w", err)
			}
			staged = append(staged, p)
		case committerPartition:
			t, n := binary.Varint(it[1:])
			if n <= 0 {
				return fmt.Errorf("file: partition committer: %w: pending partition", codec.ErrCorrupt)
			}
			b := string(it[1+n:])
			if err := checkBucket(b); err != nil {
				return fmt.Errorf("file: partition committer: %w: %v", codec.ErrCorrupt, err)
			}
			c.parts[b] = t
		default:
			return fmt.Errorf("file: partition committer: %w: unknown state item %d", codec.ErrCorrupt, it[0])
		}
	}
	// The restored checkpoint completed: the data it names is committed
	// (again, if it was), and its partitions wait for the trigger.
	c.staged = staged
	return c.commitData(math.MaxInt64)
}

func (c *partitionCommitterOp) ProcessElement(info PartitionCommitInfo, _ int64) error {
	c.staged = append(c.staged, stagedCommit{id: info.Checkpoint, items: info.Items})
	return nil
}

func (c *partitionCommitterOp) ProcessWatermark(wm int64) error {
	c.wm = wm
	c.ctx.Metrics.CurrentWatermark = wm
	return c.out.ProcessWatermark(wm)
}

func (c *partitionCommitterOp) ProcessWatermarkStatus(idle bool) error {
	return c.out.ProcessWatermarkStatus(idle)
}

func (c *partitionCommitterOp) SnapshotState(id int64, w *operator.StateWriter) error {
	if id != 0 {
		c.wmAt[id] = c.wm
	}
	for _, p := range c.staged {
		w.AddItem(append([]byte{committerStaged}, p.encode()...))
	}
	buckets := make([]string, 0, len(c.parts))
	for b := range c.parts {
		buckets = append(buckets, b)
	}
	slices.Sort(buckets)
	for _, b := range buckets {
		it := binary.AppendVarint([]byte{committerPartition}, c.parts[b])
		w.AddItem(append(it, b...))
	}
	return nil
}

// commitData commits the data of the infos of checkpoints <= id and adds
// their buckets to the pending partitions.
func (c *partitionCommitterOp) commitData(id int64) error {
	ctx := taskCtx(c.ctx)
	now := c.ctx.Time.Now()
	kept := c.staged[:0]
	for _, p := range c.staged {
		if p.id > id {
			kept = append(kept, p)
			continue
		}
		order, by, err := groupByBucket(p.items)
		if err != nil {
			return err
		}
		for _, b := range order {
			ew := &eoWriter[struct{}]{dir: filepath.Join(c.dir, filepath.FromSlash(b)), started: true, ext: c.ext, merge: c.merge}
			if err := ew.Commit(ctx, by[b]); err != nil {
				return fmt.Errorf("file: partition committer: data of checkpoint %d: %w", p.id, err)
			}
			if _, ok := c.parts[b]; !ok {
				c.parts[b] = now
			}
		}
	}
	c.staged = kept
	return nil
}

// ready returns the pending partitions the trigger lets commit after
// checkpoint id, sorted, and drops them from the pending ones.
func (c *partitionCommitterOp) ready(id int64) ([]string, error) {
	var out []string
	// At the end of input every partition commits, but only once no data
	// staged for a later (the final) checkpoint is left: before that the
	// trigger decides, as while the input runs.
	if c.ended && len(c.staged) == 0 {
		for b := range c.parts {
			out = append(out, b)
		}
	} else {
		switch c.opts.Trigger {
		case ProcessTimeTrigger:
			now := c.ctx.Time.Now()
			delay := c.opts.Delay.Milliseconds()
			for b, created := range c.parts {
				if delay == 0 || now > created+delay {
					out = append(out, b)
				}
			}
		case PartitionTimeTrigger:
			wm, ok := c.wmAt[id]
			if !ok {
				// A checkpoint this committer did not snapshot (restored
				// from): the next one decides.
				return nil, nil
			}
			for b := range c.parts {
				t, err := c.opts.PartitionTime(b)
				if err != nil {
					return nil, fmt.Errorf("file: partition committer: time of partition %s: %w", b, err)
				}
				if wm > t+c.opts.Delay.Milliseconds() {
					out = append(out, b)
				}
			}
		}
	}
	for k := range c.wmAt {
		if k <= id {
			delete(c.wmAt, k)
		}
	}
	slices.Sort(out)
	for _, b := range out {
		delete(c.parts, b)
	}
	return out, nil
}

// commit commits the data of checkpoints <= id, then runs the policies
// for the partitions that are ready.
func (c *partitionCommitterOp) commit(id int64) error {
	if err := c.commitData(id); err != nil {
		return err
	}
	parts, err := c.ready(id)
	if err != nil {
		return err
	}
	ctx := taskCtx(c.ctx)
	for _, b := range parts {
		for _, p := range c.opts.Policies {
			if err := p.CommitPartition(ctx, c.dir, b); err != nil {
				return fmt.Errorf("file: partition committer: partition %s: %w", b, err)
			}
		}
		c.ctx.Logger.Info("partition committed", "partition", b, "checkpoint", id)
	}
	return nil
}

func (c *partitionCommitterOp) NotifyCheckpointComplete(id int64) error { return c.commit(id) }

func (c *partitionCommitterOp) NotifyCheckpointAborted(id int64) error {
	delete(c.wmAt, id)
	return nil
}

// Finish: every partition commits once its data is; without checkpoints
// the writers committed their data before their end of input.
func (c *partitionCommitterOp) Finish() error {
	c.ended = true
	if c.ctx.Checkpointing {
		return nil
	}
	return c.commit(math.MaxInt64)
}

func (c *partitionCommitterOp) Close() error { return nil }
