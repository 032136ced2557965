package codec

import (
	"encoding/binary"
	"reflect"
)

// Self is implemented by a pointer type whose values encode themselves,
// for state values the reflective codec cannot encode (values holding
// interfaces, or objects kept live in heap state). For, CheckType and
// Schema use it for any pointer type *X that implements it: the encoding
// is the length of AppendState's bytes (uvarint) then those bytes, and
// decoding calls DecodeState on a new X with exactly those bytes (which
// it must copy if it keeps them).
type Self interface {
	AppendState(dst []byte) []byte
	DecodeState(src []byte) error
}

var selfType = reflect.TypeOf((*Self)(nil)).Elem()

func isSelf(t reflect.Type) bool { return t.Kind() == reflect.Pointer && t.Implements(selfType) }

// selfCodec is the codec of a Self pointer type T.
type selfCodec[T any] struct{ elem reflect.Type }

func (c selfCodec[T]) Append(dst []byte, v T) []byte {
	return appendSelf(dst, any(v).(Self))
}

func (c selfCodec[T]) Decode(src []byte) (T, int, error) {
	p := reflect.New(c.elem)
	n, err := decodeSelf(src, p.Interface().(Self))
	if err != nil {
		var zero T
		return zero, 0, err
	}
	return p.Interface().(T), n, nil
}

func appendSelf(dst []byte, s Self) []byte {
	start := len(dst)
	dst = s.AppendState(dst)
	n := len(dst) - start
	var hdr [binary.MaxVarintLen64]byte
	h := binary.PutUvarint(hdr[:], uint64(n))
	dst = append(dst, hdr[:h]...)
	copy(dst[start+h:], dst[start:start+n])
	copy(dst[start:], hdr[:h])
	return dst
}

func decodeSelf(src []byte, s Self) (int, error) {
	l, h := binary.Uvarint(src)
	if h <= 0 || l > uint64(len(src)-h) {
		return 0, corrupt("self-encoded value length")
	}
	if err := s.DecodeState(src[h : h+int(l)]); err != nil {
		return 0, err
	}
	return h + int(l), nil
}

// compileSelf is compile for a Self pointer type.
func compileSelf(t reflect.Type) (encoder, decoder) {
	return func(dst []byte, v reflect.Value) []byte {
			if v.IsNil() {
				return appendSelf(dst, reflect.New(t.Elem()).Interface().(Self))
			}
			return appendSelf(dst, v.Interface().(Self))
		}, func(src []byte, v reflect.Value) (int, error) {
			p := reflect.New(t.Elem())
			n, err := decodeSelf(src, p.Interface().(Self))
			if err != nil {
				return 0, err
			}
			v.Set(p)
			return n, nil
		}
}
