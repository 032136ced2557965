// Package heap is the in-memory keyed state backend: Go maps, one per key
// group per state, holding values directly (no serialisation on access).
//
// Keeping one map per key group lets a snapshot write, and a restore read,
// state key group by key group, which is what rescaling needs. Namespaces
// (the window a state belongs to) are part of the map key.
//
// Concurrency: a Backend and its states belong to one subtask goroutine.
package heap

import (
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
}

// New returns a backend reading the current key from kc and processing time
// (milliseconds, for TTL) from now.
func New[K comparable](kc *statebackend.KeyContext[K], now func() int64) *Backend[K] {
	return &Backend[K]{kc: kc, now: now}
}

// KeyContext returns the backend's key context.
func (b *Backend[K]) KeyContext() *statebackend.KeyContext[K] { return b.kc }

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
	// groups: void namespace, one map per key group.
	groups []map[K]E
	// spaces: other namespaces; space is spaces[ns] (nil if absent).
	spaces map[N]map[K]E
	space  map[K]E
	// snap indexes namespaced entries by key group during a snapshot.
	snap map[int][]nsKey[K, N]
}

func newBase[K, N comparable, E any](b *Backend[K], ttl statebackend.TTL) base[K, N, E] {
	var zero N
	s := base[K, N, E]{name: b.autoName(), b: b, ttl: ttl, void: unsafe.Sizeof(zero) == 0}
	if s.void {
		s.groups = make([]map[K]E, b.kc.Range.Len())
		for i := range s.groups {
			s.groups[i] = map[K]E{}
		}
	} else {
		s.spaces = map[N]map[K]E{}
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

// cur returns the map holding the current key's entry (nil if the current
// namespace has no entries yet: fine for reads and deletes) and the key.
func (s *base[K, N, E]) cur() (map[K]E, K) {
	if s.void {
		return s.groups[s.b.kc.Index], s.b.kc.Key
	}
	return s.space, s.b.kc.Key
}

// curW is cur for writing: it creates the namespace's map.
func (s *base[K, N, E]) curW() (map[K]E, K) {
	if s.void {
		return s.groups[s.b.kc.Index], s.b.kc.Key
	}
	if s.space == nil {
		s.space = map[K]E{}
		s.spaces[s.ns] = s.space
	}
	return s.space, s.b.kc.Key
}

// release drops the current namespace's map once it is empty.
func (s *base[K, N, E]) release() {
	if !s.void && s.space != nil && len(s.space) == 0 {
		delete(s.spaces, s.ns)
		s.space = nil
	}
}

// mapFor returns the map of namespace n and key group idx for restores.
func (s *base[K, N, E]) mapFor(n N, idx int) map[K]E {
	if s.void {
		return s.groups[idx]
	}
	m := s.spaces[n]
	if m == nil {
		m = map[K]E{}
		s.spaces[n] = m
		if n == s.ns {
			s.space = m
		}
	}
	return m
}

// forGroup calls fn for every entry of key group idx. For namespaced state
// it indexes all entries by key group when idx is 0 (snapshots visit the
// groups in order) and drops the index after the last group.
func (s *base[K, N, E]) forGroup(idx int, fn func(n N, k K, e E)) {
	if s.void {
		var zero N
		for k, e := range s.groups[idx] {
			fn(zero, k, e)
		}
		return
	}
	if idx == 0 || s.snap == nil {
		s.snap = map[int][]nsKey[K, N]{}
		start := s.b.kc.Range.Start
		for n, m := range s.spaces {
			for k := range m {
				i := s.b.kc.GroupOf(k) - start
				s.snap[i] = append(s.snap[i], nsKey[K, N]{n, k})
			}
		}
	}
	for _, nk := range s.snap[idx] {
		fn(nk.n, nk.k, s.spaces[nk.n][nk.k])
	}
	if idx == s.b.kc.Range.Len()-1 {
		s.snap = nil
	}
}

func (s *base[K, N, E]) expiry(now int64) int64 {
	if s.ttl.TTLMillis <= 0 {
		return 0
	}
	return now + s.ttl.TTLMillis
}

// Clear removes the current key's entry in the current namespace.
func (s *base[K, N, E]) Clear() {
	m, k := s.cur()
	delete(m, k)
	s.release()
}

// Len returns the number of (key, namespace) entries, for tests and metrics.
func (s *base[K, N, E]) Len() int {
	n := 0
	for _, g := range s.groups {
		n += len(g)
	}
	for _, m := range s.spaces {
		n += len(m)
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
	for k := range s.spaces[n] {
		dst = append(dst, k)
	}
	return dst
}

// ForEachKey calls fn for every (key, namespace) in the state.
func (s *base[K, N, E]) ForEachKey(fn func(k K, n N)) {
	var zero N
	for _, g := range s.groups {
		for k := range g {
			fn(k, zero)
		}
	}
	for n, m := range s.spaces {
		for k := range m {
			fn(k, n)
		}
	}
}

// Value is a single value per key and namespace.
type Value[K, N comparable, V any] struct {
	base[K, N, entry[V]]
	c *stateCodecs[K, N, V]
}

// NewValue registers a value state.
func NewValue[K, N comparable, V any](b *Backend[K], ttl statebackend.TTL) *Value[K, N, V] {
	s := &Value[K, N, V]{base: newBase[K, N, entry[V]](b, ttl)}
	b.register(s)
	return s
}

// Value returns the current value, and false if there is none (or it
// expired).
func (s *Value[K, N, V]) Value() (V, bool) {
	m, k := s.cur()
	e, ok := m[k]
	if !ok {
		var zero V
		return zero, false
	}
	if e.exp != 0 {
		now := s.b.now()
		if e.exp <= now {
			delete(m, k)
			s.release()
			if s.ttl.Visibility == statebackend.NeverReturnExpired {
				var zero V
				return zero, false
			}
			return e.v, true
		}
		if s.ttl.Update == statebackend.OnReadAndWrite {
			e.exp = s.expiry(now)
			m[k] = e
		}
		s.cleanup(m, now)
	}
	return e.v, true
}

// Update sets the current value.
func (s *Value[K, N, V]) Update(v V) {
	m, k := s.curW()
	var exp int64
	if s.ttl.TTLMillis > 0 {
		now := s.b.now()
		exp = s.expiry(now)
		s.cleanup(m, now)
	}
	m[k] = entry[V]{v: v, exp: exp}
}

func (s *Value[K, N, V]) cleanup(m map[K]entry[V], now int64) {
	n := s.ttl.CleanupPerAccess
	if n <= 0 {
		return
	}
	for k, e := range m {
		if e.exp != 0 && e.exp <= now {
			delete(m, k)
			s.release()
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

// Get returns the current list (a copy the caller may keep).
func (s *List[K, N, V]) Get() []V {
	m, k := s.cur()
	es := m[k]
	if len(es) == 0 {
		return nil
	}
	now := int64(0)
	if s.ttl.TTLMillis > 0 {
		now = s.b.now()
	}
	out := make([]V, 0, len(es))
	kept := es[:0]
	for _, e := range es {
		if e.exp != 0 && e.exp <= now {
			if s.ttl.Visibility == statebackend.ReturnExpiredIfNotCleanedUp {
				out = append(out, e.v)
			}
			continue
		}
		if e.exp != 0 && s.ttl.Update == statebackend.OnReadAndWrite {
			e.exp = s.expiry(now)
		}
		out = append(out, e.v)
		kept = append(kept, e)
	}
	if len(kept) == 0 {
		delete(m, k)
		s.release()
	} else {
		clear(es[len(kept):])
		m[k] = kept
	}
	return out
}

// Add appends v.
func (s *List[K, N, V]) Add(v V) {
	m, k := s.curW()
	var exp int64
	if s.ttl.TTLMillis > 0 {
		exp = s.expiry(s.b.now())
	}
	m[k] = append(m[k], entry[V]{v: v, exp: exp})
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
	m, k := s.curW()
	var exp int64
	if s.ttl.TTLMillis > 0 {
		exp = s.expiry(s.b.now())
	}
	es := make([]entry[V], len(vs))
	for i, v := range vs {
		es[i] = entry[V]{v: v, exp: exp}
	}
	m[k] = es
}

// Map is a map per key and namespace; with TTL each entry expires on its own.
type Map[K, N, UK comparable, UV any] struct {
	base[K, N, map[UK]entry[UV]]
	c  *stateCodecs[K, N, UV]
	uk codec.Codec[UK]
}

// NewMap registers a map state.
func NewMap[K, N, UK comparable, UV any](b *Backend[K], ttl statebackend.TTL) *Map[K, N, UK, UV] {
	s := &Map[K, N, UK, UV]{base: newBase[K, N, map[UK]entry[UV]](b, ttl)}
	b.register(s)
	return s
}

func (s *Map[K, N, UK, UV]) now() int64 {
	if s.ttl.TTLMillis > 0 {
		return s.b.now()
	}
	return 0
}

// Get returns the value under uk.
func (s *Map[K, N, UK, UV]) Get(uk UK) (UV, bool) {
	m, k := s.cur()
	inner := m[k]
	e, ok := inner[uk]
	if !ok {
		var zero UV
		return zero, false
	}
	if e.exp != 0 {
		now := s.b.now()
		if e.exp <= now {
			delete(inner, uk)
			if len(inner) == 0 {
				delete(m, k)
				s.release()
			}
			if s.ttl.Visibility == statebackend.NeverReturnExpired {
				var zero UV
				return zero, false
			}
			return e.v, true
		}
		if s.ttl.Update == statebackend.OnReadAndWrite {
			e.exp = s.expiry(now)
			inner[uk] = e
		}
	}
	return e.v, true
}

// Contains reports whether uk has a live value.
func (s *Map[K, N, UK, UV]) Contains(uk UK) bool {
	_, ok := s.Get(uk)
	return ok
}

// Put sets uk to uv.
func (s *Map[K, N, UK, UV]) Put(uk UK, uv UV) {
	m, k := s.curW()
	inner := m[k]
	if inner == nil {
		inner = map[UK]entry[UV]{}
		m[k] = inner
	}
	inner[uk] = entry[UV]{v: uv, exp: s.expiry(s.now())}
}

// Remove deletes uk.
func (s *Map[K, N, UK, UV]) Remove(uk UK) {
	m, k := s.cur()
	inner := m[k]
	delete(inner, uk)
	if len(inner) == 0 {
		delete(m, k)
		s.release()
	}
}

// IsEmpty reports whether the current key has no live entries.
func (s *Map[K, N, UK, UV]) IsEmpty() bool {
	empty := true
	s.All()(func(UK, UV) bool { empty = false; return false })
	return empty
}

// All iterates the live entries of the current key, in no particular order.
// Expired entries met on the way are removed.
func (s *Map[K, N, UK, UV]) All() func(yield func(UK, UV) bool) {
	return func(yield func(UK, UV) bool) {
		m, k := s.cur()
		inner := m[k]
		now := s.now()
		for uk, e := range inner {
			if e.exp != 0 && e.exp <= now {
				if s.ttl.Visibility == statebackend.NeverReturnExpired {
					delete(inner, uk)
					continue
				}
			}
			if !yield(uk, e.v) {
				break
			}
		}
		if len(inner) == 0 {
			delete(m, k)
			s.release()
		}
	}
}

// Reducing keeps one value per key and namespace, folding every added value
// into it with a reduce function.
type Reducing[K, N comparable, V any] struct {
	v      *Value[K, N, V]
	reduce func(a, b V) (V, error)
}

// NewReducing registers a reducing state.
func NewReducing[K, N comparable, V any](b *Backend[K], ttl statebackend.TTL, reduce func(a, b V) (V, error)) *Reducing[K, N, V] {
	return &Reducing[K, N, V]{v: NewValue[K, N, V](b, ttl), reduce: reduce}
}

// SetNamespace selects the namespace.
func (s *Reducing[K, N, V]) SetNamespace(n N) { s.v.SetNamespace(n) }

// SetName gives the state a stable name for snapshots.
func (s *Reducing[K, N, V]) SetName(name string) { s.v.SetName(name) }

// Get returns the reduced value.
func (s *Reducing[K, N, V]) Get() (V, bool) { return s.v.Value() }

// Add folds v into the state.
func (s *Reducing[K, N, V]) Add(v V) error {
	cur, ok := s.v.Value()
	if ok {
		var err error
		if v, err = s.reduce(cur, v); err != nil {
			return err
		}
	}
	s.v.Update(v)
	return nil
}

// Clear removes the value.
func (s *Reducing[K, N, V]) Clear() { s.v.Clear() }

// Len returns the number of entries.
func (s *Reducing[K, N, V]) Len() int { return s.v.Len() }

// Aggregator is an incremental aggregate function (Flink's AggregateFunction).
type Aggregator[IN, ACC, OUT any] interface {
	CreateAccumulator() ACC
	Add(acc ACC, in IN) (ACC, error)
	Result(acc ACC) (OUT, error)
	Merge(a, b ACC) (ACC, error)
}

// Aggregating keeps an accumulator per key and namespace.
type Aggregating[K, N comparable, IN, ACC, OUT any] struct {
	v   *Value[K, N, ACC]
	agg Aggregator[IN, ACC, OUT]
}

// NewAggregating registers an aggregating state.
func NewAggregating[K, N comparable, IN, ACC, OUT any](b *Backend[K], ttl statebackend.TTL, agg Aggregator[IN, ACC, OUT]) *Aggregating[K, N, IN, ACC, OUT] {
	return &Aggregating[K, N, IN, ACC, OUT]{v: NewValue[K, N, ACC](b, ttl), agg: agg}
}

// SetNamespace selects the namespace.
func (s *Aggregating[K, N, IN, ACC, OUT]) SetNamespace(n N) { s.v.SetNamespace(n) }

// SetName gives the state a stable name for snapshots.
func (s *Aggregating[K, N, IN, ACC, OUT]) SetName(name string) { s.v.SetName(name) }

// Get returns the aggregate's result.
func (s *Aggregating[K, N, IN, ACC, OUT]) Get() (OUT, bool, error) {
	acc, ok := s.v.Value()
	if !ok {
		var zero OUT
		return zero, false, nil
	}
	out, err := s.agg.Result(acc)
	return out, true, err
}

// Accumulator returns the raw accumulator.
func (s *Aggregating[K, N, IN, ACC, OUT]) Accumulator() (ACC, bool) { return s.v.Value() }

// SetAccumulator replaces the accumulator (used when windows merge).
func (s *Aggregating[K, N, IN, ACC, OUT]) SetAccumulator(acc ACC) { s.v.Update(acc) }

// Add folds in into the accumulator.
func (s *Aggregating[K, N, IN, ACC, OUT]) Add(in IN) error {
	acc, ok := s.v.Value()
	if !ok {
		acc = s.agg.CreateAccumulator()
	}
	acc, err := s.agg.Add(acc, in)
	if err != nil {
		return err
	}
	s.v.Update(acc)
	return nil
}

// Clear removes the accumulator.
func (s *Aggregating[K, N, IN, ACC, OUT]) Clear() { s.v.Clear() }

// Len returns the number of entries.
func (s *Aggregating[K, N, IN, ACC, OUT]) Len() int { return s.v.Len() }
