// Package state defines Weir's keyed state: the handles user functions read
// and write (Value, List, Map, Reducing, Aggregating), their descriptors and
// time-to-live settings, and the Store through which a keyed operator hands
// them out.
//
// Every state is scoped to the current key: the runtime sets the key before
// it calls a user function, and a handle reads and writes that key's entry
// only. Handles must be obtained in a function's Open and used only from
// that function's calls; they are not safe for use by other goroutines.
//
// Time to live follows Flink's StateTtlConfig: processing time, refreshed on
// create and write (or also on read), expired values never returned by
// default, removed lazily on access and incrementally.
package state

import (
	"fmt"
	"iter"
	"time"

	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/states"
)

// Value holds one value per key.
type Value[T any] interface {
	// Value returns the value, and false if the key has none.
	Value() (T, bool)
	// Update sets the value.
	Update(v T)
	// Clear removes the value.
	Clear()
}

// List holds a list of values per key.
type List[T any] interface {
	// Get returns the list; the caller may keep and modify it.
	Get() []T
	Add(v T)
	AddAll(vs []T)
	// Update replaces the list.
	Update(vs []T)
	Clear()
}

// Map holds a map per key.
type Map[K comparable, V any] interface {
	Get(k K) (V, bool)
	Put(k K, v V)
	Remove(k K)
	Contains(k K) bool
	IsEmpty() bool
	// All iterates the entries in no particular order.
	All() iter.Seq2[K, V]
	Clear()
}

// Entry is one key and value of a map state.
type Entry[K, V any] = statebackend.Entry[K, V]

// AppendEntries appends the entries of m (for the current key) to dst, in
// no particular order, and returns the extended slice: the entries All
// gives. Ranging over All through the Map interface allocates the loop's
// closure (and the locals it captures) on every call, as the compiler
// cannot inline an iterator behind an interface; an operator that reads a
// key's map for every record can reuse dst instead.
func AppendEntries[K comparable, V any](m Map[K, V], dst []Entry[K, V]) []Entry[K, V] {
	if a, ok := m.(mapAdapter[K, V]); ok {
		if e, ok := a.Map.(statebackend.EntryAppender[K, V]); ok {
			return e.AppendEntries(dst)
		}
	}
	return appendAll(m, dst)
}

// appendAll is AppendEntries through All, apart so that dst (captured by
// the loop's closure) escapes only on this path.
func appendAll[K comparable, V any](m Map[K, V], dst []Entry[K, V]) []Entry[K, V] {
	for k, v := range m.All() {
		dst = append(dst, Entry[K, V]{Key: k, Value: v})
	}
	return dst
}

// AppendList appends the list of l (for the current key) to dst and
// returns the extended slice: the values Get gives, in order. Get returns
// a new slice on every call; an operator that reads a key's list for every
// record can reuse dst instead (the heap backend appends its elements
// directly, statebackend.ListAppender; other backends go through Get).
func AppendList[T any](l List[T], dst []T) []T {
	if a, ok := l.(listOf[T]); ok {
		if la, ok := a.List.(statebackend.ListAppender[T]); ok {
			return la.AppendList(dst)
		}
	}
	return append(dst, l.Get()...)
}

// Reducing folds every added value into one with a reduce function.
type Reducing[T any] interface {
	Get() (T, bool)
	Add(v T) error
	Clear()
}

// Aggregating folds added values into an accumulator and reads a result.
type Aggregating[IN, OUT any] interface {
	Get() (OUT, bool, error)
	Add(v IN) error
	Clear()
}

// AggregateFunction is an incremental aggregation, as in Flink: values are
// added to an accumulator; accumulators of merged windows are merged.
// Accumulators are values: Add and Merge return the new accumulator
// (they may also change and return the one they were given).
type AggregateFunction[IN, ACC, OUT any] interface {
	// CreateAccumulator returns a new, empty accumulator.
	CreateAccumulator() ACC
	// Add adds in to acc and returns the accumulator.
	Add(acc ACC, in IN) (ACC, error)
	// Result returns the aggregate of acc.
	Result(acc ACC) (OUT, error)
	// Merge returns the accumulator of both a and b (merging windows,
	// such as sessions, merge their accumulators).
	Merge(a, b ACC) (ACC, error)
}

// UpdateType says which accesses refresh a value's time to live.
type UpdateType = statebackend.TTLUpdate

// Update types.
const (
	OnCreateAndWrite = statebackend.OnCreateAndWrite
	OnReadAndWrite   = statebackend.OnReadAndWrite
)

// Visibility says whether an expired value not yet removed may be read.
type Visibility = statebackend.TTLVisibility

// Visibilities.
const (
	NeverReturnExpired          = statebackend.NeverReturnExpired
	ReturnExpiredIfNotCleanedUp = statebackend.ReturnExpiredIfNotCleanedUp
)

// TTL configures a state's time to live. The zero value means no TTL.
type TTL struct {
	// TTL is how long a value lives after its last refresh.
	TTL        time.Duration
	Update     UpdateType
	Visibility Visibility
	// CleanupPerAccess is how many other entries each access examines and
	// removes if expired (incremental cleanup). Default 5 when TTL is set;
	// negative disables it.
	CleanupPerAccess int
}

func (t TTL) internal() statebackend.TTL {
	if t.TTL <= 0 {
		return statebackend.TTL{}
	}
	n := t.CleanupPerAccess
	if n == 0 {
		n = 5
	}
	if n < 0 {
		n = 0
	}
	ms := t.TTL.Milliseconds()
	if ms == 0 {
		ms = 1
	}
	return statebackend.TTL{TTLMillis: ms, Update: t.Update, Visibility: t.Visibility, CleanupPerAccess: n}
}

// Descriptor names a state and sets its TTL.
type Descriptor struct {
	Name string
	TTL  TTL
}

// Store hands out the keyed states of one operator subtask.
type Store[K comparable] struct {
	b      statebackend.Backend[K]
	states map[string]any
	err    error
}

// NewStore returns a store over a backend. Used by operators.
func NewStore[K comparable](b statebackend.Backend[K]) *Store[K] {
	return &Store[K]{b: b, states: map[string]any{}}
}

// Err reports a misuse of the store (one name registered with two types).
func (s *Store[K]) Err() error { return s.err }

// Key returns the current key.
func (s *Store[K]) Key() K { return s.b.KeyContext().Key }

func lookup[K comparable, S any](s *Store[K], name string, make func() S) S {
	if name == "" {
		s.err = fmt.Errorf("weir: state needs a name")
	}
	if st, ok := s.states[name]; ok {
		if typed, ok := st.(S); ok {
			return typed
		}
		s.err = fmt.Errorf("weir: state %q was registered as %T, now requested as another type", name, st)
	}
	st := make()
	s.states[name] = st
	return st
}

// GetValue returns the value state named by d.
func GetValue[K comparable, T any](s *Store[K], d Descriptor) Value[T] {
	return lookup(s, d.Name, func() valueOf[T] {
		v := states.NewValue[K, struct{}, T](s.b, d.TTL.internal())
		v.SetName(d.Name)
		return valueOf[T]{v}
	})
}

// valueOf and the other wrappers give each state kind a distinct type per
// element type, so that one name requested as two kinds is detected.
type valueOf[T any] struct {
	s statebackend.Value[struct{}, T]
}

func (v valueOf[T]) Value() (T, bool) { return v.s.Value() }
func (v valueOf[T]) Update(x T)       { v.s.Update(x) }
func (v valueOf[T]) Clear()           { v.s.Clear() }

// GetList returns the list state named by d.
func GetList[K comparable, T any](s *Store[K], d Descriptor) List[T] {
	return lookup(s, d.Name, func() listOf[T] {
		l := states.NewList[K, struct{}, T](s.b, d.TTL.internal())
		l.SetName(d.Name)
		return listOf[T]{l}
	})
}

type listOf[T any] struct {
	statebackend.List[struct{}, T]
}

// GetMap returns the map state named by d.
func GetMap[K, UK comparable, UV any](s *Store[K], d Descriptor) Map[UK, UV] {
	return lookup(s, d.Name, func() mapAdapter[UK, UV] {
		m := states.NewMap[K, struct{}, UK, UV](s.b, d.TTL.internal())
		m.SetName(d.Name)
		return mapAdapter[UK, UV]{m}
	})
}

type mapAdapter[UK comparable, UV any] struct {
	statebackend.Map[struct{}, UK, UV]
}

func (m mapAdapter[UK, UV]) All() iter.Seq2[UK, UV] { return iter.Seq2[UK, UV](m.Map.All()) }

// GetReducing returns the reducing state named by d.
func GetReducing[K comparable, T any](s *Store[K], d Descriptor, reduce func(a, b T) (T, error)) Reducing[T] {
	return lookup(s, d.Name, func() reducingOf[T] {
		r := states.NewReducing[K, struct{}, T](s.b, d.TTL.internal(), reduce)
		r.SetName(d.Name)
		return reducingOf[T]{r}
	})
}

type reducingOf[T any] struct {
	statebackend.Reducing[struct{}, T]
}

// GetAggregating returns the aggregating state named by d.
func GetAggregating[K comparable, IN, ACC, OUT any](s *Store[K], d Descriptor, agg AggregateFunction[IN, ACC, OUT]) Aggregating[IN, OUT] {
	return lookup(s, d.Name, func() aggregatingOf[IN, ACC, OUT] {
		a := states.NewAggregating[K, struct{}, IN, ACC, OUT](s.b, d.TTL.internal(), agg)
		a.SetName(d.Name)
		return aggregatingOf[IN, ACC, OUT]{a}
	})
}

type aggregatingOf[IN, ACC, OUT any] struct {
	statebackend.Aggregating[struct{}, IN, ACC, OUT]
}

// KeysOf lists the keys with an entry in a state handed out by a Store
// (for Flink's applyToKeyedState). It fails for other values.
func KeysOf[K comparable](st any, fn func(k K)) error {
	kl, ok := unwrap(st).(statebackend.KeyLister[K, struct{}])
	if !ok {
		return fmt.Errorf("weir: %T is not a keyed state of this key type", st)
	}
	return kl.ForEachKey(func(k K, _ struct{}) { fn(k) })
}

// unwrap returns the backend state inside a handle.
func unwrap(st any) any {
	if u, ok := st.(interface{ backendState() any }); ok {
		return u.backendState()
	}
	return st
}

func (v valueOf[T]) backendState() any                  { return v.s }
func (l listOf[T]) backendState() any                   { return l.List }
func (m mapAdapter[UK, UV]) backendState() any          { return m.Map }
func (r reducingOf[T]) backendState() any               { return r.Reducing }
func (a aggregatingOf[IN, ACC, OUT]) backendState() any { return a.Aggregating }
