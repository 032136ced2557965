package codec

import (
	"reflect"
)

// SelfEncoder is implemented by a type that encodes itself in state: the
// default codec (For) encodes its values with AppendState instead of
// reflecting over their fields, and decodes them with DecodeState on a
// pointer (the type's pointer must implement SelfDecoder). Such a type may
// keep unexported fields, and may keep its values in a form that is cheap
// to work with and encode them only when state is snapshotted (heap
// backend) or written (byte-oriented backends).
//
// The encoding must be self-delimiting: DecodeState is handed the rest of
// the state's bytes and returns how many it used.
type SelfEncoder interface {
	AppendState(dst []byte) []byte
}

// SelfDecoder decodes a value encoded by SelfEncoder.AppendState from the
// start of src into its receiver and returns the number of bytes it used.
// Decoding errors should wrap ErrCorrupt.
type SelfDecoder interface {
	DecodeState(src []byte) (int, error)
}

// SelfSchema is optionally implemented by a SelfEncoder: StateSchema is
// its layout in Schema (by default "self:" and its type name). A type
// that replaces a plain struct, and encodes exactly the bytes the default
// codec wrote for that struct, returns the struct's schema to keep reading
// the state written before.
type SelfSchema interface {
	StateSchema() string
}

var (
	selfEncoderType = reflect.TypeFor[SelfEncoder]()
	selfDecoderType = reflect.TypeFor[SelfDecoder]()
	selfSchemaType  = reflect.TypeFor[SelfSchema]()
)

// isSelf reports whether t (not a pointer or interface) encodes itself.
func isSelf(t reflect.Type) bool {
	return t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface &&
		t.Implements(selfEncoderType) && reflect.PointerTo(t).Implements(selfDecoderType)
}

// compileSelf returns the encoder and decoder of a type that encodes
// itself.
func compileSelf(t reflect.Type) (encoder, decoder) {
	return func(dst []byte, v reflect.Value) []byte {
			if v.CanAddr() {
				// A pointer in an interface does not allocate.
				return v.Addr().Interface().(SelfEncoder).AppendState(dst)
			}
			return v.Interface().(SelfEncoder).AppendState(dst)
		}, func(src []byte, v reflect.Value) (int, error) {
			if v.CanAddr() {
				return v.Addr().Interface().(SelfDecoder).DecodeState(src)
			}
			p := reflect.New(t)
			n, err := p.Interface().(SelfDecoder).DecodeState(src)
			if err != nil {
				return 0, err
			}
			v.Set(p.Elem())
			return n, nil
		}
}

// selfSchema is the layout of a type that encodes itself.
func selfSchema(t reflect.Type) string {
	if t.Implements(selfSchemaType) {
		return reflect.Zero(t).Interface().(SelfSchema).StateSchema()
	}
	return "self:" + t.String()
}
