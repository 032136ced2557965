// Package states creates keyed states on whichever backend an operator
// runs on (heap or Pebble): Go has no generic methods, so the typed
// constructors live here and dispatch on the backend's type. Operators and
// the public state package create every state through it.
package states

import (
	"fmt"

	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/heap"
	"github.com/weirstream/weir/internal/statebackend/pebble"
)

func unknown(b any) string {
	return fmt.Sprintf("weir: unknown state backend %T", b)
}

// NewValue registers a value state on b.
func NewValue[K comparable, N comparable, V any](b statebackend.Backend[K], ttl statebackend.TTL) statebackend.Value[N, V] {
	switch b := b.(type) {
	case *heap.Backend[K]:
		return heap.NewValue[K, N, V](b, ttl)
	case *pebble.Backend[K]:
		return pebble.NewValue[K, N, V](b, ttl)
	}
	panic(unknown(b))
}

// NewList registers a list state on b.
func NewList[K comparable, N comparable, V any](b statebackend.Backend[K], ttl statebackend.TTL) statebackend.List[N, V] {
	switch b := b.(type) {
	case *heap.Backend[K]:
		return heap.NewList[K, N, V](b, ttl)
	case *pebble.Backend[K]:
		return pebble.NewList[K, N, V](b, ttl)
	}
	panic(unknown(b))
}

// NewMap registers a map state on b.
func NewMap[K comparable, N comparable, UK comparable, UV any](b statebackend.Backend[K], ttl statebackend.TTL) statebackend.Map[N, UK, UV] {
	switch b := b.(type) {
	case *heap.Backend[K]:
		return heap.NewMap[K, N, UK, UV](b, ttl)
	case *pebble.Backend[K]:
		return pebble.NewMap[K, N, UK, UV](b, ttl)
	}
	panic(unknown(b))
}

// NewReducing registers a reducing state on b.
func NewReducing[K comparable, N comparable, V any](b statebackend.Backend[K], ttl statebackend.TTL, reduce func(a, b V) (V, error)) statebackend.Reducing[N, V] {
	switch b := b.(type) {
	case *heap.Backend[K]:
		return heap.NewReducing[K, N, V](b, ttl, reduce)
	case *pebble.Backend[K]:
		return pebble.NewReducing[K, N, V](b, ttl, reduce)
	}
	panic(unknown(b))
}

// NewAggregating registers an aggregating state on b.
func NewAggregating[K comparable, N comparable, IN, ACC, OUT any](b statebackend.Backend[K], ttl statebackend.TTL, agg statebackend.Aggregator[IN, ACC, OUT]) statebackend.Aggregating[N, IN, ACC, OUT] {
	switch b := b.(type) {
	case *heap.Backend[K]:
		return heap.NewAggregating[K, N, IN, ACC, OUT](b, ttl, agg)
	case *pebble.Backend[K]:
		return pebble.NewAggregating[K, N, IN, ACC, OUT](b, ttl, agg)
	}
	panic(unknown(b))
}
