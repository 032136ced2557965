package exec

import (
	"fmt"
	"hash/maphash"
	"unsafe"

	"github.com/weirstream/weir/row"
)

// Probing a list side of a RegularJoin without decoding every stored row
// again for every probe.
//
// In the Nexmark joins (q3, q4, q8, q9, q20) each bid probes the one stored
// auction of its key, and the bids of a stretch of the stream go to about a
// hundred recent auctions: the same few hundred encodings were decoded
// again and again (a field slice and a copy of every string per probe). A
// small direct-mapped cache of decoded rows, per subtask, answers those
// probes. It is bounded by its slot count (not by the state's size), and an
// entry is used only when its encoding equals the stored one, so it needs
// no invalidation: an appended, expired or restored row has its own
// encoding. (Keeping a decoded row for every state entry instead doubled
// the peak RSS of q9: see docs/benchmarks.md.)
//
// A cached row's fields are shared by every probe that hits it; they are
// only read (by the condition) and copied into output rows (joinRows),
// never emitted or changed in place.

// joinCacheSlots is the number of decoded rows a rowCache holds (a power
// of two): a few times the ~100 in-flight auctions of Nexmark.
const joinCacheSlots = 512

// A row enters the cache the second time a probe meets it in its slot.
// The first time, the slot only records its encoding, and the row is
// decoded into the cache's probe scratch (no allocation), valid until the
// next probe. Many stored rows are probed once only: in q4, q9 and q20
// most bids reach the join before their auction (they come through
// another exchange) and are met once, by that auction's probe; caching
// them allocated a field slice per bid for nothing. Rows probed again and
// again (the auction every bid probes) are cached at their second probe.

// rowCache is a direct-mapped cache from a row's encoding to its fields.
type rowCache struct {
	seed  maphash.Seed
	slots []rowCacheSlot
	// scratch is where rows met for the first time are decoded; used is
	// how much of it the current probe took (reset).
	scratch []row.Value
	used    int
}

type rowCacheSlot struct {
	enc string
	// fields is nil when enc was met once only (not cached yet).
	fields []row.Value
}

func newRowCache() *rowCache {
	return &rowCache{seed: maphash.MakeSeed(), slots: make([]rowCacheSlot, joinCacheSlots)}
}

// joinScratchMin and joinScratchMax bound the number of fields of a new
// probe scratch (a probe that needs more takes several).
const (
	joinScratchMin = 1 << 10
	joinScratchMax = 1 << 16
)

// reset starts a probe: the rows the last one decoded into the scratch
// are no longer used (they were matched and copied into output rows).
func (c *rowCache) reset() { c.used = 0 }

// decode returns the fields of the row encoded as enc, the i-th row of
// the list of key. The slot is chosen by the key and position, so that a
// probe hashes its short key, not the row; the encodings are compared
// (the heap backend hands out the stored string itself, so a hit usually
// compares a pointer). Fields decoded into the scratch (a row's first
// probe) are valid until the next reset; the caller copies what it keeps.
func (c *rowCache) decode(codec *row.Codec, key string, i int, enc string) ([]row.Value, error) {
	h := maphash.String(c.seed, key) + uint64(i)*0x9e3779b97f4a7c15
	s := &c.slots[h&(joinCacheSlots-1)]
	if s.enc == enc {
		if s.fields != nil {
			return s.fields, nil
		}
		// Met again: kept from now on.
		r, err := decodeStored(codec, enc)
		if err != nil {
			return nil, err
		}
		s.fields = r.Fields
		return r.Fields, nil
	}
	s.enc, s.fields = enc, nil
	n := codec.Len()
	if len(c.scratch)-c.used < n {
		// A new scratch: the rows this probe decoded into the old one
		// keep it alive until they are no longer used.
		c.scratch = make([]row.Value, max(min(2*len(c.scratch), joinScratchMax), joinScratchMin, n))
		c.used = 0
	}
	r, _, err := codec.DecodeStringInto(c.scratch[c.used:], enc)
	if err != nil {
		return nil, fmt.Errorf("sql/exec: join: state: %w", err)
	}
	c.used += n
	return r.Fields, nil
}

// decodeStored decodes a row kept in join state. Its string fields share
// the stored encoding instead of copying it (row.Codec.DecodeString): enc
// is a string, never written over (a list side's encodings are carved
// from chunks that are only appended to, see listString; map keys and the
// Pebble backend's values are strings of their own), so a decoded row may
// be cached, matched and copied into emitted rows. An emitted row keeps
// the encoding (or its chunk) alive, as a copied string would keep itself.
func decodeStored(codec *row.Codec, enc string) (row.Row, error) {
	r, _, err := codec.DecodeString(enc)
	if err != nil {
		return row.Row{}, fmt.Errorf("sql/exec: join: state: %w", err)
	}
	return r, nil
}

// joinSlab is how many output rows of a join one slab of fields holds.
// A slab is never reused; a row kept downstream keeps its slab alive
// (joinSlab × width × the size of a row.Value), as with the other
// operators' slabs (outSlab).
const joinSlab = 16

// joinRows returns the output row of kind k: the fields l then r (or,
// with JoinSpec.Project, the projected ones of them), carved from the
// operator's slab.
func (f *regularJoinFn) joinRows(k row.Kind, l, r []row.Value) row.Row {
	if p := f.spec.Project; p != nil {
		return row.Row{Kind: k, Fields: projectPair(f.slab.Take(len(p), joinSlab), p, l, r)}
	}
	n := len(l) + len(r)
	out := f.slab.Take(n, joinSlab)
	copy(out, l)
	copy(out[len(l):], r)
	return row.Row{Kind: k, Fields: out}
}

// joinChunk is the size of the byte chunks list-side encodings are carved
// from; a longer encoding gets a string of its own.
const joinChunk = 16 << 10

// listRow returns the encoding of r (with kind +I) for a list side's
// state: encoded straight into a chunk shared with the encodings kept
// before it, so that the rows a join keeps (q4, q7, q9 and q20 keep every
// bid forever, as Flink's plans do) are a few large objects for the
// allocator and the garbage collector instead of one per row. A chunk
// stays alive as long as one of its strings does: list rows leave state
// only by TTL, roughly in the order they arrived, so chunks empty out in
// order too. (The Pebble backend copies what it stores; the chunk is then
// garbage at once.) The bytes of a chunk up to its length are never
// written again, so its strings are immutable (decodeStored shares them).
//
// A chunk with less room left than joinChunk/16 bytes is replaced before
// the row is encoded; a row that still does not fit (Append moved it to a
// new array, leaving the chunk's bytes as they were) gets a string of its
// own.
func (f *regularJoinFn) listRow(c *row.Codec, r row.Row) string {
	if cap(f.chunk)-len(f.chunk) < joinChunk/16 {
		f.chunk = make([]byte, 0, joinChunk)
	}
	start := len(f.chunk)
	b := c.Append(f.chunk, r.WithKind(row.Insert))
	if unsafe.SliceData(b) != unsafe.SliceData(f.chunk) {
		return string(b[start:])
	}
	f.chunk = b
	return unsafe.String(&b[start], len(b)-start)
}
