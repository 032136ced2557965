package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	blob "github.com/weirstream/weir/checkpoint"
)

// This file chooses the checkpoint a job restores when asked for the
// latest one, under the rule that keeps restores exactly-once: a restore
// never silently goes back past a checkpoint whose completion may have let
// sinks commit output (that output would be produced again).
//
// Two small objects make the rule decidable after any crash:
//
//   - <root>/_latest records the newest completed checkpoint whose output
//     sinks may have committed, and the highest checkpoint id ever used
//     (savepoints included, so ids only grow). The driver rewrites it,
//     atomically, after a checkpoint's metadata and before sinks are told
//     to commit. A chk-<id> that lost its _metadata is still known to have
//     completed.
//   - <root>/chk-<id>/_savepoint points at a savepoint (or a checkpoint of
//     another root) that committed output: written when a
//     stop-with-savepoint completes, and when a job starts from a
//     savepoint, before its sinks commit what the savepoint staged. Flink
//     adds such savepoints to its CompletedCheckpointStore; here they are
//     completed entries of the root that retention may delete (only the
//     pointer, never the savepoint).

const (
	// recordFile is the root's record of the newest committing checkpoint.
	recordFile = "_latest"
	// pointerFile in a chk-<id> directory names the location it stands for.
	pointerFile = "_savepoint"
)

// record is the content of _latest.
type record struct {
	Version int `json:"version"`
	// Latest is the newest completed checkpoint (or pointer) whose output
	// sinks may have committed; LatestTime is when it was taken.
	Latest     int64     `json:"latest"`
	LatestTime time.Time `json:"latest_time"`
	// MaxID is the highest checkpoint or savepoint id used so far.
	MaxID int64 `json:"max_id"`
}

// appendChecksum appends a line holding the CRC-32C of b (which ends in a
// newline), as metadata files carry theirs.
func appendChecksum(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(crc32.Checksum(b, castagnoli)), 10)
	return append(b, '\n')
}

// cutChecksum verifies the checksum line appendChecksum added and returns
// the body; what names the object for errors.
func cutChecksum(b []byte, what string) ([]byte, error) {
	body, sum, ok := cutLastLine(b)
	if !ok {
		return nil, fmt.Errorf("%w: %s has no checksum line", ErrCorrupt, what)
	}
	want, err := strconv.ParseUint(sum, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: %s checksum %q", ErrCorrupt, what, sum)
	}
	if got := crc32.Checksum(body, castagnoli); uint64(got) != want {
		return nil, fmt.Errorf("%w: %s checksum mismatch", ErrCorrupt, what)
	}
	return body, nil
}

// readRecord reads st's _latest; a root without one has the zero record.
func readRecord(ctx context.Context, st blob.BlobStore) (record, error) {
	b, err := readObject(ctx, st, recordFile)
	if errors.Is(err, fs.ErrNotExist) {
		return record{}, nil
	}
	if err != nil {
		return record{}, asCorrupt(err)
	}
	body, err := cutChecksum(b, st.Location(recordFile))
	if err != nil {
		return record{}, err
	}
	var r record
	if err := json.Unmarshal(body, &r); err != nil {
		return record{}, fmt.Errorf("%w: %s: %v", ErrCorrupt, st.Location(recordFile), err)
	}
	if r.Version != FormatVersion || r.Latest < 0 || r.MaxID < r.Latest {
		return record{}, fmt.Errorf("%w: %s: version %d, latest %d, max id %d", ErrCorrupt, st.Location(recordFile), r.Version, r.Latest, r.MaxID)
	}
	return r, nil
}

// NoteCompleted records, in the root's _latest, that checkpoint id
// (taken at ts) completed. commits says whether sinks may commit output
// for it: true for checkpoints, stop-with-savepoint and restored
// savepoints (with their pointer written first, WritePointer), false for
// savepoints that only bump the ids. Call it after the metadata is
// written and before sinks are told to commit. A damaged _latest is
// replaced.
func (s *Storage) NoteCompleted(ctx context.Context, id int64, ts time.Time, commits bool) error {
	st, err := s.store(ctx)
	if err != nil {
		return err
	}
	r, err := readRecord(ctx, st)
	if err != nil {
		s.log().Warn("weir: replacing a damaged record of the latest checkpoint", "file", st.Location(recordFile), "err", err)
		r = record{}
	}
	r.Version = FormatVersion
	if commits && id >= r.Latest {
		r.Latest, r.LatestTime = id, ts.UTC()
	}
	r.MaxID = max(r.MaxID, id)
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return st.Commit(ctx, recordFile, appendChecksum(append(b, '\n')))
}

// MaxID returns the highest checkpoint id the root has seen: in _latest,
// or as a chk-<id> directory, complete or not. New ids must be above it.
func (s *Storage) MaxID(ctx context.Context) (int64, error) {
	st, err := s.store(ctx)
	if err != nil {
		return 0, err
	}
	r, err := readRecord(ctx, st)
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return 0, err
	}
	ids, err := chkDirs(ctx, st)
	if err != nil {
		return 0, err
	}
	m := r.MaxID
	for _, id := range ids {
		m = max(m, id)
	}
	return m, nil
}

// chkDirs returns the ids of every chk-<id> directory of st.
func chkDirs(ctx context.Context, st blob.BlobStore) ([]int64, error) {
	dirs, err := st.Dirs(ctx, "")
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, d := range dirs {
		if id, ok := parseChkName(d); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// parseChkName returns the id of a chk-<id> name.
func parseChkName(name string) (int64, bool) {
	n, ok := strings.CutPrefix(name, "chk-")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(n, 10, 64)
	return id, err == nil && id >= 0 && strconv.FormatInt(id, 10) == n
}

// WritePointer makes chk-<id> of the root stand for the checkpoint or
// savepoint at loc (a directory or a URL): Completed lists it,
// Read and Find read loc, Discard deletes only the pointer. A relative
// directory is recorded as an absolute one: the next run may start in
// another working directory.
func (s *Storage) WritePointer(ctx context.Context, id int64, loc string) error {
	st, err := s.store(ctx)
	if err != nil {
		return err
	}
	if !isURL(loc) {
		if loc, err = filepath.Abs(loc); err != nil {
			return fmt.Errorf("checkpoint: pointer to %s: %w", loc, err)
		}
	}
	return st.Commit(ctx, joinName(chkName(id), pointerFile), appendChecksum([]byte(loc+"\n")))
}

// readPointer returns the location chk-<id>/_savepoint names; an error
// wrapping fs.ErrNotExist when chk-<id> is no pointer.
func readPointer(ctx context.Context, st blob.BlobStore, id int64) (string, error) {
	return readPointerFile(ctx, st, joinName(chkName(id), pointerFile))
}

// readPointerFile reads the pointer name of st, as readPointer.
func readPointerFile(ctx context.Context, st blob.BlobStore, name string) (string, error) {
	b, err := readObject(ctx, st, name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err != nil {
		return "", asCorrupt(err)
	}
	body, err := cutChecksum(b, st.Location(name))
	if err != nil {
		return "", err
	}
	loc := strings.TrimSuffix(string(body), "\n")
	if loc == "" || strings.ContainsRune(loc, '\n') {
		return "", fmt.Errorf("%w: %s names no location", ErrCorrupt, st.Location(name))
	}
	return loc, nil
}

// ResolveLocation returns the location the checkpoint directory loc
// stands for: what it points to when it is a pointer (a chk-<id> holding
// _savepoint, which a refused restore may name), else loc itself.
func (s *Storage) ResolveLocation(ctx context.Context, loc string) (string, error) {
	st, err := s.storeAt(ctx, loc)
	if err != nil {
		return "", err
	}
	target, err := readPointerFile(ctx, st, pointerFile)
	if errors.Is(err, fs.ErrNotExist) {
		return loc, nil
	}
	return target, err
}

// Owns reports whether loc is one of the root's own chk-<id> directories
// (not a pointer's target), so restoring it needs no pointer.
func (s *Storage) Owns(loc string) bool {
	if s.Dir == "" {
		return false
	}
	if isURL(loc) != isURL(s.Dir) {
		return false
	}
	var dir, base string
	if isURL(loc) {
		l := strings.TrimRight(loc, "/")
		i := strings.LastIndexByte(l, '/')
		dir, base = l[:i], l[i+1:]
		if dir != strings.TrimRight(s.Dir, "/") {
			return false
		}
	} else {
		a, err1 := filepath.Abs(filepath.Clean(loc))
		r, err2 := filepath.Abs(filepath.Clean(s.Dir))
		if err1 != nil || err2 != nil || filepath.Dir(a) != r {
			return false
		}
		base = filepath.Base(a)
	}
	_, ok := parseChkName(base)
	return ok
}

// Restored is a checkpoint read back to restore a job from.
type Restored struct {
	// ID is the completed entry of the root: chk-<ID>, a checkpoint or a
	// pointer (then Meta.ID is the savepoint's own id).
	ID    int64
	Meta  *Metadata
	Files map[string][]byte
	// Location is where it was read: a chk-<id> of the root, or what a
	// pointer names.
	Location string
	// Shared holds the checkpoint's shared objects: the root, or the
	// storage around a pointer's target.
	Shared *Storage
	// Skipped lists the newer completed checkpoints passed over, when the
	// restore allowed a fallback.
	Skipped []Unusable
}

// Unusable is a completed checkpoint that cannot be restored.
type Unusable struct {
	ID       int64
	Location string
	// Time is when it was taken, if known.
	Time time.Time
	Err  error
	// ReferencedBy lists the completed checkpoints that reference the
	// damaged shared object Err names (newest first).
	ReferencedBy []int64
}

func (u Unusable) String() string {
	s := fmt.Sprintf("checkpoint %d (%s): %v", u.ID, u.Location, u.Err)
	if u.ID == 0 {
		s = u.Err.Error()
	}
	if len(u.ReferencedBy) > 0 {
		ids := make([]string, len(u.ReferencedBy))
		for i, id := range u.ReferencedBy {
			ids[i] = strconv.FormatInt(id, 10)
		}
		s += fmt.Sprintf(" [the object is referenced by checkpoints %s]", strings.Join(ids, ", "))
	}
	return s
}

// ErrFallback marks a restore refused because it would go back past a
// completed checkpoint that cannot be read.
var ErrFallback = errors.New("checkpoint: restore would go back past a completed checkpoint")

// FallbackError says why no checkpoint is restored: the completed ones
// that cannot be read, newest first, and the newest usable one (Usable is
// 0 when there is none). It wraps ErrFallback and ErrCorrupt.
type FallbackError struct {
	Dir        string
	Unusable   []Unusable
	Usable     int64
	UsableTime time.Time
}

func (e *FallbackError) Error() string {
	var b strings.Builder
	if e.Usable == 0 {
		fmt.Fprintf(&b, "checkpoint: no checkpoint in %s can be restored, although completed ones exist:", e.Dir)
	} else {
		fmt.Fprintf(&b, "checkpoint: restoring the latest checkpoint in %s would go back past completed checkpoints that cannot be read (their output may be committed, and restoring checkpoint %d would produce it again):", e.Dir, e.Usable)
	}
	for _, u := range e.Unusable {
		b.WriteString("\n  ")
		b.WriteString(u.String())
	}
	b.WriteString("\nWays forward: repair or bring back the damaged files and run again; or restore a checkpoint or savepoint on purpose by its path")
	if e.Usable == 0 {
		b.WriteString("; or start fresh on purpose with an empty checkpoint directory (output committed so far would be produced again).")
	} else {
		fmt.Fprintf(&b, "; or accept the fallback to checkpoint %d (AllowCheckpointFallback, weir run --allow-checkpoint-fallback): %s.", e.Usable, e.repeats())
	}
	return b.String()
}

// repeats says how much output a fallback may produce again.
func (e *FallbackError) repeats() string {
	newest := e.Unusable[0]
	var last time.Time
	for _, u := range e.Unusable {
		if u.Time.After(last) {
			last = u.Time
		}
	}
	if last.IsZero() || e.UsableTime.IsZero() {
		return fmt.Sprintf("output committed after checkpoint %d, up to checkpoint %d, may be produced again", e.Usable, newest.ID)
	}
	return fmt.Sprintf("output committed after checkpoint %d (taken %s), up to checkpoint %d (taken %s), about %s of input, may be produced again",
		e.Usable, e.UsableTime.Format(time.RFC3339), newest.ID, last.Format(time.RFC3339), last.Sub(e.UsableTime).Round(time.Millisecond))
}

func (e *FallbackError) Is(target error) bool { return target == ErrFallback || target == ErrCorrupt }

// Unwrap returns the error of each unusable checkpoint (errors.As finds a
// *SharedError among them).
func (e *FallbackError) Unwrap() []error {
	errs := make([]error, len(e.Unusable))
	for i, u := range e.Unusable {
		errs[i] = u.Err
	}
	return errs
}

// Find loads the checkpoint to restore "latest" from: the newest completed
// entry of the root (a checkpoint, or a pointer to a savepoint) whose files
// and shared objects are all whole, verified by checksum. It returns an
// error wrapping ErrNoCheckpoint only when the root holds no completed
// checkpoint and records none: then a fresh start is right.
//
// When newer completed checkpoints cannot be read (damaged metadata, data
// files or shared objects; a checkpoint _latest records whose metadata is
// gone; a damaged _latest), restoring an older one would produce again the
// output sinks committed for them, so Find returns a *FallbackError that
// names them, unless allowFallback: then it restores the older one, lists
// the skipped ones in Restored.Skipped and logs at ERROR level what may
// repeat. When no checkpoint is usable although some completed, Find
// always fails. Errors that say nothing of the checkpoints (storage that
// cannot be reached) are returned as they are.
func (s *Storage) Find(ctx context.Context, allowFallback bool) (*Restored, error) {
	st, err := s.store(ctx)
	if err != nil {
		return nil, err
	}
	var unusable []Unusable
	rec, err := readRecord(ctx, st)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			return nil, err
		}
		unusable = append(unusable, Unusable{Location: st.Location(recordFile),
			Err: fmt.Errorf("the record of the newest completed checkpoint cannot be read, so it is unknown whether a newer checkpoint completed: %w", err)})
	}
	ids, err := s.Completed(ctx)
	if err != nil {
		return nil, err
	}
	if rec.Latest > 0 && (len(ids) == 0 || rec.Latest > ids[0]) {
		// Completed (and maybe committed), but its metadata is gone.
		unusable = append(unusable, Unusable{ID: rec.Latest, Location: st.Location(chkName(rec.Latest)), Time: rec.LatestTime,
			Err: fmt.Errorf("%w: it completed (the root's %s says so) but its %s is missing", ErrCorrupt, recordFile, metaFile)})
	}
	metas := map[int64]*Metadata{} // what could be decoded, to find who references a damaged shared object
	var found *Restored
	for _, id := range ids {
		r, m, err := s.readEntry(ctx, st, id)
		if m != nil {
			metas[id] = m
		}
		if err == nil {
			err = r.Shared.verifyShared(ctx, r.Meta)
		}
		if err == nil {
			found = r
			break
		}
		if !errors.Is(err, ErrCorrupt) {
			return nil, err
		}
		u := Unusable{ID: id, Location: st.Location(chkName(id)), Err: err}
		if m != nil {
			u.Time = m.Timestamp
		} else if id == rec.Latest {
			u.Time = rec.LatestTime
		}
		unusable = append(unusable, u)
	}
	if len(unusable) > 0 {
		s.referencedBy(ctx, st, ids, metas, unusable)
	}
	switch {
	case found == nil && len(unusable) == 0:
		return nil, fmt.Errorf("%w in %s", ErrNoCheckpoint, st.Location(""))
	case found == nil:
		return nil, &FallbackError{Dir: st.Location(""), Unusable: unusable}
	case len(unusable) == 0:
		return found, nil
	}
	fe := &FallbackError{Dir: st.Location(""), Unusable: unusable, Usable: found.ID, UsableTime: found.Meta.Timestamp}
	if !allowFallback {
		return nil, fe
	}
	found.Skipped = unusable
	for _, u := range unusable {
		s.log().Error("weir: skipping a completed checkpoint that cannot be read", "checkpoint", u.ID, "err", u.String())
	}
	s.log().Error("weir: restoring an older checkpoint, as allowed: "+fe.repeats(), "checkpoint", found.ID, "location", found.Location, "skipped", len(unusable))
	return found, nil
}

// readEntry reads completed entry id of the root: its checkpoint, or what
// its pointer names. It also returns the metadata when that decoded,
// whatever else failed.
func (s *Storage) readEntry(ctx context.Context, st blob.BlobStore, id int64) (*Restored, *Metadata, error) {
	loc, err := readPointer(ctx, st, id)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A checkpoint of the root.
		m, files, err := readCheckpointMeta(ctx, st, chkName(id), st, s.sharedBad)
		if err != nil {
			return nil, m, err
		}
		return &Restored{ID: id, Meta: m, Files: files, Location: st.Location(chkName(id)), Shared: s}, m, nil
	case err != nil:
		return nil, nil, err
	}
	shared := &Storage{Dir: parentLocation(loc), Logger: s.Logger, Remote: s.Remote}
	at, err := shared.storeAt(ctx, loc)
	if err != nil {
		return nil, nil, err
	}
	root, err := shared.store(ctx)
	if err != nil {
		return nil, nil, err
	}
	m, files, err := readCheckpointMeta(ctx, at, "", root, nil)
	if err != nil {
		return nil, m, fmt.Errorf("the savepoint it points to, %s: %w", loc, err)
	}
	return &Restored{ID: id, Meta: m, Files: files, Location: loc, Shared: shared}, m, nil
}

// verifyShared reads every shared object m references and checks its
// checksum, so that a damaged one is found before a restore starts (and
// the checkpoint passed over), not when a task opens its state.
func (s *Storage) verifyShared(ctx context.Context, m *Metadata) error {
	refs := sharedRefs(m)
	if len(refs) == 0 {
		return nil
	}
	st, err := s.store(ctx)
	if err != nil {
		return err
	}
	for _, r := range refs {
		name := joinName(sharedDir, r.Shared)
		rd, _, err := st.Get(ctx, name)
		if err != nil {
			return &SharedError{Object: r.Shared, Location: st.Location(name), Err: asCorrupt(err)}
		}
		h := crc32.New(castagnoli)
		n, err := io.Copy(h, rd)
		rd.Close()
		if err != nil {
			return fmt.Errorf("checkpoint: read %s: %w", st.Location(name), err)
		}
		if h.Sum32() != r.CRC || n != r.Size {
			s.sharedSet(r.Shared, sharedObject{crc: r.CRC, size: r.Size, bad: true})
			return &SharedError{Object: r.Shared, Location: st.Location(name),
				Err: fmt.Errorf("%w: %d bytes with CRC %08x, metadata says %d bytes with CRC %08x", ErrCorrupt, n, h.Sum32(), r.Size, r.CRC)}
		}
	}
	return nil
}

// SharedError is a shared object of a checkpoint that is missing or
// damaged. It wraps ErrCorrupt.
type SharedError struct {
	Object   string // the name below shared/
	Location string
	Err      error
}

func (e *SharedError) Error() string {
	return fmt.Sprintf("shared object %s: %v", e.Location, e.Err)
}

func (e *SharedError) Unwrap() error { return e.Err }

// referencedBy fills in, for unusable checkpoints failing on a shared
// object, which completed checkpoints reference that object.
func (s *Storage) referencedBy(ctx context.Context, st blob.BlobStore, ids []int64, metas map[int64]*Metadata, unusable []Unusable) {
	for i := range unusable {
		var se *SharedError
		if !errors.As(unusable[i].Err, &se) {
			continue
		}
		for _, id := range ids {
			m := metas[id]
			if m == nil {
				b, err := readObject(ctx, st, joinName(chkName(id), metaFile))
				if err != nil {
					continue
				}
				if m, err = DecodeMetadata(b); err != nil {
					continue
				}
				metas[id] = m
			}
			if slices.ContainsFunc(sharedRefs(m), func(r FileRef) bool { return r.Shared == se.Object }) {
				unusable[i].ReferencedBy = append(unusable[i].ReferencedBy, id)
			}
		}
	}
}
