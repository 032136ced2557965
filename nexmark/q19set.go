package nexmark

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/weirstream/weir/codec"
)

// q19's buffer on the heap backend (state "topset"): per auction a
// *q19Set, whose entries hold a kept bid's numbers, a small id for its
// (channel, URL) pair and its extra. Against the *Bid kept before
// ("topref", up to f1c338f), a kept bid costs one 48-byte entry in its
// auction's slice and one pointer for the GC to follow (the extra the
// generator allocated) instead of an 80-byte *Bid with three pointers
// and the pointer to it.
//
// The (channel, URL) pairs are interned in q19Pairs, a process-wide,
// append-only dictionary of at most q19PairsMax pairs. It is not state:
// a snapshot encodes the strings (AppendState), and a restore interns
// them again, so ids never leave the process. Past the limit (inputs
// with many distinct channels or URLs) an entry keeps channel, URL and
// extra in one string (q19Inline).

const (
	q19PairChunk = 1024
	q19PairsMax  = 64 * q19PairChunk
	q19Inline    = 1 << 31 // in q19Entry.cu: no id; tail is channel+URL+extra
)

var q19Pairs struct {
	mu     sync.Mutex
	ids    map[[2]string]uint32
	n      uint32
	chunks [q19PairsMax / q19PairChunk]atomic.Pointer[[q19PairChunk][2]string]
}

// q19Pair returns the (channel, URL) pair of id. An id is only known to
// code that interned it or read it from an entry written after that, so
// the pair is there.
func q19Pair(id uint32) *[2]string {
	return &q19Pairs.chunks[id/q19PairChunk].Load()[id%q19PairChunk]
}

// q19Intern returns the id of (channel, url), adding the pair, or false
// if the dictionary is full.
func q19Intern(channel, url string) (uint32, bool) {
	p := &q19Pairs
	p.mu.Lock()
	defer p.mu.Unlock()
	k := [2]string{channel, url}
	if id, ok := p.ids[k]; ok {
		return id, true
	}
	if p.n >= q19PairsMax {
		return 0, false
	}
	if p.ids == nil {
		p.ids = map[[2]string]uint32{}
	}
	id := p.n
	c := p.chunks[id/q19PairChunk].Load()
	if c == nil {
		c = new([q19PairChunk][2]string)
		p.chunks[id/q19PairChunk].Store(c)
	}
	c[id%q19PairChunk] = k
	p.ids[k] = id
	p.n++
	return id, true
}

// q19PairKey identifies a (channel, URL) pair by the strings' memory: the
// generator hands out the same strings for a channel again and again, so
// a subtask finds their id without hashing their bytes. The pointers keep
// the memory alive, so it cannot be reused for other strings.
type q19PairKey struct {
	c, u   *byte
	cl, ul int
}

// q19PairCache is a subtask's cache of pair ids (q19PairKey).
type q19PairCache map[q19PairKey]uint32

const q19PairCacheMax = 1 << 16

// entry returns the entry of b.
func (c q19PairCache) entry(b *Bid) q19Entry {
	e := q19Entry{bidder: b.Bidder, price: b.Price, dateTime: b.DateTime, tail: b.Extra}
	k := q19PairKey{unsafe.StringData(b.Channel), unsafe.StringData(b.URL), len(b.Channel), len(b.URL)}
	if id, ok := c[k]; ok {
		e.cu = id
		return e
	}
	id, ok := q19Intern(b.Channel, b.URL)
	if !ok {
		return q19InlineEntry(b.Bidder, b.Price, b.DateTime, b.Channel, b.URL, b.Extra)
	}
	if len(c) < q19PairCacheMax {
		c[k] = id
	}
	e.cu = id
	return e
}

func q19InlineEntry(bidder, price int64, dateTime Time, channel, url, extra string) q19Entry {
	return q19Entry{bidder: bidder, price: price, dateTime: dateTime,
		cu: q19Inline | uint32(len(channel)), ul: uint32(len(url)), tail: channel + url + extra}
}

// q19Entry is a kept bid of q19Set (the auction is the key).
type q19Entry struct {
	bidder, price int64
	dateTime      Time
	cu            uint32 // pair id, or q19Inline | len(channel)
	ul            uint32 // q19Inline: len(url)
	tail          string // the extra, or (q19Inline) channel+URL+extra
}

func (e *q19Entry) strings() (channel, url, extra string) {
	if e.cu&q19Inline == 0 {
		p := q19Pair(e.cu)
		return p[0], p[1], e.tail
	}
	cl, ul := int(e.cu&^q19Inline), int(e.ul)
	return e.tail[:cl], e.tail[cl : cl+ul], e.tail[cl+ul:]
}

func (e *q19Entry) extra() string {
	if e.cu&q19Inline == 0 {
		return e.tail
	}
	return e.tail[int(e.cu&^q19Inline)+int(e.ul):]
}

func (e *q19Entry) bid(auction int64) *Bid {
	ch, url, extra := e.strings()
	return &Bid{Auction: auction, Bidder: e.bidder, Price: e.price, Channel: ch, URL: url, DateTime: e.dateTime, Extra: extra}
}

// below reports whether b ranks before e (higher's order).
func (e *q19Entry) below(b *Bid) bool {
	switch {
	case b.Price != e.price:
		return b.Price > e.price
	case b.DateTime != e.dateTime:
		return b.DateTime < e.dateTime
	case b.Bidder != e.bidder:
		return b.Bidder < e.bidder
	}
	return b.Extra < e.extra()
}

// q19Set is an auction's top-10 buffer in "topset": its kept bids, best
// first.
type q19Set struct {
	e []q19Entry
}

// rank puts b into s if it ranks among the ten best, emitting every rank
// that now holds another bid (as q19Rank).
func (s *q19Set) rank(emit func(Q19Row), cache q19PairCache, b *Bid) {
	n := len(s.e)
	if n == q19TopN && !s.e[n-1].below(b) {
		return
	}
	pos := n
	for i := range s.e {
		if s.e[i].below(b) {
			pos = i
			break
		}
	}
	if pos >= q19TopN {
		return
	}
	if n < q19TopN {
		if n == cap(s.e) {
			c := 2 * n
			switch {
			case c < 2:
				c = 2
			case c > 4:
				c = q19TopN
			}
			e := make([]q19Entry, n, c)
			copy(e, s.e)
			s.e = e
		}
		s.e = s.e[:n+1]
		n++
	}
	copy(s.e[pos+1:], s.e[pos:])
	s.e[pos] = cache.entry(b)
	for i := pos; i < n; i++ {
		e := &s.e[i]
		ch, url, extra := e.strings()
		emit(Q19Row{Q18Row{b.Auction, e.bidder, e.price, ch, url, e.dateTime, extra}, int64(i + 1)})
	}
}

// q19SetOf returns the buffer of r.
func q19SetOf(r *q19Ranks) *q19Set {
	s := &q19Set{}
	for _, b := range r {
		if b == nil {
			break
		}
		e, ok := q19Intern(b.Channel, b.URL)
		if !ok {
			s.e = append(s.e, q19InlineEntry(b.Bidder, b.Price, b.DateTime, b.Channel, b.URL, b.Extra))
			continue
		}
		s.e = append(s.e, q19Entry{bidder: b.Bidder, price: b.Price, dateTime: b.DateTime, cu: e, tail: b.Extra})
	}
	return s
}

// ranks returns s as a q19Ranks of auction.
func (s *q19Set) ranks(auction int64) q19Ranks {
	var r q19Ranks
	for i := range s.e {
		r[i] = s.e[i].bid(auction)
	}
	return r
}

// CopyState returns a copy of s (state.Copier): the entries are copied,
// their strings shared (never changed).
func (s *q19Set) CopyState() *q19Set {
	return &q19Set{e: append(make([]q19Entry, 0, cap(s.e)), s.e...)}
}

// AppendState implements codec.SelfEncoder: the number of entries, then
// per entry bidder, price and time (varints), channel, URL and extra
// (length-prefixed).
func (s q19Set) AppendState(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s.e)))
	for i := range s.e {
		e := &s.e[i]
		dst = binary.AppendVarint(dst, e.bidder)
		dst = binary.AppendVarint(dst, e.price)
		dst = binary.AppendVarint(dst, int64(e.dateTime))
		ch, url, extra := e.strings()
		for _, str := range [3]string{ch, url, extra} {
			dst = binary.AppendUvarint(dst, uint64(len(str)))
			dst = append(dst, str...)
		}
	}
	return dst
}

// DecodeState implements codec.SelfDecoder.
func (s *q19Set) DecodeState(src []byte) (int, error) {
	off := 0
	uv := func() (uint64, error) {
		v, n := binary.Uvarint(src[off:])
		if n <= 0 {
			return 0, fmt.Errorf("q19 buffer: %w", codec.ErrCorrupt)
		}
		off += n
		return v, nil
	}
	sv := func() (int64, error) {
		v, n := binary.Varint(src[off:])
		if n <= 0 {
			return 0, fmt.Errorf("q19 buffer: %w", codec.ErrCorrupt)
		}
		off += n
		return v, nil
	}
	str := func() (string, error) {
		l, err := uv()
		if err != nil {
			return "", err
		}
		if l > uint64(len(src)-off) {
			return "", fmt.Errorf("q19 buffer: %w", codec.ErrCorrupt)
		}
		v := string(src[off : off+int(l)])
		off += int(l)
		return v, nil
	}
	n, err := uv()
	if err != nil {
		return 0, err
	}
	if n > q19TopN {
		return 0, fmt.Errorf("q19 buffer of %d bids: %w", n, codec.ErrCorrupt)
	}
	s.e = make([]q19Entry, 0, n)
	for range n {
		var nums [3]int64
		for j := range nums {
			if nums[j], err = sv(); err != nil {
				return 0, err
			}
		}
		var strs [3]string
		for j := range strs {
			if strs[j], err = str(); err != nil {
				return 0, err
			}
		}
		if id, ok := q19Intern(strs[0], strs[1]); ok {
			s.e = append(s.e, q19Entry{bidder: nums[0], price: nums[1], dateTime: Time(nums[2]), cu: id, tail: strs[2]})
		} else {
			s.e = append(s.e, q19InlineEntry(nums[0], nums[1], Time(nums[2]), strs[0], strs[1], strs[2]))
		}
	}
	return off, nil
}
