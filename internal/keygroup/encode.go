package keygroup

import (
	"encoding/binary"
	"math"
	"reflect"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// A compound key (a struct or an array) is hashed by a program built once
// per type from its reflect.Type: a list of steps, each reading one
// scalar, or a run of equally spaced scalars, at a fixed offset from the
// key's address. The program feeds xxhash exactly the bytes the format
// defines (see Hasher): strings as a uvarint length and their bytes;
// signed integers sign-extended and unsigned ones zero-extended to 8
// little-endian bytes; floats as the 8 little-endian bytes of their
// float64 value; bools as one byte 0 or 1; struct fields in declaration
// order (unexported and blank ones included); array elements in order.
// No reflection and no allocation happens per key.

// opKind is what one step of a program reads.
type opKind uint8

const (
	opString opKind = iota
	opBool
	opInt8
	opInt16
	opInt32
	opInt64
	opUint8
	opUint16
	opUint32
	opUint64
	opFloat32
	opFloat64
	// opRepeat runs sub n times, at off, off+stride, ...
	opRepeat
)

// step reads n values of kind at off, off+stride, ...
type step struct {
	kind   opKind
	off    uintptr
	n      int
	stride uintptr
	sub    []step
}

// compileKey builds the program of a type accepted by checkHashable.
func compileKey(t reflect.Type, off uintptr, prog []step) []step {
	if k, ok := scalarOp(t); ok {
		return appendStep(prog, step{kind: k, off: off, n: 1, stride: t.Size()})
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			prog = compileKey(f.Type, off+f.Offset, prog)
		}
		return prog
	case reflect.Array:
		n, et := t.Len(), t.Elem()
		if n == 0 {
			return prog
		}
		if k, ok := scalarOp(et); ok {
			return appendStep(prog, step{kind: k, off: off, n: n, stride: et.Size()})
		}
		sub := compileKey(et, 0, nil)
		if len(sub) == 0 {
			return prog
		}
		if n == 1 {
			return append(prog, shift(sub, off)...)
		}
		return append(prog, step{kind: opRepeat, off: off, n: n, stride: et.Size(), sub: sub})
	}
	panic("keygroup: compileKey on unchecked type " + t.String())
}

// appendStep appends s, merging it into the last step when it continues
// that step's run of equally spaced values of the same kind.
func appendStep(prog []step, s step) []step {
	if l := len(prog); l > 0 {
		p := &prog[l-1]
		if p.kind == s.kind && p.kind != opRepeat && p.stride == s.stride &&
			p.off+uintptr(p.n)*p.stride == s.off && s.n >= 1 {
			p.n += s.n
			return prog
		}
	}
	return append(prog, s)
}

// shift returns the steps of prog moved by off.
func shift(prog []step, off uintptr) []step {
	out := make([]step, len(prog))
	for i, s := range prog {
		s.off += off
		out[i] = s
	}
	return out
}

func scalarOp(t reflect.Type) (opKind, bool) {
	switch t.Kind() {
	case reflect.String:
		return opString, true
	case reflect.Bool:
		return opBool, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch t.Size() {
		case 1:
			return opInt8, true
		case 2:
			return opInt16, true
		case 4:
			return opInt32, true
		}
		return opInt64, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		switch t.Size() {
		case 1:
			return opUint8, true
		case 2:
			return opUint16, true
		case 4:
			return opUint32, true
		}
		return opUint64, true
	case reflect.Float32:
		return opFloat32, true
	case reflect.Float64:
		return opFloat64, true
	}
	return 0, false
}

// hashState buffers the encoding of one key on the stack and streams it
// into a digest only when it outgrows the buffer.
type hashState struct {
	n        int
	streamed bool
	d        xxhash.Digest
	buf      [256]byte
}

// room is what a scalar needs: a uvarint length or 8 bytes.
const room = binary.MaxVarintLen64

func (s *hashState) flush() {
	if !s.streamed {
		s.d.Reset()
		s.streamed = true
	}
	_, _ = s.d.Write(s.buf[:s.n])
	s.n = 0
}

func (s *hashState) put8(v uint64) {
	if s.n > len(s.buf)-room {
		s.flush()
	}
	binary.LittleEndian.PutUint64(s.buf[s.n:], v)
	s.n += 8
}

func (s *hashState) putString(str string) {
	if s.n > len(s.buf)-room {
		s.flush()
	}
	s.n += binary.PutUvarint(s.buf[s.n:], uint64(len(str)))
	if len(str) <= len(s.buf)-s.n {
		s.n += copy(s.buf[s.n:], str)
		return
	}
	s.flush()
	_, _ = s.d.WriteString(str)
}

func (s *hashState) sum() uint64 {
	if !s.streamed {
		return xxhash.Sum64(s.buf[:s.n])
	}
	_, _ = s.d.Write(s.buf[:s.n])
	return s.d.Sum64()
}

// run feeds the values prog reads at base into s.
func (s *hashState) run(base unsafe.Pointer, prog []step) {
	for i := range prog {
		st := &prog[i]
		p := unsafe.Add(base, st.off)
		for j := 0; j < st.n; j++ {
			switch st.kind {
			case opString:
				s.putString(*(*string)(p))
			case opBool:
				if s.n > len(s.buf)-room {
					s.flush()
				}
				// Any byte but 0 is true, however unsafe code made it.
				var b byte
				if *(*uint8)(p) != 0 {
					b = 1
				}
				s.buf[s.n] = b
				s.n++
			case opInt8:
				s.put8(uint64(int64(*(*int8)(p))))
			case opInt16:
				s.put8(uint64(int64(*(*int16)(p))))
			case opInt32:
				s.put8(uint64(int64(*(*int32)(p))))
			case opInt64, opUint64:
				s.put8(*(*uint64)(p))
			case opUint8:
				s.put8(uint64(*(*uint8)(p)))
			case opUint16:
				s.put8(uint64(*(*uint16)(p)))
			case opUint32:
				s.put8(uint64(*(*uint32)(p)))
			case opFloat32:
				s.put8(math.Float64bits(float64(*(*float32)(p))))
			case opFloat64:
				s.put8(*(*uint64)(p))
			case opRepeat:
				s.run(p, st.sub)
			}
			p = unsafe.Add(p, st.stride)
		}
	}
}

// hashCompound hashes the key of program prog at p.
func hashCompound(p unsafe.Pointer, prog []step) uint64 {
	var s hashState
	s.run(p, prog)
	return s.sum()
}
