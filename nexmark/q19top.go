package nexmark

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

// q19Top keeps the top-10 buffer of every auction.
//
// Where the value state keeps values by reference (heap backend,
// state.InPlace) the buffer is a *q19Set in "topset", changed in place:
// a record looks its key up once and copies no buffer in or out, and a
// bid on a full buffer that ranks below the tenth costs one comparison.
// A kept bid is an entry of 48 bytes with one pointer (q19set.go), not a
// *Bid.
//
// Elsewhere (Pebble, which encodes what it is given) the buffer stays a
// q19Ranks in "top", written back with Update, as every snapshot up to
// 2c2e5f6 held it. Keys restored into another layout move on their first
// record: on the heap from "top" and from "topref" (the heap's *q19Ranks
// up to f1c338f), on Pebble from "topref" and "topset" (a heap snapshot).
// Whether any key was restored there is checked once, on the first
// record.
type q19Top struct {
	top     state.Value[q19Ranks]  // Pebble; snapshots up to 2c2e5f6
	ref     state.Value[*q19Ranks] // heap, snapshots up to f1c338f
	set     state.Value[*q19Set]   // heap without TTL
	inPlace bool
	checked bool
	// the states other than this path's that hold restored keys
	hasTop, hasRef, hasSet bool
	cache                  q19PairCache
	emit                   func(Q19Row)
	ctx                    *weir.KeyedContext[int64, Q19Row]
}

func (q *q19Top) Open(ctx *weir.KeyedRuntimeContext[int64]) error {
	q.top = state.GetValue[int64, q19Ranks](ctx.State(), state.Descriptor{Name: "top"})
	q.ref = state.GetValue[int64, *q19Ranks](ctx.State(), state.Descriptor{Name: "topref"})
	q.set = state.GetValue[int64, *q19Set](ctx.State(), state.Descriptor{Name: "topset"})
	q.inPlace = state.InPlace(q.set)
	q.cache = q19PairCache{}
	q.emit = func(r Q19Row) { q.ctx.Collect(r) }
	return nil
}

func (q *q19Top) check() error {
	q.checked = true
	var err error
	if q.inPlace {
		if q.hasTop, err = hasKeysOf(q.top); err != nil {
			return err
		}
	} else if q.hasSet, err = hasKeysOf(q.set); err != nil {
		return err
	}
	q.hasRef, err = hasKeysOf(q.ref)
	return err
}

func (q *q19Top) ProcessElement(ctx *weir.KeyedContext[int64, Q19Row], b *Bid) error {
	if !q.checked {
		if err := q.check(); err != nil {
			return err
		}
	}
	if q.inPlace {
		s, ok := q.set.Value()
		if !ok {
			s = &q19Set{}
			if q.hasRef {
				if old, ok := q.ref.Value(); ok {
					if old != nil {
						s = q19SetOf(old)
					}
					q.ref.Clear()
				}
			}
			if q.hasTop {
				if old, ok := q.top.Value(); ok {
					s = q19SetOf(&old)
					q.top.Clear()
				}
			}
			q.set.Update(s)
		}
		q.ctx = ctx
		s.rank(q.emit, q.cache, b)
		return nil
	}
	top, ok := q.top.Value()
	if !ok && q.hasRef {
		if p, ok := q.ref.Value(); ok {
			if p != nil {
				top = *p
			}
			q.ref.Clear()
			q.top.Update(top) // moved even if b changes nothing
		}
	}
	if !ok && q.hasSet {
		if s, ok := q.set.Value(); ok {
			if s != nil {
				top = s.ranks(ctx.Key())
			}
			q.set.Clear()
			q.top.Update(top)
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
