package exec

import (
	"encoding/binary"
	"fmt"
	"slices"
	"unsafe"

	wcodec "github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/state"
)

// Pointer-free rows of a list side on the heap backend.
//
// A list side (join_append.go) keeps every row of its insert-only input.
// As a list state on the heap, each kept row is a 24-byte entry with a
// pointer into a shared chunk (listRow): the garbage collector resolves
// one interior pointer per kept row in every cycle (q9 keeps ≈ 920k bids),
// and a row kept costs a growth of the key's entry slice now and then.
//
// Where the value state keeps its values by reference (the heap backend
// without state TTL, state.InPlace), a list side keeps instead, per join
// key, one *joinKept in the value state "join-left-kept" /
// "join-right-kept": the rows' encodings, each behind its uvarint length,
// in byte slices that hold no pointer. The GC marks a few objects per key
// and scans none of their bytes.
//
//   - The first segment (head) grows by copying into an allocation of
//     exactly its new size (rounded up to the allocator's size class, whose
//     rest is used) while it holds at most keptHeadMax bytes: a key of one
//     to a few rows has no slack beyond the allocator's rounding (a side
//     that keeps one row per key, as Nexmark's auctions, pays about what
//     the list paid).
//   - Past that, rows go to further segments (tail) of fixed capacity: a
//     quarter of the key's bytes, from keptSegMin to keptSegMax bytes (or
//     the row's size): no copy of what is kept and a bounded slack per
//     key.
//
// Bytes below a segment's length are never written again: rows are
// appended past it, or the head moves to a new array, leaving the old one
// as it was. So the strings a probe hands out (sharing the segments, as
// decodeStored shares a list row's chunk) never change, and a snapshot may
// share the segments: CopyState, which the heap calls on a key's first
// access while a snapshot that captured the value is being written, copies
// the segment headers only, and rows appended to the copy land past the
// lengths the captured value reads.
//
// Elsewhere (Pebble, which would encode the whole value at every write;
// a state TTL, which is per row) the list is kept as before. Both layouts
// are declared everywhere; on its first row a subtask checks whether a
// restore left keys in the layout it does not write (mixed). A key's rows
// are its kept rows, then its list rows: on the heap, a key's restored
// list rows move into its kept rows before its first new row is kept;
// with the list layout, new rows go to the list after the restored kept
// rows. Either way the rows come out in arrival order.
type joinKept struct {
	head []byte
	// tail holds the segments past the head, each filled up to its
	// length (nil for keys of a few rows: a pointer keeps joinKept at 32
	// bytes).
	tail *[][]byte
}

const (
	// keptHeadMax is the most bytes a key's head grows to by copying.
	keptHeadMax = 512
	// keptSegMin and keptSegMax bound the capacity of a tail segment.
	keptSegMin = 512
	keptSegMax = 4 << 10
	// keptSlab is how many joinKept values a listSide allocates at once.
	keptSlab = 256
)

// keptSchema names joinKept's encoding.
const keptSchema = "sql/exec.joinKept/1"

// allocBytes returns an empty slice of capacity at least n: the whole
// allocation the allocator rounds n up to.
func allocBytes(n int) []byte { return slices.Grow([]byte(nil), n) }

// add appends the row encoded as enc.
func (k *joinKept) add(enc []byte) {
	n := len(enc) + uvarintLen(uint64(len(enc)))
	if k.tail == nil {
		if cap(k.head)-len(k.head) < n {
			if len(k.head)+n > keptHeadMax && len(k.head) > 0 {
				t := make([][]byte, 0, 4)
				k.tail = &t
				k.addTail(enc, n)
				return
			}
			nb := allocBytes(len(k.head) + n)
			k.head = append(nb, k.head...)
		}
		k.head = appendRecord(k.head, enc)
		return
	}
	k.addTail(enc, n)
}

// addTail appends a record of n bytes for enc to the tail.
func (k *joinKept) addTail(enc []byte, n int) {
	t := *k.tail
	if i := len(t) - 1; i >= 0 && cap(t[i])-len(t[i]) >= n {
		t[i] = appendRecord(t[i], enc)
		return
	}
	// A quarter of what the key holds, within [keptSegMin, keptSegMax]:
	// the last segment's unused part stays under a quarter of the key's
	// bytes (or keptSegMin).
	size := min(max(k.size()/4, keptSegMin), keptSegMax)
	*k.tail = append(t, appendRecord(allocBytes(max(size, n)), enc))
}

func appendRecord(dst, enc []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(enc)))
	return append(dst, enc...)
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// appendRows appends the kept rows, in order, to dst: strings sharing the
// segments (never written over).
func (k *joinKept) appendRows(dst []string) []string {
	dst = appendSegRows(dst, k.head)
	for _, s := range k.segs() {
		dst = appendSegRows(dst, s)
	}
	return dst
}

// appendSegRows appends the records of one segment (well formed: written
// by add or checked by DecodeState).
func appendSegRows(dst []string, seg []byte) []string {
	for p := 0; p < len(seg); {
		n, w := binary.Uvarint(seg[p:])
		p += w
		if n == 0 {
			dst = append(dst, "")
			continue
		}
		dst = append(dst, unsafe.String(&seg[p], int(n)))
		p += int(n)
	}
	return dst
}

// segs returns the tail's segments (none while there is no tail).
func (k *joinKept) segs() [][]byte {
	if k.tail == nil {
		return nil
	}
	return *k.tail
}

// size returns the number of record bytes kept.
func (k *joinKept) size() int {
	n := len(k.head)
	for _, s := range k.segs() {
		n += len(s)
	}
	return n
}

// CopyState returns a copy of k for the heap's copy-on-write snapshots
// (state.Copier): its own segment headers over the same bytes, which
// neither ever writes below the lengths they hold.
func (k *joinKept) CopyState() *joinKept {
	c := &joinKept{head: k.head}
	if k.tail != nil {
		t := slices.Clone(*k.tail)
		c.tail = &t
	}
	return c
}

// StateSchema implements codec.SelfSchema.
func (joinKept) StateSchema() string { return keptSchema }

// AppendState implements codec.SelfEncoder: the number of record bytes
// (uvarint), then the records (each row's encoding behind its uvarint
// length) in order. It only reads k (a snapshot's writer may encode a
// value while the task appends past it).
func (k joinKept) AppendState(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(k.size()))
	dst = append(dst, k.head...)
	for _, s := range k.segs() {
		dst = append(dst, s...)
	}
	return dst
}

// DecodeState implements codec.SelfDecoder: the records are checked and
// copied into one head of their own.
func (k *joinKept) DecodeState(src []byte) (int, error) {
	*k = joinKept{}
	n, w := binary.Uvarint(src)
	if w <= 0 || n > uint64(len(src)-w) {
		return 0, fmt.Errorf("%w: join kept rows: length", wcodec.ErrCorrupt)
	}
	recs := src[w : w+int(n)]
	for p := 0; p < len(recs); {
		l, lw := binary.Uvarint(recs[p:])
		if lw <= 0 || l > uint64(len(recs)-p-lw) {
			return 0, fmt.Errorf("%w: join kept rows: row length", wcodec.ErrCorrupt)
		}
		p += lw + int(l)
	}
	if len(recs) > 0 {
		k.head = append(allocBytes(len(recs)), recs...)
	}
	return w + int(n), nil
}

// listSide is the state of a list side: its rows in the list, or in
// kept values (joinKept) where inPlace.
type listSide struct {
	rows state.List[string]
	kept state.Value[*joinKept]
	// inPlace: new rows go to kept (heap without TTL).
	inPlace bool
	// checked: mixed is known (set on the subtask's first row).
	checked bool
	// mixed: a restore left rows in the layout new rows do not go to.
	mixed bool
	// slab is where new keys' values are carved from (one allocation
	// per keptSlab keys; a value is never freed while its key has rows,
	// which in this layout is for good).
	slab []joinKept
}

// check sets mixed, once per subtask.
func (s *listSide) check() error {
	if s.checked {
		return nil
	}
	s.checked = true
	var other any = s.kept
	if s.inPlace {
		other = s.rows
	}
	found := false
	if err := state.KeysOf(other, func(string) { found = true }); err != nil {
		return fmt.Errorf("sql/exec: join: %w", err)
	}
	s.mixed = found
	return nil
}

// appendRows appends the current key's rows to dst in arrival order:
// kept rows, then list rows.
func (s *listSide) appendRows(dst []string) []string {
	if s.inPlace || s.mixed {
		if k, ok := s.kept.Value(); ok && k != nil {
			dst = k.appendRows(dst)
		}
	}
	if !s.inPlace || s.mixed {
		dst = state.AppendList(s.rows, dst)
	}
	return dst
}

// keep keeps the row encoded as enc for the current key (inPlace only).
// strs is scratch for restored list rows moving into the kept rows.
func (s *listSide) keep(enc []byte, strs []string) []string {
	k, ok := s.kept.Value()
	if !ok || k == nil {
		if len(s.slab) == cap(s.slab) {
			s.slab = make([]joinKept, 0, keptSlab)
		}
		s.slab = append(s.slab, joinKept{})
		k = &s.slab[len(s.slab)-1]
		s.kept.Update(k)
	}
	if s.mixed {
		strs = state.AppendList(s.rows, strs[:0])
		if len(strs) > 0 {
			for _, r := range strs {
				k.add(unsafe.Slice(unsafe.StringData(r), len(r)))
			}
			s.rows.Clear()
		}
		clear(strs)
	}
	k.add(enc)
	return strs
}
