package heap

import (
	"math/bits"
	"reflect"
	"unsafe"
)

// Packed tables: the inner map of one key of a map state whose user key is
// an integer and whose value is at most 4 bytes (so holds no pointer), in a
// state without TTL, is an open-addressing table of 8-byte words instead of
// a Go map.
//
// Layout of a table p (a []uint64):
//
//	p[0]   number of entries
//	p[1:]  slots, a power of two (>= 8) of them, linear probing
//
// A slot is 0 when empty, else key<<sh | value<<1 | 1, where sh is one more
// than the value's width in bits and key the user key's bits sign-extended
// (an int64 or uint64 key must fit in 64-sh bits signed; a key that does
// not, turns the key's table into a Go map, see Map.unpack). One slot per
// entry and no separate control bytes: a lookup touches the table's first
// word (the count, usually in the same cache line as the probed slot for
// small tables) and the cache line of the slot. For q16's distinct sets
// (int64 ids to a uint8 rank mask) a Go map slot took 16 bytes plus its
// group's control word; and every probe of a cold key's Go map went
// through the map header, its directory and a group: the cache misses of
// those lookups were most of q16's time (docs/benchmarks.md).
//
// Deletion shifts the following slots of the probe run back (no
// tombstones). A table holds at most 3/4 of its slots; it doubles when it
// would hold more and is never shrunk (an emptied key's table goes with the
// key).

// packing says how a map state's user keys and values go into a slot; zero
// (ok false) for a state whose types do not pack.
type packing struct {
	ok     bool
	sh     uint   // value width in bits + 1
	vmask  uint64 // value mask (after >> 1)
	ksize  uintptr
	vsize  uintptr
	signed bool // the key type is signed (only matters for sizes < 8)
}

// packingOf returns how UK and UV pack, if they do: UK an integer type
// (floats compare differently from their bits), UV any type of 0, 1, 2 or
// 4 bytes (too small to hold a pointer).
func packingOf[UK comparable, UV any]() packing {
	kt, vt := reflect.TypeFor[UK](), reflect.TypeFor[UV]()
	var signed bool
	switch kt.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		signed = true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
	default:
		return packing{}
	}
	vs := vt.Size()
	switch vs {
	case 0, 1, 2, 4:
	default:
		return packing{}
	}
	w := uint(vs * 8)
	return packing{ok: true, sh: w + 1, vmask: 1<<w - 1, ksize: kt.Size(), vsize: vs, signed: signed}
}

// keyBits returns the bits of uk as a sign-extended int64 (signed types)
// or a zero-extended uint64 (unsigned ones), and whether they fit in a
// slot.
func keyBits[UK comparable](pk *packing, uk UK) (uint64, bool) {
	p := unsafe.Pointer(&uk)
	var x uint64
	switch pk.ksize {
	case 8:
		x = *(*uint64)(p)
	case 4:
		if pk.signed {
			x = uint64(int64(*(*int32)(p)))
		} else {
			x = uint64(*(*uint32)(p))
		}
	case 2:
		if pk.signed {
			x = uint64(int64(*(*int16)(p)))
		} else {
			x = uint64(*(*uint16)(p))
		}
	default:
		if pk.signed {
			x = uint64(int64(*(*int8)(p)))
		} else {
			x = uint64(*(*uint8)(p))
		}
	}
	return x, uint64(int64(x<<pk.sh)>>pk.sh) == x
}

// keyOf returns the user key of slot w.
func keyOf[UK comparable](pk *packing, w uint64) UK {
	x := uint64(int64(w) >> pk.sh)
	var uk UK
	p := unsafe.Pointer(&uk)
	switch pk.ksize {
	case 8:
		*(*uint64)(p) = x
	case 4:
		*(*uint32)(p) = uint32(x)
	case 2:
		*(*uint16)(p) = uint16(x)
	default:
		*(*uint8)(p) = uint8(x)
	}
	return uk
}

// valueBits returns the bits of v.
func valueBits[UV any](pk *packing, v UV) uint64 {
	p := unsafe.Pointer(&v)
	switch pk.vsize {
	case 4:
		return uint64(*(*uint32)(p))
	case 2:
		return uint64(*(*uint16)(p))
	case 1:
		return uint64(*(*uint8)(p))
	}
	return 0
}

// valueOf returns the value of slot w.
func valueOf[UV any](pk *packing, w uint64) UV {
	x := w >> 1 & pk.vmask
	var v UV
	p := unsafe.Pointer(&v)
	switch pk.vsize {
	case 4:
		*(*uint32)(p) = uint32(x)
	case 2:
		*(*uint16)(p) = uint16(x)
	case 1:
		*(*uint8)(p) = uint8(x)
	}
	return v
}

// newPacked returns an empty table with room for n entries.
func newPacked(n int) []uint64 {
	slots := 8
	for slots*3/4 < n {
		slots *= 2
	}
	return make([]uint64, 1+slots)
}

// home returns the first slot (in p[1:]) that key bits x probe: the top
// bits of x times 2^64/phi (Fibonacci hashing), which every bit of x
// reaches. (Bits 32 and up of the product, masked, as before, left out
// the key's bits above 32 + log2(slots): keys that are multiples of 2^48
// all had one home slot in a table of up to 2^16 slots, a probe run as
// long as the table, walked by every lookup.)
func home(x uint64, mask uint64) uint64 {
	return x * 0x9E3779B97F4A7C15 >> (64 - bits.Len64(mask))
}

// pfind returns the index (in p[1:]) of the slot holding key bits x, or -1.
func pfind(p []uint64, x uint64, sh uint) int {
	s := p[1:]
	mask := uint64(len(s) - 1)
	for i := home(x, mask); ; i = (i + 1) & mask {
		w := s[i]
		if w == 0 {
			return -1
		}
		if uint64(int64(w)>>sh) == x {
			return int(i)
		}
	}
}

// pput sets key bits x to value bits v and returns the table (a new one if
// it grew) and whether it grew.
func pput(p []uint64, x, v uint64, sh uint) ([]uint64, bool) {
	w := x<<sh | v<<1 | 1
	s := p[1:]
	mask := uint64(len(s) - 1)
	for i := home(x, mask); ; i = (i + 1) & mask {
		o := s[i]
		if o == 0 {
			break
		}
		if uint64(int64(o)>>sh) == x {
			s[i] = w
			return p, false
		}
	}
	grown := false
	if int(p[0]+1) > len(s)*3/4 {
		p = pgrow(p, sh)
		s = p[1:]
		mask = uint64(len(s) - 1)
		grown = true
	}
	pinsert(s, mask, x, w)
	p[0]++
	return p, grown
}

// pinsert puts slot w (key bits x, absent from s) into s.
func pinsert(s []uint64, mask, x, w uint64) {
	i := home(x, mask)
	for s[i] != 0 {
		i = (i + 1) & mask
	}
	s[i] = w
}

// pgrow returns a table of twice p's slots holding p's entries.
func pgrow(p []uint64, sh uint) []uint64 {
	n := make([]uint64, 1+2*(len(p)-1))
	n[0] = p[0]
	s := n[1:]
	mask := uint64(len(s) - 1)
	for _, w := range p[1:] {
		if w != 0 {
			pinsert(s, mask, uint64(int64(w)>>sh), w)
		}
	}
	return n
}

// pdelete removes the slot at index i of p[1:], shifting back the slots
// after it in its probe run.
func pdelete(p []uint64, i int, sh uint) {
	s := p[1:]
	mask := uint64(len(s) - 1)
	j := uint64(i)
	for {
		j = (j + 1) & mask
		w := s[j]
		if w == 0 {
			break
		}
		// w may move to the hole at i if its home slot is not in the
		// cyclic range (i, j].
		h := home(uint64(int64(w)>>sh), mask)
		if (j-h)&mask >= (j-uint64(i))&mask {
			s[i] = w
			i = int(j)
		}
	}
	s[i] = 0
	p[0]--
}
