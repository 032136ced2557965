package checkpoint

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/internal/statebackend"
)

// The part of a checkpoint one task writes (byte layout in
// docs/format/checkpoint.md): a data file task-<vertex>-<subtask>.bin
// holding the key-group blocks and operator-state items of every stateful
// operator of the task's chain, one after another; the private files of
// its native snapshots (task-<vertex>-<subtask>-op<position>-<name>); and
// its shared files under <root>/shared/. The task writes it from its own
// snapshot goroutine and reports a PartHandle; the driver lists the
// handles in the checkpoint's metadata.

// PartName is the name of the data file task writes into a checkpoint.
func PartName(task runtime.TaskID) string {
	return fmt.Sprintf("task-%d-%d.bin", task.Vertex, task.Subtask)
}

// OperatorInfo names an operator of a task's chain in the metadata.
type OperatorInfo struct {
	// UID is the id its state is stored under (its uid, or name#position).
	UID  string
	Name string
	// Parallelism is the operator's number of subtasks.
	Parallelism int
}

// PartHandle describes a part a task stored: its data files with their
// sizes and checksums, and where each operator's state is in them. It is
// what a task's acknowledgement carries (runtime.SnapshotHandle).
type PartHandle struct {
	Task runtime.TaskID
	// File is the part's data file in the checkpoint; Size its length.
	File string
	Size int64
	// Files maps every data file the part wrote (File and the private files
	// of native snapshots) to its CRC-32C.
	Files map[string]uint32
	// Operators locate the state of each stateful operator of the chain, in
	// chain order.
	Operators []PartOperator
	// bytes is what the part stored, shared objects included.
	bytes int64
}

// PartOperator is one operator subtask's state in a part.
type PartOperator struct {
	OperatorInfo
	Meta SubtaskMeta
}

// StoredBytes is the size of the part's data files and of the shared
// objects it stored.
func (h *PartHandle) StoredBytes() int64 { return h.bytes }

// partTarget is where the parts of one checkpoint go.
type partTarget struct {
	loc       string
	savepoint bool
}

// Parts stores the parts tasks write (it implements runtime.SnapshotStore
// for the tasks of one job run). The driver opens a checkpoint for writing
// (begin) before any task can see its barrier and closes it (end) once it
// completed or was aborted; a part for a checkpoint that is not open is
// refused. Safe for concurrent use.
type Parts struct {
	store *Storage
	ops   map[runtime.TaskID][]OperatorInfo
	// writing is held shared while a part is written, exclusively while
	// unreferenced shared objects are swept (a sweep must not delete an
	// object a task has just stored for a checkpoint not yet complete).
	writing sync.RWMutex
	mu      struct {
		sync.Mutex
		open map[int64]partTarget
	}
}

// NewParts returns the part writer for tasks; ops gives the operators of
// each task's chain, by chain position.
func NewParts(store *Storage, ops map[runtime.TaskID][]OperatorInfo) *Parts {
	p := &Parts{store: store, ops: ops}
	p.mu.open = map[int64]partTarget{}
	return p
}

// begin opens checkpoint id for writing at loc.
func (p *Parts) begin(id int64, loc string, savepoint bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.open[id] = partTarget{loc: loc, savepoint: savepoint}
}

// end closes checkpoint id.
func (p *Parts) end(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.mu.open, id)
}

func (p *Parts) target(id int64) (partTarget, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.mu.open[id]
	return t, ok
}

// WritePart stores snap as task's part of checkpoint id: one data file with
// every operator's blocks, the files of native snapshots (shared ones once
// for all checkpoints; a savepoint gets their canonical form instead), and
// returns its handle.
func (p *Parts) WritePart(ctx context.Context, id int64, task runtime.TaskID, snap runtime.TaskSnapshot, final bool) (runtime.SnapshotHandle, error) {
	if !final {
		defer releaseNative(snap)
	}
	p.writing.RLock()
	defer p.writing.RUnlock()
	tg, ok := p.target(id)
	if !ok {
		return nil, fmt.Errorf("checkpoint: task %s: checkpoint %d is not being written", task, id)
	}
	ops, ok := p.ops[task]
	if !ok {
		return nil, fmt.Errorf("checkpoint: unknown task %s", task)
	}
	file := PartName(task)
	h := &PartHandle{Task: task, File: file, Files: map[string]uint32{}}
	var buf bytes.Buffer
	buf.Grow(partSize(snap))
	for ci, op := range ops {
		os, ok := snap.Ops[ci]
		if !ok {
			continue
		}
		sm := SubtaskMeta{Vertex: task.Vertex, Subtask: task.Subtask, File: file}
		keyed := os.Keyed
		if os.Native != nil {
			if tg.savepoint {
				var err error
				if keyed, err = withCanonical(keyed, os.Native); err != nil {
					return nil, fmt.Errorf("checkpoint: task %s: savepoint of native state: %w", task, err)
				}
			} else {
				nm, err := p.writeNative(ctx, tg.loc, fmt.Sprintf("task-%d-%d-op%d-", task.Vertex, task.Subtask, ci), os.Native, h)
				if err != nil {
					return nil, fmt.Errorf("checkpoint: task %s: %w", task, err)
				}
				sm.Native = nm
			}
		}
		for _, kg := range keyed {
			sm.KeyGroups = append(sm.KeyGroups, BlockMeta{KeyGroup: kg.KeyGroup, Offset: int64(buf.Len()), Length: int64(len(kg.Data))})
			buf.Write(kg.Data)
		}
		for _, it := range os.Items {
			sm.Items = append(sm.Items, BlockMeta{Offset: int64(buf.Len()), Length: int64(len(it))})
			buf.Write(it)
		}
		h.Operators = append(h.Operators, PartOperator{OperatorInfo: op, Meta: sm})
	}
	sum, err := p.store.WriteFileLocation(ctx, tg.loc, file, buf.Bytes())
	if err != nil {
		return nil, err
	}
	h.Size = int64(buf.Len())
	h.bytes += h.Size
	h.Files[file] = sum
	return h, nil
}

// partSize is the size of snap's blocks (without a savepoint's canonical
// form of native state).
func partSize(snap runtime.TaskSnapshot) int {
	n := 0
	for _, os := range snap.Ops {
		for _, kg := range os.Keyed {
			n += len(kg.Data)
		}
		for _, it := range os.Items {
			n += len(it)
		}
	}
	return n
}

// writeNative stores the files of a native snapshot: immutable ones as
// shared objects (stored once, referenced by every checkpoint that needs
// them), the others as data files of this checkpoint named prefix+name.
func (p *Parts) writeNative(ctx context.Context, loc, prefix string, n *statebackend.NativeSnapshot, h *PartHandle) (*NativeMeta, error) {
	nm := &NativeMeta{Kind: n.Kind, KeyGroupStart: n.Start, KeyGroupEnd: n.End}
	for _, f := range n.Files {
		path := filepath.Join(n.Dir, f.Name)
		if f.Shared != "" {
			crc, size, err := p.store.PutShared(ctx, f.Shared, path)
			if err != nil {
				return nil, err
			}
			nm.Files = append(nm.Files, FileRef{Name: f.Name, Shared: f.Shared, CRC: crc, Size: size})
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("native snapshot: %w", err)
		}
		name := prefix + f.Name
		sum, err := p.store.WriteFileLocation(ctx, loc, name, data)
		if err != nil {
			return nil, err
		}
		h.Files[name] = sum
		h.bytes += int64(len(data))
		nm.Files = append(nm.Files, FileRef{Name: f.Name, File: name, CRC: sum, Size: int64(len(data))})
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

// releaseNative deletes the local files of a snapshot's native state.
func releaseNative(snap runtime.TaskSnapshot) {
	for _, os := range snap.Ops {
		if os.Native != nil {
			_ = os.Native.Release()
		}
	}
}

// Restore is a checkpoint or savepoint a job starts from.
type Restore struct {
	Meta  *Metadata
	Files map[string][]byte
	// Store holds the shared files of native snapshots the checkpoint
	// references (the storage it was read from).
	Store *Storage
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

// State returns the state of the subtask of operator uid that owns key
// groups r (at the job's parallelism, whatever the checkpoint's), or nil
// if the checkpoint has none for uid: the blocks of those key groups from
// every old subtask's part, the native snapshots of old subtasks whose key
// groups overlap r, and every operator-state item of every old subtask.
func (rs *Restore) State(uid string, r keygroup.Range) (*runtime.RestoreState, error) {
	if rs == nil {
		return nil, nil
	}
	for _, op := range rs.Meta.Operators {
		if op.UID != uid {
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
				data, err := Block(rs.Files, s.File, b)
				if err != nil {
					return nil, err
				}
				st.Keyed[b.KeyGroup] = data
			}
			for _, b := range s.Items {
				data, err := Block(rs.Files, s.File, b)
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
func (rs *Restore) native(nm *NativeMeta) (statebackend.NativeRestore, error) {
	nr := statebackend.NativeRestore{Kind: nm.Kind, Start: nm.KeyGroupStart, End: nm.KeyGroupEnd}
	for _, ref := range nm.Files {
		f := statebackend.NativeRestoreFile{Name: ref.Name, Shared: ref.Shared}
		if ref.Shared != "" {
			if rs.Store == nil {
				return nr, fmt.Errorf("%w: checkpoint %d references shared file %s but has no storage", ErrCorrupt, rs.Meta.ID, ref.Shared)
			}
			store, ref := rs.Store, ref
			f.Fetch = func(ctx context.Context, dst string) error { return store.FetchShared(ctx, ref, dst) }
		} else {
			data, ok := rs.Files[ref.File]
			if !ok {
				return nr, fmt.Errorf("%w: checkpoint %d lacks file %s", ErrCorrupt, rs.Meta.ID, ref.File)
			}
			f.Fetch = func(_ context.Context, dst string) error { return writeNew(dst, data) }
		}
		nr.Files = append(nr.Files, f)
	}
	return nr, nil
}

// writeNew writes data to a new file at path.
func writeNew(path string, data []byte) error {
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
