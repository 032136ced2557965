package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/internal/statebackend"
)

// CheckpointOptions turn checkpointing on.
type CheckpointOptions struct {
	checkpoint.Config
	// Storage is where checkpoints go.
	Storage *checkpoint.Storage
	// AtLeastOnce tracks barriers without aligning them.
	AtLeastOnce bool
}

// Restore is a checkpoint or savepoint a job starts from.
type Restore struct {
	Meta  *checkpoint.Metadata
	Files map[string][]byte
	// Store holds the shared files of native snapshots the checkpoint
	// references (the storage it was read from).
	Store *checkpoint.Storage
	// AllowNonRestoredState lets the job start although the checkpoint has
	// state of an operator uid the job lacks.
	AllowNonRestoredState bool
	// Location is where the checkpoint was read (for the pointer below).
	Location string
	// Register makes the run, before any task starts, write a pointer to
	// Location into its checkpoint storage (Storage.WritePointer) and
	// record it as the latest completed checkpoint: sinks commit what the
	// checkpoint staged when they restore it, so a later "restore latest"
	// must not go back past it. Set it for a checkpoint or savepoint that
	// is not one of the storage's own.
	Register bool
}

// operatorID is the id under which an operator's state is stored: its uid,
// or its name and position in the graph when it has none. A default name
// counts without the number that tells operators sharing it apart.
func operatorID(n *Node) string {
	if n.UID != "" {
		return n.UID
	}
	return fmt.Sprintf("%s#%d", n.stateName(), n.ID)
}

// restoreFor returns the state of operator n's subtask sub (owning key
// groups r), or nil if the restore has none.
func (rs *Restore) restoreFor(n *Node, r keygroup.Range) (*runtime.RestoreState, error) {
	if rs == nil {
		return nil, nil
	}
	id := operatorID(n)
	for _, op := range rs.Meta.Operators {
		if op.UID != id {
			continue
		}
		st := &runtime.RestoreState{CheckpointID: rs.Meta.ID, Keyed: map[int][]byte{}}
		for _, s := range op.Subtasks {
			if s.Native != nil && s.Native.KeyGroupStart < r.End && r.Start < s.Native.KeyGroupEnd {
				nr, err := rs.native(s.Native)
				if err != nil {
					return nil, err
				}
				st.Native = append(st.Native, nr)
			}
			for _, b := range s.KeyGroups {
				if !r.Contains(b.KeyGroup) {
					continue
				}
				data, err := checkpoint.Block(rs.Files, s.File, b)
				if err != nil {
					return nil, err
				}
				st.Keyed[b.KeyGroup] = data
			}
			for _, b := range s.Items {
				data, err := checkpoint.Block(rs.Files, s.File, b)
				if err != nil {
					return nil, err
				}
				st.Items = append(st.Items, data)
			}
		}
		return st, nil
	}
	return nil, nil
}

// native describes a native snapshot for a backend to restore: private
// files come from the checkpoint's data files, shared ones from its
// storage.
func (rs *Restore) native(nm *checkpoint.NativeMeta) (statebackend.NativeRestore, error) {
	nr := statebackend.NativeRestore{Kind: nm.Kind, Start: nm.KeyGroupStart, End: nm.KeyGroupEnd}
	for _, ref := range nm.Files {
		f := statebackend.NativeRestoreFile{Name: ref.Name, Shared: ref.Shared}
		if ref.Shared != "" {
			if rs.Store == nil {
				return nr, fmt.Errorf("%w: checkpoint %d references shared file %s but has no storage", checkpoint.ErrCorrupt, rs.Meta.ID, ref.Shared)
			}
			store, ref := rs.Store, ref
			f.Fetch = func(ctx context.Context, dst string) error { return store.FetchShared(ctx, ref, dst) }
		} else {
			data, ok := rs.Files[ref.File]
			if !ok {
				return nr, fmt.Errorf("%w: checkpoint %d lacks file %s", checkpoint.ErrCorrupt, rs.Meta.ID, ref.File)
			}
			f.Fetch = func(_ context.Context, dst string) error { return writeFile(dst, data) }
		}
		nr.Files = append(nr.Files, f)
	}
	return nr, nil
}

// writeFile writes data to a new file at path.
func writeFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkRestore fails if the checkpoint has state for an operator the job
// lacks, unless that is allowed.
func (rs *Restore) check(g *Graph, o *Options) error {
	if rs == nil {
		return nil
	}
	if rs.Meta.MaxParallelism != o.MaxParallelism {
		return fmt.Errorf("weir: checkpoint %d was taken with max parallelism %d, the job has %d: key groups cannot be mapped", rs.Meta.ID, rs.Meta.MaxParallelism, o.MaxParallelism)
	}
	have := map[string]bool{}
	for _, n := range g.Nodes {
		have[operatorID(n)] = true
	}
	for _, op := range rs.Meta.Operators {
		if !have[op.UID] && !rs.AllowNonRestoredState {
			return fmt.Errorf("weir: checkpoint %d has state for operator %q (%s) that this job does not have; give the operator the same uid, or allow non-restored state", rs.Meta.ID, op.UID, op.Name)
		}
	}
	return nil
}

// SavepointRequest asks a running job for a savepoint in Dir (a new
// subdirectory is created there). With Stop, the job stops once the
// savepoint completed and every task handled its completion (sinks
// committed). The result arrives on Reply (buffered by the caller).
type SavepointRequest struct {
	Dir   string
	Stop  bool
	Reply chan SavepointResult
}

// SavepointResult is the outcome of a SavepointRequest: the savepoint's
// directory, or why it failed.
type SavepointResult struct {
	Path string
	Err  error
}

type savepoint struct {
	req      SavepointRequest
	path     string
	notified map[int]bool
}

// driver performs the coordinator's actions: it triggers sources, collects
// acknowledgements, writes checkpoints and tells tasks what completed.
type driver struct {
	job     *Job
	coord   *checkpoint.Coordinator
	store   *checkpoint.Storage
	log     *slog.Logger
	maxPar  int
	reports chan runtime.Report
	// acks[id][task] is the snapshot task sent for checkpoint id.
	acks map[int64]map[int]runtime.TaskSnapshot
	// final[task] is the final state of a finished task.
	final   map[int]runtime.TaskSnapshot
	cancel  context.CancelCauseFunc
	stopped bool
	// requests receives savepoint requests; savepoints tracks them by id.
	requests   <-chan SavepointRequest
	savepoints map[int64]*savepoint
	waiting    []SavepointRequest
	stopping   bool
	// backlog holds mail a task's mailbox could not take yet, by task.
	backlog map[int][]runtime.Mail
}

// ErrStoppedWithSavepoint is the cause of a job's end after a
// stop-with-savepoint; Run returns nil for it.
var ErrStoppedWithSavepoint = errors.New("weir: job stopped with a savepoint")

func (d *driver) run(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	defer func() {
		// Nobody waits forever for a savepoint of a job that ended.
		for _, sp := range d.savepoints {
			sp.req.Reply <- SavepointResult{Err: errors.New("weir: savepoint: the job ended before it completed")}
		}
		for _, req := range d.waiting {
			req.Reply <- SavepointResult{Err: errors.New("weir: savepoint: the job ended before it started")}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-d.reports:
			d.handle(ctx, r)
		case req := <-d.requests:
			d.savepoint(ctx, req)
		case now := <-t.C:
			d.flushBacklog()
			if len(d.waiting) > 0 && len(d.coord.Pending()) == 0 {
				req := d.waiting[0]
				d.waiting = d.waiting[1:]
				d.savepoint(ctx, req)
			}
			if d.stopping {
				continue // no checkpoint after a stop-with-savepoint's
			}
			d.do(ctx, d.coord.Tick(now))
		}
	}
}

func (d *driver) handle(ctx context.Context, r runtime.Report) {
	now := time.Now()
	tid := checkpoint.TaskID{Vertex: 0, Subtask: r.Task}
	switch r.Kind {
	case runtime.ReportAck:
		if !d.coord.IsPending(r.ID) {
			// A late acknowledgement of an aborted checkpoint.
			releaseNative(r.State)
			return
		}
		if d.acks[r.ID] == nil {
			d.acks[r.ID] = map[int]runtime.TaskSnapshot{}
		}
		d.acks[r.ID][r.Task] = r.State
		d.do(ctx, d.coord.Ack(now, r.ID, tid))
	case runtime.ReportDecline:
		d.log.Warn("weir: checkpoint declined", "checkpoint", r.ID, "task", d.job.tasks[r.Task].Name, "reason", r.Reason)
		d.do(ctx, d.coord.Decline(now, r.ID, tid, r.Reason))
	case runtime.ReportFinished:
		d.final[r.Task] = r.State
		d.do(ctx, d.coord.TaskFinished(now, tid))
	case runtime.ReportNotified:
		sp := d.savepoints[r.ID]
		if sp == nil {
			return
		}
		sp.notified[r.Task] = true
		if len(sp.notified) == len(d.job.tasks) {
			delete(d.savepoints, r.ID)
			sp.req.Reply <- SavepointResult{Path: sp.path}
			if sp.req.Stop {
				d.cancel(ErrStoppedWithSavepoint)
			}
		}
	}
}

func (d *driver) savepoint(ctx context.Context, req SavepointRequest) {
	if req.Dir == "" {
		req.Reply <- SavepointResult{Err: errors.New("weir: savepoint needs a directory")}
		return
	}
	if len(d.coord.Pending()) > 0 {
		// A checkpoint is under way: the savepoint follows it.
		d.waiting = append(d.waiting, req)
		return
	}
	acts, err := d.coord.TriggerNow(time.Now(), true)
	if err != nil {
		req.Reply <- SavepointResult{Err: fmt.Errorf("weir: savepoint: %w", err)}
		return
	}
	id := acts[0].ID
	// The savepoint lives outside the storage: record its id now, so that
	// no later checkpoint reuses it whatever happens before it completes.
	if err := d.store.NoteCompleted(ctx, id, time.Now(), false); err != nil {
		d.log.Warn("weir: recording the savepoint's id", "savepoint", id, "err", err)
	}
	if req.Stop {
		d.stopping = true
	}
	d.savepoints[id] = &savepoint{req: req, notified: map[int]bool{},
		path: joinLocation(req.Dir, fmt.Sprintf("savepoint-%d-%s", id, time.Now().UTC().Format("20060102T150405.000")))}
	d.do(ctx, acts)
}

// mail queues m for task t without ever blocking the driver (a task may
// itself be blocked sending the driver a report): what its mailbox cannot
// take now waits in a backlog, delivered in order on later ticks.
func (d *driver) mail(_ context.Context, t *runtime.Task, m runtime.Mail) {
	i := t.Checkpoint.Index
	if len(d.backlog[i]) == 0 {
		select {
		case t.Checkpoint.Mailbox <- m:
			return
		default:
		}
	}
	d.backlog[i] = append(d.backlog[i], m)
}

// flushBacklog delivers queued mail as far as the mailboxes take it.
func (d *driver) flushBacklog() {
	for i, q := range d.backlog {
		box := d.job.tasks[i].Checkpoint.Mailbox
		n := 0
	send:
		for _, m := range q {
			select {
			case box <- m:
				n++
			default:
				break send
			}
		}
		if n == len(q) {
			delete(d.backlog, i)
		} else {
			d.backlog[i] = q[n:]
		}
	}
}

func (d *driver) do(ctx context.Context, acts []checkpoint.Action) {
	for _, a := range acts {
		switch a.Kind {
		case checkpoint.Trigger:
			for _, t := range d.job.tasks {
				if t.Source != nil {
					d.mail(ctx, t, runtime.Mail{Kind: runtime.MailTrigger, ID: a.ID})
				}
			}
		case checkpoint.WriteMetadata:
			dir := d.store.ChkDir(a.ID)
			sp := d.savepoints[a.ID]
			if sp != nil {
				dir = sp.path
			}
			err := d.write(ctx, a.ID, a.Time, dir, sp != nil)
			if err == nil {
				err = d.noteCompleted(ctx, a.ID, a.Time, sp)
			}
			d.release(a.ID)
			if err != nil {
				d.log.Error("weir: writing checkpoint failed", "checkpoint", a.ID, "err", err)
			}
			d.do(ctx, d.coord.MetadataWritten(time.Now(), a.ID, err))
		case checkpoint.NotifyComplete:
			sp := d.savepoints[a.ID]
			d.log.Info("weir: checkpoint complete", "checkpoint", a.ID, "savepoint", sp != nil)
			if sp != nil && !sp.req.Stop {
				// A savepoint that does not stop the job commits no side
				// effects (as in Flink): a restart restores checkpoints,
				// and the next checkpoint commits what sinks staged for it.
				delete(d.savepoints, a.ID)
				sp.req.Reply <- SavepointResult{Path: sp.path}
				continue
			}
			for _, t := range d.job.tasks {
				d.mail(ctx, t, runtime.Mail{Kind: runtime.MailComplete, ID: a.ID, Ack: sp != nil})
			}
			if d.coord.FinalDone() && !d.stopped {
				d.stopped = true
				for _, t := range d.job.tasks {
					d.mail(ctx, t, runtime.Mail{Kind: runtime.MailStop})
				}
			}
		case checkpoint.Abort:
			d.release(a.ID)
			if sp := d.savepoints[a.ID]; sp != nil {
				delete(d.savepoints, a.ID)
				if sp.req.Stop {
					d.stopping = false
				}
				sp.req.Reply <- SavepointResult{Err: fmt.Errorf("weir: savepoint %d aborted: %s", a.ID, a.Reason)}
				// Its pointer (if written) first: a pointer left to a removed
				// savepoint would make "restore latest" refuse.
				_ = d.store.Discard(context.WithoutCancel(ctx), a.ID)
				_ = d.store.RemoveLocation(ctx, sp.path)
				continue
			}
			d.log.Warn("weir: checkpoint aborted", "checkpoint", a.ID, "reason", a.Reason)
			for _, t := range d.job.tasks {
				d.mail(ctx, t, runtime.Mail{Kind: runtime.MailAbort, ID: a.ID})
			}
			_ = d.store.Discard(context.WithoutCancel(ctx), a.ID)
			d.sweep(ctx)
		case checkpoint.Discard:
			if err := d.store.Discard(context.WithoutCancel(ctx), a.ID); err != nil {
				d.log.Warn("weir: discarding checkpoint", "checkpoint", a.ID, "err", err)
			}
			d.sweep(ctx)
		case checkpoint.FailJob:
			d.cancel(errors.New("weir: " + a.Reason))
		}
	}
}

// noteCompleted records checkpoint id as completed in the storage, before
// any sink is told to commit for it: a stop-with-savepoint (whose sinks
// commit) gets a pointer in the checkpoint storage first, so that "restore
// latest" finds it; a plain savepoint commits nothing and only raises the
// highest id used.
func (d *driver) noteCompleted(ctx context.Context, id int64, ts time.Time, sp *savepoint) error {
	commits := sp == nil || sp.req.Stop
	if sp != nil && sp.req.Stop {
		if err := d.store.WritePointer(ctx, id, sp.path); err != nil {
			return err
		}
	}
	return d.store.NoteCompleted(ctx, id, ts, commits)
}

// sweep deletes shared files no retained checkpoint references. It runs on
// the driver's goroutine, which also writes checkpoints: never while one
// is being uploaded.
func (d *driver) sweep(ctx context.Context) {
	if err := d.store.SweepShared(ctx); err != nil {
		d.log.Warn("weir: deleting unreferenced shared checkpoint files", "err", err)
	}
}

// release forgets the acknowledgements of checkpoint id and deletes the
// local files of their native snapshots (final snapshots stay: every later
// checkpoint includes them).
func (d *driver) release(id int64) {
	for _, snap := range d.acks[id] {
		releaseNative(snap)
	}
	delete(d.acks, id)
}

func releaseNative(snap runtime.TaskSnapshot) {
	for _, os := range snap.Ops {
		if os.Native != nil {
			_ = os.Native.Release()
		}
	}
}

// joinLocation appends a name to a directory path or an s3:// location.
func joinLocation(dir, name string) string {
	if strings.Contains(dir, "://") {
		return strings.TrimSuffix(dir, "/") + "/" + name
	}
	return filepath.Join(dir, name)
}

// write stores checkpoint id: one data file per task with every operator's
// blocks, the files of native snapshots (shared ones once for all
// checkpoints; savepoints get the canonical form instead), then the
// metadata.
func (d *driver) write(ctx context.Context, id int64, ts time.Time, dir string, savepoint bool) error {
	m := &checkpoint.Metadata{ID: id, Timestamp: ts.UTC(), Savepoint: savepoint, MaxParallelism: d.maxPar, Files: map[string]uint32{}}
	ops := map[string]*checkpoint.OperatorMeta{}
	var order []string
	for ti, t := range d.job.tasks {
		snap, ok := d.acks[id][ti]
		if !ok {
			if snap, ok = d.final[ti]; !ok {
				return fmt.Errorf("task %s has no state for checkpoint %d", t.Name, id)
			}
		}
		file := fmt.Sprintf("task-%d.bin", ti)
		var buf bytes.Buffer
		info := d.job.infos[ti]
		for ci, n := range info.nodes {
			uid := operatorID(n)
			om := ops[uid]
			if om == nil {
				om = &checkpoint.OperatorMeta{UID: uid, Name: n.Name, Parallelism: info.par}
				ops[uid] = om
				order = append(order, uid)
			}
			os, ok := snap.Ops[ci]
			if !ok {
				continue
			}
			sm := checkpoint.SubtaskMeta{Subtask: info.Subtask, File: file}
			keyed := os.Keyed
			if os.Native != nil {
				if savepoint {
					var err error
					if keyed, err = withCanonical(keyed, os.Native); err != nil {
						return fmt.Errorf("task %s: savepoint of native state: %w", t.Name, err)
					}
				} else {
					nm, err := d.writeNative(ctx, dir, fmt.Sprintf("task-%d-op%d-", ti, ci), os.Native, m)
					if err != nil {
						return fmt.Errorf("task %s: %w", t.Name, err)
					}
					sm.Native = nm
				}
			}
			for _, kg := range keyed {
				sm.KeyGroups = append(sm.KeyGroups, checkpoint.BlockMeta{KeyGroup: kg.KeyGroup, Offset: int64(buf.Len()), Length: int64(len(kg.Data))})
				buf.Write(kg.Data)
			}
			for _, it := range os.Items {
				sm.Items = append(sm.Items, checkpoint.BlockMeta{Offset: int64(buf.Len()), Length: int64(len(it))})
				buf.Write(it)
			}
			om.Subtasks = append(om.Subtasks, sm)
		}
		sum, err := d.store.WriteFileLocation(ctx, dir, file, buf.Bytes())
		if err != nil {
			return err
		}
		m.Files[file] = sum
	}
	for _, uid := range order {
		if len(ops[uid].Subtasks) > 0 {
			m.Operators = append(m.Operators, *ops[uid])
		}
	}
	return d.store.WriteMetadataLocation(ctx, dir, m)
}

// writeNative stores the files of a native snapshot: immutable ones as
// shared objects (stored once, referenced by every checkpoint that needs
// them), the others as data files of this checkpoint named prefix+name.
func (d *driver) writeNative(ctx context.Context, dir, prefix string, n *statebackend.NativeSnapshot, m *checkpoint.Metadata) (*checkpoint.NativeMeta, error) {
	nm := &checkpoint.NativeMeta{Kind: n.Kind, KeyGroupStart: n.Start, KeyGroupEnd: n.End}
	for _, f := range n.Files {
		path := filepath.Join(n.Dir, f.Name)
		if f.Shared != "" {
			crc, size, err := d.store.PutShared(ctx, f.Shared, path)
			if err != nil {
				return nil, err
			}
			nm.Files = append(nm.Files, checkpoint.FileRef{Name: f.Name, Shared: f.Shared, CRC: crc, Size: size})
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("native snapshot: %w", err)
		}
		name := prefix + f.Name
		sum, err := d.store.WriteFileLocation(ctx, dir, name, data)
		if err != nil {
			return nil, err
		}
		m.Files[name] = sum
		nm.Files = append(nm.Files, checkpoint.FileRef{Name: f.Name, File: name, CRC: sum, Size: int64(len(data))})
	}
	return nm, nil
}

// withCanonical returns the key-group blocks of keyed joined with the
// canonical form of a native snapshot.
func withCanonical(keyed []runtime.KeyGroupState, n *statebackend.NativeSnapshot) ([]runtime.KeyGroupState, error) {
	blocks := map[int][]byte{}
	for _, kg := range keyed {
		blocks[kg.KeyGroup] = append(blocks[kg.KeyGroup], kg.Data...)
	}
	if err := n.Canonical(func(kg int, sec []byte) { blocks[kg] = append(blocks[kg], sec...) }); err != nil {
		return nil, err
	}
	out := make([]runtime.KeyGroupState, 0, len(blocks))
	for kg, b := range blocks {
		out = append(out, runtime.KeyGroupState{KeyGroup: kg, Data: b})
	}
	slices.SortFunc(out, func(a, b runtime.KeyGroupState) int { return a.KeyGroup - b.KeyGroup })
	return out, nil
}
