package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/kv"
)

// base holds what all state kinds share: the name, id, codecs, TTL and the
// current namespace's encoding.
type base[K comparable, N any] struct {
	b      *Backend[K]
	name   string
	sid    uint16
	ttl    statebackend.TTL
	nc     codec.Codec[N]
	nsEnc  []byte
	kbuf   []byte
	err    error
	access uint32
	// sidOK: the state has its id (from Seal, or on first use if it was
	// registered after Seal).
	sidOK bool
	// dropCached forgets a key changed in Pebble directly (nil without
	// an entry cache).
	dropCached func(key []byte)
}

func newBase[K comparable, N any](b *Backend[K], ttl statebackend.TTL) base[K, N] {
	s := base[K, N]{b: b, ttl: ttl, name: fmt.Sprintf("#%d", len(b.states)+1)}
	if s.nc, s.err = codec.For[N](); s.err != nil {
		s.err = fmt.Errorf("namespace type: %w", s.err)
	}
	if b.kerr != nil && s.err == nil {
		s.err = fmt.Errorf("key type: %w", b.kerr)
	}
	return s
}

// StateName returns the state's name.
func (s *base[K, N]) StateName() string { return s.name }

// SetName gives the state a stable name for snapshots.
func (s *base[K, N]) SetName(name string) { s.name = name }

func (s *base[K, N]) codecErr() error   { return s.err }
func (s *base[K, N]) setSID(sid uint16) { s.sid, s.sidOK = sid, true }
func (s *base[K, N]) hasSID() bool      { return s.sidOK }

// ready opens the database if needed and makes sure the state has its id:
// a state registered after Seal gets one on first use (else it would
// share id 0 with another state).
func (s *base[K, N]) ready() kv.DB {
	db := s.b.live()
	if !s.sidOK {
		s.b.registerLate()
	}
	return db
}

// SetNamespace selects the namespace (e.g. window) that accesses refer to.
func (s *base[K, N]) SetNamespace(n N) {
	if s.nc != nil {
		s.nsEnc = s.nc.Append(s.nsEnc[:0], n)
	}
}

func (s *base[K, N]) fail(op string, err error) {
	panic(&Error{State: s.name, Op: op, Err: err})
}

// key returns the Pebble key of the current key and namespace (valid until
// the next call).
func (s *base[K, N]) key() []byte {
	s.ready()
	ke := s.b.keyEnc()
	k := binary.BigEndian.AppendUint16(s.kbuf[:0], s.sid)
	k = binary.BigEndian.AppendUint16(k, uint16(s.b.kc.KeyGroup))
	k = binary.AppendUvarint(k, uint64(len(s.nsEnc)+len(ke)))
	k = append(k, s.nsEnc...)
	k = append(k, ke...)
	s.kbuf = k
	return k
}

// get reads the value under key and hands it to fn before the buffer is
// released; it reports whether the key exists.
func (s *base[K, N]) get(key []byte, fn func(v []byte) error) bool {
	v, closer, err := s.b.db.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		return false
	}
	if err != nil {
		s.fail("get", err)
	}
	err = fn(v)
	closer.Close()
	if err != nil {
		s.fail("decode", err)
	}
	return true
}

func (s *base[K, N]) set(key, v []byte) {
	if err := s.b.db.Set(key, v); err != nil {
		s.fail("set", err)
	}
}

func (s *base[K, N]) del(key []byte) {
	if err := s.b.db.Delete(key); err != nil {
		s.fail("delete", err)
	}
}

func (s *base[K, N]) expiry(now int64) int64 {
	if s.ttl.TTLMillis <= 0 {
		return 0
	}
	return now + s.ttl.TTLMillis
}

// Clear removes the current key's entry in the current namespace.
func (s *base[K, N]) Clear() { s.del(s.key()) }

// ForEachKey calls fn for every (key, namespace) with an entry.
func (s *base[K, N]) ForEachKey(fn func(k K, n N)) error {
	db := s.ready()
	if err := s.b.flushCaches(); err != nil {
		return err
	}
	r := s.b.kc.Range
	it, err := db.NewIter(prefix(s.sid, r.Start), prefix(s.sid, r.End))
	if err != nil {
		return fmt.Errorf("weir: pebble: %w", err)
	}
	defer it.Close()
	var last []byte
	for it.First(); it.Valid(); it.NextPrefix() {
		k := it.Key()[4:]
		l, m := binary.Uvarint(k)
		if m <= 0 || uint64(len(k)-m) < l {
			return fmt.Errorf("weir: pebble: state %q: %w: key", s.name, codec.ErrCorrupt)
		}
		nk := k[m : m+int(l)]
		if last != nil && string(last) == string(nk) {
			continue // more user keys of one map entry
		}
		last = append(last[:0], nk...)
		ns, a, err := s.nc.Decode(nk)
		if err != nil {
			return fmt.Errorf("weir: pebble: state %q: namespace: %w", s.name, err)
		}
		key, _, err := s.b.kcodec.Decode(nk[a:])
		if err != nil {
			return fmt.Errorf("weir: pebble: state %q: key: %w", s.name, err)
		}
		fn(key, ns)
	}
	return nil
}

// cleanupDue reports whether this access should also clean up expired
// entries: with TTL and incremental cleanup, every 64th access examines
// 64 × CleanupPerAccess entries (Flink's incremental cleanup, batched so an
// iterator is opened rarely).
func (s *base[K, N]) cleanupDue() bool {
	if s.ttl.TTLMillis <= 0 || s.ttl.CleanupPerAccess <= 0 {
		return false
	}
	s.access++
	return s.access%64 == 0
}

// cleanupCursor is the next key the incremental cleanup examines.
type cleanupCursor struct{ next []byte }

// cleanup examines up to n entries after the cursor and deletes those whose
// every element expired; expired reports that for one value.
func (s *base[K, N]) cleanup(c *cleanupCursor, n int, expired func(v []byte, now int64) bool) {
	if err := s.b.flushCaches(); err != nil {
		s.fail("cleanup", err)
	}
	r := s.b.kc.Range
	lo, hi := prefix(s.sid, r.Start), prefix(s.sid, r.End)
	if c.next == nil || string(c.next) < string(lo) {
		c.next = lo
	}
	it, err := s.b.db.NewIter(lo, hi)
	if err != nil {
		s.fail("cleanup", err)
	}
	now := s.b.now()
	var dead [][]byte
	valid := it.SeekGE(c.next)
	for ; valid && n > 0; valid = it.NextPrefix() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			s.fail("cleanup", err)
		}
		if expired(v, now) {
			dead = append(dead, append([]byte(nil), it.Key()...))
		}
		n--
	}
	if valid {
		c.next = append(c.next[:0:0], it.Key()...)
	} else {
		c.next = nil // wrap around
	}
	if err := it.Close(); err != nil {
		s.fail("cleanup", err)
	}
	for _, k := range dead {
		s.del(k)
		if s.dropCached != nil {
			s.dropCached(k)
		}
	}
}

// Value is a single value per key and namespace.
type Value[K comparable, N, V any] struct {
	base[K, N]
	entries[K, N, V]
}

// NewValue registers a value state.
func NewValue[K comparable, N, V any](b *Backend[K], ttl statebackend.TTL) *Value[K, N, V] {
	s := &Value[K, N, V]{base: newBase[K, N](b, ttl)}
	if vc, err := codec.For[V](); err != nil && s.err == nil {
		s.err = fmt.Errorf("value type: %w", err)
	} else {
		s.vc = vc
	}
	s.initCache(&s.base)
	s.SetNamespace(*new(N))
	b.register(s)
	return s
}

// Clear removes the current key's value in the current namespace.
func (s *Value[K, N, V]) Clear() { s.remove(&s.base, s.key()) }

// StateKind returns the section kind.
func (s *Value[K, N, V]) StateKind() byte { return statebackend.KindValue }

// StateSchema returns the encoding layout (the same as the heap backend's).
func (s *Value[K, N, V]) StateSchema() string {
	return codec.Schema[K]() + "|" + codec.Schema[N]() + "|" + codec.Schema[V]()
}

// Value returns the current value, and false if there is none (or it
// expired).
func (s *Value[K, N, V]) Value() (V, bool) { return s.read(&s.base, s.key()) }

// Update sets the current value.
func (s *Value[K, N, V]) Update(v V) {
	var exp int64
	if s.ttl.TTLMillis > 0 {
		exp = s.expiry(s.b.now())
	}
	s.store(&s.base, s.key(), v, exp)
	s.maybeCleanup(&s.base)
}

// importGroup writes a canonical value section body: per entry the
// namespace, key, expiry, value.
func (s *Value[K, N, V]) importGroup(w kv.Batch, kg int, body []byte) error {
	var key []byte
	for len(body) > 0 {
		nkLen, err := s.nkLen(body, kg)
		if err != nil {
			return err
		}
		_, a := binary.Varint(body[nkLen:])
		if a <= 0 {
			return fmt.Errorf("%w: expiry", codec.ErrCorrupt)
		}
		_, b, err := s.vc.Decode(body[nkLen+a:])
		if err != nil {
			return err
		}
		key = entryKey(key[:0], s.sid, kg, body[:nkLen])
		if err := w.Set(key, body[nkLen:nkLen+a+b]); err != nil {
			return err
		}
		body = body[nkLen+a+b:]
	}
	return nil
}

// nkLen returns the length of the namespace and key encodings at the start
// of src, an entry of key group kg: the key must belong to it (stored
// under another group it would be invisible to lookups).
func (s *base[K, N]) nkLen(src []byte, kg int) (int, error) {
	_, a, err := s.nc.Decode(src)
	if err != nil {
		return 0, err
	}
	k, b, err := s.b.kcodec.Decode(src[a:])
	if err != nil {
		return 0, err
	}
	if g := s.b.kc.GroupOf(k); g != kg {
		return 0, fmt.Errorf("%w: a key of key group %d in key group %d", codec.ErrCorrupt, g, kg)
	}
	return a + b, nil
}

func entryKey(dst []byte, sid uint16, kg int, nk []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, sid)
	dst = binary.BigEndian.AppendUint16(dst, uint16(kg))
	dst = binary.AppendUvarint(dst, uint64(len(nk)))
	return append(dst, nk...)
}

// List is a list of values per key and namespace; with TTL each element
// expires on its own. Adding merges a frame onto the stored value without
// reading it.
type List[K comparable, N, V any] struct {
	base[K, N]
	vc     codec.Codec[V]
	vbuf   []byte
	cursor cleanupCursor
}

// NewList registers a list state.
func NewList[K comparable, N, V any](b *Backend[K], ttl statebackend.TTL) *List[K, N, V] {
	s := &List[K, N, V]{base: newBase[K, N](b, ttl)}
	if vc, err := codec.For[V](); err != nil && s.err == nil {
		s.err = fmt.Errorf("value type: %w", err)
	} else {
		s.vc = vc
	}
	s.SetNamespace(*new(N))
	b.register(s)
	return s
}

// StateKind returns the section kind.
func (s *List[K, N, V]) StateKind() byte { return statebackend.KindList }

// StateSchema returns the encoding layout.
func (s *List[K, N, V]) StateSchema() string {
	return codec.Schema[K]() + "|" + codec.Schema[N]() + "|" + codec.Schema[V]()
}

type listElem[V any] struct {
	v   V
	exp int64
}

func (s *List[K, N, V]) read(key []byte) ([]listElem[V], bool) {
	var es []listElem[V]
	ok := s.get(key, func(raw []byte) error {
		for len(raw) > 0 {
			l, m := binary.Uvarint(raw)
			if m <= 0 || uint64(len(raw)-m) < l {
				return fmt.Errorf("%w: list frame", codec.ErrCorrupt)
			}
			f := raw[m : m+int(l)]
			exp, a := binary.Varint(f)
			if a <= 0 {
				return fmt.Errorf("%w: expiry", codec.ErrCorrupt)
			}
			v, _, err := s.vc.Decode(f[a:])
			if err != nil {
				return err
			}
			es = append(es, listElem[V]{v, exp})
			raw = raw[m+int(l):]
		}
		return nil
	})
	return es, ok
}

// Get returns the current list (a copy the caller may keep). With TTL,
// expired elements are removed and, with OnReadAndWrite, the others
// refreshed.
func (s *List[K, N, V]) Get() []V {
	key := s.key()
	es, ok := s.read(key)
	if !ok || len(es) == 0 {
		return nil
	}
	out := make([]V, 0, len(es))
	if s.ttl.TTLMillis <= 0 {
		for _, e := range es {
			out = append(out, e.v)
		}
		return out
	}
	now := s.b.now()
	kept := es[:0:0]
	changed := false
	for _, e := range es {
		if e.exp != 0 && e.exp <= now {
			changed = true
			if s.ttl.Visibility == statebackend.ReturnExpiredIfNotCleanedUp {
				out = append(out, e.v)
			}
			continue
		}
		if e.exp != 0 && s.ttl.Update == statebackend.OnReadAndWrite {
			e.exp = s.expiry(now)
			changed = true
		}
		out = append(out, e.v)
		kept = append(kept, e)
	}
	switch {
	case len(kept) == 0:
		s.del(key)
	case changed:
		s.vbuf = s.vbuf[:0]
		for _, e := range kept {
			s.vbuf = s.appendFrame(s.vbuf, e.v, e.exp)
		}
		s.set(key, s.vbuf)
	}
	s.maybeCleanup()
	return out
}

func (s *List[K, N, V]) appendFrame(dst []byte, v V, exp int64) []byte {
	// Encode the element after a one-byte placeholder, then fix up the
	// length (a uvarint of more than one byte shifts the element).
	at := len(dst)
	dst = append(dst, 0)
	dst = binary.AppendVarint(dst, exp)
	dst = s.vc.Append(dst, v)
	n := len(dst) - at - 1
	if n < 0x80 {
		dst[at] = byte(n)
		return dst
	}
	var hdr [binary.MaxVarintLen64]byte
	h := binary.PutUvarint(hdr[:], uint64(n))
	dst = append(dst, hdr[:h-1]...)
	copy(dst[at+h:], dst[at+1:at+1+n])
	copy(dst[at:], hdr[:h])
	return dst
}

// Add appends v.
func (s *List[K, N, V]) Add(v V) {
	var exp int64
	if s.ttl.TTLMillis > 0 {
		exp = s.expiry(s.b.now())
	}
	s.vbuf = s.appendFrame(s.vbuf[:0], v, exp)
	if err := s.b.db.Merge(s.key(), s.vbuf); err != nil {
		s.fail("merge", err)
	}
	s.maybeCleanup()
}

// AddAll appends vs.
func (s *List[K, N, V]) AddAll(vs []V) {
	if len(vs) == 0 {
		return
	}
	var exp int64
	if s.ttl.TTLMillis > 0 {
		exp = s.expiry(s.b.now())
	}
	s.vbuf = s.vbuf[:0]
	for _, v := range vs {
		s.vbuf = s.appendFrame(s.vbuf, v, exp)
	}
	if err := s.b.db.Merge(s.key(), s.vbuf); err != nil {
		s.fail("merge", err)
	}
}

// Update replaces the list with vs.
func (s *List[K, N, V]) Update(vs []V) {
	if len(vs) == 0 {
		s.Clear()
		return
	}
	var exp int64
	if s.ttl.TTLMillis > 0 {
		exp = s.expiry(s.b.now())
	}
	s.vbuf = s.vbuf[:0]
	for _, v := range vs {
		s.vbuf = s.appendFrame(s.vbuf, v, exp)
	}
	s.set(s.key(), s.vbuf)
}

func (s *List[K, N, V]) maybeCleanup() {
	if s.cleanupDue() {
		s.cleanup(&s.cursor, 64*s.ttl.CleanupPerAccess, func(v []byte, now int64) bool {
			// A list goes when every element expired.
			for len(v) > 0 {
				l, m := binary.Uvarint(v)
				if m <= 0 || uint64(len(v)-m) < l {
					return false
				}
				exp, a := binary.Varint(v[m:])
				if a <= 0 || exp == 0 || exp > now {
					return false
				}
				v = v[m+int(l):]
			}
			return true
		})
	}
}

// importGroup writes a canonical list section body: per entry the
// namespace, key, count, then (expiry, value) per element.
func (s *List[K, N, V]) importGroup(w kv.Batch, kg int, body []byte) error {
	var key, val []byte
	for len(body) > 0 {
		nkLen, err := s.nkLen(body, kg)
		if err != nil {
			return err
		}
		cnt, c := binary.Uvarint(body[nkLen:])
		if c <= 0 || cnt > uint64(len(body)) {
			return fmt.Errorf("%w: list length", codec.ErrCorrupt)
		}
		key = entryKey(key[:0], s.sid, kg, body[:nkLen])
		src := body[nkLen+c:]
		val = val[:0]
		for i := uint64(0); i < cnt; i++ {
			_, a := binary.Varint(src)
			if a <= 0 {
				return fmt.Errorf("%w: expiry", codec.ErrCorrupt)
			}
			_, b, err := s.vc.Decode(src[a:])
			if err != nil {
				return err
			}
			val = binary.AppendUvarint(val, uint64(a+b))
			val = append(val, src[:a+b]...)
			src = src[a+b:]
		}
		if err := w.Merge(key, val); err != nil {
			return err
		}
		body = src
	}
	return nil
}

// Map is a map per key and namespace: one Pebble entry per user key; with
// TTL each entry expires on its own.
type Map[K comparable, N any, UK comparable, UV any] struct {
	base[K, N]
	entries[K, N, UV]
	ukc   codec.Codec[UK]
	ukbuf []byte
}

// NewMap registers a map state.
func NewMap[K comparable, N any, UK comparable, UV any](b *Backend[K], ttl statebackend.TTL) *Map[K, N, UK, UV] {
	s := &Map[K, N, UK, UV]{base: newBase[K, N](b, ttl)}
	var err error
	if s.vc, err = codec.For[UV](); err != nil && s.err == nil {
		s.err = fmt.Errorf("value type: %w", err)
	}
	if s.ukc, err = codec.For[UK](); err != nil && s.err == nil {
		s.err = fmt.Errorf("map key type: %w", err)
	}
	s.initCache(&s.base)
	s.SetNamespace(*new(N))
	b.register(s)
	return s
}

// StateKind returns the section kind.
func (s *Map[K, N, UK, UV]) StateKind() byte { return statebackend.KindMap }

// StateSchema returns the encoding layout.
func (s *Map[K, N, UK, UV]) StateSchema() string {
	return codec.Schema[K]() + "|" + codec.Schema[N]() + "|" + codec.Schema[UV]() + "|" + codec.Schema[UK]()
}

// ukey returns the Pebble key of user key uk under the current key.
func (s *Map[K, N, UK, UV]) ukey(uk UK) []byte {
	k := s.key()
	k = s.ukc.Append(k, uk)
	s.kbuf = k
	return k
}

// Get returns the value under uk.
func (s *Map[K, N, UK, UV]) Get(uk UK) (UV, bool) { return s.read(&s.base, s.ukey(uk)) }

// Contains reports whether uk has a live value.
func (s *Map[K, N, UK, UV]) Contains(uk UK) bool {
	_, ok := s.Get(uk)
	return ok
}

// Put sets uk to uv.
func (s *Map[K, N, UK, UV]) Put(uk UK, uv UV) {
	var exp int64
	if s.ttl.TTLMillis > 0 {
		exp = s.expiry(s.b.now())
	}
	s.store(&s.base, s.ukey(uk), uv, exp)
	s.maybeCleanup(&s.base)
}

// Remove deletes uk.
func (s *Map[K, N, UK, UV]) Remove(uk UK) { s.remove(&s.base, s.ukey(uk)) }

// Clear removes every entry of the current key.
func (s *Map[K, N, UK, UV]) Clear() {
	if s.cache != nil {
		// The range deletion below must not be undone by cached writes,
		// nor hidden by cached reads: apply and forget the cache.
		s.ready()
		if err := s.cache.reset(s.b.db); err != nil {
			s.fail("cache", err)
		}
	}
	lo := s.key()
	hi := prefixEnd(lo)
	if err := s.b.db.DeleteRange(lo, hi); err != nil {
		s.fail("delete range", err)
	}
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// IsEmpty reports whether the current key has no live entries.
func (s *Map[K, N, UK, UV]) IsEmpty() bool {
	empty := true
	s.All()(func(UK, UV) bool { empty = false; return false })
	return empty
}

// All iterates the live entries of the current key in user-key byte
// order. Expired entries met on the way are removed after the iteration.
func (s *Map[K, N, UK, UV]) All() func(yield func(UK, UV) bool) {
	return func(yield func(UK, UV) bool) {
		lo := append([]byte(nil), s.key()...)
		if err := s.b.flushCaches(); err != nil {
			s.fail("iterate", err)
		}
		it, err := s.b.db.NewIter(lo, prefixEnd(lo))
		if err != nil {
			s.fail("iterate", err)
		}
		var now int64
		if s.ttl.TTLMillis > 0 {
			now = s.b.now()
		}
		var expired [][]byte
		type kv struct {
			uk UK
			v  UV
		}
		// Decode before yielding: the body may write to the state, which
		// an open iterator would not see (and must not be kept open over).
		var items []kv
		for it.First(); it.Valid(); it.NextPrefix() {
			raw, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				s.fail("iterate", err)
			}
			exp, n := binary.Varint(raw)
			if n <= 0 {
				it.Close()
				s.fail("decode", fmt.Errorf("%w: expiry", codec.ErrCorrupt))
			}
			if exp != 0 && exp <= now && s.ttl.Visibility == statebackend.NeverReturnExpired {
				expired = append(expired, append([]byte(nil), it.Key()...))
				continue
			}
			uk, _, err := s.ukc.Decode(it.Key()[len(lo):])
			if err != nil {
				it.Close()
				s.fail("decode", err)
			}
			v, _, err := s.vc.Decode(raw[n:])
			if err != nil {
				it.Close()
				s.fail("decode", err)
			}
			items = append(items, kv{uk, v})
		}
		if err := it.Close(); err != nil {
			s.fail("iterate", err)
		}
		for _, k := range expired {
			s.del(k)
			if s.dropCached != nil {
				s.dropCached(k)
			}
		}
		for _, e := range items {
			if !yield(e.uk, e.v) {
				return
			}
		}
	}
}

// importGroup writes a canonical map section body: per entry the
// namespace, key, count, then (user key, expiry, value) per entry.
func (s *Map[K, N, UK, UV]) importGroup(w kv.Batch, kg int, body []byte) error {
	var key []byte
	for len(body) > 0 {
		nkLen, err := s.nkLen(body, kg)
		if err != nil {
			return err
		}
		cnt, c := binary.Uvarint(body[nkLen:])
		if c <= 0 || cnt > uint64(len(body)) {
			return fmt.Errorf("%w: map length", codec.ErrCorrupt)
		}
		nk := body[:nkLen]
		src := body[nkLen+c:]
		for i := uint64(0); i < cnt; i++ {
			_, u, err := s.ukc.Decode(src)
			if err != nil {
				return err
			}
			_, a := binary.Varint(src[u:])
			if a <= 0 {
				return fmt.Errorf("%w: expiry", codec.ErrCorrupt)
			}
			_, b, err := s.vc.Decode(src[u+a:])
			if err != nil {
				return err
			}
			key = append(entryKey(key[:0], s.sid, kg, nk), src[:u]...)
			if err := w.Set(key, src[u:u+a+b]); err != nil {
				return err
			}
			src = src[u+a+b:]
		}
		body = src
	}
	return nil
}

// Reducing keeps one value per key and namespace, folding every added value
// into it with a reduce function.
type Reducing[K comparable, N, V any] = statebackend.ReducingValue[K, N, V]

// NewReducing registers a reducing state.
func NewReducing[K comparable, N, V any](b *Backend[K], ttl statebackend.TTL, reduce func(a, b V) (V, error)) *Reducing[K, N, V] {
	return &Reducing[K, N, V]{Value: NewValue[K, N, V](b, ttl), Reduce: reduce}
}

// Aggregating keeps an accumulator per key and namespace.
type Aggregating[K comparable, N, IN, ACC, OUT any] = statebackend.AggregatingValue[K, N, IN, ACC, OUT]

// NewAggregating registers an aggregating state.
func NewAggregating[K comparable, N, IN, ACC, OUT any](b *Backend[K], ttl statebackend.TTL, agg statebackend.Aggregator[IN, ACC, OUT]) *Aggregating[K, N, IN, ACC, OUT] {
	return &Aggregating[K, N, IN, ACC, OUT]{Value: NewValue[K, N, ACC](b, ttl), Agg: agg}
}

// entries reads and writes the entries of a value or map state (varint
// expiry, then the value) under their Pebble keys, through the state's
// entry cache when it has one.
type entries[K comparable, N, V any] struct {
	vc     codec.Codec[V]
	cache  *entryCache[V]
	vbuf   []byte
	cursor cleanupCursor
}

// read returns the live value under key, applying the state's TTL: an
// expired entry is removed (and returned only with
// ReturnExpiredIfNotCleanedUp), a live one refreshed with OnReadAndWrite.
func (e *entries[K, N, V]) read(s *base[K, N], key []byte) (V, bool) {
	v, exp, ok := e.load(s, key)
	if !ok {
		var zero V
		return zero, false
	}
	if exp != 0 {
		now := s.b.now()
		if exp <= now {
			e.remove(s, key)
			if s.ttl.Visibility == statebackend.NeverReturnExpired {
				var zero V
				return zero, false
			}
			return v, true
		}
		if s.ttl.Update == statebackend.OnReadAndWrite {
			e.store(s, key, v, s.expiry(now))
		}
		e.maybeCleanup(s)
	}
	return v, true
}

// maybeCleanup runs the incremental TTL cleanup when it is due: entries
// whose expiry passed are deleted.
func (e *entries[K, N, V]) maybeCleanup(s *base[K, N]) {
	if s.cleanupDue() {
		s.cleanup(&e.cursor, 64*s.ttl.CleanupPerAccess, func(v []byte, now int64) bool {
			exp, n := binary.Varint(v)
			return n > 0 && exp != 0 && exp <= now
		})
	}
}

// initCache gives the state an entry cache, if the backend keeps them.
func (e *entries[K, N, V]) initCache(s *base[K, N]) {
	if e.cache = newEntryCache(s.b.opts.EntryCache, e.vc); e.cache != nil {
		s.b.caches = append(s.b.caches, e.cache)
		s.dropCached = e.cache.drop
	}
}

// load reads the entry under key: from the cache, else from Pebble
// (caching what it found).
func (e *entries[K, N, V]) load(s *base[K, N], key []byte) (v V, exp int64, ok bool) {
	if e.cache != nil {
		v, exp, ok, hit, err := e.cache.lookup(key)
		if err != nil {
			s.fail("decode", err)
		}
		if hit {
			return v, exp, ok
		}
	}
	ok = s.get(key, func(raw []byte) error {
		x, n := binary.Varint(raw)
		if n <= 0 {
			return fmt.Errorf("%w: expiry", codec.ErrCorrupt)
		}
		exp = x
		var err error
		v, _, err = e.vc.Decode(raw[n:])
		return err
	})
	if e.cache != nil {
		if err := e.cache.note(s.b.db, key, v, exp, ok); err != nil {
			s.fail("cache", err)
		}
	}
	return v, exp, ok
}

// store writes v under key.
func (e *entries[K, N, V]) store(s *base[K, N], key []byte, v V, exp int64) {
	if e.cache != nil {
		if err := e.cache.write(s.b.db, key, v, exp, true); err != nil {
			s.fail("cache", err)
		}
		return
	}
	e.vbuf = e.vc.Append(binary.AppendVarint(e.vbuf[:0], exp), v)
	s.set(key, e.vbuf)
}

// remove deletes the entry under key.
func (e *entries[K, N, V]) remove(s *base[K, N], key []byte) {
	if e.cache != nil {
		var zero V
		if err := e.cache.write(s.b.db, key, zero, 0, false); err != nil {
			s.fail("cache", err)
		}
		return
	}
	s.del(key)
}
