package file

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/operator"
)

// Overwrite of a bounded job's output, after the batch sink of Flink's
// filesystem SQL connector with INSERT OVERWRITE (FileSystemOutputFormat,
// FileSystemCommitter, PartitionLoader): the job writes into a hidden
// staging directory under the sink's directory, and once all of its
// output is committed there, one committer replaces the old files with
// it:
//
//   - not partitioned: every entry of the directory that is not hidden
//     (its name starts with '.' or '_') is removed, then the staged files
//     are moved in — also when the job wrote nothing, which leaves the
//     directory empty;
//   - partitioned: in each partition (bucket) the job wrote to, the
//     entries that are not hidden are removed and the staged files moved
//     in; other partitions are untouched. When the job wrote nothing and
//     every partition column is static (OverwriteOptions.StaticBucket),
//     that partition's directory is removed and made again, empty
//     (PartitionLoader.loadEmptyPartition); when it wrote nothing and
//     some partition column is dynamic nothing changes.
//
// Policies (success files) run for every partition loaded.
//
// Topology: the writer is the partition-commit writer (partitionWriterOp)
// over a PartitionedSink rooted at the staging directory, so staged data
// follows the exactly-once sink's life cycle there; the committer runs on
// one subtask, commits the staged data of each completed checkpoint into
// the staging directory (idempotent renames, as the partition committer)
// and, at the end of input — at once without checkpoints, after the final
// checkpoint with them — runs the overwrite. Nothing outside the staging
// directory changes before that, so a job that fails earlier leaves the
// old data as it was (its staging directory stays behind, hidden).
//
// Crash safety: the overwrite is logged first. The committer writes a
// manifest (.overwrite-<token>.commit beside the staging directory,
// written to a temporary file, synced and renamed) listing the entries
// it will remove and the staged files it will move, in phase "delete";
// removes the entries; rewrites the manifest in phase "move"; moves the
// files (a file already at its destination is skipped); runs the
// policies; removes the staging directory and then the manifest. A
// crash leaves either no manifest (nothing changed, or everything done)
// or a manifest whose phase says what is left, which resumeOverwrite
// completes: the job's committer does so when it runs again, and so does
// the committer of any later overwrite of the same directory before its
// own. Readers that find a pending manifest refuse to read
// (PendingOverwrite) rather than see half the new data. A staged file
// that is neither in the staging directory nor at its destination fails
// the resume with an error naming it.
type OverwriteOptions struct {
	// Token names this job's staging directory, .overwrite-<token>, and
	// manifest; it must be the same for every attempt of the job (a
	// restore) and differ between jobs writing the same directory.
	Token string
	// Partitioned: buckets are partition directories under the sink's
	// directory. Otherwise the sink's directory is the table's only
	// directory and bucket returns anything valid (the staged files are
	// moved into the directory itself).
	Partitioned bool
	// StaticBucket is the partition of a fully static PARTITION clause
	// ("" when there is none or some partition column is dynamic).
	StaticBucket string
	// Policies run, in order, for every partition loaded (partitioned
	// sinks only).
	Policies []PartitionCommitPolicy
	// afterPhase, when set (tests), runs once each phase of the commit
	// has been made durable; an error stops the commit there, as a crash
	// would.
	afterPhase func(phase string) error
}

// overwriteStagingPrefix starts the staging directory's and manifest's
// names: hidden from readers, who skip names starting with '.'.
const overwriteStagingPrefix = ".overwrite-"

// Overwrite writes in into a staging directory of the sink's directory and,
// when the input ends, replaces the old files as OverwriteOptions says. It
// returns the writer's stream and the committer's (one subtask; give its
// DataSink a discarding sink).
func (s *PartitionedSink[T]) Overwrite(in weir.Stream[T], opts OverwriteOptions) (writer weir.Stream[PartitionCommitInfo], committer weir.Stream[struct{}], err error) {
	if opts.Token == "" || strings.ContainsAny(opts.Token, `/\.`) {
		return writer, committer, optionError("OverwriteOptions.Token", fmt.Sprintf("%q is not a plain name", opts.Token), nil)
	}
	if opts.StaticBucket != "" {
		if err := checkBucket(opts.StaticBucket); err != nil {
			return writer, committer, optionError("OverwriteOptions.StaticBucket", err.Error(), nil)
		}
	}
	root := s.base.dir
	staging := *s
	staging.base.dir = filepath.Join(root, overwriteStagingPrefix+opts.Token)
	writer = weir.Transform(in, "OverwriteWriter", func(out operator.Output[PartitionCommitInfo]) operator.OneInput[T] {
		return &overwriteWriterOp[T]{partitionWriterOp[T]{sink: &staging, out: out}}
	})
	committer = weir.Transform(writer, "OverwriteCommitter", func(out operator.Output[struct{}]) operator.OneInput[PartitionCommitInfo] {
		return &overwriteCommitterOp{root: root, opts: opts, out: out}
	}).SetParallelism(1)
	return writer, committer, nil
}

// overwriteWriterOp is the partition-commit writer, except that only the
// committer commits staged data once checkpoints complete or after a
// restore: the committer moves committed files out of the staging
// directory at the end, so a writer committing them as well could find
// them gone. A restored writer only remembers the files its checkpoint
// names, so that it does not remove them as leftovers.
type overwriteWriterOp[T any] struct {
	partitionWriterOp[T]
}

func (o *overwriteWriterOp[T]) Open(ctx *operator.Context) error {
	o.ctx = ctx
	sw, err := o.sink.CreateWriter(weir.SinkContext{Subtask: ctx.Subtask, Parallelism: ctx.Parallelism, OperatorName: ctx.Name, Time: ctx.Time})
	if err != nil {
		return err
	}
	o.w = sw.(*bucketsWriter[T])
	if ctx.Restore == nil {
		return o.removeFailedAttempt(ctx)
	}
	o.lastID = ctx.Restore.CheckpointID
	for _, it := range ctx.Restore.Items {
		p, err := decodeStagedCommit(it)
		if err != nil {
			return fmt.Errorf("file: restoring staged commits: %w", err)
		}
		order, by, err := groupByBucket(p.items)
		if err != nil {
			return err
		}
		for _, b := range order {
			ew, err := o.w.writer(b)
			if err != nil {
				return err
			}
			for _, item := range by[b] {
				c, err := decodeCommittable(item)
				if err != nil {
					return err
				}
				if ew.refs != nil {
					ew.refs[c.pending], ew.refs[c.final] = true, true
				}
			}
		}
	}
	return nil
}

// removeFailedAttempt removes, at a start without a restore, the part
// files an earlier attempt of this job (same token, same staging
// directory) committed into the staging directory before it failed:
// without checkpoints a writer commits its files there at its end of
// input, and a restart runs the job from the start; the overwrite would
// otherwise move the failed attempt's files beside the new ones
// (duplicates). Each subtask removes its own files (subtask 0 also those of
// subtasks beyond the parallelism): nothing of this attempt is committed
// before every writer has opened. A pending manifest of this token is
// left alone with its files: the commit completes it.
func (o *overwriteWriterOp[T]) removeFailedAttempt(ctx *operator.Context) error {
	staging := o.sink.base.dir
	root, tok := filepath.Dir(staging), strings.TrimPrefix(filepath.Base(staging), overwriteStagingPrefix)
	if _, err := os.Stat(manifestPath(root, tok)); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("file: overwrite: %w", err)
	}
	err := filepath.WalkDir(staging, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == staging && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		sub, _, ok := partName(d.Name())
		if !ok || (sub != int64(ctx.Subtask) && (ctx.Subtask != 0 || sub < int64(ctx.Parallelism))) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("file: overwrite: removing the files of a failed attempt from %s: %w", staging, err)
	}
	return nil
}

// NotifyCheckpointComplete forgets what the checkpoint staged: the
// committer commits it.
func (o *overwriteWriterOp[T]) NotifyCheckpointComplete(id int64) error {
	kept := o.pending[:0]
	for _, p := range o.pending {
		if p.id > id {
			kept = append(kept, p)
		}
	}
	o.pending = kept
	return nil
}

// overwriteCommitterOp commits the staged data and, at the end, the
// overwrite; it runs on one subtask.
type overwriteCommitterOp struct {
	root string
	opts OverwriteOptions
	out  operator.Output[struct{}]
	ctx  *operator.Context

	// staged are the writers' infos whose checkpoint has not completed.
	staged []stagedCommit
	// buckets are the buckets with committed staged data.
	buckets map[string]bool
	ended   bool
	done    bool
}

// Committer state items: a tag byte, then a stagedCommit (tag 1), a
// written bucket (tag 2) or the token of the staging directory they are
// in (tag 3; snapshots taken before it was added have none, and their
// data is in this job's staging directory).
const (
	overwriteStaged = 1
	overwriteBucket = 2
	overwriteToken  = 3
)

func (c *overwriteCommitterOp) staging() string {
	return filepath.Join(c.root, overwriteStagingPrefix+c.opts.Token)
}

func (c *overwriteCommitterOp) Open(ctx *operator.Context) error {
	c.ctx = ctx
	c.buckets = map[string]bool{}
	if ctx.Restore == nil {
		return nil
	}
	restoredToken := c.opts.Token
	for _, it := range ctx.Restore.Items {
		if len(it) == 0 {
			return fmt.Errorf("file: overwrite committer: %w: empty state item", codec.ErrCorrupt)
		}
		switch it[0] {
		case overwriteToken:
			tok := string(it[1:])
			if tok == "" || strings.ContainsAny(tok, `/\.`) {
				return fmt.Errorf("file: overwrite committer: %w: token %q", codec.ErrCorrupt, tok)
			}
			restoredToken = tok
		case overwriteStaged:
			p, err := decodeStagedCommit(it[1:])
			if err != nil {
				return fmt.Errorf("file: overwrite committer: %w", err)
			}
			c.staged = append(c.staged, p)
		case overwriteBucket:
			b := string(it[1:])
			if err := checkBucket(b); err != nil {
				return fmt.Errorf("file: overwrite committer: %w: %v", codec.ErrCorrupt, err)
			}
			c.buckets[b] = true
		default:
			return fmt.Errorf("file: overwrite committer: %w: unknown state item %d", codec.ErrCorrupt, it[0])
		}
	}
	if restoredToken != c.opts.Token {
		return c.restoreOtherToken(restoredToken)
	}
	// An overwrite this job began before it failed is completed first.
	resumed, err := resumeOverwrite(taskCtx(ctx), c.root, c.opts.Token, c.opts.Policies)
	if err != nil {
		return err
	}
	if resumed || c.overwritten() {
		// Restored from the final checkpoint after the overwrite ran (or
		// was just completed): its data is in place; running it again
		// would remove it.
		c.done, c.staged = true, nil
		return nil
	}
	return c.commitData(math.MaxInt64)
}

// restoreOtherToken handles a restore from a checkpoint of a run whose
// staging directory had another token (the job was built again with a
// new one). Restored state naming no data: nothing was staged, the run
// goes on in this token's directory. An overwrite the earlier run began is
// completed; if it was completed (its staging directory is gone), the
// restored data is in place and nothing is replaced again. Otherwise the
// restored data is in the other staging directory, which this job's
// writers do not write to: the restore fails, naming it, rather than end
// without the restored data.
func (c *overwriteCommitterOp) restoreOtherToken(old string) error {
	if len(c.buckets) == 0 && len(c.staged) == 0 {
		return nil
	}
	resumed, err := resumeOverwrite(taskCtx(c.ctx), c.root, old, c.opts.Policies)
	if err != nil {
		return err
	}
	oldStaging := filepath.Join(c.root, overwriteStagingPrefix+old)
	if _, err := os.Stat(oldStaging); resumed || errors.Is(err, fs.ErrNotExist) {
		c.done, c.staged = true, nil
		return nil
	}
	return fmt.Errorf("file: overwrite of %s: restored from a checkpoint whose staged data is in %s, but this job stages into %s (its token %q differs from the checkpoint's %q: give the job the same token, e.g. the same job id, when it is built again); the table is unchanged",
		c.root, oldStaging, c.staging(), c.opts.Token, old)
}

// overwritten reports, after a restore, whether the overwrite of the
// restored data already ran: the restored state names staged data and
// none of it is left in the staging directory. (Restarted writers never
// create the files a restored checkpoint names, nor committed part files
// before a checkpoint after it completes.)
func (c *overwriteCommitterOp) overwritten() bool {
	if len(c.buckets) == 0 && len(c.staged) == 0 {
		return false
	}
	for b := range c.buckets {
		if files, _ := stagedFiles(c.staging(), b, b); len(files) > 0 {
			return false
		}
	}
	for _, p := range c.staged {
		_, by, err := groupByBucket(p.items)
		if err != nil {
			return false
		}
		for b, items := range by {
			for _, it := range items {
				cm, err := decodeCommittable(it)
				if err != nil {
					return false
				}
				dir := filepath.Join(c.staging(), filepath.FromSlash(b))
				for _, n := range []string{cm.pending, cm.final} {
					if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
						return false
					}
				}
			}
		}
	}
	return true
}

func (c *overwriteCommitterOp) ProcessElement(info PartitionCommitInfo, _ int64) error {
	c.staged = append(c.staged, stagedCommit{id: info.Checkpoint, items: info.Items})
	return nil
}

func (c *overwriteCommitterOp) ProcessWatermark(wm int64) error {
	c.ctx.Metrics.CurrentWatermark = wm
	return c.out.ProcessWatermark(wm)
}

func (c *overwriteCommitterOp) ProcessWatermarkStatus(idle bool) error {
	return c.out.ProcessWatermarkStatus(idle)
}

func (c *overwriteCommitterOp) SnapshotState(_ int64, w *operator.StateWriter) error {
	w.AddItem(append([]byte{overwriteToken}, c.opts.Token...))
	for _, p := range c.staged {
		w.AddItem(append([]byte{overwriteStaged}, p.encode()...))
	}
	bs := make([]string, 0, len(c.buckets))
	for b := range c.buckets {
		bs = append(bs, b)
	}
	slices.Sort(bs)
	for _, b := range bs {
		w.AddItem(append([]byte{overwriteBucket}, b...))
	}
	return nil
}

// commitData commits, in the staging directory, the data of the infos of
// checkpoints <= id.
func (c *overwriteCommitterOp) commitData(id int64) error {
	ctx := taskCtx(c.ctx)
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
			ew := &eoWriter[struct{}]{dir: filepath.Join(c.staging(), filepath.FromSlash(b)), started: true}
			if err := ew.Commit(ctx, by[b]); err != nil {
				return fmt.Errorf("file: overwrite committer: data of checkpoint %d: %w", p.id, err)
			}
			c.buckets[b] = true
		}
	}
	c.staged = kept
	return nil
}

// finish runs the overwrite once every staged file is committed.
func (c *overwriteCommitterOp) finish(id int64) error {
	if err := c.commitData(id); err != nil {
		return err
	}
	if !c.ended || len(c.staged) > 0 {
		return nil
	}
	if c.done {
		// Restored after the overwrite ran: what the writers staged since
		// (nothing, from the final checkpoint) is not loaded.
		if err := os.RemoveAll(c.staging()); err != nil {
			return fmt.Errorf("file: overwrite: %w", err)
		}
		return nil
	}
	c.done = true
	buckets := make([]string, 0, len(c.buckets))
	for b := range c.buckets {
		buckets = append(buckets, b)
	}
	slices.Sort(buckets)
	if err := commitOverwrite(taskCtx(c.ctx), c.root, buckets, c.opts); err != nil {
		return err
	}
	c.ctx.Logger.Info("overwrite committed", "dir", c.root, "buckets", len(buckets))
	return nil
}

func (c *overwriteCommitterOp) NotifyCheckpointComplete(id int64) error { return c.finish(id) }

func (c *overwriteCommitterOp) NotifyCheckpointAborted(int64) error { return nil }

// Finish: without checkpoints the writers committed their data before
// their end of input, and the overwrite runs now; with them, when the
// final checkpoint completes.
func (c *overwriteCommitterOp) Finish() error {
	c.ended = true
	if c.ctx.Checkpointing {
		return nil
	}
	return c.finish(math.MaxInt64)
}

func (c *overwriteCommitterOp) Close() error { return nil }

// overwriteManifest is the log of an overwrite in progress (JSON).
type overwriteManifest struct {
	// Phase is "delete" (Delete may not be done yet) or "move" (it is).
	Phase string `json:"phase"`
	// Delete are the entries to remove, relative to the directory,
	// slash-separated.
	Delete []string `json:"delete"`
	// Move are the staged files to move: From relative to the staging
	// directory, To relative to the directory.
	Move []overwriteMove `json:"move"`
	// Partitions are the partitions to run the policies for.
	Partitions []string `json:"partitions,omitempty"`
}

type overwriteMove struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func manifestPath(root, token string) string {
	return filepath.Join(root, overwriteStagingPrefix+token+".commit")
}

// commitOverwrite replaces the old files of root with the staged files of
// buckets (see OverwriteOptions), resuming any interrupted overwrite of
// root first.
func commitOverwrite(ctx context.Context, root string, buckets []string, opts OverwriteOptions) error {
	// An overwrite of root a crashed job left half done (or this job's
	// own, after a restore) is completed first.
	ms, err := pendingManifests(root)
	if err != nil {
		return err
	}
	for _, tok := range ms {
		if _, err := resumeOverwrite(ctx, root, tok, opts.Policies); err != nil {
			return err
		}
		if tok == opts.Token {
			return nil // this job's own, begun before a restore: done now
		}
	}
	staging := filepath.Join(root, overwriteStagingPrefix+opts.Token)
	m := overwriteManifest{Phase: "delete"}
	if !opts.Partitioned {
		old, err := visibleEntries(root, "")
		if err != nil {
			return err
		}
		m.Delete = old
		for _, b := range buckets {
			mv, err := stagedFiles(staging, b, "")
			if err != nil {
				return err
			}
			m.Move = append(m.Move, mv...)
		}
	} else if len(buckets) == 0 {
		if opts.StaticBucket == "" {
			// No rows and a dynamic partition: nothing changes.
			if err := os.RemoveAll(staging); err != nil {
				return fmt.Errorf("file: overwrite: %w", err)
			}
			return nil
		}
		// Flink's loadEmptyPartition: the partition is removed and made
		// again, empty.
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(opts.StaticBucket))); err == nil {
			m.Delete = []string{opts.StaticBucket}
		}
		m.Partitions = []string{opts.StaticBucket}
	} else {
		for _, b := range buckets {
			old, err := visibleEntries(root, b)
			if err != nil {
				return err
			}
			m.Delete = append(m.Delete, old...)
			mv, err := stagedFiles(staging, b, b)
			if err != nil {
				return err
			}
			m.Move = append(m.Move, mv...)
		}
		m.Partitions = buckets
	}
	if !opts.Partitioned {
		m.Partitions = nil
	}
	if err := writeManifest(root, opts.Token, m); err != nil {
		return err
	}
	if opts.afterPhase != nil {
		if err := opts.afterPhase("manifest"); err != nil {
			return err
		}
	}
	_, err = runOverwrite(ctx, root, opts.Token, m, opts.Policies, opts.afterPhase)
	return err
}

// resumeOverwrite completes the overwrite of root logged under token, if
// its manifest is there; it reports whether it was.
func resumeOverwrite(ctx context.Context, root, token string, policies []PartitionCommitPolicy) (bool, error) {
	b, err := os.ReadFile(manifestPath(root, token))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("file: overwrite: %w", err)
	}
	var m overwriteManifest
	if err := json.Unmarshal(b, &m); err != nil || (m.Phase != "delete" && m.Phase != "move") {
		return false, weir.MarkError(fmt.Errorf("file: overwrite: corrupt manifest %s", manifestPath(root, token)), weir.ErrCorruption)
	}
	return runOverwrite(ctx, root, token, m, policies, nil)
}

// runOverwrite carries out m from its phase on.
func runOverwrite(ctx context.Context, root, token string, m overwriteManifest, policies []PartitionCommitPolicy, afterPhase func(string) error) (bool, error) {
	staging := filepath.Join(root, overwriteStagingPrefix+token)
	for _, p := range slices.Concat(m.Delete, m.Partitions) {
		if err := checkBucket(p); err != nil {
			return false, weir.MarkError(fmt.Errorf("file: overwrite: manifest %s: %w", manifestPath(root, token), err), weir.ErrCorruption)
		}
	}
	for _, mv := range m.Move {
		if checkBucket(mv.From) != nil || checkBucket(mv.To) != nil {
			return false, weir.MarkError(fmt.Errorf("file: overwrite: manifest %s: bad move %q -> %q", manifestPath(root, token), mv.From, mv.To), weir.ErrCorruption)
		}
	}
	if m.Phase == "delete" {
		dirs := map[string]bool{}
		for _, p := range m.Delete {
			full := filepath.Join(root, filepath.FromSlash(p))
			if err := os.RemoveAll(full); err != nil {
				return false, fmt.Errorf("file: overwrite: removing %s: %w", full, err)
			}
			dirs[filepath.Dir(full)] = true
		}
		for d := range dirs {
			if err := syncDir(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return false, err
			}
		}
		m.Phase = "move"
		if err := writeManifest(root, token, m); err != nil {
			return false, err
		}
		if afterPhase != nil {
			if err := afterPhase("delete"); err != nil {
				return false, err
			}
		}
	}
	dirs := map[string]bool{}
	for _, p := range m.Partitions {
		// Partitions (an emptied static one too) exist after the commit.
		d := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return false, fmt.Errorf("file: overwrite: %w", err)
		}
	}
	for _, mv := range m.Move {
		from := filepath.Join(staging, filepath.FromSlash(mv.From))
		to := filepath.Join(root, filepath.FromSlash(mv.To))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return false, fmt.Errorf("file: overwrite: %w", err)
		}
		err := moveNoReplace(from, to)
		if err == nil {
			dirs[filepath.Dir(to)] = true
			continue
		}
		if errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("file: overwrite of %s: %s exists and is not the staged file %s (written there since the old files were removed?); neither is replaced, the manifest %s is kept: %w",
				root, to, mv.From, manifestPath(root, token), err)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("file: overwrite: moving %s to %s: %w", from, to, err)
		}
		if _, serr := os.Stat(to); serr != nil {
			return false, fmt.Errorf("file: overwrite of %s: the staged file %s is neither in the staging directory nor at %s; the manifest %s is kept: %w",
				root, mv.From, to, manifestPath(root, token), err)
		}
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return false, err
		}
	}
	if afterPhase != nil {
		if err := afterPhase("move"); err != nil {
			return false, err
		}
	}
	for _, p := range m.Partitions {
		for _, pol := range policies {
			if err := pol.CommitPartition(ctx, root, p); err != nil {
				return false, fmt.Errorf("file: overwrite: partition %s: %w", p, err)
			}
		}
	}
	if err := os.RemoveAll(staging); err != nil {
		return false, fmt.Errorf("file: overwrite: removing %s: %w", staging, err)
	}
	if err := os.Remove(manifestPath(root, token)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("file: overwrite: %w", err)
	}
	return true, syncDir(root)
}

// moveNoReplace moves the file from to to, unless another file is at to
// (an error wrapping fs.ErrExist): a rename would replace it, losing what
// a writer put there after the old files were removed. It links, then
// removes from; a crash in between leaves both names on one file, which
// the next attempt recognises and completes. A missing from is an error
// wrapping fs.ErrNotExist. File systems without hard links get a rename
// after a check that to does not exist.
func moveNoReplace(from, to string) error {
	err := os.Link(from, to)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		fi, ferr := os.Lstat(from)
		if ferr != nil {
			return ferr // from gone: moved before
		}
		ti, terr := os.Lstat(to)
		if terr != nil || !os.SameFile(fi, ti) {
			return err
		}
	case errors.Is(err, fs.ErrNotExist):
		return err
	default:
		if _, serr := os.Lstat(to); serr == nil {
			return fmt.Errorf("file: %s: %w", to, fs.ErrExist)
		}
		return os.Rename(from, to)
	}
	if err := os.Remove(from); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// visibleEntries lists the entries of root/bucket ("" for root itself)
// that are not hidden, as root-relative slash paths.
func visibleEntries(root, bucket string) ([]string, error) {
	dir := filepath.Join(root, filepath.FromSlash(bucket))
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("file: overwrite: %w", err)
	}
	var out []string
	for _, e := range ents {
		if hidden(e.Name()) {
			continue
		}
		out = append(out, pathJoin(bucket, e.Name()))
	}
	return out, nil
}

// stagedFiles lists the committed part files of staging/bucket as moves
// to dest (a bucket, or "" for the directory itself).
func stagedFiles(staging, bucket, dest string) ([]overwriteMove, error) {
	ents, err := os.ReadDir(filepath.Join(staging, filepath.FromSlash(bucket)))
	if err != nil {
		return nil, fmt.Errorf("file: overwrite: staged data of %s: %w", bucket, err)
	}
	var out []overwriteMove
	for _, e := range ents {
		if e.IsDir() || hidden(e.Name()) {
			continue // in-progress files of failed attempts
		}
		out = append(out, overwriteMove{From: pathJoin(bucket, e.Name()), To: pathJoin(dest, e.Name())})
	}
	return out, nil
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") }

func pathJoin(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// writeManifest writes m durably: a temporary file, synced, renamed.
func writeManifest(root, token string, m overwriteManifest) error {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(m); err != nil {
		return fmt.Errorf("file: overwrite: %w", err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("file: overwrite: %w", err)
	}
	path := manifestPath(root, token)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("file: overwrite: %w", err)
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("file: overwrite: writing %s: %w", path, err)
	}
	return syncDir(root)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("file: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("file: syncing %s: %w", dir, err)
	}
	return nil
}

// pendingManifests returns the tokens of the overwrite manifests in root.
func pendingManifests(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if tok, ok := strings.CutPrefix(n, overwriteStagingPrefix); ok && !e.IsDir() {
			if tok, ok := strings.CutSuffix(tok, ".commit"); ok {
				out = append(out, tok)
			}
		}
	}
	return out, nil
}

// PendingOverwrite returns an error when dir holds the manifest of an
// overwrite that has not completed (a job crashed while replacing the
// files): its data is then part old, part new. The next overwrite of
// dir, or a restart of the job that began it, completes it.
func PendingOverwrite(dir string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil // no directory: nothing to overwrite (reading it reports that)
	}
	ms, err := pendingManifests(dir)
	if err != nil || len(ms) == 0 {
		return err
	}
	return fmt.Errorf("file: %s holds an interrupted INSERT OVERWRITE (manifest %s): its files are part old, part new; run the overwrite again (or restart the job that began it) to complete it",
		dir, filepath.Base(manifestPath(dir, ms[0])))
}
