package nexmark

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

// q19Top keeps the top-10 buffer of every auction.
//
// Where the value state keeps values by reference (heap backend,
// state.InPlace) the buffer is a *q19Ranks in "topref", changed in place:
// a record looks its key up once and copies no buffer in or out, and a
// bid on a full buffer that ranks below the tenth costs one comparison.
// The map element is a pointer instead of the 80-byte array, so the
// memory held per auction stays the same (one 80-byte object).
//
// Elsewhere (Pebble, which encodes what it is given) the buffer stays a
// q19Ranks in "top", written back with Update, as every snapshot up to
// this layout held it. Each path moves a key restored into the other
// one's state on its first record (a snapshot from before "topref", or
// one taken on the other backend); whether any key was restored there is
// checked once, on the first record.
type q19Top struct {
	top     state.Value[q19Ranks]  // Pebble; snapshots up to 2c2e5f6
	ref     state.Value[*q19Ranks] // heap without TTL
	inPlace bool
	checked bool
	other   bool // the other path's state holds restored keys
}

func (q *q19Top) Open(ctx *weir.KeyedRuntimeContext[int64]) error {
	q.top = state.GetValue[int64, q19Ranks](ctx.State(), state.Descriptor{Name: "top"})
	q.ref = state.GetValue[int64, *q19Ranks](ctx.State(), state.Descriptor{Name: "topref"})
	q.inPlace = state.InPlace(q.ref)
	return nil
}

func (q *q19Top) ProcessElement(ctx *weir.KeyedContext[int64, Q19Row], b *Bid) error {
	if !q.checked {
		q.checked = true
		var err error
		if q.inPlace {
			q.other, err = hasKeysOf(q.top)
		} else {
			q.other, err = hasKeysOf(q.ref)
		}
		if err != nil {
			return err
		}
	}
	if q.inPlace {
		top, ok := q.ref.Value()
		if !ok {
			top = new(q19Ranks)
			if q.other {
				if old, ok := q.top.Value(); ok {
					*top = old
					q.top.Clear()
				}
			}
			q.ref.Update(top)
		}
		q19Rank(ctx, top, b)
		return nil
	}
	top, ok := q.top.Value()
	if !ok && q.other {
		if p, ok := q.ref.Value(); ok {
			if p != nil {
				top = *p
			}
			q.ref.Clear()
			q.top.Update(top) // moved even if b changes nothing
		}
	}
	if q19Rank(ctx, &top, b) {
		q.top.Update(top)
	}
	return nil
}

// q19Rank puts b into the buffer if it ranks among the ten best, emitting
// every rank that now holds another bid, and reports whether it did.
func q19Rank(ctx *weir.KeyedContext[int64, Q19Row], top *q19Ranks, b *Bid) bool {
	if last := top[q19TopN-1]; last != nil && !higher(b, last) {
		// Most bids on an auction with ten already rank below all ten.
		return false
	}
	n := 0
	for n < len(top) && top[n] != nil {
		n++
	}
	pos := n
	for i, t := range top[:n] {
		if higher(b, t) {
			pos = i
			break
		}
	}
	if pos >= q19TopN {
		return false
	}
	// Shift the ranks from pos down by one (the last falls out) and put b
	// at pos.
	copy(top[pos+1:], top[pos:])
	top[pos] = b
	if n < q19TopN {
		n++
	}
	// Every rank from pos on now holds another bid.
	for i := pos; i < n; i++ {
		t := top[i]
		ctx.Collect(Q19Row{Q18Row{t.Auction, t.Bidder, t.Price, t.Channel, t.URL, t.DateTime, t.Extra}, int64(i + 1)})
	}
	return true
}

// CopyState returns a copy of r (state.Copier). The bids are shared: a
// buffer only ever replaces its bids, it never changes one.
func (r *q19Ranks) CopyState() *q19Ranks {
	c := *r
	return &c
}
