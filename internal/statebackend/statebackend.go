// Package statebackend holds what every keyed state backend shares: the key
// context that operators set before touching state, and TTL settings.
//
// Concurrency: a backend instance belongs to one subtask and is used only by
// that subtask's goroutine.
package statebackend

import (
	"fmt"

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
}

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
