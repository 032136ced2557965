package pebble

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/kv"
)

// Kind is the name of this backend's native snapshot format.
const Kind = "pebble"

// Options configure a Backend.
type Options struct {
	// Dir is the backend's local working directory. It is created, and
	// its database removed by Close; snapshot directories made inside it
	// are removed by whoever persists them (NativeSnapshot.Release).
	Dir string
	// MemTableSize is the size of Pebble's memtable; it
	// bounds what the synchronous part of a snapshot flushes.
	// Default 64 MiB.
	MemTableSize uint64
	// CacheSize is Pebble's block cache (default 64 MiB).
	CacheSize int64
	// EntryCache is how many entries of each value and map state are kept
	// decoded in memory in front of Pebble, writes included (applied to
	// Pebble in batches and at every snapshot). Default 262144; negative
	// turns the cache off. An entry costs its key (~20-40 bytes), its
	// decoded value and ~50 bytes of map overhead.
	EntryCache int
	// Logger receives Pebble's warnings; nil discards them.
	Logger *slog.Logger
	// Engine opens the databases (required): package statebackend/pebble's
	// Engine. This package links no storage engine.
	Engine kv.Engine
}

// Error is a failure of Pebble under a state access; accessors panic with
// it (see the package documentation).
type Error struct {
	State string
	Op    string
	Err   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("weir: pebble state %q: %s: %v", e.State, e.Op, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// flusher applies a cache's buffered writes to the database.
type flusher interface {
	flush(db kv.DB) error
}

// flushCaches applies every state's buffered writes to the database.
func (b *Backend[K]) flushCaches() error {
	if b.db == nil {
		return nil
	}
	for _, c := range b.caches {
		if err := c.flush(b.db); err != nil {
			return fmt.Errorf("weir: pebble: applying cached writes: %w", err)
		}
	}
	return nil
}

// regSID is the id prefix of the state registry.
const regSID = 0xFFFF

// maxSID is the largest state id.
const maxSID = 0xFFFE

// regEntry describes a registered state: its id, kind and layout.
type regEntry struct {
	sid    uint16
	kind   byte
	schema string
}

// pstate is a state stored in Pebble.
type pstate interface {
	StateName() string
	StateKind() byte
	StateSchema() string
	codecErr() error
	setSID(sid uint16)
	hasSID() bool
	// importGroup writes the entries of a canonical section body of key
	// group kg.
	importGroup(w kv.Batch, kg int, body []byte) error
}

// restored is canonical state of one name waiting for Seal.
type restored struct {
	kind   byte
	schema string
	groups map[int][]byte
}

// Backend holds the keyed states of one operator subtask in Pebble.
type Backend[K comparable] struct {
	kc   *statebackend.KeyContext[K]
	now  func() int64
	opts Options
	db   kv.DB
	// dbDir is where the database lives (opts.Dir/db).
	dbDir  string
	kcodec codec.Codec[K]
	kerr   error
	states []pstate
	others []statebackend.Snapshottable
	// caches are the entry caches of the states, flushed before
	// snapshots and iterations.
	caches []flusher
	reg    map[string]regEntry
	// pending holds canonical sections until Seal; orphans the sections
	// no registered state claimed, written again by every snapshot.
	pending map[string]*restored
	orphans map[string]*restored
	// native: files of native snapshots to restore, fetched by SetNative.
	native []fetched
	// shared names the shared object of each local file restored from one.
	shared   map[string]string
	instance string
	seq      int
	seq2     int
	sealed   bool
	closed   bool
	// The current key's encoding, recomputed when the key changes.
	curKey K
	curEnc []byte
	curOK  bool
}

// fetched is a native snapshot whose files were materialised in dir.
type fetched struct {
	h   statebackend.NativeRestore
	dir string
}

// New returns a backend reading the current key from kc and processing time
// (milliseconds, for TTL) from now. The database opens at Seal.
func New[K comparable](kc *statebackend.KeyContext[K], now func() int64, o Options) (*Backend[K], error) {
	if o.Dir == "" {
		return nil, errors.New("weir: pebble backend needs a working directory")
	}
	if o.Engine == nil {
		return nil, errors.New("weir: pebble backend needs an engine (package statebackend/pebble)")
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = 64 << 20
	}
	if o.EntryCache == 0 {
		o.EntryCache = 1 << 18
	}
	if o.CacheSize == 0 {
		o.CacheSize = 64 << 20
	}
	if kc.MaxParallelism > 1<<16 {
		// Keys hold the key group in 16 bits.
		return nil, fmt.Errorf("weir: pebble backend: max parallelism %d exceeds %d", kc.MaxParallelism, 1<<16)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("weir: pebble backend: %w", err)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	b := &Backend[K]{kc: kc, now: now, opts: o, dbDir: filepath.Join(o.Dir, "db"), shared: map[string]string{}, instance: hex.EncodeToString(id[:])}
	b.kcodec, b.kerr = codec.For[K]()
	return b, nil
}

// KeyContext returns the backend's key context.
func (b *Backend[K]) KeyContext() *statebackend.KeyContext[K] { return b.kc }

// Register adds a snapshottable (a timer service) kept in canonical form.
func (b *Backend[K]) Register(s statebackend.Snapshottable) { b.others = append(b.others, s) }

func (b *Backend[K]) register(s pstate) { b.states = append(b.states, s) }

// SetRestore hands the backend canonical key groups to restore (written by
// either backend); Seal applies them.
func (b *Backend[K]) SetRestore(groups map[int][]byte) error {
	if b.pending == nil {
		b.pending = map[string]*restored{}
	}
	for kg, data := range groups {
		if !b.kc.Range.Contains(kg) {
			continue
		}
		for len(data) > 0 {
			name, kind, schema, body, rest, err := statebackend.ReadSection(data)
			if err != nil {
				return fmt.Errorf("weir: pebble: key group %d: %w", kg, err)
			}
			r := b.pending[name]
			if r == nil {
				r = &restored{kind: kind, schema: schema, groups: map[int][]byte{}}
				b.pending[name] = r
			}
			r.groups[kg] = append(r.groups[kg], body...)
			data = rest
		}
	}
	return nil
}

// SetNative fetches the files of the native snapshots to restore from into
// the working directory; Seal opens or merges them.
func (b *Backend[K]) SetNative(ctx context.Context, hs []statebackend.NativeRestore) error {
	r := b.kc.Range
	for _, h := range hs {
		if h.Kind != Kind {
			return fmt.Errorf("weir: pebble: cannot restore native state of backend %q", h.Kind)
		}
		if !h.Overlaps(r.Start, r.End) {
			continue
		}
		b.seq2++
		dir := filepath.Join(b.opts.Dir, fmt.Sprintf("restore-%d", b.seq2))
		if err := fetchAll(ctx, h, dir); err != nil {
			_ = os.RemoveAll(dir)
			return err
		}
		b.native = append(b.native, fetched{h: h, dir: dir})
	}
	return nil
}

func fetchAll(ctx context.Context, h statebackend.NativeRestore, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("weir: pebble: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("weir: pebble: %w", err)
	}
	for _, f := range h.Files {
		if f.Name != filepath.Base(f.Name) || f.Name == "." || f.Name == ".." {
			return fmt.Errorf("weir: pebble: bad file name %q in native snapshot", f.Name)
		}
		if err := f.Fetch(ctx, filepath.Join(dir, f.Name)); err != nil {
			return fmt.Errorf("weir: pebble: fetching %s: %w", f.Name, err)
		}
	}
	return nil
}

// openScan opens the database of a native snapshot in dir to read it
// through once.
func openScan(e kv.Engine, dir string) (kv.DB, error) {
	db, err := e.Open(dir, kv.OpenOptions{Scan: true})
	if err != nil {
		return nil, fmt.Errorf("weir: pebble: open %s: %w", dir, err)
	}
	return db, nil
}

// Seal opens the database (from the restored native snapshot when it
// covers exactly this subtask's key groups, else fresh with the restored
// ranges copied in), assigns the registered states their ids, and imports
// canonical state. Restored state that no registered state claims is kept
// and written to later snapshots.
func (b *Backend[K]) Seal() error {
	if b.sealed {
		return nil
	}
	b.sealed = true
	if b.kerr != nil {
		return fmt.Errorf("weir: pebble: key type: %w", b.kerr)
	}
	if err := b.openDB(); err != nil {
		return err
	}
	names := map[string]bool{}
	for _, s := range b.states {
		name := s.StateName()
		if names[name] {
			return fmt.Errorf("weir: pebble: two states are named %q", name)
		}
		names[name] = true
		if err := s.codecErr(); err != nil {
			return fmt.Errorf("weir: pebble: state %q: %w", name, err)
		}
		sid, err := b.sidFor(name, s.StateKind(), s.StateSchema())
		if err != nil {
			return err
		}
		s.setSID(sid)
	}
	// Canonical sections: pebble states import them; timers restore.
	batch := b.db.NewBatch()
	for _, s := range b.states {
		r, ok := b.pending[s.StateName()]
		if !ok {
			continue
		}
		delete(b.pending, s.StateName())
		if err := checkLayout(s.StateName(), r, s.StateKind(), s.StateSchema()); err != nil {
			return err
		}
		for _, kg := range sortedGroups(r.groups) {
			if err := s.importGroup(batch, kg, r.groups[kg]); err != nil {
				return fmt.Errorf("weir: pebble: state %q key group %d: %w", s.StateName(), kg, err)
			}
			if batch.Len() > 4<<20 {
				if err := batch.Commit(); err != nil {
					return fmt.Errorf("weir: pebble: %w", err)
				}
				batch = b.db.NewBatch()
			}
		}
	}
	if err := batch.Commit(); err != nil {
		return fmt.Errorf("weir: pebble: %w", err)
	}
	for _, s := range b.others {
		if names[s.StateName()] {
			return fmt.Errorf("weir: pebble: two states are named %q", s.StateName())
		}
		names[s.StateName()] = true
		r, ok := b.pending[s.StateName()]
		if !ok {
			continue
		}
		delete(b.pending, s.StateName())
		if err := checkLayout(s.StateName(), r, s.StateKind(), s.StateSchema()); err != nil {
			return err
		}
		for kg, body := range r.groups {
			if err := s.RestoreGroup(kg-b.kc.Range.Start, body); err != nil {
				return fmt.Errorf("weir: pebble: state %q key group %d: %w", s.StateName(), kg, err)
			}
		}
	}
	b.orphans = b.pending
	b.pending = nil
	return nil
}

func checkLayout(name string, r *restored, kind byte, schema string) error {
	if r.kind != kind {
		return fmt.Errorf("weir: state %q was stored as kind %d, now registered as kind %d", name, r.kind, kind)
	}
	if r.schema != schema {
		return fmt.Errorf("weir: state %q was stored with layout %s, now registered with layout %s", name, r.schema, schema)
	}
	return nil
}

func sortedGroups(m map[int][]byte) []int {
	kgs := make([]int, 0, len(m))
	for kg := range m {
		kgs = append(kgs, kg)
	}
	sort.Ints(kgs)
	return kgs
}

// openDB opens the working database: a restored snapshot's files when one
// snapshot covers exactly this range, else a fresh database into which the
// owned ranges of every restored snapshot are copied.
func (b *Backend[K]) openDB() error {
	if err := os.RemoveAll(b.dbDir); err != nil {
		return fmt.Errorf("weir: pebble: %w", err)
	}
	r := b.kc.Range
	// The snapshot overlapping most of this range becomes the database
	// itself (its files opened in place: no copy), the key groups it holds
	// but this subtask does not own deleted with range deletions (Flink's
	// approach to rescaling RocksDB); the others' owned ranges are copied
	// in.
	base := -1
	for i, f := range b.native {
		if base < 0 || overlap(f.h, r.Start, r.End) > overlap(b.native[base].h, r.Start, r.End) {
			base = i
		}
	}
	var rest []fetched
	var trim bool
	if base >= 0 {
		f := b.native[base]
		if err := os.Rename(f.dir, b.dbDir); err != nil {
			return fmt.Errorf("weir: pebble: %w", err)
		}
		for _, file := range f.h.Files {
			if file.Shared != "" {
				b.shared[file.Name] = file.Shared
			}
		}
		trim = f.h.Start < r.Start || f.h.End > r.End
		rest = append(append(rest, b.native[:base]...), b.native[base+1:]...)
	}
	db, err := b.opts.Engine.Open(b.dbDir, kv.OpenOptions{MemTableSize: b.opts.MemTableSize, CacheSize: b.opts.CacheSize, Logger: b.opts.Logger})
	if err != nil {
		return fmt.Errorf("weir: pebble: open %s: %w", b.dbDir, err)
	}
	b.db = db
	if b.reg, err = readRegistry(db); err != nil {
		return err
	}
	if trim {
		batch := db.NewBatch()
		for _, e := range b.reg {
			if r.Start > 0 {
				if err := batch.DeleteRange(prefix(e.sid, 0), prefix(e.sid, r.Start)); err != nil {
					return fmt.Errorf("weir: pebble: %w", err)
				}
			}
			next := []byte{byte((e.sid + 1) >> 8), byte(e.sid + 1)} // sorts after every key of e.sid
			if err := batch.DeleteRange(prefix(e.sid, r.End), next); err != nil {
				return fmt.Errorf("weir: pebble: %w", err)
			}
		}
		if err := batch.Commit(); err != nil {
			return fmt.Errorf("weir: pebble: %w", err)
		}
	}
	for _, f := range rest {
		if err := b.copyFrom(f); err != nil {
			return err
		}
		if err := os.RemoveAll(f.dir); err != nil {
			return fmt.Errorf("weir: pebble: %w", err)
		}
	}
	b.native = nil
	return nil
}

// overlap returns how many key groups of [start, end) h holds.
func overlap(h statebackend.NativeRestore, start, end int) int {
	return max(0, min(end, h.End)-max(start, h.Start))
}

// copyFrom copies the key groups this backend owns from a restored
// database, mapping its state ids to this database's by name.
func (b *Backend[K]) copyFrom(f fetched) error {
	src, err := openScan(b.opts.Engine, f.dir)
	if err != nil {
		return err
	}
	defer src.Close()
	reg, err := readRegistry(src)
	if err != nil {
		return err
	}
	start, end := max(b.kc.Range.Start, f.h.Start), min(b.kc.Range.End, f.h.End)
	if start >= end {
		return nil
	}
	batch := b.db.NewBatch()
	var key []byte
	for _, name := range sortedNames(reg) {
		e := reg[name]
		sid, err := b.sidFor(name, e.kind, e.schema)
		if err != nil {
			return err
		}
		it, err := src.NewIter(prefix(e.sid, start), prefix(e.sid, end))
		if err != nil {
			return fmt.Errorf("weir: pebble: %w", err)
		}
		for it.First(); it.Valid(); it.NextPrefix() {
			key = append(binary.BigEndian.AppendUint16(key[:0], sid), it.Key()[2:]...)
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				return fmt.Errorf("weir: pebble: %w", err)
			}
			if err := batch.Set(key, v); err != nil {
				it.Close()
				return fmt.Errorf("weir: pebble: %w", err)
			}
			if batch.Len() > 4<<20 {
				if err := batch.Commit(); err != nil {
					it.Close()
					return fmt.Errorf("weir: pebble: %w", err)
				}
				batch = b.db.NewBatch()
			}
		}
		if err := it.Close(); err != nil {
			return fmt.Errorf("weir: pebble: %w", err)
		}
	}
	if err := batch.Commit(); err != nil {
		return fmt.Errorf("weir: pebble: %w", err)
	}
	return nil
}

func sortedNames(reg map[string]regEntry) []string {
	names := make([]string, 0, len(reg))
	for n := range reg {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// prefix returns the key prefix of state sid in key group kg. kg may be
// 1<<16 (the exclusive end of the last group at max parallelism 65536):
// the prefix is then that of the next state id, not of group 0.
func prefix(sid uint16, kg int) []byte {
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], uint32(sid)<<16+uint32(kg))
	return p[:]
}

// readRegistry loads the name → (id, kind, schema) registry of db.
func readRegistry(db kv.DB) (map[string]regEntry, error) {
	reg := map[string]regEntry{}
	sids := map[uint16]bool{}
	// Every key from 0xFFFF on is a registry entry (state ids end at
	// maxSID), whatever bytes the name holds.
	it, err := db.NewIter([]byte{0xFF, 0xFF}, nil)
	if err != nil {
		return nil, fmt.Errorf("weir: pebble: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.NextPrefix() {
		name := string(it.Key()[2:])
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("weir: pebble: %w", err)
		}
		e, err := decodeRegEntry(v)
		if err != nil {
			return nil, fmt.Errorf("weir: pebble: registry entry %q: %w", name, err)
		}
		if sids[e.sid] {
			return nil, fmt.Errorf("weir: pebble: registry entry %q: %w: state id %d used twice", name, codec.ErrCorrupt, e.sid)
		}
		sids[e.sid] = true
		reg[name] = e
	}
	return reg, nil
}

// appendRegEntry appends the registry value of e: state id (big-endian
// uint16), kind, schema.
func appendRegEntry(dst []byte, e regEntry) []byte {
	dst = binary.BigEndian.AppendUint16(dst, e.sid)
	dst = append(dst, e.kind)
	return append(dst, e.schema...)
}

// decodeRegEntry decodes a registry value. The state id must be below
// regSID: the registry's own prefix.
func decodeRegEntry(v []byte) (regEntry, error) {
	if len(v) < 3 {
		return regEntry{}, fmt.Errorf("%w: short", codec.ErrCorrupt)
	}
	e := regEntry{sid: binary.BigEndian.Uint16(v), kind: v[2], schema: string(v[3:])}
	if e.sid > maxSID {
		return regEntry{}, fmt.Errorf("%w: state id %d is the registry's", codec.ErrCorrupt, e.sid)
	}
	return e, nil
}

// sidFor returns the id of the state name, registering it if new; it
// fails if the database holds that name with another kind or layout.
func (b *Backend[K]) sidFor(name string, kind byte, schema string) (uint16, error) {
	if e, ok := b.reg[name]; ok {
		if e.kind != kind {
			return 0, fmt.Errorf("weir: state %q was stored as kind %d, now registered as kind %d", name, e.kind, kind)
		}
		if e.schema != schema {
			return 0, fmt.Errorf("weir: state %q was stored with layout %s, now registered with layout %s", name, e.schema, schema)
		}
		return e.sid, nil
	}
	used := make(map[uint16]bool, len(b.reg))
	for _, e := range b.reg {
		used[e.sid] = true
	}
	sid := uint16(0)
	for used[sid] {
		sid++
	}
	if sid > maxSID {
		return 0, errors.New("weir: pebble: too many states")
	}
	v := appendRegEntry(nil, regEntry{sid: sid, kind: kind, schema: schema})
	if err := b.db.Set(append([]byte{0xFF, 0xFF}, name...), v); err != nil {
		return 0, fmt.Errorf("weir: pebble: %w", err)
	}
	b.reg[name] = regEntry{sid: sid, kind: kind, schema: schema}
	return sid, nil
}

// keyEnc returns the encoding of the current key.
func (b *Backend[K]) keyEnc() []byte {
	if !b.curOK || b.curKey != b.kc.Key {
		b.curEnc = b.kcodec.Append(b.curEnc[:0], b.kc.Key)
		b.curKey, b.curOK = b.kc.Key, true
	}
	return b.curEnc
}

// live returns the open database, opening a fresh one if the operator uses
// state before Seal.
func (b *Backend[K]) live() kv.DB {
	if b.db == nil {
		if b.closed {
			panic(&Error{Op: "access", Err: errors.New("weir: pebble: backend is closed")})
		}
		if err := b.Seal(); err != nil {
			panic(&Error{Op: "open", Err: err})
		}
		if b.db == nil { // an earlier Seal failed
			panic(&Error{Op: "open", Err: errors.New("weir: pebble: database not open: Seal failed")})
		}
	}
	return b.db
}

// registerLate gives the states registered after Seal their ids and their
// restored state, on first use (states should be registered before Seal,
// in the operator's Open; without this a late state would share id 0 with
// another). It panics with an *Error if a state's types or name conflict.
func (b *Backend[K]) registerLate() {
	for _, s := range b.states {
		if s.hasSID() {
			continue
		}
		name := s.StateName()
		fail := func(err error) { panic(&Error{State: name, Op: "register", Err: err}) }
		if err := s.codecErr(); err != nil {
			fail(err)
		}
		for _, o := range b.states {
			if o != s && o.StateName() == name {
				fail(fmt.Errorf("weir: pebble: two states are named %q", name))
			}
		}
		for _, o := range b.others {
			if o.StateName() == name {
				fail(fmt.Errorf("weir: pebble: two states are named %q", name))
			}
		}
		sid, err := b.sidFor(name, s.StateKind(), s.StateSchema())
		if err != nil {
			fail(err)
		}
		s.setSID(sid)
		// Claim restored canonical state of that name, as Seal would
		// have; orphans is replaced, not changed, because snapshots being
		// written read the old map.
		r, ok := b.orphans[name]
		if !ok {
			continue
		}
		if err := checkLayout(name, r, s.StateKind(), s.StateSchema()); err != nil {
			fail(err)
		}
		batch := b.db.NewBatch()
		for _, kg := range sortedGroups(r.groups) {
			if err := s.importGroup(batch, kg, r.groups[kg]); err != nil {
				fail(fmt.Errorf("weir: pebble: key group %d: %w", kg, err))
			}
		}
		if err := batch.Commit(); err != nil {
			fail(err)
		}
		orphans := make(map[string]*restored, len(b.orphans))
		for n, o := range b.orphans {
			if n != name {
				orphans[n] = o
			}
		}
		b.orphans = orphans
	}
}

// Snapshot flushes the memtable and takes a Pebble checkpoint into a new
// directory (hard links: the task goes on at once), and captures the
// canonical states (timers, unclaimed restored state).
func (b *Backend[K]) Snapshot() (statebackend.Snapshot, error) {
	db := b.live()
	write, err := b.freezeCanonical()
	if err != nil {
		return statebackend.Snapshot{}, err
	}
	if err := b.flushCaches(); err != nil {
		return statebackend.Snapshot{}, err
	}
	if err := db.Flush(); err != nil {
		return statebackend.Snapshot{}, fmt.Errorf("weir: pebble: flush: %w", err)
	}
	b.seq++
	dir := filepath.Join(b.opts.Dir, fmt.Sprintf("snap-%d", b.seq))
	_ = os.RemoveAll(dir)
	if err := db.Checkpoint(dir); err != nil {
		_ = os.RemoveAll(dir)
		return statebackend.Snapshot{}, fmt.Errorf("weir: pebble: checkpoint: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return statebackend.Snapshot{}, fmt.Errorf("weir: pebble: %w", err)
	}
	n := &statebackend.NativeSnapshot{Kind: Kind, Start: b.kc.Range.Start, End: b.kc.Range.End, Dir: dir}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		f := statebackend.NativeFile{Name: e.Name()}
		if ext := filepath.Ext(e.Name()); ext == ".sst" || ext == ".blob" {
			f.Shared = b.sharedName(e.Name())
		}
		n.Files = append(n.Files, f)
	}
	start, end := n.Start, n.End
	n.Canonical = func(put func(kg int, section []byte)) error { return Canonical(b.opts.Engine, dir, start, end, put) }
	return statebackend.Snapshot{Write: write, Native: n}, nil
}

// sharedName is the name under which a local immutable file is shared: the
// name it was restored from, or this instance's id and the file's name.
func (b *Backend[K]) sharedName(local string) string {
	if s, ok := b.shared[local]; ok {
		return s
	}
	s := b.instance + "-" + local
	b.shared[local] = s
	return s
}

// freezeCanonical captures the snapshottables kept in canonical form and
// returns the writer of their sections and of the unclaimed restored ones.
func (b *Backend[K]) freezeCanonical() (func(put func(kg int, section []byte)) error, error) {
	type frozen struct {
		name, schema string
		kind         byte
		write        func(dst []byte, idx int) ([]byte, error)
	}
	fz := make([]frozen, 0, len(b.others))
	for _, s := range b.others {
		w, err := s.Freeze()
		if err != nil {
			return nil, fmt.Errorf("weir: state %q: %w", s.StateName(), err)
		}
		fz = append(fz, frozen{s.StateName(), s.StateSchema(), s.StateKind(), w})
	}
	orphans := b.orphans
	n, start := b.kc.Range.Len(), b.kc.Range.Start
	return func(put func(kg int, section []byte)) error {
		var buf, body []byte
		for idx := 0; idx < n; idx++ {
			for _, s := range fz {
				var err error
				if body, err = s.write(body[:0], idx); err != nil {
					return fmt.Errorf("weir: state %q: %w", s.name, err)
				}
				if len(body) > 0 {
					buf = statebackend.AppendSection(buf[:0], s.name, s.kind, s.schema, body)
					put(start+idx, buf)
				}
			}
		}
		names := make([]string, 0, len(orphans))
		for name := range orphans {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			r := orphans[name]
			for _, kg := range sortedGroups(r.groups) {
				put(kg, statebackend.AppendSection(buf[:0], name, r.kind, r.schema, r.groups[kg]))
			}
		}
		return nil
	}, nil
}

// Close closes the database and removes it and any restore leftovers.
func (b *Backend[K]) Close() error {
	b.closed = true
	var err error
	if b.db != nil {
		err = b.db.Close()
		b.db = nil
	}
	for _, f := range b.native {
		_ = os.RemoveAll(f.dir)
	}
	if rerr := os.RemoveAll(b.dbDir); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("weir: pebble: close: %w", err)
	}
	return nil
}

// Canonical converts the state of key groups [start, end) of the Pebble
// database in dir (a snapshot directory, opened read-only) to canonical
// sections, key group by key group. It needs no codec: entries are copied
// as bytes.
func Canonical(e kv.Engine, dir string, start, end int, put func(kg int, section []byte)) error {
	db, err := openScan(e, dir)
	if err != nil {
		return err
	}
	defer db.Close()
	return canonical(db, start, end, put)
}

func canonical(db kv.DB, start, end int, put func(kg int, section []byte)) error {
	reg, err := readRegistry(db)
	if err != nil {
		return err
	}
	names := sortedNames(reg)
	it, err := db.NewIter(nil, nil)
	if err != nil {
		return fmt.Errorf("weir: pebble: %w", err)
	}
	defer it.Close()
	var body, sec, count []byte
	for kg := start; kg < end; kg++ {
		for _, name := range names {
			e := reg[name]
			it.SetBounds(prefix(e.sid, kg), prefix(e.sid, kg+1))
			body = body[:0]
			var group []byte // map: the current nk
			var items []byte // map: entries of the current nk
			n := 0
			flush := func() {
				if group == nil {
					return
				}
				body = append(body, group...)
				count = binary.AppendUvarint(count[:0], uint64(n))
				body = append(body, count...)
				body = append(body, items...)
				group, items, n = nil, items[:0], 0
			}
			for it.First(); it.Valid(); it.NextPrefix() {
				k := it.Key()[4:]
				l, m := binary.Uvarint(k)
				if m <= 0 || uint64(len(k)-m) < l {
					return fmt.Errorf("weir: pebble: state %q: %w: key", name, codec.ErrCorrupt)
				}
				nk, uk := k[m:m+int(l)], k[m+int(l):]
				v, err := it.ValueAndErr()
				if err != nil {
					return fmt.Errorf("weir: pebble: %w", err)
				}
				switch e.kind {
				case statebackend.KindValue:
					body = append(append(body, nk...), v...)
				case statebackend.KindList:
					body = append(body, nk...)
					frames, cnt, err := unframe(v)
					if err != nil {
						return fmt.Errorf("weir: pebble: state %q: %w", name, err)
					}
					body = binary.AppendUvarint(body, uint64(cnt))
					body = append(body, frames...)
				case statebackend.KindMap:
					if group == nil || !bytes.Equal(group, nk) {
						flush()
						group = append([]byte(nil), nk...)
					}
					items = append(append(items, uk...), v...)
					n++
				default:
					return fmt.Errorf("weir: pebble: state %q has unknown kind %d", name, e.kind)
				}
			}
			flush()
			if len(body) > 0 {
				sec = statebackend.AppendSection(sec[:0], name, e.kind, e.schema, body)
				put(kg, sec)
			}
		}
	}
	return nil
}

// unframe turns a list value (frames: uvarint length, element) into the
// canonical concatenation of elements and their count.
func unframe(v []byte) ([]byte, int, error) {
	out := make([]byte, 0, len(v))
	n := 0
	for len(v) > 0 {
		l, m := binary.Uvarint(v)
		if m <= 0 || uint64(len(v)-m) < l {
			return nil, 0, fmt.Errorf("%w: list frame", codec.ErrCorrupt)
		}
		out = append(out, v[m:m+int(l)]...)
		v = v[m+int(l):]
		n++
	}
	return out, n, nil
}

// ReadNative converts native snapshots to canonical key groups of [start,
// end): how a heap backend restores state written by this one. Files are
// fetched into tmp (removed afterwards) and opened with e.
func ReadNative(ctx context.Context, e kv.Engine, hs []statebackend.NativeRestore, start, end int, tmp string, put func(kg int, section []byte)) error {
	for i, h := range hs {
		if h.Kind != Kind {
			return fmt.Errorf("weir: cannot restore native state of backend %q", h.Kind)
		}
		if !h.Overlaps(start, end) {
			continue
		}
		// A directory of its own: subtasks restore concurrently.
		dir, err := os.MkdirTemp(tmp, fmt.Sprintf("native-%d-", i))
		if err != nil {
			return fmt.Errorf("weir: pebble: %w", err)
		}
		if err := fetchAll(ctx, h, dir); err != nil {
			_ = os.RemoveAll(dir)
			return err
		}
		err = Canonical(e, dir, max(start, h.Start), min(end, h.End), put)
		if rerr := os.RemoveAll(dir); err == nil && rerr != nil {
			err = fmt.Errorf("weir: pebble: %w", rerr)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
