package heap

import (
	"hash/maphash"
	"math/bits"
	"reflect"
	"unsafe"
)

// The entries of one key of a map state live in an open-addressing table
// with linear probing held inline in the key's slot of the state's map
// (inner.s): a lookup goes from the key's slot straight to the probed
// entry. A Go map there (as before) put its header, directory and table
// between the two, and for the many small keys whose entries are not in
// cache (q16's cold channels) each of those was a cache miss of its own.
//
// The table is a slice whose length is the number of entries and whose
// capacity is the table size, a power of two, at most seven eighths full.
// Entries are kept in Robin Hood order (an entry never lies further from
// its home slot than the entry after it would allow), so a probe for an
// absent key stops as soon as it meets an entry closer to home than the
// probe is, and removal shifts the following entries of the run back by
// one (no tombstones, no rehashing).

// oslot is one slot of a key's table.
type oslot[UK comparable, UV any] struct {
	uk  UK
	exp int64 // expiry in ms; 0 = none
	v   UV
	// d is 0 for an empty slot, else 1 + the entry's distance from its
	// home slot.
	d uint8
}

// maxDist bounds d; an insert that would go further grows the table.
const maxDist = 250

// minTable is the size of a new key's table; maxTable the largest, beyond
// which a key's entries move to a Go map (see inner).
const (
	minTable = 4
	maxTable = 1024
)

// hashKind selects how ukHasher hashes a user key type.
type hashKind uint8

const (
	hashOther hashKind = iota // maphash.Comparable
	hashString
	hash1 // integers by size in bytes
	hash2
	hash4
	hash8
)

// ukHasher hashes user keys with a seed of its own (as Go maps do, so that
// chosen keys cannot make every probe run long).
type ukHasher[UK comparable] struct {
	seed   maphash.Seed
	seed64 uint64
	kind   hashKind
}

func newUKHasher[UK comparable]() ukHasher[UK] {
	h := ukHasher[UK]{seed: maphash.MakeSeed()}
	h.seed64 = maphash.String(h.seed, "weir")
	switch reflect.TypeFor[UK]().Kind() {
	case reflect.String:
		h.kind = hashString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		var zero UK
		switch unsafe.Sizeof(zero) {
		case 1:
			h.kind = hash1
		case 2:
			h.kind = hash2
		case 4:
			h.kind = hash4
		case 8:
			h.kind = hash8
		}
	}
	return h
}

func (h *ukHasher[UK]) sum(uk UK) uint64 {
	p := unsafe.Pointer(&uk)
	var x uint64
	switch h.kind {
	case hashString:
		return maphash.String(h.seed, *(*string)(p))
	case hash8:
		x = *(*uint64)(p)
	case hash4:
		x = uint64(*(*uint32)(p))
	case hash2:
		x = uint64(*(*uint16)(p))
	case hash1:
		x = uint64(*(*uint8)(p))
	default:
		return maphash.Comparable(h.seed, uk)
	}
	hi, lo := bits.Mul64(x^h.seed64, 0x9e3779b97f4a7c15)
	return hi ^ lo
}

// tableSize returns the table size for n entries.
func tableSize(n int) int {
	c := minTable
	for over(n, c) {
		c *= 2
	}
	return c
}

// over reports whether n entries overfill a table of size c.
func over(n, c int) bool { return n*8 > c*7 }

// home returns the slot where a probe for hash h starts in a table of size
// n: the top bits of h, so that entries lie in the order of their hashes
// (but for probe runs) and a rehash into a table twice the size writes
// that table front to back instead of all over it.
func home(h uint64, n int) int {
	return int(h >> (64 - bits.TrailingZeros(uint(n))))
}

// find returns the slot of uk in t (the full table) and whether it is
// there.
func find[UK comparable, UV any](t []oslot[UK, UV], h uint64, uk UK) (int, bool) {
	mask := len(t) - 1
	i := home(h, len(t))
	for d := uint8(1); ; d++ {
		sl := &t[i]
		if sl.d < d {
			return i, false // empty, or an entry closer to home: uk would be before it
		}
		if sl.d == d && sl.uk == uk {
			return i, true
		}
		i = (i + 1) & mask
	}
}

// lookup returns the slot of uk in the key's table, or -1.
func (s *Map[K, N, UK, UV]) lookup(in inner[UK, UV], uk UK) int {
	if len(in.s) == 0 {
		return -1
	}
	i, ok := find(in.s[:cap(in.s)], s.hash.sum(uk), uk)
	if !ok {
		return -1
	}
	return i
}

// cloneTable copies a key's table (same size and slots).
func cloneTable[UK comparable, UV any](s []oslot[UK, UV]) []oslot[UK, UV] {
	c := make([]oslot[UK, UV], cap(s))
	copy(c, s[:cap(s)])
	return c[:len(s)]
}

// insert places sl (not in t) into the full table t with hash h, moving
// entries closer to their home further on. If an entry would end up
// further than maxDist from its home it returns that entry (it is then not
// in t) and false.
func insert[UK comparable, UV any](t []oslot[UK, UV], h uint64, sl oslot[UK, UV]) (oslot[UK, UV], bool) {
	mask := len(t) - 1
	i := home(h, len(t))
	sl.d = 1
	for {
		cur := &t[i]
		if cur.d == 0 {
			*cur = sl
			return sl, true
		}
		if cur.d < sl.d {
			sl, *cur = *cur, sl
		}
		if sl.d >= maxDist {
			return sl, false
		}
		sl.d++
		i = (i + 1) & mask
	}
}

// set puts (uk, exp, v) into table tab, growing it if needed, and returns
// the table (its length is the new entry count).
func (s *Map[K, N, UK, UV]) set(tab []oslot[UK, UV], uk UK, exp int64, v UV) []oslot[UK, UV] {
	h := s.hash.sum(uk)
	t := tab[:cap(tab)]
	if i, ok := find(t, h, uk); ok {
		t[i].exp, t[i].v = exp, v
		return tab
	}
	n := len(tab) + 1
	if over(n, cap(tab)) {
		tab = s.rehash(tab, tableSize(n))
	}
	sl := oslot[UK, UV]{uk: uk, exp: exp, v: v}
	for {
		var ok bool
		if sl, ok = insert(tab[:cap(tab)], s.hash.sum(sl.uk), sl); ok {
			return tab[:n]
		}
		tab = s.rehash(tab, 2*cap(tab))
	}
}

// rehash moves the entries of tab into a new table of size size.
func (s *Map[K, N, UK, UV]) rehash(tab []oslot[UK, UV], size int) []oslot[UK, UV] {
	for {
		t := make([]oslot[UK, UV], size)
		ok := true
		for _, sl := range tab[:cap(tab)] {
			if sl.d != 0 {
				if _, ok = insert(t, s.hash.sum(sl.uk), sl); !ok {
					break
				}
			}
		}
		if ok {
			return t[:len(tab)]
		}
		size *= 2
	}
}

// del removes slot i of table tab and returns the table with one entry
// fewer: the following entries of the run, up to one at its home, move
// back by one.
func del[UK comparable, UV any](tab []oslot[UK, UV], i int) []oslot[UK, UV] {
	t := tab[:cap(tab)]
	mask := len(t) - 1
	for {
		j := (i + 1) & mask
		if t[j].d <= 1 {
			break
		}
		t[i] = t[j]
		t[i].d--
		i = j
	}
	t[i] = oslot[UK, UV]{}
	return tab[:len(tab)-1]
}
