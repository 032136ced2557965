package exec

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
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
// entries up once, then probes a table of the group's own per tuple,
// instead of a keyed map-state lookup and write per tuple, as the
// DataStream q16 keeps its ids (nexmark/distinct.go). The entries are those
// of "group-distinct-shared": the same keys and counts.
//
// Typed keys (one integer argument) are in ints, packed open-addressing
// tables, one per view, that hold each entry's counts (as int32s) beside
// its integer and no pointers (the garbage collector does not scan them):
// a lookup probes one cache line, or two adjacent ones, for the key and
// its counts together. A table's entries all have as many counts as its
// first entry; a typed key whose counts differ in number (a snapshot of a
// job with other calls), do not all fit in an int32, or whose integer is
// the tables' empty mark goes to odd. Other keys are in strs. The entries
// of odd and strs give where their counts are in the slab counts.
type distinctSets struct {
	// ints holds the typed keys, one table per view index (nil: none).
	ints []*intTable
	odd  map[distinctKey]distinctSlot // nil until a first such key
	strs map[string]distinctSlot      // nil until a first such key
	// counts holds the counts of odd's and strs's entries; garbage is how
	// many of its elements belong to removed entries (compacted when they
	// are half).
	counts  []int64
	garbage int
}

// distinctSlot is where an entry's counts are in distinctSets.counts.
type distinctSlot struct{ off, n int32 }

// intEmpty marks an intTable entry as empty; the key of that integer is
// kept in distinctSets.odd.
const intEmpty = math.MinInt64

// intTable maps the integers of one view's typed keys to their w counts:
// entries of s int64 words (the integer, then the counts as int32s, two
// per word) in one slice, linear probing from the top bits of the integer's multiplicative hash,
// at most 3/4 full, doubled when fuller; deletions shift later entries
// back (no tombstones). An empty entry's integer is intEmpty.
type intTable struct {
	t     []int64
	w     int // counts per entry (>= 1)
	s     int // words per entry: 1 + (w+1)/2
	n     int
	mask  int  // number of entries - 1
	shift uint // 64 - log2(number of entries)
}

func newIntTable(w int) *intTable {
	t := &intTable{w: w, s: 1 + (w+1)/2, mask: 7, shift: 61}
	t.t = t.empty(8)
	return t
}

// empty returns the slice of n empty entries.
func (t *intTable) empty(n int) []int64 {
	e := make([]int64, n*t.s)
	for i := 0; i < len(e); i += t.s {
		e[i] = intEmpty
	}
	return e
}

// fitsTable reports whether every count of c fits an intTable entry.
func fitsTable(c []int64) bool {
	for _, x := range c {
		if int64(int32(x)) != x {
			return false
		}
	}
	return true
}

func (t *intTable) home(k int64) int {
	return int((uint64(k) * 0x9e3779b97f4a7c15) >> t.shift)
}

// find returns the offset in t.t of k's entry, or of the empty entry where
// it would go.
func (t *intTable) find(k int64) (int, bool) {
	for i := t.home(k); ; i = (i + 1) & t.mask {
		o := i * t.s
		switch t.t[o] {
		case k:
			return o, true
		case intEmpty:
			return o, false
		}
	}
}

// at returns the counts of the entry at offset o, in place.
func (t *intTable) at(o int) []int32 {
	return unsafe.Slice((*int32)(unsafe.Pointer(&t.t[o+1])), t.w)
}

// set sets k's counts to c (len(c) == t.w, fitsTable(c), k != intEmpty).
func (t *intTable) set(k int64, c []int64) {
	o, ok := t.find(k)
	t.t[o] = k
	d := t.at(o)
	for i := range d {
		d[i] = int32(c[i])
	}
	if ok {
		return
	}
	t.n++
	if t.n*4 > (t.mask+1)*3 {
		t.grow()
	}
}

// grow doubles the table.
func (t *intTable) grow() {
	old, s := t.t, t.s
	t.mask = 2*t.mask + 1
	t.t = t.empty(t.mask + 1)
	t.shift--
	for o := 0; o < len(old); o += s {
		if k := old[o]; k != intEmpty {
			p, _ := t.find(k)
			copy(t.t[p:p+s], old[o:o+s])
		}
	}
}

func (t *intTable) delete(k int64) {
	o, ok := t.find(k)
	if !ok {
		return
	}
	s := t.s
	i := o / s
	// Shift back the entries of the run after i that may take its place.
	for j := (i + 1) & t.mask; t.t[j*s] != intEmpty; j = (j + 1) & t.mask {
		h := t.home(t.t[j*s])
		// j's entry can move to i if its home is not in (i, j].
		if (j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j)) {
			copy(t.t[i*s:i*s+s], t.t[j*s:j*s+s])
			i = j
		}
	}
	t.t[i*s] = intEmpty
	clear(t.t[i*s+1 : i*s+s])
	t.n--
}

// each calls fn with every entry's integer and counts (in place).
func (t *intTable) each(fn func(k int64, c []int32)) {
	for o := 0; o < len(t.t); o += t.s {
		if t.t[o] != intEmpty {
			fn(t.t[o], t.at(o))
		}
	}
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

// table returns the table of a typed key's view (nil if none).
func (s *distinctSets) table(k distinctKey) *intTable {
	if v := int(k.s[0]); v < len(s.ints) {
		return s.ints[v]
	}
	return nil
}

// get returns the entry's counts: in buf (appended to buf[:0]) if they
// are in a table, else in place (valid until the next put or remove).
func (s *distinctSets) get(k distinctKey, buf []int64) ([]int64, bool) {
	if len(k.s) == 1 {
		if t := s.table(k); t != nil && k.n != intEmpty {
			if o, ok := t.find(k.n); ok {
				buf = buf[:0]
				for _, x := range t.at(o) {
					buf = append(buf, int64(x))
				}
				return buf, true
			}
		}
		if s.odd == nil {
			return nil, false
		}
		e, ok := s.odd[k]
		return s.slab(e), ok
	}
	e, ok := s.strs[k.s]
	return s.slab(e), ok
}

func (s *distinctSets) slab(e distinctSlot) []int64 {
	return s.counts[e.off : e.off+e.n : e.off+e.n]
}

// put sets the entry's counts (a bytes-form key must be a string of its
// own).
func (s *distinctSets) put(k distinctKey, c []int64) {
	if len(k.s) == 1 {
		t := s.table(k)
		if len(c) > 0 && k.n != intEmpty && (t == nil || t.w == len(c)) && fitsTable(c) {
			if s.odd != nil {
				s.removeSlot(k, s.odd)
			}
			if t == nil {
				v := int(k.s[0])
				for len(s.ints) <= v {
					s.ints = append(s.ints, nil)
				}
				t = newIntTable(len(c))
				s.ints[v] = t
			}
			t.set(k.n, c)
			return
		}
		if t != nil && k.n != intEmpty {
			t.delete(k.n)
		}
		if s.odd == nil {
			s.odd = map[distinctKey]distinctSlot{}
		}
		putSlot(s, k, c, s.odd)
		return
	}
	if s.strs == nil {
		s.strs = map[string]distinctSlot{}
	}
	putSlot(s, k.s, c, s.strs)
}

// putSlot sets k's counts in m, whose entries' counts are in s.counts.
func putSlot[K comparable](s *distinctSets, k K, c []int64, m map[K]distinctSlot) {
	if len(c) > 0 && len(s.counts) > 0 {
		// Counts changed in place, where get returned them (the slab
		// was not reallocated since).
		d := uintptr(unsafe.Pointer(&c[0])) - uintptr(unsafe.Pointer(&s.counts[0]))
		if d < uintptr(len(s.counts))*8 {
			return
		}
	}
	if e, ok := m[k]; ok {
		if int(e.n) == len(c) {
			copy(s.counts[e.off:], c)
			return
		}
		s.garbage += int(e.n)
	}
	m[k] = distinctSlot{off: int32(len(s.counts)), n: int32(len(c))}
	s.counts = append(s.counts, c...)
}

// removeSlot deletes k's entry from m, whose entries' counts are in
// s.counts, if present.
func (s *distinctSets) removeSlot(k distinctKey, m map[distinctKey]distinctSlot) {
	if e, ok := m[k]; ok {
		delete(m, k)
		s.dropCounts(e)
	}
}

// dropCounts counts e's counts as garbage, and compacts the slab when it
// is half garbage.
func (s *distinctSets) dropCounts(e distinctSlot) {
	s.garbage += int(e.n)
	if s.garbage > 64 && 2*s.garbage > len(s.counts) {
		s.compact()
	}
}

// remove deletes the entry, if present.
func (s *distinctSets) remove(k distinctKey) {
	if len(k.s) != 1 {
		if e, ok := s.strs[k.s]; ok {
			delete(s.strs, k.s)
			s.dropCounts(e)
		}
		return
	}
	if t := s.table(k); t != nil && k.n != intEmpty {
		if _, ok := t.find(k.n); ok {
			t.delete(k.n)
			return
		}
	}
	if s.odd != nil {
		s.removeSlot(k, s.odd)
	}
}

// compact moves the live entries' counts of odd and strs to a new slab.
func (s *distinctSets) compact() {
	c := make([]int64, 0, len(s.counts)-s.garbage)
	for k, e := range s.odd {
		s.odd[k] = distinctSlot{off: int32(len(c)), n: e.n}
		c = append(c, s.slab(e)...)
	}
	for k, e := range s.strs {
		s.strs[k] = distinctSlot{off: int32(len(c)), n: e.n}
		c = append(c, s.slab(e)...)
	}
	s.counts, s.garbage = c, 0
}

func (s *distinctSets) len() int {
	n := len(s.odd) + len(s.strs)
	for _, t := range s.ints {
		if t != nil {
			n += t.n
		}
	}
	return n
}

// each calls fn with every entry (counts valid until fn returns).
func (s *distinctSets) each(fn func(k distinctKey, c []int64)) {
	var buf []int64
	for v, t := range s.ints {
		if t == nil {
			continue
		}
		t.each(func(n int64, c []int32) {
			buf = buf[:0]
			for _, x := range c {
				buf = append(buf, int64(x))
			}
			fn(distinctKey{s: typedMarks[v], n: n}, buf)
		})
	}
	for k, e := range s.odd {
		fn(k, s.slab(e))
	}
	for k, e := range s.strs {
		fn(distinctKey{s: k}, s.slab(e))
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
		odd:     maps.Clone(s.odd),
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
		if _, dup := s.get(k, nil); dup {
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
	return s.get(k, nil)
}

// getInto is Get with buf for counts that are not kept as []int64.
func (p *inPlaceDistinct) getInto(k distinctKey, buf []int64) ([]int64, bool) {
	s := p.sets()
	if s == nil {
		return nil, false
	}
	return s.get(k, buf)
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
