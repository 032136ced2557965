// Package jsonfield lists the object keys encoding/json fills in a Go
// struct, for formats that check a JSON record has every field (Flink's
// fail-on-missing-field): the file connector's JSON lines and the Kafka
// JSON serde use it. It is pure reflection over types, safe for
// concurrent use.
package jsonfield

import (
	"reflect"
	"strings"
)

// Field is a key encoding/json decodes into a struct field.
type Field struct {
	// Name is the JSON key: the tag's name, else the Go field name.
	Name string
	// Type is the Go field's type.
	Type reflect.Type
	// Optional is set for fields tagged omitempty or omitzero.
	Optional bool
}

// Nullable reports whether a JSON null is a value of the field's type (a
// pointer, interface, map or slice).
func (f Field) Nullable() bool {
	switch f.Type.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return true
	}
	return false
}

// maxEmbedding bounds how deep embedded structs are promoted (a struct
// embedding a pointer to itself would otherwise recurse forever).
const maxEmbedding = 8

// Of returns the fields encoding/json decodes into struct t: every
// exported field under its JSON name, fields of embedded structs without a
// name tag promoted, fields tagged "-" left out. A name that several
// levels of embedding define counts once, at its shallowest level, as
// encoding/json's dominant field.
func Of(t reflect.Type) []Field {
	var all []leveled
	walk(t, 0, &all)
	level := map[string]int{}
	for _, f := range all {
		if l, ok := level[f.Name]; !ok || f.depth < l {
			level[f.Name] = f.depth
		}
	}
	var out []Field
	for _, f := range all {
		if level[f.Name] == f.depth {
			out = append(out, f.Field)
			level[f.Name] = -1 // once
		}
	}
	return out
}

// leveled is a field and how deep in embedded structs it is.
type leveled struct {
	Field
	depth int
}

func walk(t reflect.Type, depth int, out *[]leveled) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if depth < maxEmbedding {
					walk(ft, depth+1, out)
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := false
		for o := range strings.SplitSeq(opts, ",") {
			optional = optional || o == "omitempty" || o == "omitzero"
		}
		*out = append(*out, leveled{Field{Name: name, Type: f.Type, Optional: optional}, depth})
	}
}
