package state

import "github.com/weirstream/weir/internal/statebackend/heap"

// KeepsObjects reports whether the store's backend keeps state values as
// the objects given to Update (the heap backend): a value read back is
// then that object, which the owner may change in place (a pointer value
// is encoded when a snapshot is taken, never later). Otherwise (Pebble)
// every Update encodes the value and every read decodes a new one, so an
// object given to Update may be reused at once.
func (s *Store[K]) KeepsObjects() bool {
	_, ok := s.b.(*heap.Backend[K])
	return ok
}
