package nexmark

import (
	"unsafe"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

// q9 keeps state for every auction for the whole run. Holding it as Go
// objects (an *Auction and an *Bid, each with its strings) made the
// garbage collector mark half a dozen objects per auction in every
// cycle, and most of those pointers lead to another span. Its state
// below holds plain numbers and one byte slice per auction, an arena
// with the strings the query outputs.
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
