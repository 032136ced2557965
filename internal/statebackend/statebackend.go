// Package statebackend holds what every keyed state backend shares: the key
// context that operators set before touching state, and TTL settings.
//
// Concurrency: a backend instance belongs to one subtask and is used only by
// that subtask's goroutine.
package statebackend

import (
	"context"
	"fmt"
	"os"

	"github.com/weirstream/weir/internal/keygroup"
)

// KeyContext is the current key of a keyed operator. The operator sets it
// before calling user code; every state of the operator reads it.
type KeyContext[K comparable] struct {
	// Key is the current key.
	Key K
	// KeyGroup is the current key's group; Index is its offset in Range.
	KeyGroup, Index int
	// Range is the set of key groups owned by this subtask.
	Range          keygroup.Range
	MaxParallelism int
	hash           keygroup.HashFunc[K]
	// routed counts SetRouted calls, to check one in checkRouted.
	routed uint32
}

// checkRouted is how often SetRouted checks the hash it is given: one
// call in checkRouted hashes the key again and compares.
const checkRouted = 256

// NewKeyContext returns a key context for a subtask owning r.
func NewKeyContext[K comparable](hash keygroup.HashFunc[K], maxParallelism int, r keygroup.Range) *KeyContext[K] {
	return &KeyContext[K]{hash: hash, MaxParallelism: maxParallelism, Range: r}
}

// Set makes k the current key. It fails if k does not belong to this
// subtask, which happens only if the key selector is not deterministic.
func (kc *KeyContext[K]) Set(k K) error {
	kg := keygroup.Of(kc.hash(k), kc.MaxParallelism)
	if !kc.Range.Contains(kg) {
		return fmt.Errorf("key %v is in key group %d, outside this subtask's range [%d,%d): the key selector must return the same key for the same record every time", k, kg, kc.Range.Start, kc.Range.End)
	}
	kc.Key, kc.KeyGroup, kc.Index = k, kg, kg-kc.Range.Start
	return nil
}

// Hash returns the stable hash of k (the one key groups are computed from).
func (kc *KeyContext[K]) Hash(k K) uint64 { return kc.hash(k) }

// SetHashed makes k, whose hash h was computed with Hash, the current key,
// with the same check as Set.
func (kc *KeyContext[K]) SetHashed(k K, h uint64) error {
	kg := keygroup.Of(h, kc.MaxParallelism)
	if !kc.Range.Contains(kg) {
		return fmt.Errorf("key %v is in key group %d, outside this subtask's range [%d,%d): the key selector must return the same key for the same record every time", k, kg, kc.Range.Start, kc.Range.End)
	}
	kc.Key, kc.KeyGroup, kc.Index = k, kg, kg-kc.Range.Start
	return nil
}

// SetRouted makes k the current key, given h, the hash a keyed exchange
// computed from the key it routed the record by (runtime.Batch.Hashes),
// so that the key is not hashed again. Every checkRouted-th call hashes
// k and fails if that differs from h: the key selector returned another
// key for the same record, and the state of k would be filed under the
// key group of another key (lost or misplaced on rescaling). A
// non-deterministic selector is thus caught within a few hundred records,
// as Set catches it at the first key outside the subtask's range.
func (kc *KeyContext[K]) SetRouted(k K, h uint64) error {
	kc.routed++
	if kc.routed%checkRouted == 0 && kc.hash(k) != h {
		return fmt.Errorf("key %v was routed by the hash of another key: the key selector must return the same key for the same record every time", k)
	}
	return kc.SetHashed(k, h)
}

// SetKnown makes k the current key when its group is already known (timers).
func (kc *KeyContext[K]) SetKnown(k K, kg int) {
	kc.Key, kc.KeyGroup, kc.Index = k, kg, kg-kc.Range.Start
}

// GroupOf returns the key group of k.
func (kc *KeyContext[K]) GroupOf(k K) int { return keygroup.Of(kc.hash(k), kc.MaxParallelism) }

// TTLUpdate says which accesses refresh an entry's time to live.
type TTLUpdate uint8

// TTL update types (Flink's StateTtlConfig.UpdateType).
const (
	// OnCreateAndWrite refreshes the TTL when the entry is written.
	OnCreateAndWrite TTLUpdate = iota
	// OnReadAndWrite refreshes it on reads too.
	OnReadAndWrite
)

// TTLVisibility says whether an expired entry not yet cleaned up may be read.
type TTLVisibility uint8

// TTL visibilities (Flink's StateTtlConfig.StateVisibility).
const (
	// NeverReturnExpired hides expired entries.
	NeverReturnExpired TTLVisibility = iota
	// ReturnExpiredIfNotCleanedUp returns them until they are removed.
	ReturnExpiredIfNotCleanedUp
)

// TTL configures time to live in processing time. A zero TTL disables it.
type TTL struct {
	TTLMillis  int64
	Update     TTLUpdate
	Visibility TTLVisibility
	// CleanupPerAccess is how many other entries each state access checks
	// for expiry (Flink's incremental cleanup); 0 leaves cleanup to reads
	// and snapshots.
	CleanupPerAccess int
}

// Snapshottable is a state (or a timer service) whose content is written to
// canonical snapshots key group by key group (docs/format/checkpoint.md).
type Snapshottable interface {
	// StateName is the name under which the state is stored.
	StateName() string
	// StateKind and StateSchema describe the encoding, to refuse a restore
	// into a state of another kind or layout.
	StateKind() byte
	StateSchema() string
	// Freeze captures the state for a snapshot, on the task's goroutine,
	// and returns the function that writes the capture: called later,
	// possibly on another goroutine, for every key group index idx
	// (relative to the backend's range) in ascending order, it appends that
	// group's entries to dst.
	Freeze() (func(dst []byte, idx int) ([]byte, error), error)
	// RestoreGroup adds the entries in src to key group idx.
	RestoreGroup(idx int, src []byte) error
}

// Section kinds of canonical snapshots.
const (
	KindValue byte = 1
	KindList  byte = 2
	KindMap   byte = 3
	// KindTimers marks a section written by a timer service.
	KindTimers byte = 4
)

// Backend is a keyed state backend instance: the states of one operator
// subtask. The states themselves are created with the constructors of
// package backend, which know every implementation.
type Backend[K comparable] interface {
	// KeyContext returns the current key that every state reads.
	KeyContext() *KeyContext[K]
	// Register adds a snapshottable that is not one of the backend's own
	// states (a timer service); it is stored in canonical form.
	Register(s Snapshottable)
	// SetRestore hands the backend the canonical key groups to restore,
	// before the operator registers its states; Seal applies them.
	SetRestore(groups map[int][]byte) error
	// Seal restores every registered state once the operator registered
	// them all.
	Seal() error
	// Snapshot captures every state on the task's goroutine (the
	// synchronous part) and returns what the rest of the snapshot needs.
	Snapshot() (Snapshot, error)
	// Close releases the backend's resources (files, memory).
	Close() error
}

// Snapshot is a captured backend snapshot.
type Snapshot struct {
	// Write writes the canonical sections (state kept in canonical form:
	// every state of the heap backend; timers and state restored but not
	// registered of others) to put. It may run on another goroutine and
	// must be called exactly once.
	Write func(put func(kg int, section []byte)) error
	// Native, if not nil, holds the rest of the state in the backend's
	// native format.
	Native *NativeSnapshot
}

// NativeSnapshot is state in a backend's own file format (Pebble's SSTs), as
// files in a local directory that nothing changes any more.
type NativeSnapshot struct {
	// Kind names the backend ("pebble").
	Kind string
	// Start and End are the key groups the files hold, End exclusive.
	Start, End int
	// Dir is the local directory holding Files. Whoever persists the
	// snapshot removes it afterwards (Release).
	Dir   string
	Files []NativeFile
	// Canonical writes the same state in canonical form (for savepoints,
	// which must be readable by every backend).
	Canonical func(put func(kg int, section []byte)) error
}

// Release removes the snapshot's local files.
func (n *NativeSnapshot) Release() error { return os.RemoveAll(n.Dir) }

// NativeFile is one file of a native snapshot.
type NativeFile struct {
	// Name is the file's name in Dir.
	Name string
	// Shared, if not empty, is the name under which the file may be shared
	// by several checkpoints (it never changes once written): storage keeps
	// one copy per name.
	Shared string
}

// NativeRestore is a native snapshot a backend restores from: the files of
// one old subtask.
type NativeRestore struct {
	Kind       string
	Start, End int
	Files      []NativeRestoreFile
}

// NativeRestoreFile is a file of a native snapshot being restored.
type NativeRestoreFile struct {
	Name string
	// Shared is the shared object name the file was stored under ("" for a
	// private file); a backend restoring the files reuses it so that the
	// next checkpoint does not store them again.
	Shared string
	// Fetch materialises the file at dst (verifying its checksum).
	Fetch func(ctx context.Context, dst string) error
}

// Overlaps reports whether the snapshot holds key groups in [start, end).
func (n NativeRestore) Overlaps(start, end int) bool { return n.Start < end && start < n.End }

// Aggregator is an incremental aggregate function (Flink's
// AggregateFunction).
type Aggregator[IN, ACC, OUT any] interface {
	CreateAccumulator() ACC
	Add(acc ACC, in IN) (ACC, error)
	Result(acc ACC) (OUT, error)
	Merge(a, b ACC) (ACC, error)
}

// Value is a value state over namespaces N (struct{} when there are
// none), scoped to the current key and namespace.
type Value[N, V any] interface {
	SetName(name string)
	SetNamespace(n N)
	Value() (V, bool)
	Update(v V)
	Clear()
}

// List is a list state.
type List[N, V any] interface {
	SetName(name string)
	SetNamespace(n N)
	// Get returns a copy of the list the caller may keep.
	Get() []V
	Add(v V)
	AddAll(vs []V)
	Update(vs []V)
	Clear()
}

// Map is a map state.
type Map[N any, UK comparable, UV any] interface {
	SetName(name string)
	SetNamespace(n N)
	Get(uk UK) (UV, bool)
	Put(uk UK, uv UV)
	Remove(uk UK)
	Contains(uk UK) bool
	IsEmpty() bool
	// All iterates the live entries of the current key in no particular
	// order; the body must not change the state.
	All() func(yield func(UK, UV) bool)
	Clear()
}

// Entry is one key and value of a map state.
type Entry[UK, UV any] struct {
	Key   UK
	Value UV
}

// EntryAppender is implemented by map states that can copy the current
// key's live entries into a slice: what ranging over All does, without
// the closures a range over a function value allocates (the compiler
// cannot inline an iterator called through an interface, so the loop
// body and every local it captures move to the heap).
type EntryAppender[UK, UV any] interface {
	AppendEntries(dst []Entry[UK, UV]) []Entry[UK, UV]
}

// ListAppender is implemented by list states that can append the current
// key's list to a slice: what Get returns, without a new slice per call
// (an operator probing a key's list for every record reuses its own).
// With TTL it removes and refreshes elements as Get does.
type ListAppender[V any] interface {
	AppendList(dst []V) []V
}

// Reducing is a reducing state.
type Reducing[N, V any] interface {
	SetName(name string)
	SetNamespace(n N)
	Get() (V, bool)
	Add(v V) error
	Clear()
}

// Aggregating is an aggregating state.
type Aggregating[N, IN, ACC, OUT any] interface {
	SetName(name string)
	SetNamespace(n N)
	Get() (OUT, bool, error)
	Add(in IN) error
	Accumulator() (ACC, bool)
	SetAccumulator(acc ACC)
	Clear()
}

// KeyLister is implemented by states that can list their keys.
type KeyLister[K, N any] interface {
	// ForEachKey calls fn for every (key, namespace) with an entry. fn must
	// not change the state.
	ForEachKey(fn func(k K, n N)) error
}
