package statebackend

import (
	"reflect"
	"time"
)

// Mutable reports whether values of type T can be changed in place by the
// code that stored them (they hold pointers, slices or maps). A backend that
// keeps such values by reference (the heap, an in-memory cache) would see
// later changes; one that encodes them at once would not.
func Mutable[T any]() bool { return mutable(reflect.TypeOf((*T)(nil)).Elem()) }

// mutable reports whether values of type t can be changed in place after
// they were stored (they hold pointers, slices or maps). Strings and
// time.Time are immutable.
func mutable(t reflect.Type) bool {
	if t == reflect.TypeOf(time.Time{}) {
		return false
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Chan, reflect.Func, reflect.Interface, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return mutable(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if mutable(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}
