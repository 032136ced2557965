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
// written with Update. Snapshots stay consistent either way: the heap
// backend encodes values that can change in place when it captures a
// snapshot, not later.
func InPlace[T any](v Value[T]) bool {
	ip, ok := unwrap(v).(interface{ KeepsReferences() bool })
	return ok && ip.KeepsReferences()
}
