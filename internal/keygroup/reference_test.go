package keygroup

import (
	"encoding/binary"
	"math"
	"reflect"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// referenceHasher is Hasher as it was before compound keys were compiled:
// the basic kinds directly, structs and arrays by reflection. Its hashes
// are the format; Hasher must agree with it on every key.
func referenceHasher[K any]() HashFunc[K] {
	t := reflect.TypeOf((*K)(nil)).Elem()
	switch t.Kind() {
	case reflect.String:
		return func(k K) uint64 { return xxhash.Sum64String(*(*string)(unsafe.Pointer(&k))) }
	case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Uint, reflect.Uintptr:
		return func(k K) uint64 { return referenceHash8(*(*uint64)(unsafe.Pointer(&k))) }
	case reflect.Int32, reflect.Uint32:
		return func(k K) uint64 { return referenceHash8(uint64(*(*uint32)(unsafe.Pointer(&k)))) }
	case reflect.Int16, reflect.Uint16:
		return func(k K) uint64 { return referenceHash8(uint64(*(*uint16)(unsafe.Pointer(&k)))) }
	case reflect.Int8, reflect.Uint8, reflect.Bool:
		return func(k K) uint64 { return referenceHash8(uint64(*(*uint8)(unsafe.Pointer(&k)))) }
	case reflect.Float64:
		return func(k K) uint64 { return referenceHash8(math.Float64bits(*(*float64)(unsafe.Pointer(&k)))) }
	case reflect.Float32:
		return func(k K) uint64 { return referenceHash8(uint64(math.Float32bits(*(*float32)(unsafe.Pointer(&k))))) }
	}
	if err := checkHashable(t); err != nil {
		panic(err)
	}
	return func(k K) uint64 {
		buf := referenceAppend(make([]byte, 0, 64), reflect.ValueOf(&k).Elem())
		return xxhash.Sum64(buf)
	}
}

func referenceAppend(b []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.String:
		b = binary.AppendUvarint(b, uint64(v.Len()))
		return append(b, v.String()...)
	case reflect.Bool:
		if v.Bool() {
			return append(b, 1)
		}
		return append(b, 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.LittleEndian.AppendUint64(b, uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.LittleEndian.AppendUint64(b, v.Uint())
	case reflect.Float32, reflect.Float64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Float()))
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			b = referenceAppend(b, v.Index(i))
		}
		return b
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			b = referenceAppend(b, v.Field(i))
		}
		return b
	}
	return b
}

func unsafePointer[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

// referenceHash8 is hash8 as it was: xxhash of the 8 little-endian bytes.
func referenceHash8(v uint64) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return xxhash.Sum64(b[:])
}
