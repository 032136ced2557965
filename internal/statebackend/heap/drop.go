package heap

// DropNamespaces forgets every namespaced entry of the state at once,
// without changing the maps a snapshot captured (they stay with the
// snapshot). An operator that keeps the entries in a structure of its own
// between snapshots (the window operator's table) writes them into the
// state before a snapshot and drops them after it.
func (s *base[K, N, E]) DropNamespaces() {
	if s.void {
		return
	}
	s.spaces = map[N]*space[K, E]{}
	s.space = nil
}
