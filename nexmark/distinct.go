package nexmark

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math/bits"
	"slices"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/state"
)

// distinctStats keeps, per key, the counts of q15/q16 and, per id, the
// price ranks it was seen at as a bidder (bits 0-3: bit 0 seen at all,
// bit r rank r) and as an auction (bits 4-7, the same shifted by 4).
//
// Where the value state keeps values by reference (heap backend,
// state.InPlace) a key's counts and ids live together in one value, a
// *distinctAcc, changed in place: a record looks its key up once, then
// probes one packed open-addressing table (idSet) per id. Two states (the
// counts in a value state, the ids in a map state) cost a record six
// lookups of its key and copies of the counts, and their cache misses,
// for the many small keys of q16's cold channels, were most of its time
// (docs/benchmarks.md, "Issue 12, q16: one state access per record").
//
// Elsewhere (Pebble, which encodes what it is given: a key's whole id set
// in one value would be encoded and decoded per record) the counts stay in
// the value state "stats" and the ids in the map state "ids", one entry
// per id, as every snapshot before the "distinct" layout held them.
//
// Each layout reads the other where a key has none of its own (migrate):
// a snapshot written before the "distinct" layout (or by Pebble) restores
// on the heap, and a heap snapshot on Pebble.
type distinctStats[K comparable] struct {
	inPlace bool
	acc     state.Value[*distinctAcc]
	stats   state.Value[DistinctStats]
	ids     state.Map[int64, uint8]
	// checked: whether the other layout has any keys was looked up
	// (once, at the first new key); other: it has.
	checked, other bool
	entries        []state.Entry[int64, uint8]
	split          DistinctStats
}

// Where distinctStats keeps an id's bidder and auction rank masks.
const (
	bidderShift  = 0
	auctionShift = 4
)

func (d *distinctStats[K]) open(ctx *weir.KeyedRuntimeContext[K]) {
	d.acc = state.GetValue[K, *distinctAcc](ctx.State(), state.Descriptor{Name: "distinct"})
	d.stats = state.GetValue[K, DistinctStats](ctx.State(), state.Descriptor{Name: "stats"})
	d.ids = state.GetMap[K, int64, uint8](ctx.State(), state.Descriptor{Name: "ids"})
	d.inPlace = state.InPlace(d.acc)
}

// countNew counts, in c, the bits of next (an id's 4-bit mask) that seen
// lacks: the id in total (bit 0) and at its rank.
func countNew(c *Counts3, seen, next uint8) {
	n := next &^ seen
	if n&1 != 0 {
		c.Total++
	}
	if n&2 != 0 {
		c.Rank1++
	}
	if n&4 != 0 {
		c.Rank2++
	}
	if n&8 != 0 {
		c.Rank3++
	}
}

// add counts b in its key's statistics and returns them (valid until the
// next call).
func (d *distinctStats[K]) add(b *Bid) (*DistinctStats, error) {
	r := priceRank(b.Price)
	bit := uint8(1) | uint8(1)<<r
	if !d.inPlace {
		return d.addSplit(b, r, bit)
	}
	a, ok := d.acc.Value()
	if !ok {
		var err error
		if a, err = d.fromSplit(); err != nil {
			return nil, err
		}
		d.acc.Update(a)
	}
	a.Bids.add(r)
	old := a.ids.or(b.Bidder, bit<<bidderShift)
	countNew(&a.Bidders, old>>bidderShift&0xf, bit)
	old = a.ids.or(b.Auction, bit<<auctionShift)
	countNew(&a.Auctions, old>>auctionShift&0xf, bit)
	if m := minute(b.DateTime); m > a.Minute {
		a.Minute = m
	}
	return &a.DistinctStats, nil
}

// addSplit is add over the "stats" and "ids" states.
func (d *distinctStats[K]) addSplit(b *Bid, r int, bit uint8) (*DistinctStats, error) {
	s, ok := d.stats.Value()
	if !ok {
		if err := d.toSplit(); err != nil {
			return nil, err
		}
		s, _ = d.stats.Value()
	}
	s.Bids.add(r)
	distinctAdd(d.ids, &s.Bidders, b.Bidder, bit, bidderShift)
	distinctAdd(d.ids, &s.Auctions, b.Auction, bit, auctionShift)
	if m := minute(b.DateTime); m > s.Minute {
		s.Minute = m
	}
	d.stats.Update(s)
	d.split = s
	return &d.split, nil
}

// distinctAdd records that id was seen with the mask bit (bit 0 and its
// rank's), in the bits from shift of its byte in m, and counts it in c if
// new (in total or at that rank).
func distinctAdd(m state.Map[int64, uint8], c *Counts3, id int64, bit uint8, shift uint) {
	all, _ := m.Get(id)
	seen := all >> shift & 0xf
	countNew(c, seen, bit)
	if next := seen | bit; next != seen {
		m.Put(id, all|next<<shift)
	}
}

// lookOther reports whether the layout this subtask does not use has any
// keys (restored from a snapshot that used it); looked up once.
func (d *distinctStats[K]) lookOther() (bool, error) {
	if d.checked {
		return d.other, nil
	}
	d.checked = true
	var st any = d.stats
	if !d.inPlace {
		st = d.acc
	}
	err := state.KeysOf[K](st, func(K) { d.other = true })
	return d.other, err
}

// fromSplit returns the current key's new *distinctAcc: empty, or made of
// the key's "stats" and "ids" (which it clears) when a snapshot left them.
func (d *distinctStats[K]) fromSplit() (*distinctAcc, error) {
	a := &distinctAcc{}
	if other, err := d.lookOther(); err != nil || !other {
		return a, err
	}
	s, ok := d.stats.Value()
	if !ok {
		return a, nil
	}
	a.DistinctStats = s
	d.entries = state.AppendEntries(d.ids, d.entries[:0])
	a.ids.reserve(len(d.entries))
	for _, e := range d.entries {
		a.ids.or(e.Key, e.Value)
	}
	d.stats.Clear()
	d.ids.Clear()
	return a, nil
}

// toSplit moves the current key's *distinctAcc, if a snapshot left one,
// into "stats" and "ids".
func (d *distinctStats[K]) toSplit() error {
	if other, err := d.lookOther(); err != nil || !other {
		return err
	}
	a, ok := d.acc.Value()
	if !ok || a == nil {
		return nil
	}
	d.stats.Update(a.DistinctStats)
	a.ids.each(func(id int64, m uint8) { d.ids.Put(id, m) })
	d.acc.Clear()
	return nil
}

// distinctAcc is one key's statistics and the rank masks of its ids.
type distinctAcc struct {
	DistinctStats
	ids idSet
}

// AppendState encodes a: the minute, the twelve counts, the number of ids,
// then every id (varint) with its mask (one byte), in no order.
func (a distinctAcc) AppendState(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(a.Minute)))
	dst = append(dst, a.Minute...)
	for _, c := range [3]*Counts3{&a.Bids, &a.Bidders, &a.Auctions} {
		dst = binary.AppendVarint(dst, c.Total)
		dst = binary.AppendVarint(dst, c.Rank1)
		dst = binary.AppendVarint(dst, c.Rank2)
		dst = binary.AppendVarint(dst, c.Rank3)
	}
	dst = binary.AppendUvarint(dst, uint64(a.ids.len()))
	a.ids.each(func(id int64, m uint8) {
		dst = append(binary.AppendVarint(dst, id), m)
	})
	return dst
}

func corruptAcc(what string) error {
	return fmt.Errorf("%w: nexmark distinct statistics: %s", codec.ErrCorrupt, what)
}

// DecodeState decodes what AppendState wrote.
func (a *distinctAcc) DecodeState(src []byte) (int, error) {
	p := 0
	n, k := binary.Uvarint(src)
	if k <= 0 || n > uint64(len(src)-k) {
		return 0, corruptAcc("minute")
	}
	p = k
	a.Minute = minuteName(string(src[p : p+int(n)]))
	p += int(n)
	for _, c := range [3]*Counts3{&a.Bids, &a.Bidders, &a.Auctions} {
		for _, f := range [4]*int64{&c.Total, &c.Rank1, &c.Rank2, &c.Rank3} {
			x, k := binary.Varint(src[p:])
			if k <= 0 {
				return 0, corruptAcc("count")
			}
			*f, p = x, p+k
		}
	}
	n, k = binary.Uvarint(src[p:])
	if k <= 0 || n > uint64(len(src)-p-k)/2 {
		return 0, corruptAcc("id count")
	}
	p += k
	a.ids = idSet{}
	a.ids.reserve(int(n))
	for range n {
		id, k := binary.Varint(src[p:])
		if k <= 0 || p+k >= len(src) {
			return 0, corruptAcc("id")
		}
		m := src[p+k]
		if m == 0 {
			return 0, corruptAcc("empty mask")
		}
		a.ids.or(id, m)
		p += k + 1
	}
	return p, nil
}

// minuteName returns the shared "HH:mm" string equal to s, or s.
func minuteName(s string) string {
	if len(s) == 5 {
		h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
		if h >= 0 && h < 24 && m >= 0 && m < 60 && minuteNames[h*60+m] == s {
			return minuteNames[h*60+m]
		}
	}
	return s
}

// idSet maps ids to non-zero 8-bit masks: a packed open-addressing table
// of 8-byte slots, id<<8 | mask (0: empty), linear probing from the top
// bits of the id's multiplicative hash, at most 3/4 full, doubled when
// fuller. One random slot per id looked up: for q16's hot channels, whose
// sets are megabytes, one cache miss. Ids outside [0, 2^56), which do not
// fit a slot, go to a Go map.
type idSet struct {
	t     []uint64
	n     int
	shift uint // 64 - log2(len(t))
	big   map[int64]uint8
}

const idFits = 1 << 56

func (s *idSet) len() int { return s.n + len(s.big) }

// reserve sizes an empty set for n ids.
func (s *idSet) reserve(n int) {
	size := 8
	for size*3/4 < n {
		size *= 2
	}
	s.t = make([]uint64, size)
	s.shift = uint(64 - bits.TrailingZeros(uint(size)))
}

func (s *idSet) home(id int64) int {
	return int(uint64(id) * 0x9e3779b97f4a7c15 >> s.shift)
}

// or sets the bits m (non-zero) in id's mask and returns the mask before.
func (s *idSet) or(id int64, m uint8) uint8 {
	if uint64(id) >= idFits {
		if s.big == nil {
			s.big = map[int64]uint8{}
		}
		old := s.big[id]
		s.big[id] = old | m
		return old
	}
	if s.t == nil {
		s.reserve(0)
	}
	key := uint64(id) << 8
	mask := len(s.t) - 1
	for i := s.home(id); ; i = (i + 1) & mask {
		w := s.t[i]
		if w == 0 {
			if (s.n+1)*4 > len(s.t)*3 {
				s.grow()
				return s.or(id, m)
			}
			s.t[i] = key | uint64(m)
			s.n++
			return 0
		}
		if w&^0xff == key {
			s.t[i] = w | uint64(m)
			return uint8(w)
		}
	}
}

// grow doubles the table.
func (s *idSet) grow() {
	old := s.t
	s.t = make([]uint64, 2*len(old))
	s.shift--
	mask := len(s.t) - 1
	for _, w := range old {
		if w == 0 {
			continue
		}
		i := s.home(int64(w >> 8))
		for s.t[i] != 0 {
			i = (i + 1) & mask
		}
		s.t[i] = w
	}
}

// each calls fn for every id and its mask.
func (s *idSet) each(fn func(id int64, m uint8)) {
	for _, w := range s.t {
		if w != 0 {
			fn(int64(w>>8), uint8(w))
		}
	}
	for id, m := range s.big {
		fn(id, m)
	}
}

// CopyState returns a copy of a sharing none of its ids (state.Copier):
// what the heap backend hands out instead of a when a snapshot being
// written holds a, cheaper than encoding and decoding the ids.
func (a *distinctAcc) CopyState() *distinctAcc {
	c := *a
	c.ids.t = slices.Clone(a.ids.t)
	c.ids.big = maps.Clone(a.ids.big)
	return &c
}
