package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"unsafe"
)

// Flat types — booleans, numbers and strings, and structs and arrays built
// only from them — are encoded by a program compiled once per type: a list
// of steps reading (or writing) one value, or a run of equally spaced
// values, at a fixed offset from the value's address. A program writes the
// bytes the reflection-based encoders write (and reads them back the same
// way), without reflection or allocation per value; decoding allocates
// only the strings it returns.

type flatKind uint8

const (
	flatBool flatKind = iota
	flatInt8
	flatInt16
	flatInt32
	flatInt64
	flatUint8
	flatUint16
	flatUint32
	flatUint64
	flatFloat32
	flatFloat64
	flatString
	// flatRepeat runs sub n times, at off, off+stride, ...
	flatRepeat
)

// flatStep handles n values of kind at off, off+stride, ... A decoding
// error is wrapped with prefix, the struct fields leading to the value
// ("field A: field B: "), as the reflection-based decoders wrap it.
type flatStep struct {
	kind   flatKind
	off    uintptr
	n      int
	stride uintptr
	sub    []flatStep
	prefix string
}

// flatCodec is the Codec of a flat type.
type flatCodec[T any] struct {
	prog []flatStep
}

// compileFlat returns the program of t, or false if t is not flat. Fields
// the default codec leaves out (tagged `weir:"-"`, or blank) are left out
// here too; t must have passed compile (no unexported field).
func compileFlat(t reflect.Type, off uintptr, prefix string, prog []flatStep) ([]flatStep, bool) {
	if t == timeType || isSelf(t) {
		return nil, false
	}
	if k, ok := flatScalar(t); ok {
		return appendFlatStep(prog, flatStep{kind: k, off: off, n: 1, stride: t.Size(), prefix: prefix}), true
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Tag.Get("weir") == "-" || f.Name == "_" {
				continue
			}
			var ok bool
			if prog, ok = compileFlat(f.Type, off+f.Offset, prefix+"field "+f.Name+": ", prog); !ok {
				return nil, false
			}
		}
		return prog, true
	case reflect.Array:
		n, et := t.Len(), t.Elem()
		if k, ok := flatScalar(et); ok {
			if n == 0 {
				return prog, true
			}
			return appendFlatStep(prog, flatStep{kind: k, off: off, n: n, stride: et.Size(), prefix: prefix}), true
		}
		sub, ok := compileFlat(et, 0, prefix, nil)
		if !ok {
			return nil, false
		}
		if n == 0 || len(sub) == 0 {
			return prog, true
		}
		return append(prog, flatStep{kind: flatRepeat, off: off, n: n, stride: et.Size(), sub: sub}), true
	}
	return nil, false
}

// appendFlatStep appends s, merging it into the last step when it continues
// that step's run of equally spaced values of the same kind and prefix.
func appendFlatStep(prog []flatStep, s flatStep) []flatStep {
	if l := len(prog); l > 0 {
		p := &prog[l-1]
		if p.kind == s.kind && p.kind != flatRepeat && p.stride == s.stride && p.prefix == s.prefix &&
			p.off+uintptr(p.n)*p.stride == s.off {
			p.n += s.n
			return prog
		}
	}
	return append(prog, s)
}

func flatScalar(t reflect.Type) (flatKind, bool) {
	switch t.Kind() {
	case reflect.Bool:
		return flatBool, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch t.Size() {
		case 1:
			return flatInt8, true
		case 2:
			return flatInt16, true
		case 4:
			return flatInt32, true
		}
		return flatInt64, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		switch t.Size() {
		case 1:
			return flatUint8, true
		case 2:
			return flatUint16, true
		case 4:
			return flatUint32, true
		}
		return flatUint64, true
	case reflect.Float32:
		return flatFloat32, true
	case reflect.Float64:
		return flatFloat64, true
	case reflect.String:
		return flatString, true
	}
	return 0, false
}

func (c *flatCodec[T]) Append(dst []byte, v T) []byte {
	return appendFlat(dst, unsafe.Pointer(&v), c.prog)
}

func (c *flatCodec[T]) Decode(src []byte) (T, int, error) {
	var v T
	n, err := decodeFlat(src, unsafe.Pointer(&v), c.prog)
	return v, n, err
}

func appendFlat(dst []byte, base unsafe.Pointer, prog []flatStep) []byte {
	for i := range prog {
		st := &prog[i]
		p := unsafe.Add(base, st.off)
		for j := 0; j < st.n; j++ {
			switch st.kind {
			case flatBool:
				// Any byte but 0 is true, however unsafe code made it.
				var b byte
				if *(*uint8)(p) != 0 {
					b = 1
				}
				dst = append(dst, b)
			case flatInt8:
				dst = binary.AppendVarint(dst, int64(*(*int8)(p)))
			case flatInt16:
				dst = binary.AppendVarint(dst, int64(*(*int16)(p)))
			case flatInt32:
				dst = binary.AppendVarint(dst, int64(*(*int32)(p)))
			case flatInt64:
				dst = binary.AppendVarint(dst, *(*int64)(p))
			case flatUint8:
				dst = binary.AppendUvarint(dst, uint64(*(*uint8)(p)))
			case flatUint16:
				dst = binary.AppendUvarint(dst, uint64(*(*uint16)(p)))
			case flatUint32:
				dst = binary.AppendUvarint(dst, uint64(*(*uint32)(p)))
			case flatUint64:
				dst = binary.AppendUvarint(dst, *(*uint64)(p))
			case flatFloat32:
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(float64(*(*float32)(p))))
			case flatFloat64:
				dst = binary.LittleEndian.AppendUint64(dst, *(*uint64)(p))
			case flatString:
				s := *(*string)(p)
				dst = binary.AppendUvarint(dst, uint64(len(s)))
				dst = append(dst, s...)
			case flatRepeat:
				dst = appendFlat(dst, p, st.sub)
			}
			p = unsafe.Add(p, st.stride)
		}
	}
	return dst
}

// flatError wraps the corruption of a value of kind what with the fields
// leading to it.
func flatError(prefix, what string) error {
	if prefix == "" {
		return corrupt(what)
	}
	return fmt.Errorf("%s%w", prefix, corrupt(what))
}

func decodeFlat(src []byte, base unsafe.Pointer, prog []flatStep) (int, error) {
	off := 0
	for i := range prog {
		st := &prog[i]
		p := unsafe.Add(base, st.off)
		for j := 0; j < st.n; j++ {
			switch st.kind {
			case flatBool:
				if len(src)-off < 1 {
					return 0, flatError(st.prefix, "bool")
				}
				*(*bool)(p) = src[off] != 0
				off++
			case flatInt8, flatInt16, flatInt32, flatInt64:
				x, k := binary.Varint(src[off:])
				if k <= 0 {
					return 0, flatError(st.prefix, "int")
				}
				off += k
				switch st.kind {
				case flatInt8:
					*(*int8)(p) = int8(x)
				case flatInt16:
					*(*int16)(p) = int16(x)
				case flatInt32:
					*(*int32)(p) = int32(x)
				default:
					*(*int64)(p) = x
				}
			case flatUint8, flatUint16, flatUint32, flatUint64:
				x, k := binary.Uvarint(src[off:])
				if k <= 0 {
					return 0, flatError(st.prefix, "uint")
				}
				off += k
				switch st.kind {
				case flatUint8:
					*(*uint8)(p) = uint8(x)
				case flatUint16:
					*(*uint16)(p) = uint16(x)
				case flatUint32:
					*(*uint32)(p) = uint32(x)
				default:
					*(*uint64)(p) = x
				}
			case flatFloat32, flatFloat64:
				if len(src)-off < 8 {
					return 0, flatError(st.prefix, "float")
				}
				f := math.Float64frombits(binary.LittleEndian.Uint64(src[off:]))
				off += 8
				if st.kind == flatFloat32 {
					*(*float32)(p) = float32(f)
				} else {
					*(*float64)(p) = f
				}
			case flatString:
				n, k := binary.Uvarint(src[off:])
				if k <= 0 || uint64(len(src)-off-k) < n {
					return 0, flatError(st.prefix, "string")
				}
				off += k
				*(*string)(p) = string(src[off : off+int(n)])
				off += int(n)
			case flatRepeat:
				m, err := decodeFlat(src[off:], p, st.sub)
				if err != nil {
					return 0, err
				}
				off += m
			}
			p = unsafe.Add(p, st.stride)
		}
	}
	return off, nil
}
