package exec

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"unsafe"

	wcodec "github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/state"
)

// distinctStore is where a sharedDistinct keeps its entries: the map state
// "group-distinct-shared" (Pebble, or a state TTL), or the group's
// distinctSets kept in place (inPlaceDistinct).
type distinctStore interface {
	Get(k distinctKey) ([]int64, bool)
	Put(k distinctKey, counts []int64)
	Remove(k distinctKey)
}

// distinctSets holds every shared DISTINCT entry of one group (value state
// "group-distinct-sets"), where the value state keeps values by reference
// (heap backend without state TTL, state.InPlace): a row looks its group's
// entries up once, then probes a Go map of the group's own per tuple,
// instead of a keyed map-state lookup and write per tuple, as the
// DataStream q16 keeps its ids (nexmark/distinct.go). The entries are those
// of "group-distinct-shared": the same keys and counts.
//
// Typed keys (one integer argument) are in ints, packed open-addressing
// tables that hold no pointers (the garbage collector does not scan them)
// and cost one probe of one cache line per lookup, other keys in strs;
// both give where the entry's counts are in the slab counts.
type distinctSets struct {
	// ints holds the typed keys, one table per view index (nil: none).
	ints []*intTable
	strs map[string]distinctSlot // nil until a first such key
	// counts holds the entries' counts; garbage is how many of its
	// elements belong to removed entries (compacted when they are half).
	counts  []int64
	garbage int
}

// distinctSlot is where an entry's counts are in distinctSets.counts (n
// is never 0 for an entry).
type distinctSlot struct{ off, n int32 }

// intTable maps the integers of one view's typed keys to their slots:
// linear probing from the top bits of the integer's multiplicative hash,
// at most 3/4 full, doubled when fuller; deletions shift later entries
// back (no tombstones).
type intTable struct {
	t     []intEntry
	n     int
	shift uint // 64 - log2(len(t))
}

type intEntry struct {
	k    int64
	slot distinctSlot // n == 0: empty
}

func newIntTable() *intTable {
	return &intTable{t: make([]intEntry, 8), shift: 61}
}

func (t *intTable) home(k int64) int {
	return int((uint64(k) * 0x9e3779b97f4a7c15) >> t.shift)
}

// find returns the index of k's entry, or of the empty entry where it
// would go.
func (t *intTable) find(k int64) (int, bool) {
	mask := len(t.t) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		e := &t.t[i]
		if e.slot.n == 0 {
			return i, false
		}
		if e.k == k {
			return i, true
		}
	}
}

func (t *intTable) set(k int64, sl distinctSlot) {
	i, ok := t.find(k)
	t.t[i] = intEntry{k: k, slot: sl}
	if ok {
		return
	}
	t.n++
	if t.n*4 > len(t.t)*3 {
		old := t.t
		t.t = make([]intEntry, 2*len(old))
		t.shift--
		t.n = 0
		for _, e := range old {
			if e.slot.n != 0 {
				t.set(e.k, e.slot)
			}
		}
	}
}

func (t *intTable) delete(k int64) {
	i, ok := t.find(k)
	if !ok {
		return
	}
	mask := len(t.t) - 1
	// Shift back the entries of the run after i that may take its place.
	for j := (i + 1) & mask; t.t[j].slot.n != 0; j = (j + 1) & mask {
		h := t.home(t.t[j].k)
		// j's entry can move to i if its home is not in (i, j].
		if (j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j)) {
			t.t[i] = t.t[j]
			i = j
		}
	}
	t.t[i] = intEntry{}
	t.n--
}

func (t *intTable) clone() *intTable {
	if t == nil {
		return nil
	}
	c := *t
	c.t = slices.Clone(t.t)
	return &c
}

func newDistinctSets() *distinctSets {
	return &distinctSets{}
}

func (s *distinctSets) slot(k distinctKey) (distinctSlot, bool) {
	if len(k.s) == 1 {
		v := int(k.s[0])
		if v >= len(s.ints) || s.ints[v] == nil {
			return distinctSlot{}, false
		}
		t := s.ints[v]
		i, ok := t.find(k.n)
		return t.t[i].slot, ok
	}
	e, ok := s.strs[k.s]
	return e, ok
}

// get returns the entry's counts, in place (valid until the next put).
func (s *distinctSets) get(k distinctKey) ([]int64, bool) {
	e, ok := s.slot(k)
	if !ok {
		return nil, false
	}
	return s.counts[e.off : e.off+e.n : e.off+e.n], true
}

// put sets the entry's counts (a bytes-form key must be a string of its
// own).
func (s *distinctSets) put(k distinctKey, c []int64) {
	if len(c) > 0 && len(s.counts) > 0 {
		// Counts changed in place, where get returned them (the slab
		// was not reallocated since).
		d := uintptr(unsafe.Pointer(&c[0])) - uintptr(unsafe.Pointer(&s.counts[0]))
		if d < uintptr(len(s.counts))*8 {
			return
		}
	}
	if e, ok := s.slot(k); ok {
		if int(e.n) == len(c) {
			if len(c) > 0 && &s.counts[e.off] != &c[0] {
				copy(s.counts[e.off:], c)
			}
			return
		}
		s.remove(k)
	}
	e := distinctSlot{off: int32(len(s.counts)), n: int32(len(c))}
	s.counts = append(s.counts, c...)
	if len(k.s) == 1 {
		v := int(k.s[0])
		for len(s.ints) <= v {
			s.ints = append(s.ints, nil)
		}
		if s.ints[v] == nil {
			s.ints[v] = newIntTable()
		}
		s.ints[v].set(k.n, e)
	} else {
		if s.strs == nil {
			s.strs = map[string]distinctSlot{}
		}
		s.strs[k.s] = e
	}
}

// remove deletes the entry, if present.
func (s *distinctSets) remove(k distinctKey) {
	e, ok := s.slot(k)
	if !ok {
		return
	}
	if len(k.s) == 1 {
		s.ints[k.s[0]].delete(k.n)
	} else {
		delete(s.strs, k.s)
	}
	s.garbage += int(e.n)
	if s.garbage > 64 && 2*s.garbage > len(s.counts) {
		s.compact()
	}
}

// compact moves the live entries' counts to a new slab.
func (s *distinctSets) compact() {
	c := make([]int64, 0, len(s.counts)-s.garbage)
	for _, t := range s.ints {
		if t == nil {
			continue
		}
		for i := range t.t {
			if e := &t.t[i].slot; e.n != 0 {
				c = append(c, s.counts[e.off:e.off+e.n]...)
				e.off = int32(len(c)) - e.n
			}
		}
	}
	for k, e := range s.strs {
		s.strs[k] = distinctSlot{off: int32(len(c)), n: e.n}
		c = append(c, s.counts[e.off:e.off+e.n]...)
	}
	s.counts, s.garbage = c, 0
}

func (s *distinctSets) len() int {
	n := len(s.strs)
	for _, t := range s.ints {
		if t != nil {
			n += t.n
		}
	}
	return n
}

// each calls fn with every entry (counts in place).
func (s *distinctSets) each(fn func(k distinctKey, c []int64)) {
	for v, t := range s.ints {
		if t == nil {
			continue
		}
		for _, x := range t.t {
			if e := x.slot; e.n != 0 {
				fn(distinctKey{s: typedMarks[v], n: x.k}, s.counts[e.off:e.off+e.n:e.off+e.n])
			}
		}
	}
	for k, e := range s.strs {
		fn(distinctKey{s: k}, s.counts[e.off:e.off+e.n:e.off+e.n])
	}
}

// CopyState returns a copy sharing no memory with s (state.Copier).
func (s *distinctSets) CopyState() *distinctSets {
	ints := make([]*intTable, len(s.ints))
	for i, t := range s.ints {
		ints[i] = t.clone()
	}
	return &distinctSets{
		ints:    ints,
		strs:    maps.Clone(s.strs),
		counts:  slices.Clone(s.counts),
		garbage: s.garbage,
	}
}

// AppendState encodes s: the number of entries, then each entry's key (as
// distinctKey.AppendState), its number of counts (uvarint) and counts
// (varints), in no order.
func (s distinctSets) AppendState(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(s.len()))
	s.each(func(k distinctKey, c []int64) {
		dst = k.AppendState(dst)
		dst = binary.AppendUvarint(dst, uint64(len(c)))
		for _, n := range c {
			dst = binary.AppendVarint(dst, n)
		}
	})
	return dst
}

func corruptSets(what string) error {
	return fmt.Errorf("sql/exec: group aggregate: DISTINCT sets: %s: %w", what, wcodec.ErrCorrupt)
}

// DecodeState decodes what AppendState wrote.
func (s *distinctSets) DecodeState(src []byte) (int, error) {
	n, p := binary.Uvarint(src)
	if p <= 0 || n > uint64(len(src)-p)/4 {
		return 0, corruptSets("entry count")
	}
	*s = *newDistinctSets()
	var c []int64
	for range n {
		var k distinctKey
		w, err := k.DecodeState(src[p:])
		if err != nil {
			return 0, err
		}
		p += w
		m, w := binary.Uvarint(src[p:])
		if w <= 0 || m == 0 || m > uint64(len(src)-p-w) {
			return 0, corruptSets("count length")
		}
		p += w
		c = c[:0]
		for range m {
			x, w := binary.Varint(src[p:])
			if w <= 0 {
				return 0, corruptSets("count")
			}
			c = append(c, x)
			p += w
		}
		if _, dup := s.slot(k); dup {
			return 0, corruptSets("duplicate key")
		}
		s.put(k, c)
	}
	return p, nil
}

// StateSchema names the layout.
func (distinctSets) StateSchema() string { return "sql/exec.distinctSets/1" }

// inPlaceDistinct is the distinctStore of the current group's
// distinctSets, held in the value state st. The group's value is looked
// up on the first access of a row and kept until sharedDistinct.flush ends
// the row (a value kept in place may be changed only through what Value
// returned for the record being processed: state.InPlace); a group with
// no value gets one on its first Put.
type inPlaceDistinct struct {
	st     state.Value[*distinctSets]
	cur    *distinctSets
	loaded bool
	// owner, when set (with loaded), is the group's value in
	// "group-value" (group_value.go), which holds cur instead of st.
	owner *groupValue
}

func (p *inPlaceDistinct) sets() *distinctSets {
	if !p.loaded {
		p.cur, _ = p.st.Value()
		p.loaded = true
	}
	return p.cur
}

func (p *inPlaceDistinct) Get(k distinctKey) ([]int64, bool) {
	s := p.sets()
	if s == nil {
		return nil, false
	}
	return s.get(k)
}

func (p *inPlaceDistinct) Put(k distinctKey, c []int64) {
	s := p.sets()
	if s == nil {
		s = newDistinctSets()
		if p.owner != nil {
			p.owner.sets = s
		} else {
			p.st.Update(s)
		}
		p.cur = s
	}
	s.put(k, c)
}

func (p *inPlaceDistinct) Remove(k distinctKey) {
	if s := p.sets(); s != nil {
		s.remove(k)
	}
}

// done ends the row: the next access looks the value up again.
func (p *inPlaceDistinct) done() { p.cur, p.loaded, p.owner = nil, false, nil }

// clear drops the group's entries.
func (p *inPlaceDistinct) clear() {
	p.st.Clear()
	p.done()
}
