// Package keygroup maps keys to key groups and key groups to subtasks, the
// unit by which Weir partitions keyed state, timers and snapshots.
//
// A key's group is a stable hash of its encoded bytes modulo the job's
// maximum parallelism. The hash never depends on the process (no random
// seeds), so a key lands in the same group after a restart or a restore at a
// different parallelism. Subtask i of p owns the contiguous range computed by
// RangeFor, exactly as Flink's KeyGroupRangeAssignment does.
package keygroup

import (
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// DefaultMaxParallelism is the default number of key groups.
const DefaultMaxParallelism = 128

// Range is a contiguous, inclusive-exclusive range of key groups [Start, End).
type Range struct {
	Start, End int
}

// Len is the number of key groups in r.
func (r Range) Len() int { return r.End - r.Start }

// Contains reports whether kg lies in r.
func (r Range) Contains(kg int) bool { return kg >= r.Start && kg < r.End }

// RangeFor returns the key groups owned by subtask index of parallelism.
func RangeFor(maxParallelism, parallelism, index int) Range {
	start := (index*maxParallelism + parallelism - 1) / parallelism
	end := ((index+1)*maxParallelism + parallelism - 1) / parallelism
	return Range{Start: start, End: end}
}

// Subtask returns the subtask index that owns key group kg.
//
// A power-of-two maximum parallelism (the default, 128) divides with a
// shift: a division by a number known only at run time is a hardware
// divide, tens of cycles, paid once per record on every keyed exchange.
func Subtask(maxParallelism, parallelism, kg int) int {
	if m := uint(maxParallelism); m != 0 && m&(m-1) == 0 && kg >= 0 && parallelism > 0 {
		return int(uint(kg*parallelism) >> bits.TrailingZeros(m))
	}
	return kg * parallelism / maxParallelism
}

// Of returns the key group of a key hash. A power-of-two maximum
// parallelism (the default) takes the low bits instead of a hardware
// divide: the same key group, once per record on the routing of a keyed
// exchange and again in the keyed operator.
func Of(hash uint64, maxParallelism int) int {
	if m := uint64(maxParallelism); m != 0 && m&(m-1) == 0 {
		return int(hash & (m - 1))
	}
	return int(hash % uint64(maxParallelism))
}

// HashFunc hashes a key stably across processes.
type HashFunc[K any] func(K) uint64

// Hasher returns a stable, allocation-free hash function for the key types
// CheckKeyType accepts: strings, integers, floats and bools, and structs and
// arrays built from them (hashed by a program compiled once per type, see
// compileKey). It panics on other types.
func Hasher[K any]() HashFunc[K] {
	t := reflect.TypeOf((*K)(nil)).Elem()
	switch t.Kind() {
	case reflect.String:
		return func(k K) uint64 { return xxhash.Sum64String(*(*string)(unsafe.Pointer(&k))) }
	case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Uint, reflect.Uintptr:
		return func(k K) uint64 { return hash8(*(*uint64)(unsafe.Pointer(&k))) }
	case reflect.Int32, reflect.Uint32:
		return func(k K) uint64 { return hash8(uint64(*(*uint32)(unsafe.Pointer(&k)))) }
	case reflect.Int16, reflect.Uint16:
		return func(k K) uint64 { return hash8(uint64(*(*uint16)(unsafe.Pointer(&k)))) }
	case reflect.Int8, reflect.Uint8, reflect.Bool:
		return func(k K) uint64 { return hash8(uint64(*(*uint8)(unsafe.Pointer(&k)))) }
	case reflect.Float64:
		return func(k K) uint64 { return hash8(math.Float64bits(*(*float64)(unsafe.Pointer(&k)))) }
	case reflect.Float32:
		return func(k K) uint64 { return hash8(uint64(math.Float32bits(*(*float32)(unsafe.Pointer(&k))))) }
	}
	if err := checkHashable(t); err != nil {
		panic(fmt.Sprintf("weir: key type %v cannot be hashed stably: %v", t, err))
	}
	prog := compileKey(t, 0, nil)
	return func(k K) uint64 { return hashCompound(unsafe.Pointer(&k), prog) }
}

// CheckKeyType reports whether K can be used as a key with the default hasher.
func CheckKeyType[K any]() error {
	return checkHashable(reflect.TypeOf((*K)(nil)).Elem())
}

// xxhash64 primes.
const (
	prime1 uint64 = 11400714785074694791
	prime2 uint64 = 14029467366897019727
	prime3 uint64 = 1609587929392839161
	prime4 uint64 = 9650029242287828579
	prime5 uint64 = 2870177450012600261
)

// hash8 is xxhash.Sum64 of the 8 little-endian bytes of v (seed 0),
// unrolled for that one length: the keyed hot path hashes integer keys
// twice per record (to route it, and in the keyed context).
func hash8(v uint64) uint64 {
	h := prime5 + 8
	k := bits.RotateLeft64(v*prime2, 31) * prime1
	h ^= k
	h = bits.RotateLeft64(h, 27)*prime1 + prime4
	h ^= h >> 33
	h *= prime2
	h ^= h >> 29
	h *= prime3
	h ^= h >> 32
	return h
}

func checkHashable(t reflect.Type) error {
	if t == reflect.TypeOf(time.Time{}) {
		// Two time.Times of the same instant differ in their location
		// pointer and monotonic reading, so neither == nor their bytes
		// identify the instant.
		return fmt.Errorf("time.Time is not a valid key field (equal instants can differ in location and monotonic reading); use its UnixMilli() or a formatted string")
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return nil
	case reflect.Array:
		return checkHashable(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if err := checkHashable(t.Field(i).Type); err != nil {
				return fmt.Errorf("field %s: %w", t.Field(i).Name, err)
			}
		}
		return nil
	}
	return fmt.Errorf("kind %v has no stable encoding (use strings, numbers, or structs/arrays of them)", t.Kind())
}
