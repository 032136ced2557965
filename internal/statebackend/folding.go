package statebackend

import "errors"

// ReducingValue is a reducing state built on a value state: every added
// value is folded into the stored one with Reduce. Both backends use it.
type ReducingValue[K comparable, N, V any] struct {
	Value  Value[N, V]
	Reduce func(a, b V) (V, error)
}

// SetNamespace selects the namespace.
func (s *ReducingValue[K, N, V]) SetNamespace(n N) { s.Value.SetNamespace(n) }

// SetName gives the state a stable name for snapshots.
func (s *ReducingValue[K, N, V]) SetName(name string) { s.Value.SetName(name) }

// Get returns the reduced value.
func (s *ReducingValue[K, N, V]) Get() (V, bool) { return s.Value.Value() }

// Add folds v into the state.
func (s *ReducingValue[K, N, V]) Add(v V) error {
	cur, ok := s.Value.Value()
	if ok {
		var err error
		if v, err = s.Reduce(cur, v); err != nil {
			return err
		}
	}
	s.Value.Update(v)
	return nil
}

// Clear removes the value.
func (s *ReducingValue[K, N, V]) Clear() { s.Value.Clear() }

// ForEachKey calls fn for every (key, namespace) with a value.
func (s *ReducingValue[K, N, V]) ForEachKey(fn func(k K, n N)) error {
	return forEachKey[K, N](s.Value, fn)
}

// AggregatingValue is an aggregating state built on a value state holding
// the accumulator. Both backends use it.
type AggregatingValue[K comparable, N, IN, ACC, OUT any] struct {
	Value Value[N, ACC]
	Agg   Aggregator[IN, ACC, OUT]
}

// SetNamespace selects the namespace.
func (s *AggregatingValue[K, N, IN, ACC, OUT]) SetNamespace(n N) { s.Value.SetNamespace(n) }

// SetName gives the state a stable name for snapshots.
func (s *AggregatingValue[K, N, IN, ACC, OUT]) SetName(name string) { s.Value.SetName(name) }

// Get returns the aggregate's result.
func (s *AggregatingValue[K, N, IN, ACC, OUT]) Get() (OUT, bool, error) {
	acc, ok := s.Value.Value()
	if !ok {
		var zero OUT
		return zero, false, nil
	}
	out, err := s.Agg.Result(acc)
	return out, true, err
}

// Accumulator returns the raw accumulator.
func (s *AggregatingValue[K, N, IN, ACC, OUT]) Accumulator() (ACC, bool) { return s.Value.Value() }

// SetAccumulator replaces the accumulator (used when windows merge).
func (s *AggregatingValue[K, N, IN, ACC, OUT]) SetAccumulator(acc ACC) { s.Value.Update(acc) }

// Add folds in into the accumulator.
func (s *AggregatingValue[K, N, IN, ACC, OUT]) Add(in IN) error {
	acc, ok := s.Value.Value()
	if !ok {
		acc = s.Agg.CreateAccumulator()
	}
	acc, err := s.Agg.Add(acc, in)
	if err != nil {
		return err
	}
	s.Value.Update(acc)
	return nil
}

// Clear removes the accumulator.
func (s *AggregatingValue[K, N, IN, ACC, OUT]) Clear() { s.Value.Clear() }

// ForEachKey calls fn for every (key, namespace) with an accumulator.
func (s *AggregatingValue[K, N, IN, ACC, OUT]) ForEachKey(fn func(k K, n N)) error {
	return forEachKey[K, N](s.Value, fn)
}

func forEachKey[K, N any](v any, fn func(k K, n N)) error {
	kl, ok := v.(KeyLister[K, N])
	if !ok {
		return errNoKeyLister
	}
	return kl.ForEachKey(fn)
}

var errNoKeyLister = errors.New("weir: the state's value state cannot list its keys")
