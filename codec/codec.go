// Package codec turns values into bytes and back, for state snapshots and
// byte-oriented state backends.
//
// For returns a codec for any type built from booleans, numbers, strings,
// byte slices, time.Time, structs, slices, arrays, maps and pointers.
// Struct fields are encoded in declaration order; a `weir:"-"` tag leaves a
// field out, and an unexported field without that tag is an error (its
// value would be lost on restore). Schema describes that layout as
// a string that snapshots store with each state, so that restoring state
// written under another layout fails with an error naming both layouts
// instead of decoding garbage. (Reading old layouts by field name is not
// implemented yet.) A type that implements SelfEncoder (and its pointer
// SelfDecoder) encodes itself. Types the default codec cannot encode
// (channels, functions, interfaces) need a Codec of the user's own.
//
// A time.Time is encoded exactly, to the nanosecond, for every instant
// from year 0000 to 9999 and beyond, and decodes in UTC; instants in the
// int64 UnixNano range (1677..2262) keep the bytes older versions wrote
// (see time.go).
//
// Codecs are safe for concurrent use.
package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/weirstream/weir/internal/errkind"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"
	"unsafe"
)

// Codec encodes and decodes values of type T.
type Codec[T any] interface {
	// Append appends the encoding of v to dst.
	Append(dst []byte, v T) []byte
	// Decode decodes one value from the start of src and returns the number
	// of bytes it used.
	Decode(src []byte) (T, int, error)
}

// ErrCorrupt is wrapped by every decoding error. It matches
// weir.ErrCorruption (weir.IsCorruption).
var ErrCorrupt = errkind.Mark(errors.New("codec: corrupt or truncated data"), errkind.Corruption)

// For returns the default codec for T, or an error naming the part of T
// that cannot be encoded.
func For[T any]() (Codec[T], error) {
	t := reflect.TypeOf((*T)(nil)).Elem()
	switch {
	case isSelf(t):
	case t == reflect.TypeOf(""):
		return stringCodec[T]{}, nil
	case t.Kind() == reflect.Int, t.Kind() == reflect.Int64, t.Kind() == reflect.Uint64, t.Kind() == reflect.Uint:
		if t.Size() == 8 {
			return fixed64[T]{}, nil
		}
	}
	enc, dec, err := compile(t, map[reflect.Type]bool{})
	if err != nil {
		return nil, fmt.Errorf("codec: type %v: %w", t, err)
	}
	if prog, ok := compileFlat(t, 0, "", nil); ok {
		return &flatCodec[T]{prog: prog}, nil
	}
	return &reflectCodec[T]{enc: enc, dec: dec}, nil
}

// Must is For that panics; for package-level codecs of known-good types.
func Must[T any]() Codec[T] {
	c, err := For[T]()
	if err != nil {
		panic(err)
	}
	return c
}

type stringCodec[T any] struct{}

func (stringCodec[T]) Append(dst []byte, v T) []byte {
	s := *(*string)(unsafe.Pointer(&v))
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func (stringCodec[T]) Decode(src []byte) (T, int, error) {
	var zero T
	n, k := binary.Uvarint(src)
	if k <= 0 || uint64(len(src)-k) < n {
		return zero, 0, fmt.Errorf("%w: string", ErrCorrupt)
	}
	s := string(src[k : k+int(n)])
	return *(*T)(unsafe.Pointer(&s)), k + int(n), nil
}

type fixed64[T any] struct{}

func (fixed64[T]) Append(dst []byte, v T) []byte {
	return binary.AppendVarint(dst, *(*int64)(unsafe.Pointer(&v)))
}

func (fixed64[T]) Decode(src []byte) (T, int, error) {
	var zero T
	x, k := binary.Varint(src)
	if k <= 0 {
		return zero, 0, fmt.Errorf("%w: integer", ErrCorrupt)
	}
	return *(*T)(unsafe.Pointer(&x)), k, nil
}

type reflectCodec[T any] struct {
	enc encoder
	dec decoder
}

func (c *reflectCodec[T]) Append(dst []byte, v T) []byte {
	return c.enc(dst, reflect.ValueOf(&v).Elem())
}

func (c *reflectCodec[T]) Decode(src []byte) (T, int, error) {
	var v T
	n, err := c.dec(src, reflect.ValueOf(&v).Elem())
	return v, n, err
}

type encoder func(dst []byte, v reflect.Value) []byte
type decoder func(src []byte, v reflect.Value) (int, error)

var timeType = reflect.TypeOf(time.Time{})

func corrupt(what string) error { return fmt.Errorf("%w: %s", ErrCorrupt, what) }

func compile(t reflect.Type, seen map[reflect.Type]bool) (encoder, decoder, error) {
	if isSelf(t) {
		enc, dec := compileSelf(t)
		return enc, dec, nil
	}
	if t == timeType {
		return func(dst []byte, v reflect.Value) []byte {
				return appendTime(dst, v.Interface().(time.Time))
			}, func(src []byte, v reflect.Value) (int, error) {
				tm, k, err := decodeTime(src)
				if err != nil {
					return 0, err
				}
				v.Set(reflect.ValueOf(tm))
				return k, nil
			}, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return func(dst []byte, v reflect.Value) []byte {
				if v.Bool() {
					return append(dst, 1)
				}
				return append(dst, 0)
			}, func(src []byte, v reflect.Value) (int, error) {
				if len(src) < 1 {
					return 0, corrupt("bool")
				}
				v.SetBool(src[0] != 0)
				return 1, nil
			}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(dst []byte, v reflect.Value) []byte { return binary.AppendVarint(dst, v.Int()) },
			func(src []byte, v reflect.Value) (int, error) {
				x, k := binary.Varint(src)
				if k <= 0 {
					return 0, corrupt("int")
				}
				v.SetInt(x)
				return k, nil
			}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(dst []byte, v reflect.Value) []byte { return binary.AppendUvarint(dst, v.Uint()) },
			func(src []byte, v reflect.Value) (int, error) {
				x, k := binary.Uvarint(src)
				if k <= 0 {
					return 0, corrupt("uint")
				}
				v.SetUint(x)
				return k, nil
			}, nil
	case reflect.Float32, reflect.Float64:
		return func(dst []byte, v reflect.Value) []byte {
				return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Float()))
			}, func(src []byte, v reflect.Value) (int, error) {
				if len(src) < 8 {
					return 0, corrupt("float")
				}
				v.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(src)))
				return 8, nil
			}, nil
	case reflect.String:
		return func(dst []byte, v reflect.Value) []byte {
				s := v.String()
				dst = binary.AppendUvarint(dst, uint64(len(s)))
				return append(dst, s...)
			}, func(src []byte, v reflect.Value) (int, error) {
				n, k := binary.Uvarint(src)
				if k <= 0 || uint64(len(src)-k) < n {
					return 0, corrupt("string")
				}
				v.SetString(string(src[k : k+int(n)]))
				return k + int(n), nil
			}, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return func(dst []byte, v reflect.Value) []byte {
					if v.IsNil() {
						return append(dst, 0)
					}
					b := v.Bytes()
					dst = binary.AppendUvarint(dst, uint64(len(b))+1)
					return append(dst, b...)
				}, func(src []byte, v reflect.Value) (int, error) {
					n, k := binary.Uvarint(src)
					if k <= 0 || (n > 0 && uint64(len(src)-k) < n-1) {
						return 0, corrupt("bytes")
					}
					if n == 0 {
						return k, nil
					}
					b := make([]byte, n-1)
					copy(b, src[k:])
					v.SetBytes(b)
					return k + int(n-1), nil
				}, nil
		}
		ee, ed, err := compile(t.Elem(), seen)
		if err != nil {
			return nil, nil, err
		}
		return func(dst []byte, v reflect.Value) []byte {
				if v.IsNil() {
					return append(dst, 0)
				}
				dst = binary.AppendUvarint(dst, uint64(v.Len())+1)
				for i := 0; i < v.Len(); i++ {
					dst = ee(dst, v.Index(i))
				}
				return dst
			}, func(src []byte, v reflect.Value) (int, error) {
				n, k := binary.Uvarint(src)
				if k <= 0 {
					return 0, corrupt("slice length")
				}
				if n == 0 {
					return k, nil
				}
				// Elements of a zero-size type take no bytes, so their
				// count is bounded only by int32 (2^60 would not fit an
				// int, or take forever to decode one by one).
				if n-1 > uint64(len(src)) && (t.Elem().Size() > 0 || n-1 > math.MaxInt32) {
					return 0, corrupt("slice length")
				}
				s := reflect.MakeSlice(t, int(n-1), int(n-1))
				off := k
				for i := 0; i < int(n-1); i++ {
					m, err := ed(src[off:], s.Index(i))
					if err != nil {
						return 0, err
					}
					if m == 0 && t.Elem().Size() == 0 {
						break // the others read the same nothing: zero values
					}
					off += m
				}
				v.Set(s)
				return off, nil
			}, nil
	case reflect.Array:
		ee, ed, err := compile(t.Elem(), seen)
		if err != nil {
			return nil, nil, err
		}
		return func(dst []byte, v reflect.Value) []byte {
				for i := 0; i < v.Len(); i++ {
					dst = ee(dst, v.Index(i))
				}
				return dst
			}, func(src []byte, v reflect.Value) (int, error) {
				off := 0
				for i := 0; i < v.Len(); i++ {
					m, err := ed(src[off:], v.Index(i))
					if err != nil {
						return 0, err
					}
					off += m
				}
				return off, nil
			}, nil
	case reflect.Map:
		ke, kd, err := compile(t.Key(), seen)
		if err != nil {
			return nil, nil, err
		}
		ve, vd, err := compile(t.Elem(), seen)
		if err != nil {
			return nil, nil, err
		}
		return func(dst []byte, v reflect.Value) []byte {
				if v.IsNil() {
					return append(dst, 0)
				}
				dst = binary.AppendUvarint(dst, uint64(v.Len())+1)
				// Sorted by encoded key, so equal maps encode equally.
				type kv struct{ k, v []byte }
				entries := make([]kv, 0, v.Len())
				it := v.MapRange()
				for it.Next() {
					entries = append(entries, kv{ke(nil, it.Key()), ve(nil, it.Value())})
				}
				sort.Slice(entries, func(i, j int) bool { return string(entries[i].k) < string(entries[j].k) })
				for _, e := range entries {
					dst = append(append(dst, e.k...), e.v...)
				}
				return dst
			}, func(src []byte, v reflect.Value) (int, error) {
				n, k := binary.Uvarint(src)
				if k <= 0 {
					return 0, corrupt("map length")
				}
				if n == 0 {
					return k, nil
				}
				if n-1 > uint64(len(src)) {
					return 0, corrupt("map length")
				}
				m := reflect.MakeMapWithSize(t, int(n-1))
				off := k
				for i := 0; i < int(n-1); i++ {
					kv := reflect.New(t.Key()).Elem()
					a, err := kd(src[off:], kv)
					if err != nil {
						return 0, err
					}
					off += a
					vv := reflect.New(t.Elem()).Elem()
					b, err := vd(src[off:], vv)
					if err != nil {
						return 0, err
					}
					off += b
					m.SetMapIndex(kv, vv)
				}
				v.Set(m)
				return off, nil
			}, nil
	case reflect.Pointer:
		if seen[t] {
			return nil, nil, fmt.Errorf("recursive type %v", t)
		}
		seen[t] = true
		defer delete(seen, t)
		ee, ed, err := compile(t.Elem(), seen)
		if err != nil {
			return nil, nil, err
		}
		return func(dst []byte, v reflect.Value) []byte {
				if v.IsNil() {
					return append(dst, 0)
				}
				return ee(append(dst, 1), v.Elem())
			}, func(src []byte, v reflect.Value) (int, error) {
				if len(src) < 1 {
					return 0, corrupt("pointer")
				}
				if src[0] == 0 {
					return 1, nil
				}
				p := reflect.New(t.Elem())
				m, err := ed(src[1:], p.Elem())
				if err != nil {
					return 0, err
				}
				v.Set(p)
				return 1 + m, nil
			}, nil
	case reflect.Struct:
		return compileStruct(t, seen)
	}
	return nil, nil, fmt.Errorf("kind %v cannot be encoded (give the state a Codec of its own)", t.Kind())
}

type field struct {
	index int
	name  string
	enc   encoder
	dec   decoder
}

// compileStruct encodes the fields in declaration order, each preceded by
// nothing: the field list lives in the struct's schema (see Schema).
func compileStruct(t reflect.Type, seen map[reflect.Type]bool) (encoder, decoder, error) {
	var fields []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Tag.Get("weir") == "-" || f.Name == "_" {
			continue
		}
		if !f.IsExported() {
			// Skipping it would lose state silently.
			return nil, nil, fmt.Errorf("field %s of %v is unexported: export it, tag it `weir:\"-\"` to leave it out, or give the state a Codec of its own", f.Name, t)
		}
		e, d, err := compile(f.Type, seen)
		if err != nil {
			return nil, nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		fields = append(fields, field{index: i, name: f.Name, enc: e, dec: d})
	}
	return func(dst []byte, v reflect.Value) []byte {
			for _, f := range fields {
				dst = f.enc(dst, v.Field(f.index))
			}
			return dst
		}, func(src []byte, v reflect.Value) (int, error) {
			off := 0
			for _, f := range fields {
				m, err := f.dec(src[off:], v.Field(f.index))
				if err != nil {
					return 0, fmt.Errorf("field %s: %w", f.name, err)
				}
				off += m
			}
			return off, nil
		}, nil
}

// Schema describes the layout of T as the default codec encodes it: a
// string of kinds and, for structs, field names. Snapshots store it with
// each state; Compatible tells whether data written under one schema can be
// read under another.
func Schema[T any]() string {
	var b strings.Builder
	schema(&b, reflect.TypeOf((*T)(nil)).Elem(), map[reflect.Type]bool{})
	return b.String()
}

func schema(b *strings.Builder, t reflect.Type, seen map[reflect.Type]bool) {
	if isSelf(t) {
		b.WriteString(selfSchema(t))
		return
	}
	if t == timeType {
		b.WriteString("time")
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		b.WriteString("struct{")
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Tag.Get("weir") == "-" || f.Name == "_" {
				continue
			}
			b.WriteString(f.Name)
			b.WriteByte(' ')
			schema(b, f.Type, seen)
			b.WriteByte(';')
		}
		b.WriteByte('}')
	case reflect.Slice:
		b.WriteString("[]")
		schema(b, t.Elem(), seen)
	case reflect.Array:
		fmt.Fprintf(b, "[%d]", t.Len())
		schema(b, t.Elem(), seen)
	case reflect.Map:
		b.WriteString("map[")
		schema(b, t.Key(), seen)
		b.WriteByte(']')
		schema(b, t.Elem(), seen)
	case reflect.Pointer:
		if seen[t] {
			b.WriteString("recursive")
			return
		}
		seen[t] = true
		b.WriteByte('*')
		schema(b, t.Elem(), seen)
		delete(seen, t)
	default:
		b.WriteString(kindName(t.Kind()))
	}
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "int"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "uint"
	case reflect.Float32, reflect.Float64:
		return "float"
	}
	return k.String()
}

// CheckType reports whether the default codec can encode T.
func CheckType[T any]() error {
	_, _, err := compile(reflect.TypeOf((*T)(nil)).Elem(), map[reflect.Type]bool{})
	return err
}
