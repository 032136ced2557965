// Package heap is the in-memory keyed state backend: Go maps holding values
// directly (no serialisation on access). A map state without TTL of integer
// user keys and values of at most 4 bytes keeps each key's entries in a
// packed open-addressing table instead (packed.go).
//
// A state without namespace keeps one map per key group, so that a snapshot
// writes, and a restore reads, state key group by key group, which is what
// rescaling needs. A namespaced state (windows) keeps one map per live
// namespace, keyed by the key alone (see base).
//
// Snapshots are copy-on-write: SnapshotAsync only records which maps the
// snapshot sees (a pointer per key group or namespace) and returns; the
// serialisation runs later on another goroutine while the task goes on.
// Until it finished, the first write to a map the snapshot sees clones that
// map (and, for map state, the inner map of the key) first. Values that
// hold pointers, slices or maps could be changed in place where no map
// copy sees it: a value state hands out such a value, after a capture, as
// a copy it keeps from then on (fork, as Flink's CopyOnWriteStateMap
// copies an entry older than the snapshot on its first access), so the
// snapshot's writer reads the captured object while the task changes its
// copy; list and map states of such values are encoded when the snapshot
// is captured instead (a longer pause, never a torn snapshot).
//
// Concurrency: a Backend and its states belong to one subtask goroutine;
// only the function returned by SnapshotAsync may run on another, reading
// maps that the task no longer writes.
package heap

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/statebackend"
)

// Backend holds the keyed states of one operator subtask.
type Backend[K comparable] struct {
	kc      *statebackend.KeyContext[K]
	now     func() int64
	states  []Snapshottable
	seq     int
	kcodec  codec.Codec[K]
	kerr    error
	pending map[string]*restored
	orphans map[string]*restored
	// sealed: Seal ran; a state named later claims its restored state
	// from orphans (claimLate).
	sealed bool
	// requireCodecs: Seal checks that every state can be encoded (the job
	// takes snapshots).
	requireCodecs bool
	// epoch counts snapshots; a map created (or cloned) at an epoch below
	// the current one is seen by a snapshot, and while one is being
	// written (inflight > 0) it must be cloned before it is changed.
	epoch    uint64
	inflight atomic.Int32
}

// New returns a backend reading the current key from kc and processing time
// (milliseconds, for TTL) from now.
func New[K comparable](kc *statebackend.KeyContext[K], now func() int64) *Backend[K] {
	return &Backend[K]{kc: kc, now: now}
}

// KeyContext returns the backend's key context.
func (b *Backend[K]) KeyContext() *statebackend.KeyContext[K] { return b.kc }

// shared reports whether a map stamped with epoch e may be read by a
// snapshot being written.
func (b *Backend[K]) shared(e uint64) bool {
	return e < b.epoch && b.inflight.Load() > 0
}

// nsKey is a (namespace, key) pair, used where both are needed together
// (snapshots, iteration).
type nsKey[K, N comparable] struct {
	n N
	k K
}

type entry[V any] struct {
	v   V
	exp int64 // expiry in ms; 0 = none
}

// space is the map of one namespace, stamped with the epoch it was created
// or cloned at.
type space[K comparable, E any] struct {
	m     map[K]E
	epoch uint64
}

// base holds what all state kinds share.
//
// Layout: a state without namespace (N is struct{}) keeps one map per key
// group, keyed by the key alone. A namespaced state (windows) keeps one map
// per live namespace, keyed by the key: a record touches one small map of
// namespaces (hot in cache: few windows are live) and then a map keyed by
// the key alone, which Go hashes on its fast path; and when every key of a
// window is cleared the window's whole map goes. Key groups of namespaced
// entries are computed when a snapshot is taken.
type base[K, N comparable, E any] struct {
	name string
	b    *Backend[K]
	ttl  statebackend.TTL
	void bool
	ns   N
	// groups: void namespace, one map per key group, with its epoch.
	groups []map[K]E
	gepoch []uint64
	// spaces: other namespaces; space is spaces[ns] (nil if absent).
	spaces map[N]*space[K, E]
	space  *space[K, E]
}

func newBase[K, N comparable, E any](b *Backend[K], ttl statebackend.TTL) base[K, N, E] {
	var zero N
	s := base[K, N, E]{name: b.autoName(), b: b, ttl: ttl, void: unsafe.Sizeof(zero) == 0}
	if s.void {
		s.groups = make([]map[K]E, b.kc.Range.Len())
		s.gepoch = make([]uint64, b.kc.Range.Len())
		for i := range s.groups {
			s.groups[i] = map[K]E{}
			s.gepoch[i] = b.epoch
		}
	} else {
		s.spaces = map[N]*space[K, E]{}
	}
	return s
}

// SetNamespace selects the namespace (e.g. window) that accesses refer to.
func (s *base[K, N, E]) SetNamespace(n N) {
	s.ns = n
	if !s.void {
		s.space = s.spaces[n]
	}
}

// read returns the map holding the current key's entry, for reading only
// (nil if the current namespace has no entries yet).
func (s *base[K, N, E]) read() map[K]E {
	if s.void {
		return s.groups[s.b.kc.Index]
	}
	if s.space == nil {
		return nil
	}
	return s.space.m
}

// write returns the map holding the current key's entry, ready to be
// changed: created if absent, cloned first if a snapshot being written
// sees it.
func (s *base[K, N, E]) write() map[K]E {
	if s.void {
		i := s.b.kc.Index
		if s.b.shared(s.gepoch[i]) {
			s.groups[i] = maps.Clone(s.groups[i])
			s.gepoch[i] = s.b.epoch
		}
		return s.groups[i]
	}
	switch {
	case s.space == nil:
		s.space = &space[K, E]{m: map[K]E{}, epoch: s.b.epoch}
		s.spaces[s.ns] = s.space
	case s.b.shared(s.space.epoch):
		s.space = &space[K, E]{m: maps.Clone(s.space.m), epoch: s.b.epoch}
		s.spaces[s.ns] = s.space
	}
	return s.space.m
}

// remove deletes the current key's entry and drops the namespace's map
// once it is empty.
func (s *base[K, N, E]) remove() {
	m := s.read()
	if m == nil {
		return
	}
	if _, ok := m[s.b.kc.Key]; !ok {
		return
	}
	delete(s.write(), s.b.kc.Key)
	if !s.void && len(s.space.m) == 0 {
		delete(s.spaces, s.ns)
		s.space = nil
	}
}

// mapFor returns the map of namespace n and key group idx for restores.
func (s *base[K, N, E]) mapFor(n N, idx int) map[K]E {
	if s.void {
		return s.groups[idx]
	}
	sp := s.spaces[n]
	if sp == nil {
		sp = &space[K, E]{m: map[K]E{}, epoch: s.b.epoch}
		s.spaces[n] = sp
		if n == s.ns {
			s.space = sp
		}
	}
	return sp.m
}

// view is what a snapshot sees of a state: the maps as they were when it
// was taken.
type view[K, N comparable, E any] struct {
	groups []map[K]E
	spaces map[N]*space[K, E]
}

// freeze captures the state's maps for a snapshot. The caller has already
// advanced the backend's epoch, so the maps captured are cloned before any
// later change.
func (s *base[K, N, E]) freeze() view[K, N, E] {
	if s.void {
		return view[K, N, E]{groups: append([]map[K]E(nil), s.groups...)}
	}
	return view[K, N, E]{spaces: maps.Clone(s.spaces)}
}

// forGroup calls fn for every entry of a view, key group by key group in
// ascending order; it runs on the snapshot's goroutine.
func (v view[K, N, E]) forGroup(kc *statebackend.KeyContext[K], idx int, index *map[int][]nsKey[K, N], fn func(n N, k K, e E)) {
	if v.groups != nil {
		var zero N
		for k, e := range v.groups[idx] {
			fn(zero, k, e)
		}
		return
	}
	if *index == nil {
		// Index namespaced entries by key group once per snapshot.
		*index = map[int][]nsKey[K, N]{}
		for n, sp := range v.spaces {
			for k := range sp.m {
				i := kc.GroupOf(k) - kc.Range.Start
				(*index)[i] = append((*index)[i], nsKey[K, N]{n, k})
			}
		}
	}
	for _, nk := range (*index)[idx] {
		fn(nk.n, nk.k, v.spaces[nk.n].m[nk.k])
	}
}

func (s *base[K, N, E]) expiry(now int64) int64 {
	if s.ttl.TTLMillis <= 0 {
		return 0
	}
	return now + s.ttl.TTLMillis
}

// Clear removes the current key's entry in the current namespace.
func (s *base[K, N, E]) Clear() { s.remove() }

// Len returns the number of (key, namespace) entries, for tests and metrics.
func (s *base[K, N, E]) Len() int {
	n := 0
	for _, g := range s.groups {
		n += len(g)
	}
	for _, sp := range s.spaces {
		n += len(sp.m)
	}
	return n
}

// Namespaces appends the namespaces that hold entries to dst (none for a
// state without namespace).
func (s *base[K, N, E]) Namespaces(dst []N) []N {
	for n := range s.spaces {
		dst = append(dst, n)
	}
	return dst
}

// KeysIn appends the keys with an entry in namespace n to dst.
func (s *base[K, N, E]) KeysIn(n N, dst []K) []K {
	if sp := s.spaces[n]; sp != nil {
		for k := range sp.m {
			dst = append(dst, k)
		}
	}
	return dst
}

// FreezeKeys captures the (key, namespace) pairs with an entry, copied on
// write as a snapshot's capture is: call it only while the backend takes a
// snapshot (from a registered state's Freeze). The function it returns
// lists the pairs of key group idx (relative to the range), for ascending
// idx, and may run on the snapshot's goroutine until the snapshot is
// written.
func (s *base[K, N, E]) FreezeKeys() func(idx int, fn func(k K, n N)) {
	v := s.freeze()
	var index map[int][]nsKey[K, N]
	return func(idx int, fn func(k K, n N)) {
		v.forGroup(s.b.kc, idx, &index, func(n N, k K, _ E) { fn(k, n) })
	}
}

// ForEachKey calls fn for every (key, namespace) in the state.
func (s *base[K, N, E]) ForEachKey(fn func(k K, n N)) error {
	var zero N
	for _, g := range s.groups {
		for k := range g {
			fn(k, zero)
		}
	}
	for n, sp := range s.spaces {
		for k := range sp.m {
			fn(k, n)
		}
	}
	return nil
}

// Value is a single value per key and namespace.
type Value[K, N comparable, V any] struct {
	base[K, N, entry[V]]
	c *stateCodecs[K, N, V]
	// mut: values of type V can be changed in place (they hold pointers,
	// slices or maps): while a snapshot is being written, Value hands
	// out a copy of a value the snapshot may see (fork).
	mut bool
	// copier: V has a CopyState method (state.Copier), which fork uses
	// instead of the codec.
	copier bool
	// nilable: V is a pointer or interface type, whose nil fork hands
	// out as it is (there is nothing to copy, and CopyState could
	// dereference it).
	nilable bool
	// skipped: V reaches struct fields the codec leaves out (weir:"-"),
	// which fork's codec copy takes over from the original (keepSkipped).
	skipped bool
	// forked holds the (namespace, key) pairs whose value was copied or
	// set since the capture of epoch forkEpoch, the latest: their value
	// is no snapshot's. Nil while no snapshot is being written.
	forked    map[nsKey[K, N]]struct{}
	forkEpoch uint64
	// buf is fork's encoding buffer.
	buf []byte
}

// NewValue registers a value state.
func NewValue[K, N comparable, V any](b *Backend[K], ttl statebackend.TTL) *Value[K, N, V] {
	s := &Value[K, N, V]{base: newBase[K, N, entry[V]](b, ttl), mut: mutableOf[V]()}
	var zero V
	_, s.copier = any(zero).(interface{ CopyState() V })
	if s.mut {
		t := reflect.TypeFor[V]()
		s.nilable = t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface
		s.skipped = !s.copier && hasSkipped(t, map[reflect.Type]bool{})
	}
	b.register(s)
	return s
}

// unshared reports whether no snapshot being written may see the current
// key's value (the capture of the latest snapshot came before the value
// was copied or set), and drops the record of copies once no snapshot is
// being written.
func (s *Value[K, N, V]) unshared() bool {
	if s.b.inflight.Load() == 0 {
		s.forked = nil
		return true
	}
	if s.forked == nil || s.forkEpoch != s.b.epoch {
		return false
	}
	_, ok := s.forked[nsKey[K, N]{s.ns, s.b.kc.Key}]
	return ok
}

// markForked records that the current key's value is no snapshot's (a
// snapshot is being written).
func (s *Value[K, N, V]) markForked() {
	if s.forked == nil || s.forkEpoch != s.b.epoch {
		s.forked = map[nsKey[K, N]]struct{}{}
		s.forkEpoch = s.b.epoch
	}
	s.forked[nsKey[K, N]{s.ns, s.b.kc.Key}] = struct{}{}
}

// copyOf returns a copy of v that shares no memory the task may change
// with v: v.CopyState() if V has that method (state.Copier), else v
// encoded and decoded with the state's codec.
func (s *Value[K, N, V]) copyOf(v V) V {
	if s.nilable && isNil(v) {
		return v
	}
	if s.copier {
		return any(v).(interface{ CopyState() V }).CopyState()
	}
	c := s.codecs()
	if c.err != nil {
		// No snapshot can hold a value that cannot be encoded.
		return v
	}
	s.buf = c.v.Append(s.buf[:0], v)
	cp, _, err := c.v.Decode(s.buf)
	if err != nil {
		// The state has no error path: fail the task as a panic does.
		panic(fmt.Errorf("heap: state %q: copying a value a snapshot is writing: %w", s.name, err))
	}
	if s.skipped {
		keepSkipped(reflect.ValueOf(&cp).Elem(), reflect.ValueOf(&v).Elem())
	}
	return cp
}

// isNil reports whether v, of a pointer or interface type, is nil: its
// first word (the pointer; an interface's type word) is.
func isNil[V any](v V) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&v)) == nil
}

// fork makes the current key's live entry e, whose value may be changed
// in place, a copy of its value if a snapshot being written may see it:
// the snapshot's writer encodes the captured object, which the task no
// longer reaches, while the task goes on with the copy. A value is copied
// at most once per snapshot; untouched values are not copied at all.
func (s *Value[K, N, V]) fork(e entry[V]) entry[V] {
	if s.unshared() {
		return e
	}
	e.v = s.copyOf(e.v)
	s.write()[s.b.kc.Key] = e
	s.markForked()
	return e
}

// Value returns the current value, and false if there is none (or it
// expired).
func (s *Value[K, N, V]) Value() (V, bool) {
	k := s.b.kc.Key
	e, ok := s.read()[k]
	if !ok {
		var zero V
		return zero, false
	}
	if e.exp != 0 {
		now := s.b.now()
		if e.exp <= now {
			if s.mut && !s.unshared() {
				// Removed, but a snapshot may still see it.
				e.v = s.copyOf(e.v)
			}
			s.remove()
			if s.ttl.Visibility == statebackend.NeverReturnExpired {
				var zero V
				return zero, false
			}
			return e.v, true
		}
		if s.ttl.Update == statebackend.OnReadAndWrite {
			e.exp = s.expiry(now)
			s.write()[k] = e
		}
		s.cleanup(now)
	}
	if s.mut {
		e = s.fork(e)
	}
	return e.v, true
}

// Update sets the current value.
func (s *Value[K, N, V]) Update(v V) {
	var exp int64
	if s.ttl.TTLMillis > 0 {
		now := s.b.now()
		exp = s.expiry(now)
		s.cleanup(now)
	}
	s.write()[s.b.kc.Key] = entry[V]{v: v, exp: exp}
	if s.mut && s.b.inflight.Load() > 0 {
		// A value set after the latest capture is no snapshot's (the
		// caller no longer changes what it gave before).
		s.markForked()
	}
}

// KeepsReferences reports whether the state keeps the values it is given
// as they are, so that a value pointing to memory may be changed through
// that pointer without an Update (state.InPlace): true without TTL (with
// TTL, Update refreshes the expiry). While a snapshot is being written,
// Value hands out a copy of a value the snapshot sees (fork), so such
// changes never tear a snapshot.
func (s *Value[K, N, V]) KeepsReferences() bool { return s.ttl.TTLMillis <= 0 }

// cleanup removes up to CleanupPerAccess expired entries of the current
// map (Flink's incremental cleanup). It leaves the current key alone.
func (s *Value[K, N, V]) cleanup(now int64) {
	n := s.ttl.CleanupPerAccess
	m := s.read()
	if n <= 0 || len(m) == 0 {
		return
	}
	var w map[K]entry[V]
	for k, e := range m {
		if e.exp != 0 && e.exp <= now && k != s.b.kc.Key {
			if w == nil {
				w = s.write()
			}
			delete(w, k)
		}
		if n--; n == 0 {
			return
		}
	}
}

// List is a list of values per key and namespace; with TTL each element
// expires on its own.
type List[K, N comparable, V any] struct {
	base[K, N, []entry[V]]
	c *stateCodecs[K, N, V]
}

// NewList registers a list state.
func NewList[K, N comparable, V any](b *Backend[K], ttl statebackend.TTL) *List[K, N, V] {
	s := &List[K, N, V]{base: newBase[K, N, []entry[V]](b, ttl)}
	b.register(s)
	return s
}

// Get returns the current list (a copy the caller may keep). With TTL,
// expired elements are removed and, with OnReadAndWrite, the others
// refreshed.
func (s *List[K, N, V]) Get() []V {
	es := s.read()[s.b.kc.Key]
	if len(es) == 0 {
		return nil
	}
	return s.AppendList(make([]V, 0, len(es)))
}

// AppendList appends the current list to dst and returns the extended
// slice: what Get returns, into a slice the caller reuses (an operator
// that reads a key's list for every record allocates no copy). With TTL,
// expired elements are removed and, with OnReadAndWrite, the others
// refreshed, as by Get.
func (s *List[K, N, V]) AppendList(dst []V) []V {
	k := s.b.kc.Key
	es := s.read()[k]
	if len(es) == 0 {
		return dst
	}
	if s.ttl.TTLMillis <= 0 {
		for _, e := range es {
			dst = append(dst, e.v)
		}
		return dst
	}
	now := s.b.now()
	// Nothing to change: no copy of the stored slice.
	changed := false
	for _, e := range es {
		if e.exp != 0 && (e.exp <= now || s.ttl.Update == statebackend.OnReadAndWrite) {
			changed = true
			break
		}
	}
	if !changed {
		for _, e := range es {
			dst = append(dst, e.v)
		}
		return dst
	}
	// A new slice, never the old one rewritten in place: a snapshot may
	// still read it.
	kept := make([]entry[V], 0, len(es))
	for _, e := range es {
		if e.exp != 0 && e.exp <= now {
			if s.ttl.Visibility == statebackend.ReturnExpiredIfNotCleanedUp {
				dst = append(dst, e.v)
			}
			continue
		}
		if e.exp != 0 && s.ttl.Update == statebackend.OnReadAndWrite {
			e.exp = s.expiry(now)
		}
		dst = append(dst, e.v)
		kept = append(kept, e)
	}
	if len(kept) == 0 {
		s.remove()
	} else {
		s.write()[k] = kept
	}
	return dst
}

// Add appends v. (Appending never changes elements a snapshot sees: it
// reads only up to the length it captured.)
func (s *List[K, N, V]) Add(v V) {
	var exp int64
	if s.ttl.TTLMillis > 0 {
		exp = s.expiry(s.b.now())
	}
	m := s.write()
	m[s.b.kc.Key] = append(m[s.b.kc.Key], entry[V]{v: v, exp: exp})
}

// AddAll appends vs.
func (s *List[K, N, V]) AddAll(vs []V) {
	for _, v := range vs {
		s.Add(v)
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
	es := make([]entry[V], len(vs))
	for i, v := range vs {
		es[i] = entry[V]{v: v, exp: exp}
	}
	s.write()[s.b.kc.Key] = es
}

// inner is the map of one key of a map state, stamped like space. The
// outer map holds it by value (no m and no p: none): a lookup follows one
// pointer fewer to reach the key's entries, which for many small keys is
// one cache miss fewer.
//
// Values are held directly, their expiries (with TTL) in a map of their
// own: exp holds the non-zero expiries, and is nil while every entry has
// none (always, without TTL). A state without TTL so has slots of user key
// and value only; as entry[UV] it carried 8 bytes of zero expiry in every
// slot (for an int64 set of bytes, 24-byte slots instead of 16: a third
// more memory to fault in, grow and miss on).
//
// A state without TTL whose user keys are integers and whose values have
// at most 4 bytes keeps a key's entries in p, a packed open-addressing
// table (packed.go), with m and exp nil, until a user key does not fit a
// slot (or a restored entry has an expiry): then the key's entries move to
// m for good (unpack).
type inner[UK comparable, UV any] struct {
	m     map[UK]UV
	exp   map[UK]int64
	p     []uint64
	epoch uint64
}

// absent reports whether in holds no entries (the key has none).
func (in inner[UK, UV]) absent() bool { return in.m == nil && in.p == nil }

// size returns the number of entries.
func (in inner[UK, UV]) size() int {
	if in.p != nil {
		return int(in.p[0])
	}
	return len(in.m)
}

// expOf returns the expiry of uk, 0 if none.
func (in inner[UK, UV]) expOf(uk UK) int64 {
	if in.exp == nil {
		return 0
	}
	return in.exp[uk]
}

// Map is a map per key and namespace; with TTL each entry expires on its own.
type Map[K, N, UK comparable, UV any] struct {
	base[K, N, inner[UK, UV]]
	c  *stateCodecs[K, N, UV]
	uk codec.Codec[UK]
	// pk: how entries pack into tables (ok false: they don't, or the
	// state has TTL).
	pk packing
	// iters: the first words of the packed tables being iterated (All).
	// A table being iterated is copied before it is changed, so that the
	// iteration sees every entry once however the loop body changes the
	// key's entries.
	iters []*uint64
	// gen counts the times the current key's entries were moved to new
	// storage (created, cloned, grown, unpacked) or cleared, so that a
	// range over a Go map notices that the loop body's changes went
	// elsewhere (iterate).
	gen uint64
	// all is s.iterate bound once, so that All does not allocate a
	// closure per call (operators iterate a key's map per record).
	all func(yield func(UK, UV) bool)
}

// NewMap registers a map state.
func NewMap[K, N, UK comparable, UV any](b *Backend[K], ttl statebackend.TTL) *Map[K, N, UK, UV] {
	s := &Map[K, N, UK, UV]{base: newBase[K, N, inner[UK, UV]](b, ttl)}
	if ttl.TTLMillis <= 0 {
		s.pk = packingOf[UK, UV]()
	}
	s.all = s.iterate
	b.register(s)
	return s
}

func (s *Map[K, N, UK, UV]) now() int64 {
	if s.ttl.TTLMillis > 0 {
		return s.b.now()
	}
	return 0
}

// iterated reports whether the packed table p is being iterated.
func (s *Map[K, N, UK, UV]) iterated(p []uint64) bool {
	for _, q := range s.iters {
		if q == &p[0] {
			return true
		}
	}
	return false
}

// own returns the current key's inner map ready to be changed (created, or
// cloned if a snapshot sees it or, packed, an iteration reads it).
func (s *Map[K, N, UK, UV]) own() inner[UK, UV] {
	m := s.write()
	k := s.b.kc.Key
	in := m[k]
	switch {
	case in.absent():
		if s.pk.ok {
			in = inner[UK, UV]{p: newPacked(0), epoch: s.b.epoch}
		} else {
			in = inner[UK, UV]{m: map[UK]UV{}, epoch: s.b.epoch}
		}
		m[k] = in
		s.gen++
	case s.b.shared(in.epoch) || (in.p != nil && len(s.iters) > 0 && s.iterated(in.p)):
		in = inner[UK, UV]{m: maps.Clone(in.m), exp: maps.Clone(in.exp), p: slices.Clone(in.p), epoch: s.b.epoch}
		m[k] = in
		s.gen++
	}
	return in
}

// unpacked returns in with its packed entries moved to a Go map.
func (s *Map[K, N, UK, UV]) unpacked(in inner[UK, UV]) inner[UK, UV] {
	m := make(map[UK]UV, in.p[0])
	for _, w := range in.p[1:] {
		if w != 0 {
			m[keyOf[UK](&s.pk, w)] = valueOf[UV](&s.pk, w)
		}
	}
	in.m, in.p = m, nil
	return in
}

// setExp sets the expiry of uk in in, the current key's inner map as own
// returned it (0: none), creating the map of expiries if needed.
func (s *Map[K, N, UK, UV]) setExp(in inner[UK, UV], uk UK, exp int64) {
	switch {
	case exp != 0 && in.exp == nil:
		in.exp = map[UK]int64{uk: exp}
		s.write()[s.b.kc.Key] = in
		s.gen++
	case exp != 0:
		in.exp[uk] = exp
	case in.exp != nil:
		delete(in.exp, uk)
	}
}

// drop removes uk from the current key's map, and the key once its map is
// empty.
func (s *Map[K, N, UK, UV]) drop(uk UK) {
	in := s.own()
	if in.p != nil {
		if x, ok := keyBits(&s.pk, uk); ok {
			if i := pfind(in.p, x, s.pk.sh); i >= 0 {
				pdelete(in.p, i, s.pk.sh)
			}
		}
		if in.p[0] == 0 {
			s.remove()
		}
		return
	}
	delete(in.m, uk)
	if in.exp != nil {
		delete(in.exp, uk)
	}
	if len(in.m) == 0 {
		s.remove()
	}
}

// Get returns the value under uk.
func (s *Map[K, N, UK, UV]) Get(uk UK) (UV, bool) {
	in := s.read()[s.b.kc.Key]
	if in.p != nil {
		if x, ok := keyBits(&s.pk, uk); ok {
			if i := pfind(in.p, x, s.pk.sh); i >= 0 {
				return valueOf[UV](&s.pk, in.p[1+i]), true
			}
		}
		var zero UV
		return zero, false
	}
	if in.m == nil {
		var zero UV
		return zero, false
	}
	v, ok := in.m[uk]
	if !ok {
		var zero UV
		return zero, false
	}
	if exp := in.expOf(uk); exp != 0 {
		now := s.b.now()
		if exp <= now {
			s.drop(uk)
			if s.ttl.Visibility == statebackend.NeverReturnExpired {
				var zero UV
				return zero, false
			}
			return v, true
		}
		if s.ttl.Update == statebackend.OnReadAndWrite {
			s.setExp(s.own(), uk, s.expiry(now))
		}
	}
	return v, true
}

// Contains reports whether uk has a live value.
func (s *Map[K, N, UK, UV]) Contains(uk UK) bool {
	_, ok := s.Get(uk)
	return ok
}

// Put sets uk to uv.
func (s *Map[K, N, UK, UV]) Put(uk UK, uv UV) {
	exp := s.expiry(s.now())
	in := s.own()
	if in.p != nil {
		if x, ok := keyBits(&s.pk, uk); ok {
			if p, grown := pput(in.p, x, valueBits(&s.pk, uv), s.pk.sh); grown {
				in.p = p
				s.write()[s.b.kc.Key] = in
				s.gen++
			}
			return
		}
		in = s.unpacked(in)
		s.write()[s.b.kc.Key] = in
		s.gen++
	}
	in.m[uk] = uv
	if exp != 0 || in.exp != nil {
		s.setExp(in, uk, exp)
	}
}

// Remove deletes uk.
func (s *Map[K, N, UK, UV]) Remove(uk UK) {
	in := s.read()[s.b.kc.Key]
	if in.p != nil {
		if x, ok := keyBits(&s.pk, uk); ok && pfind(in.p, x, s.pk.sh) >= 0 {
			s.drop(uk)
		}
		return
	}
	if in.m == nil {
		return
	}
	if _, ok := in.m[uk]; ok {
		s.drop(uk)
	}
}

// IsEmpty reports whether the current key has no live entries.
// (A loop of its own, not a range over All: that closure captured a
// local and cost an allocation per call; the regular join asks it for
// every record.) Expired entries met are removed, as All does.
func (s *Map[K, N, UK, UV]) IsEmpty() bool {
	in := s.read()[s.b.kc.Key]
	if in.absent() {
		return true
	}
	if in.exp == nil {
		return in.size() == 0
	}
	now := s.now()
	expired := false
	for uk := range in.m {
		if s.hidden(in.expOf(uk), now) {
			expired = true
			continue
		}
		if expired {
			s.dropExpired()
		}
		return false
	}
	if expired {
		s.dropExpired()
	}
	return true
}

// All iterates the live entries of the current key, in no particular order.
// Expired entries met on the way are removed after the iteration.
func (s *Map[K, N, UK, UV]) All() func(yield func(UK, UV) bool) { return s.all }

// AppendEntries appends the live entries of the current key to dst, in no
// particular order, and removes expired entries met on the way (as All).
func (s *Map[K, N, UK, UV]) AppendEntries(dst []statebackend.Entry[UK, UV]) []statebackend.Entry[UK, UV] {
	in := s.read()[s.b.kc.Key]
	if in.p != nil {
		for _, w := range in.p[1:] {
			if w != 0 {
				dst = append(dst, statebackend.Entry[UK, UV]{Key: keyOf[UK](&s.pk, w), Value: valueOf[UV](&s.pk, w)})
			}
		}
		return dst
	}
	if in.m == nil {
		return dst
	}
	if in.exp == nil {
		for uk, v := range in.m {
			dst = append(dst, statebackend.Entry[UK, UV]{Key: uk, Value: v})
		}
		return dst
	}
	now := s.now()
	expired := false
	for uk, v := range in.m {
		if s.hidden(in.expOf(uk), now) {
			expired = true
			continue
		}
		dst = append(dst, statebackend.Entry[UK, UV]{Key: uk, Value: v})
	}
	if expired {
		s.dropExpired()
	}
	return dst
}

// hidden reports whether an entry expiring at exp has expired and must not
// be returned.
func (s *Map[K, N, UK, UV]) hidden(exp, now int64) bool {
	return exp != 0 && exp <= now && s.ttl.Visibility == statebackend.NeverReturnExpired
}

// dropExpired removes the current key's expired entries (iterate drops
// those it meets).
func (s *Map[K, N, UK, UV]) dropExpired() { s.iterate(func(UK, UV) bool { return true }) }

func (s *Map[K, N, UK, UV]) iterate(yield func(UK, UV) bool) {
	in := s.read()[s.b.kc.Key]
	if in.p != nil {
		s.iteratePacked(in.p, yield)
		return
	}
	if in.m == nil {
		return
	}
	now := s.now()
	var expired []UK
	gen := s.gen
	for uk, v := range in.m {
		exp := in.expOf(uk)
		if s.gen != gen {
			// The loop body moved the key's entries (cloned them
			// while a snapshot reads in.m, or cleared the key): read
			// the entry as it is now, so that one removed before it
			// is reached is not produced, as a Go map's range does.
			var ok bool
			if v, exp, ok = s.peek(uk); !ok {
				continue
			}
		}
		if s.hidden(exp, now) {
			expired = append(expired, uk)
			continue
		}
		if !yield(uk, v) {
			break
		}
	}
	for _, uk := range expired {
		s.drop(uk)
	}
}

// peek returns the current key's entry under uk as it is, with its
// expiry, without removing it if it expired.
func (s *Map[K, N, UK, UV]) peek(uk UK) (v UV, exp int64, ok bool) {
	in := s.read()[s.b.kc.Key]
	if in.p != nil {
		if x, fits := keyBits(&s.pk, uk); fits {
			if i := pfind(in.p, x, s.pk.sh); i >= 0 {
				return valueOf[UV](&s.pk, in.p[1+i]), 0, true
			}
		}
		return v, 0, false
	}
	if v, ok = in.m[uk]; !ok {
		return v, 0, false
	}
	return v, in.expOf(uk), true
}

// Clear removes the current key's entries.
func (s *Map[K, N, UK, UV]) Clear() {
	s.gen++
	s.remove()
}

// iteratePacked iterates the packed table p of the current key. While it
// runs, p is copied before any change (own), so its slots stay as they
// were; an entry the loop body removed or changed before it was reached is
// looked up in the key's table as it is now (as a Go map's range does, an
// entry removed before it is reached is not produced).
func (s *Map[K, N, UK, UV]) iteratePacked(p []uint64, yield func(UK, UV) bool) {
	s.iters = append(s.iters, &p[0])
	defer func() { s.iters = s.iters[:len(s.iters)-1] }()
	for _, w := range p[1:] {
		if w == 0 {
			continue
		}
		if cur := s.read()[s.b.kc.Key].p; cur == nil || &cur[0] != &p[0] {
			// The loop body changed the key's entries: read the
			// entry as it is now.
			if cur == nil {
				if s.read()[s.b.kc.Key].m == nil {
					return // all removed
				}
				// Unpacked by a key that does not fit a slot.
				uk := keyOf[UK](&s.pk, w)
				v, ok := s.read()[s.b.kc.Key].m[uk]
				if ok && !yield(uk, v) {
					return
				}
				continue
			}
			i := pfind(cur, uint64(int64(w)>>s.pk.sh), s.pk.sh)
			if i < 0 {
				continue
			}
			w = cur[1+i]
		}
		if !yield(keyOf[UK](&s.pk, w), valueOf[UV](&s.pk, w)) {
			return
		}
	}
}

// Reducing keeps one value per key and namespace, folding every added value
// into it with a reduce function.
type Reducing[K, N comparable, V any] = statebackend.ReducingValue[K, N, V]

// NewReducing registers a reducing state.
func NewReducing[K, N comparable, V any](b *Backend[K], ttl statebackend.TTL, reduce func(a, b V) (V, error)) *Reducing[K, N, V] {
	return &Reducing[K, N, V]{Value: NewValue[K, N, V](b, ttl), Reduce: reduce}
}

// Aggregator is an incremental aggregate function (Flink's AggregateFunction).
type Aggregator[IN, ACC, OUT any] = statebackend.Aggregator[IN, ACC, OUT]

// Aggregating keeps an accumulator per key and namespace.
type Aggregating[K, N comparable, IN, ACC, OUT any] = statebackend.AggregatingValue[K, N, IN, ACC, OUT]

// NewAggregating registers an aggregating state.
func NewAggregating[K, N comparable, IN, ACC, OUT any](b *Backend[K], ttl statebackend.TTL, agg Aggregator[IN, ACC, OUT]) *Aggregating[K, N, IN, ACC, OUT] {
	return &Aggregating[K, N, IN, ACC, OUT]{Value: NewValue[K, N, ACC](b, ttl), Agg: agg}
}
