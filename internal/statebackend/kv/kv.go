// Package kv is the ordered key-value store under the Pebble state backend
// (internal/statebackend/pebble): the few operations the backend uses, so
// that the backend's logic (state layout, registry, snapshots, restore)
// links no storage engine. Package statebackend/pebble implements Engine
// with Pebble; a program links Pebble only by importing it.
//
// Writes need no durability: the backend's database is a working copy
// that checkpoints persist (Checkpoint); a crash restores from those.
// A DB is used by one goroutine at a time, as the backend is.
package kv

import (
	"errors"
	"io"
	"log/slog"
)

// ErrNotFound is returned by DB.Get for a missing key.
var ErrNotFound = errors.New("kv: not found")

// Engine opens databases.
type Engine interface {
	// Name names the engine ("pebble"): the Kind of its native snapshots.
	Name() string
	// Open opens (creating unless o.MustExist) the database in dir.
	Open(dir string, o OpenOptions) (DB, error)
}

// OpenOptions configure DB.Open.
type OpenOptions struct {
	// Scan opens an existing database read-only, to be read through once
	// (a native snapshot being converted or copied): it must exist, and
	// it is not tuned for point reads.
	Scan bool
	// MemTableSize bounds the memtable (0: the engine's default).
	MemTableSize uint64
	// CacheSize is the block cache (0: the engine's default).
	CacheSize int64
	// Logger receives the engine's warnings; nil discards them.
	Logger *slog.Logger
}

// DB is an ordered key-value store whose merge operator concatenates
// values.
type DB interface {
	// Get returns key's value, valid until closer is closed; ErrNotFound
	// for a missing key.
	Get(key []byte) (value []byte, closer io.Closer, err error)
	Set(key, value []byte) error
	Delete(key []byte) error
	// Merge appends value to key's value.
	Merge(key, value []byte) error
	// DeleteRange deletes the keys in [start, end).
	DeleteRange(start, end []byte) error
	// NewIter iterates the keys in [lower, upper); nil bounds are open.
	NewIter(lower, upper []byte) (Iterator, error)
	NewBatch() Batch
	// Flush writes the memtable to files.
	Flush() error
	// Checkpoint writes a consistent copy of the database into the new
	// directory dir (hard links where possible).
	Checkpoint(dir string) error
	Close() error
}

// Iterator walks keys in order.
type Iterator interface {
	First() bool
	Next() bool
	// NextPrefix moves to the next key as Next does, but skips the
	// older versions of the current key that the store still holds
	// (overwrites not yet compacted away) by a seek rather than one step
	// each: iterating a key range that is overwritten often stays
	// proportional to its live keys.
	NextPrefix() bool
	Valid() bool
	SeekGE(key []byte) bool
	SetBounds(lower, upper []byte)
	Key() []byte
	ValueAndErr() ([]byte, error)
	Close() error
}

// Batch collects writes applied atomically by Commit.
type Batch interface {
	Set(key, value []byte) error
	Merge(key, value []byte) error
	Delete(key []byte) error
	DeleteRange(start, end []byte) error
	// Len is the batch's size in bytes.
	Len() int
	Commit() error
	Close() error
}
