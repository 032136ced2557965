// Package pebble is the on-disk keyed state backend: every state of an
// operator subtask lives in one Pebble database in a local working
// directory, so state can be far larger than memory (Flink's RocksDB state
// backend).
//
// This package holds the backend's logic over the ordered key-value store
// of package kv and links no storage engine: Options.Engine opens the
// databases, Pebble's from the opt-in package statebackend/pebble. The
// core engine (package weir) imports this package, never Pebble.
//
// # Layout
//
// A state entry is one Pebble key:
//
//	uint16 BE state id | uint16 BE key group | uvarint len(nk) | nk | [user key]
//
// where nk is the namespace's encoding followed by the key's (codec
// package), and the user key is present for map states. Values are the
// canonical entry bodies: varint expiry then the value for value and map
// states; for list states a concatenation of frames, uvarint length then
// (varint expiry, value), appended with Pebble's concatenating merge
// operator so that adding to a list never reads it. Putting the state id
// first keeps each state's entries, and within them each key group,
// contiguous: a snapshot of a key-group range is a handful of key ranges.
// State ids are assigned by name in a registry kept in the database itself
// (keys starting 0xFFFF), so a database restored from its own files knows
// its states. Seal assigns the ids of the states registered before it; a
// state registered later gets its id (and its restored canonical state) on
// first use.
//
// The length of nk makes entries readable without the states' codecs: a
// database converts to the canonical snapshot format of
// docs/format/checkpoint.md by copying bytes (Canonical), which is how
// savepoints of this backend are written and how the heap backend restores
// them.
//
// # Entry cache
//
// Value and map states keep up to Options.EntryCache recently used entries
// decoded in a Go map in front of Pebble (cache.go), writes included: a
// stream touches the same window counts and distinct sets over and over,
// and a Pebble point lookup (a descent of the memtable skiplist, a bloom
// filter and block reads per level) costs microseconds. Buffered writes go
// to Pebble in one batch when the cache is full (it is then emptied), before
// anything iterates the database (ForEachKey, map iteration and clearing,
// TTL cleanup) and in the synchronous part of every snapshot, so snapshots
// and iterations see every write. Lists are not cached: adding to a list is
// a blind merge already.
//
// # Snapshots
//
// The synchronous part of a snapshot flushes the memtable (the write-ahead
// log is off: checkpoints make state durable) and takes a Pebble checkpoint
// into a new local directory, hard-linking the SST files; the task goes on
// at once. SSTs never change, so each is stored once under a name unique
// to it (the database instance's id and the file number) and later
// checkpoints reference it: checkpoints are incremental. The MANIFEST and
// OPTIONS files are private to each checkpoint.
//
// A restore whose key-group range equals that of one stored database opens
// that database's files directly (hard links where storage allows). Any
// other restore (rescaling) copies the key-group ranges it owns from each
// overlapping database into a fresh one.
//
// Timers stay in memory (Flink's heap timer service) and are written to
// snapshots in canonical form next to the native files.
//
// # Errors
//
// State accessors have no error result (as in Flink, whose RocksDB backend
// throws): an I/O or decoding error in Pebble panics with an *Error, which
// the task turns into a failure of the job (and a restart from the last
// checkpoint, if a restart strategy is set).
//
// # Concurrency
//
// A Backend and its states belong to one subtask goroutine. A snapshot's
// files and its Canonical function may be used from another goroutine:
// they read the checkpoint directory, never the live database.
package pebble
