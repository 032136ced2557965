package nexmark

import (
	"unsafe"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

// q9 and q19 keep state for every auction for the whole run. Holding it
// as Go objects (an *Auction, an *Bid per kept bid, each with its
// strings) made the garbage collector mark half a dozen to twenty objects
// per auction in every cycle, and most of those pointers lead to another
// span: marking took a third of q19's CPU time. Their states below hold
// plain numbers and one byte slice per auction, an arena with the
// strings the query outputs.
//
// An arena is append-only: bytes below its length are never written
// again, by this value or by any copy of it. A record reads the key's
// value, appends what it adds beyond the length (into spare capacity, or
// into a new, compacted arena when it does not fit) and writes the value
// back; the heap backend's snapshots hold earlier copies, whose lengths
// end before any byte written later, and encode them concurrently with
// the task without a race. So the strings of emitted rows can point into
// an arena (arenaString) instead of being copied: a row keeps its arena
// alive, and its bytes never change.

// arenaString returns the n bytes of a at off as a string, without a copy
// (see above).
func arenaString(a []byte, off, n uint32) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&a[off], n)
}

// q19Slot is one bid of a q19 top-10 buffer: what q19's rows show apart
// from the auction (the key), its channel, URL and extra being the
// ChanLen, URLLen and ExtraLen bytes at Off in the buffer's arena.
type q19Slot struct {
	Price    int64
	DateTime Time
	Bidder   int64
	Off      uint32
	ChanLen  uint32
	URLLen   uint32
	ExtraLen uint32
}

// q19Buf is the top-10 buffer of an auction ("top10"): the best N bids,
// best first, and the arena of their strings.
type q19Buf struct {
	N     uint8
	Slots [q19TopN]q19Slot
	Arena []byte
}

func (s *q19Slot) channel(a []byte) string { return arenaString(a, s.Off, s.ChanLen) }
func (s *q19Slot) url(a []byte) string     { return arenaString(a, s.Off+s.ChanLen, s.URLLen) }
func (s *q19Slot) extra(a []byte) string {
	return arenaString(a, s.Off+s.ChanLen+s.URLLen, s.ExtraLen)
}
func (s *q19Slot) size() int { return int(s.ChanLen) + int(s.URLLen) + int(s.ExtraLen) }

// higherThan reports whether bid b ranks before the slot's (higher).
func (s *q19Slot) higherThan(b *Bid, a []byte) bool {
	switch {
	case b.Price != s.Price:
		return b.Price > s.Price
	case b.DateTime != s.DateTime:
		return b.DateTime < s.DateTime
	case b.Bidder != s.Bidder:
		return b.Bidder < s.Bidder
	}
	return b.Extra < s.extra(a)
}

// put makes slot i hold b, its strings appended to the arena. If they do
// not fit, the other slots' strings move to a new arena first, with room
// for as many bytes again (at least q19FirstRoom bids like b): an auction
// that gets bids at all mostly gets several, and each move copies the
// live strings.
func (t *q19Buf) put(i int, b *Bid) {
	need := len(b.Channel) + len(b.URL) + len(b.Extra)
	if cap(t.Arena)-len(t.Arena) < need {
		live := need
		for j := range int(t.N) {
			if j != i {
				live += t.Slots[j].size()
			}
		}
		a := make([]byte, 0, max(2*live, q19FirstRoom*need))
		for j := range int(t.N) {
			if j == i {
				continue
			}
			s := &t.Slots[j]
			off := uint32(len(a))
			a = append(a, t.Arena[s.Off:int(s.Off)+s.size()]...)
			s.Off = off
		}
		t.Arena = a
	}
	off := uint32(len(t.Arena))
	t.Arena = append(t.Arena, b.Channel...)
	t.Arena = append(t.Arena, b.URL...)
	t.Arena = append(t.Arena, b.Extra...)
	t.Slots[i] = q19Slot{Price: b.Price, DateTime: b.DateTime, Bidder: b.Bidder, Off: off,
		ChanLen: uint32(len(b.Channel)), URLLen: uint32(len(b.URL)), ExtraLen: uint32(len(b.Extra))}
}

// q19FirstRoom is how many bids a new arena has room for at least.
const q19FirstRoom = 4

// q19Top keeps an auction's top-10 buffer in "top10". Snapshots from
// before it (2c2e5f6 and earlier) hold the buffer as [10]*Bid in "top":
// a key moves from there on its first record after the restore.
type q19Top struct {
	top     state.Value[q19Buf]
	legacy  state.Value[q19Ranks] // nil once no restored key is left in it (checked on the first record)
	checked bool
}

func (q *q19Top) Open(ctx *weir.KeyedRuntimeContext[int64]) error {
	q.top = state.GetValue[int64, q19Buf](ctx.State(), state.Descriptor{Name: "top10"})
	q.legacy = state.GetValue[int64, q19Ranks](ctx.State(), state.Descriptor{Name: "top"})
	return nil
}

// fromLegacy returns the current key's buffer from the old layout, and
// moves it: written to "top10" (the record may leave it as it is),
// cleared in "top".
func (q *q19Top) fromLegacy() (q19Buf, bool) {
	old, ok := q.legacy.Value()
	if !ok {
		return q19Buf{}, false
	}
	q.legacy.Clear()
	var t q19Buf
	for i, b := range old {
		if b == nil {
			break
		}
		t.N = uint8(i + 1)
		t.put(i, b)
	}
	q.top.Update(t)
	return t, true
}

func (q *q19Top) ProcessElement(ctx *weir.KeyedContext[int64, Q19Row], b *Bid) error {
	if !q.checked {
		q.checked = true
		restored, err := hasKeysOf(q.legacy)
		if err != nil {
			return err
		}
		if !restored {
			q.legacy = nil
		}
	}
	t, ok := q.top.Value()
	if !ok && q.legacy != nil {
		t, _ = q.fromLegacy()
	}
	n := int(t.N)
	if n == q19TopN && !t.Slots[n-1].higherThan(b, t.Arena) {
		// Most bids on an auction with ten already rank below all ten.
		return nil
	}
	pos := n
	for i := range n {
		if t.Slots[i].higherThan(b, t.Arena) {
			pos = i
			break
		}
	}
	if pos >= q19TopN {
		return nil
	}
	// Shift the ranks from pos down by one (the last falls out) and put b
	// at pos.
	if n < q19TopN {
		n++
		t.N = uint8(n)
	}
	copy(t.Slots[pos+1:n], t.Slots[pos:n-1])
	t.put(pos, b)
	q.top.Update(t)
	// Every rank from pos on now holds another bid.
	ctx.Collect(Q19Row{Q18Row{b.Auction, b.Bidder, b.Price, b.Channel, b.URL, b.DateTime, b.Extra}, int64(pos + 1)})
	for i := pos + 1; i < n; i++ {
		s := &t.Slots[i]
		ctx.Collect(Q19Row{Q18Row{b.Auction, s.Bidder, s.Price, s.channel(t.Arena), s.url(t.Arena), s.DateTime, s.extra(t.Arena)}, int64(i + 1)})
	}
	return nil
}

// hasKeysOf reports whether a state handed out by a Store has an entry.
func hasKeysOf(st any) (bool, error) {
	found := false
	err := state.KeysOf[int64](st, func(int64) { found = true })
	return found, err
}

// q9Win is the state of an auction in q9 ("win"): the auction, once
// seen, and its best bid so far within its life (if HasBest). The
// auction's item name, description and extra are the first ItemLen,
// DescLen and ExtraLen bytes of the arena; the best bid's extra is the
// BidExtraLen bytes at BidOff. The auction's and the bid's ids are the
// key.
type q9Win struct {
	DateTime    Time
	Expires     Time
	InitialBid  int64
	Reserve     int64
	Seller      int64
	Category    int64
	Bidder      int64
	Price       int64
	BidTime     Time
	ItemLen     uint32
	DescLen     uint32
	ExtraLen    uint32
	BidOff      uint32
	BidExtraLen uint32
	HasBest     bool
	Arena       []byte
}

// q9FirstBidRoom is the room for best bids' extras in a new auction's
// arena: one generated bid's (54 to 81 bytes). When a best bid's does not
// fit, the auction's strings go to a new arena with room for two of its
// size (the best bid changes a few times in an auction's life).
const q9FirstBidRoom = 96

// newQ9Win returns the state of auction a, without a best bid, with room
// for room bytes of best bids' extras.
func newQ9Win(a *Auction, room int) q9Win {
	n := len(a.ItemName) + len(a.Description) + len(a.Extra)
	arena := make([]byte, 0, n+room)
	arena = append(arena, a.ItemName...)
	arena = append(arena, a.Description...)
	arena = append(arena, a.Extra...)
	return q9Win{DateTime: a.DateTime, Expires: a.Expires, InitialBid: a.InitialBid, Reserve: a.Reserve, Seller: a.Seller, Category: a.Category,
		ItemLen: uint32(len(a.ItemName)), DescLen: uint32(len(a.Description)), ExtraLen: uint32(len(a.Extra)), Arena: arena}
}

func (w *q9Win) auctionSize() int { return int(w.ItemLen) + int(w.DescLen) + int(w.ExtraLen) }
func (w *q9Win) itemName() string { return arenaString(w.Arena, 0, w.ItemLen) }
func (w *q9Win) description() string {
	return arenaString(w.Arena, w.ItemLen, w.DescLen)
}
func (w *q9Win) extra() string { return arenaString(w.Arena, w.ItemLen+w.DescLen, w.ExtraLen) }
func (w *q9Win) bidExtra() string {
	return arenaString(w.Arena, w.BidOff, w.BidExtraLen)
}

// within reports whether b is within the auction's life.
func (w *q9Win) within(b *Bid) bool { return b.DateTime >= w.DateTime && b.DateTime <= w.Expires }

// beats reports whether b ranks before the best bid (as better).
func (w *q9Win) beats(b *Bid) bool {
	switch {
	case !w.HasBest:
		return true
	case b.Price != w.Price:
		return b.Price > w.Price
	case b.DateTime != w.BidTime:
		return b.DateTime < w.BidTime
	case b.Bidder != w.Bidder:
		return b.Bidder < w.Bidder
	}
	return b.Extra < w.bidExtra()
}

// setBest makes b the best bid, its extra appended to the arena (a new
// one with the auction's strings if it does not fit).
func (w *q9Win) setBest(b *Bid) {
	if cap(w.Arena)-len(w.Arena) < len(b.Extra) {
		n := w.auctionSize()
		a := make([]byte, n, n+2*len(b.Extra))
		copy(a, w.Arena[:n])
		w.Arena = a
	}
	w.BidOff, w.BidExtraLen = uint32(len(w.Arena)), uint32(len(b.Extra))
	w.Arena = append(w.Arena, b.Extra...)
	w.Bidder, w.Price, w.BidTime, w.HasBest = b.Bidder, b.Price, b.DateTime, true
}

// q9Join joins auctions and bids by auction id: the auction and its best
// bid in "win", bids that came before their auction in "bids". Snapshots
// from before "win" (2c2e5f6 and earlier) hold the auction as *Auction in
// "auction" and the best bid as *Bid in "best": a key moves from there
// on its first record after the restore.
type q9Join struct {
	win     state.Value[q9Win]
	pending state.List[*Bid]
	// legacyAuction and legacyBest are nil once no restored key is left
	// in them (checked on the first record).
	legacyAuction state.Value[*Auction]
	legacyBest    state.Value[*Bid]
	checked       bool
}

func (j *q9Join) Open(ctx *weir.KeyedRuntimeContext[int64]) error {
	j.win = state.GetValue[int64, q9Win](ctx.State(), state.Descriptor{Name: "win"})
	j.pending = state.GetList[int64, *Bid](ctx.State(), state.Descriptor{Name: "bids"})
	j.legacyAuction = state.GetValue[int64, *Auction](ctx.State(), state.Descriptor{Name: "auction"})
	j.legacyBest = state.GetValue[int64, *Bid](ctx.State(), state.Descriptor{Name: "best"})
	return nil
}

// value returns the current key's state, moved from the old layout if it
// is there (written to "win": the record may leave it as it is).
func (j *q9Join) value() (q9Win, bool, error) {
	if !j.checked {
		j.checked = true
		restored, err := hasKeysOf(j.legacyAuction)
		if err != nil {
			return q9Win{}, false, err
		}
		if !restored {
			j.legacyAuction, j.legacyBest = nil, nil
		}
	}
	w, ok := j.win.Value()
	if ok || j.legacyAuction == nil {
		return w, ok, nil
	}
	a, ok := j.legacyAuction.Value()
	if !ok {
		return w, false, nil
	}
	w = newQ9Win(a, 0)
	if b, ok := j.legacyBest.Value(); ok {
		w.setBest(b)
	}
	j.legacyAuction.Clear()
	j.legacyBest.Clear()
	j.win.Update(w)
	return w, true, nil
}

func q9RowOf(id int64, w *q9Win, b *Bid) Q9Row {
	return Q9Row{id, w.itemName(), w.description(), w.InitialBid, w.Reserve, w.DateTime, w.Expires, w.Seller, w.Category, w.extra(),
		b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra}
}

func (j *q9Join) ProcessElement1(ctx *weir.KeyedContext[int64, Q9Row], a *Auction) error {
	old, had, err := j.value()
	if err != nil {
		return err
	}
	var best *Bid
	for _, b := range j.pending.Get() {
		if within(a, b) && (best == nil || better(b, best)) {
			best = b
		}
	}
	j.pending.Clear()
	w := newQ9Win(a, q9FirstBidRoom)
	switch {
	case best != nil:
		w.setBest(best)
	case had && old.HasBest:
		// A second auction with this id (never from the generator): the
		// best bid stays, as before the new layout.
		w.Bidder, w.Price, w.BidTime, w.HasBest = old.Bidder, old.Price, old.BidTime, true
		w.BidOff, w.BidExtraLen = uint32(len(w.Arena)), old.BidExtraLen
		w.Arena = append(w.Arena, old.bidExtra()...)
	}
	j.win.Update(w)
	if best != nil {
		ctx.Collect(q9Row(a, best))
	}
	return nil
}

func (j *q9Join) ProcessElement2(ctx *weir.KeyedContext[int64, Q9Row], b *Bid) error {
	w, ok, err := j.value()
	if err != nil {
		return err
	}
	if !ok {
		j.pending.Add(b)
		return nil
	}
	if !w.within(b) || !w.beats(b) {
		return nil
	}
	w.setBest(b)
	j.win.Update(w)
	ctx.Collect(q9RowOf(ctx.Key(), &w, b))
	return nil
}
