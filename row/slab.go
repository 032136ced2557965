package row

// Slab hands out the field slices of rows an operator emits, carved from
// larger allocations: one allocation per many rows instead of one per row.
// A slice is never handed out twice (the rows may be kept downstream) and
// is capped at its length, so an append to it cannot run into the next
// row's fields. The zero Slab is ready to use; it belongs to one
// goroutine.
type Slab struct{ buf []Value }

// Take returns n NULL fields. When the current allocation has fewer than
// n left, a new one of rows×n fields (at least n) is made.
func (s *Slab) Take(n, rows int) []Value {
	if len(s.buf) < n {
		s.buf = make([]Value, n*max(rows, 1))
	}
	v := s.buf[:n:n]
	s.buf = s.buf[n:]
	return v
}
