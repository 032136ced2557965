package heap

import (
	"reflect"
	"time"
	"unsafe"

	"github.com/weirstream/weir/codec"
)

// The copy a value state hands out while a snapshot is being written
// (fork) is made, for a type without CopyState, by encoding and decoding
// the value with its codec, which leaves out the struct fields tagged
// weir:"-". Those fields are no snapshot's business, but the operator
// still keeps them while the job runs (a cache, say): keepSkipped moves
// them over to the copy, so that taking a checkpoint changes nothing the
// operator sees. The captured value keeps them too; its writer never
// reads them.

var (
	selfEncoderType = reflect.TypeFor[codec.SelfEncoder]()
	selfDecoderType = reflect.TypeFor[codec.SelfDecoder]()
	timeType        = reflect.TypeFor[time.Time]()
)

// selfEncoded reports whether the default codec encodes t with its own
// AppendState (what such a type keeps out of its encoding is its own
// business: it implements state.Copier if it must survive a copy).
func selfEncoded(t reflect.Type) bool {
	return t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface &&
		t.Implements(selfEncoderType) && reflect.PointerTo(t).Implements(selfDecoderType)
}

// skippedField reports whether the codec leaves struct field f out.
func skippedField(f reflect.StructField) bool {
	return f.Tag.Get("weir") == "-" || f.Name == "_"
}

// hasSkipped reports whether values of type t reach a struct field the
// codec leaves out.
func hasSkipped(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] || t == timeType || selfEncoded(t) {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return hasSkipped(t.Elem(), seen)
	case reflect.Map:
		return hasSkipped(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if skippedField(f) || hasSkipped(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// field returns field i of the addressable struct v, settable even if it
// is unexported.
func field(v reflect.Value, i int) reflect.Value {
	f := v.Field(i)
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

// keepSkipped sets, in dst (decoded from an encoding of src; both
// addressable), the fields the codec left out to those of src.
func keepSkipped(dst, src reflect.Value) {
	t := dst.Type()
	if t == timeType || selfEncoded(t) {
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if !dst.IsNil() && !src.IsNil() {
			keepSkipped(dst.Elem(), src.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range min(dst.Len(), src.Len()) {
			keepSkipped(dst.Index(i), src.Index(i))
		}
	case reflect.Map:
		if dst.IsNil() || src.IsNil() {
			return
		}
		it := src.MapRange()
		for it.Next() {
			dv := dst.MapIndex(it.Key())
			if !dv.IsValid() {
				continue
			}
			d := reflect.New(t.Elem()).Elem()
			d.Set(dv)
			s := reflect.New(t.Elem()).Elem()
			s.Set(it.Value())
			keepSkipped(d, s)
			dst.SetMapIndex(it.Key(), d)
		}
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if skippedField(t.Field(i)) {
				field(dst, i).Set(field(src, i))
				continue
			}
			keepSkipped(field(dst, i), field(src, i))
		}
	}
}
