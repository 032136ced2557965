package state

// InPlace reports whether the value state v keeps the values it is given
// by reference, with nothing else to do on a write: the heap backend, for a
// state without TTL. A value that points to memory (a pointer to a
// struct) may then be changed through the pointer Value returned, without
// an Update, and the state sees the change: one lookup of the key per
// access instead of two, and no copy of the value.
//
// Where InPlace is false (Pebble, which encodes what it is given, or a
// state with TTL, whose writes refresh the expiry) every change must be
// written with Update.
//
// Snapshots stay consistent either way, without stopping the task to
// encode such values: the heap backend captures a snapshot by sharing
// its values and encodes them later on another goroutine; while it does,
// Value hands out a copy of a value the snapshot may see (at most once
// per key and snapshot: the state keeps the copy, and the snapshot the
// value as it was), as Flink's copy-on-write heap state copies an entry
// older than the snapshot on its first access. So a value may be changed
// in place only through what Value returned for the record (or timer)
// being processed, or through what was given to Update since: never
// through a pointer kept from an earlier record. The copy is made with
// the value's CopyState method if it has one (Copier), else by encoding
// and decoding it with its codec; struct fields the codec leaves out
// (tagged weir:"-") are taken over from the original, so a checkpoint
// changes nothing the operator sees (a type that encodes itself, with
// AppendState, must implement Copier if it keeps anything its encoding
// drops). A nil pointer is handed out as it is: CopyState is never called
// on a nil receiver.
func InPlace[T any](v Value[T]) bool {
	ip, ok := unwrap(v).(interface{ KeepsReferences() bool })
	return ok && ip.KeepsReferences()
}

// Copier is implemented by a value type whose values may be changed in
// place (InPlace) and can copy themselves more cheaply than an encoding
// and a decoding with their codec: CopyState returns a copy sharing no
// memory that is ever changed in place with its receiver (memory never
// changed after it is stored, such as immutable records, may be shared).
type Copier[T any] interface {
	CopyState() T
}
