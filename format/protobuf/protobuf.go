// Package protobuf converts rows to and from Protocol Buffers messages as
// Flink's 'protobuf' format does, with the message described at run time
// by .proto source (compiled with protocompile) or a FileDescriptorSet,
// not by generated code.
//
// Columns map to message fields by name; a message may have fields the
// row lacks (they are skipped when read and left unset when written). The
// types map as in Flink: bool BOOLEAN; int32, sint32, sfixed32 INT (or
// BIGINT, or TINYINT/SMALLINT when the value fits); int64, sint64,
// sfixed64 BIGINT; uint32 and fixed32 BIGINT (or INT when the value
// fits); uint64 and fixed64 BIGINT (a value above 2^63-1 is an error);
// float FLOAT or DOUBLE; double DOUBLE; string CHAR/VARCHAR; bytes
// BINARY/VARBINARY; enum CHAR/VARCHAR (the value's name; an unknown number
// of an open enum reads as its decimal text) or an integer type (the
// number); message ROW; repeated ARRAY; map MAP (entries sorted by key
// when read, as protobuf maps have no order).
//
// Nulls follow Flink. Reading, a field with presence (proto2 optional,
// proto3 optional, a message, a oneof member) that is not set is NULL
// unless Options.ReadDefaultValues, which reads the field's default (for
// a message, a row of its defaults); proto3 scalars without presence read
// their value, which is the default when unset. A repeated field or a map
// that is absent reads as an empty ARRAY or MAP. Writing, a NULL column
// leaves its field unset; a NULL element of an ARRAY, or a NULL MAP key or
// value, is written as the type's default (Options.WriteNullStringLiteral
// for strings, the first value for enums, an empty message for rows), as
// protobuf has no null there. Columns of one oneof are set in column
// order, so a later non-NULL column wins.
//
// Decoders and encoders keep no state between records and are safe for
// concurrent use. The Confluent type adds the schema registry's wire
// format (confluent.go).
package protobuf

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/weirstream/weir/row"
)

// Options are the format's options, named after Flink's.
type Options struct {
	// ReadDefaultValues reads an unset field with presence as its default
	// instead of NULL (protobuf.read-default-values).
	ReadDefaultValues bool
	// WriteNullStringLiteral is written for a NULL string inside an ARRAY
	// or MAP (protobuf.write-null-string-literal, default "").
	WriteNullStringLiteral string
}

// Error is a record or a schema the format rejects: Field is the path of
// the field at fault ("a.b[2]"), "" for the record as a whole.
type Error struct {
	Field  string
	Reason string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return "protobuf: " + e.Reason
	}
	return fmt.Sprintf("protobuf: field %s: %s", e.Field, e.Reason)
}

// FieldPath returns the field at fault.
func (e *Error) FieldPath() string { return e.Field }

// message converts a message to and from the fields of a ROW.
type message struct {
	md     protoreflect.MessageDescriptor
	fields []field
}

// field is one row field and the message field it maps to.
type field struct {
	path string
	fd   protoreflect.FieldDescriptor // nil: not in the message, always NULL
	key  *scalar                      // map keys
	elem *scalar                      // the value, list element or map value
}

// scalar converts one protobuf value of a kind.
type scalar struct {
	path string
	t    row.Type
	fd   protoreflect.FieldDescriptor // the field, or a map entry's key or value
	msg  *message                     // MessageKind and GroupKind
}

func buildMessage(md protoreflect.MessageDescriptor, cols []row.Field, path string, allowMissing bool) (*message, error) {
	m := &message{md: md, fields: make([]field, len(cols))}
	for i, c := range cols {
		p := c.Name
		if path != "" {
			p = path + "." + c.Name
		}
		f := field{path: p}
		fd := md.Fields().ByName(protoreflect.Name(c.Name))
		if fd == nil {
			if !allowMissing {
				return nil, &Error{Field: p, Reason: fmt.Sprintf("message %s has no field %s", md.FullName(), c.Name)}
			}
			m.fields[i] = f
			continue
		}
		f.fd = fd
		var err error
		switch {
		case fd.IsMap():
			if c.Type.Root != row.TypeMap {
				return nil, &Error{Field: p, Reason: fmt.Sprintf("a protobuf map maps to MAP, not %s", c.Type)}
			}
			if f.key, err = buildScalar(fd.MapKey(), *c.Type.Elem, p+".key", allowMissing); err == nil {
				f.elem, err = buildScalar(fd.MapValue(), *c.Type.Value, p+".value", allowMissing)
			}
		case fd.IsList():
			if c.Type.Root != row.TypeArray {
				return nil, &Error{Field: p, Reason: fmt.Sprintf("a repeated field maps to ARRAY, not %s", c.Type)}
			}
			f.elem, err = buildScalar(fd, *c.Type.Elem, p+"[]", allowMissing)
		default:
			f.elem, err = buildScalar(fd, c.Type, p, allowMissing)
		}
		if err != nil {
			return nil, err
		}
		m.fields[i] = f
	}
	return m, nil
}

func buildScalar(fd protoreflect.FieldDescriptor, t row.Type, path string, allowMissing bool) (*scalar, error) {
	s := &scalar{path: path, t: t, fd: fd}
	ok := false
	switch fd.Kind() {
	case protoreflect.BoolKind:
		ok = t.Root == row.TypeBoolean
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind, protoreflect.EnumKind:
		ok = t.IsInteger() || (fd.Kind() == protoreflect.EnumKind && t.IsString())
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		ok = t.Root == row.TypeInt || t.Root == row.TypeBigInt
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		ok = t.Root == row.TypeBigInt
	case protoreflect.FloatKind:
		ok = t.Root == row.TypeFloat || t.Root == row.TypeDouble
	case protoreflect.DoubleKind:
		ok = t.Root == row.TypeDouble
	case protoreflect.StringKind:
		ok = t.IsString()
	case protoreflect.BytesKind:
		ok = t.IsBinary()
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if t.Root == row.TypeRow {
			m, err := buildMessage(fd.Message(), t.Fields, path, allowMissing)
			if err != nil {
				return nil, err
			}
			s.msg, ok = m, true
		}
	}
	if !ok {
		return nil, &Error{Field: path, Reason: fmt.Sprintf("protobuf %s does not map to %s", kindName(fd), t)}
	}
	return s, nil
}

func kindName(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return "message " + string(fd.Message().FullName())
	case protoreflect.EnumKind:
		return "enum " + string(fd.Enum().FullName())
	}
	return fd.Kind().String()
}

// Decoder turns protobuf messages into rows of a schema.
type Decoder struct {
	msg  *message
	opts Options
}

// NewDecoder returns a decoder of messages md into rows of s. Every
// column must name a field of md of a type that maps to the column's.
func NewDecoder(md protoreflect.MessageDescriptor, s row.Schema, o Options) (*Decoder, error) {
	return newDecoder(md, s, o, false)
}

// newDecoder with allowMissing reads columns md lacks as NULL (a record
// of an older or newer schema).
func newDecoder(md protoreflect.MessageDescriptor, s row.Schema, o Options, allowMissing bool) (*Decoder, error) {
	m, err := buildMessage(md, s.Columns, "", allowMissing)
	if err != nil {
		return nil, err
	}
	return &Decoder{msg: m, opts: o}, nil
}

// Decode turns one message into an insert row. The bool is always true
// (the format has no null record).
func (d *Decoder) Decode(b []byte) (row.Row, bool, error) {
	m := dynamicpb.NewMessage(d.msg.md)
	if err := unmarshal(b, m); err != nil {
		return row.Row{}, false, locate(d.msg.md, b, "", err)
	}
	fields, err := d.message(m, d.msg)
	if err != nil {
		return row.Row{}, false, err
	}
	return row.Row{Fields: fields}, true, nil
}

func (d *Decoder) message(m protoreflect.Message, msg *message) ([]row.Value, error) {
	out := make([]row.Value, len(msg.fields))
	for i := range msg.fields {
		f := &msg.fields[i]
		fd := f.fd
		switch {
		case fd == nil:
		case fd.IsMap():
			mp := m.Get(fd).Map()
			type entry struct {
				k protoreflect.MapKey
				v protoreflect.Value
			}
			es := make([]entry, 0, mp.Len())
			mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				es = append(es, entry{k, v})
				return true
			})
			slices.SortFunc(es, func(a, b entry) int { return compareKeys(a.k, b.k) })
			keys := make([]row.Value, len(es))
			vals := make([]row.Value, len(es))
			for j, e := range es {
				var err error
				if keys[j], err = d.scalar(e.k.Value(), f.key); err != nil {
					return nil, err
				}
				if vals[j], err = d.scalar(e.v, f.elem); err != nil {
					return nil, err
				}
			}
			out[i] = row.Map(keys, vals)
		case fd.IsList():
			l := m.Get(fd).List()
			elems := make([]row.Value, l.Len())
			for j := range elems {
				var err error
				if elems[j], err = d.scalar(l.Get(j), f.elem); err != nil {
					return nil, err
				}
			}
			out[i] = row.Array(elems)
		default:
			if fd.HasPresence() && !m.Has(fd) && !d.opts.ReadDefaultValues {
				continue // NULL
			}
			v, err := d.scalar(m.Get(fd), f.elem)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
	}
	return out, nil
}

func compareKeys(a, b protoreflect.MapKey) int {
	switch x := a.Interface().(type) {
	case bool:
		y := b.Bool()
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int32, int64:
		return cmp.Compare(a.Int(), b.Int())
	case uint32, uint64:
		return cmp.Compare(a.Uint(), b.Uint())
	case string:
		return cmp.Compare(x, b.String())
	}
	return 0
}

func (d *Decoder) scalar(v protoreflect.Value, s *scalar) (row.Value, error) {
	switch s.fd.Kind() {
	case protoreflect.BoolKind:
		return row.Bool(v.Bool()), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return intValue(v.Int(), s)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		u := v.Uint()
		if u > math.MaxInt64 {
			return row.Value{}, &Error{Field: s.path, Reason: fmt.Sprintf("%d overflows %s", u, s.t)}
		}
		return intValue(int64(u), s)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return row.Float(v.Float()), nil
	case protoreflect.StringKind:
		return row.Str(v.String()), nil
	case protoreflect.BytesKind:
		return row.Bytes(v.Bytes()), nil
	case protoreflect.EnumKind:
		n := v.Enum()
		if s.t.IsString() {
			if ev := s.fd.Enum().Values().ByNumber(n); ev != nil {
				return row.Str(string(ev.Name())), nil
			}
			return row.Str(strconv.Itoa(int(n))), nil
		}
		return intValue(int64(n), s)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		fields, err := d.message(v.Message(), s.msg)
		if err != nil {
			return row.Value{}, err
		}
		return row.Nested(fields), nil
	}
	return row.Value{}, &Error{Field: s.path, Reason: "unsupported kind " + s.fd.Kind().String()}
}

// intValue range-checks n against an integer column type.
func intValue(n int64, s *scalar) (row.Value, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	switch s.t.Root {
	case row.TypeTinyInt:
		lo, hi = math.MinInt8, math.MaxInt8
	case row.TypeSmallInt:
		lo, hi = math.MinInt16, math.MaxInt16
	case row.TypeInt:
		lo, hi = math.MinInt32, math.MaxInt32
	}
	if n < lo || n > hi {
		return row.Value{}, &Error{Field: s.path, Reason: fmt.Sprintf("%d overflows %s", n, s.t)}
	}
	return row.Int(n), nil
}

// unmarshal is proto.Unmarshal, turning a panic into an error:
// google.golang.org/protobuf (v1.36.8 to v1.36.12) panics on a map entry
// whose key repeats with the wrong wire type when it decodes a dynamic
// message (FuzzProtobufDecode found it; testdata/fuzz keeps the input).
func unmarshal(b []byte, m proto.Message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed message (%v)", p)
		}
	}()
	return proto.Unmarshal(b, m)
}

// Explain turns the error of a message b of type md that does not
// unmarshal into an *Error naming the field at fault, found by walking
// the wire format with md.
func Explain(md protoreflect.MessageDescriptor, b []byte, cause error) error {
	return locate(md, b, "", cause)
}

func locate(md protoreflect.MessageDescriptor, b []byte, path string, cause error) error {
	if f, reason := walk(md, b, path, 0); reason != "" {
		return &Error{Field: f, Reason: reason}
	}
	return &Error{Reason: cause.Error()}
}

const maxDepth = 100

func walk(md protoreflect.MessageDescriptor, b []byte, path string, depth int) (string, string) {
	if depth > maxDepth {
		return path, "nested too deeply"
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return path, "bad field tag: " + protowire.ParseError(n).Error()
		}
		var fd protoreflect.FieldDescriptor
		if md != nil {
			fd = md.Fields().ByNumber(num)
		}
		name := fmt.Sprintf("#%d", num)
		if fd != nil {
			name = string(fd.Name())
		}
		if path != "" {
			name = path + "." + name
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return name, "bad value: " + protowire.ParseError(m).Error()
		}
		if fd != nil && md.IsMapEntry() && typ != wireType(fd) {
			return name, fmt.Sprintf("a map entry's %s has wire type %d", fd.Name(), typ)
		}
		if fd != nil && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b[n:])
			switch fd.Kind() {
			case protoreflect.MessageKind:
				if f, r := walk(fd.Message(), v, name, depth+1); r != "" {
					return f, r
				}
			case protoreflect.StringKind:
				if fd.Syntax() == protoreflect.Proto3 && !utf8.Valid(v) {
					return name, "invalid UTF-8 in a string"
				}
			}
		}
		b = b[n+m:]
	}
	return "", ""
}

// Encoder turns rows of a schema into protobuf messages.
type Encoder struct {
	msg  *message
	opts Options
}

// NewEncoder returns an encoder of rows of s into messages md.
func NewEncoder(md protoreflect.MessageDescriptor, s row.Schema, o Options) (*Encoder, error) {
	m, err := buildMessage(md, s.Columns, "", false)
	if err != nil {
		return nil, err
	}
	return &Encoder{msg: m, opts: o}, nil
}

var marshal = proto.MarshalOptions{Deterministic: true}

// Append appends the message of r to dst.
func (e *Encoder) Append(dst []byte, r row.Row) ([]byte, error) {
	if len(r.Fields) != len(e.msg.fields) {
		return dst, &Error{Reason: fmt.Sprintf("the row has %d fields, the schema %d", len(r.Fields), len(e.msg.fields))}
	}
	m := dynamicpb.NewMessage(e.msg.md)
	if err := e.message(m, e.msg, r.Fields); err != nil {
		return dst, err
	}
	out, err := marshal.MarshalAppend(dst, m)
	if err != nil {
		return dst, &Error{Reason: err.Error()}
	}
	return out, nil
}

func (e *Encoder) message(m protoreflect.Message, msg *message, vals []row.Value) error {
	for i := range msg.fields {
		f := &msg.fields[i]
		v := vals[i]
		if f.fd == nil || v.IsNull() {
			continue
		}
		fd := f.fd
		switch {
		case fd.IsMap():
			md := v.MapOf()
			if md == nil {
				return &Error{Field: f.path, Reason: "not a MAP value"}
			}
			mp := m.Mutable(fd).Map()
			for j := range md.Keys {
				k, err := e.scalar(md.Keys[j], f.key, protoreflect.Value{})
				if err != nil {
					return err
				}
				var val protoreflect.Value
				if f.elem.msg != nil {
					val = mp.NewValue()
				}
				if val, err = e.scalar(md.Values[j], f.elem, val); err != nil {
					return err
				}
				mp.Set(k.MapKey(), val)
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			for _, x := range v.Elems() {
				var val protoreflect.Value
				if f.elem.msg != nil {
					val = l.NewElement()
				}
				val, err := e.scalar(x, f.elem, val)
				if err != nil {
					return err
				}
				l.Append(val)
			}
		case f.elem.msg != nil:
			if err := e.message(m.Mutable(fd).Message(), f.elem.msg, v.Elems()); err != nil {
				return err
			}
		default:
			val, err := e.scalar(v, f.elem, protoreflect.Value{})
			if err != nil {
				return err
			}
			m.Set(fd, val)
		}
	}
	return nil
}

// scalar converts v; msgVal is the new message to fill for a message
// kind. A NULL v is the kind's default.
func (e *Encoder) scalar(v row.Value, s *scalar, msgVal protoreflect.Value) (protoreflect.Value, error) {
	null := v.IsNull()
	switch s.fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(v.Bool()), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n := v.Int()
		if n < math.MinInt32 || n > math.MaxInt32 {
			return protoreflect.Value{}, &Error{Field: s.path, Reason: fmt.Sprintf("%d overflows %s", n, s.fd.Kind())}
		}
		return protoreflect.ValueOfInt32(int32(n)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(v.Int()), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n := v.Int()
		if n < 0 || n > math.MaxUint32 {
			return protoreflect.Value{}, &Error{Field: s.path, Reason: fmt.Sprintf("%d overflows %s", n, s.fd.Kind())}
		}
		return protoreflect.ValueOfUint32(uint32(n)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n := v.Int()
		if n < 0 {
			return protoreflect.Value{}, &Error{Field: s.path, Reason: fmt.Sprintf("%d overflows %s", n, s.fd.Kind())}
		}
		return protoreflect.ValueOfUint64(uint64(n)), nil
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(v.Float())), nil
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(v.Float()), nil
	case protoreflect.StringKind:
		if null {
			return protoreflect.ValueOfString(e.opts.WriteNullStringLiteral), nil
		}
		return protoreflect.ValueOfString(v.Str()), nil
	case protoreflect.BytesKind:
		if null {
			return protoreflect.ValueOfBytes(nil), nil
		}
		return protoreflect.ValueOfBytes([]byte(v.Str())), nil
	case protoreflect.EnumKind:
		vals := s.fd.Enum().Values()
		switch {
		case null:
			return protoreflect.ValueOfEnum(vals.Get(0).Number()), nil
		case s.t.IsString():
			ev := vals.ByName(protoreflect.Name(v.Str()))
			if ev == nil {
				return protoreflect.Value{}, &Error{Field: s.path, Reason: fmt.Sprintf("%q is not a value of enum %s", v.Str(), s.fd.Enum().FullName())}
			}
			return protoreflect.ValueOfEnum(ev.Number()), nil
		}
		n := v.Int()
		if n < math.MinInt32 || n > math.MaxInt32 {
			return protoreflect.Value{}, &Error{Field: s.path, Reason: fmt.Sprintf("%d overflows an enum number", n)}
		}
		if s.fd.Enum().IsClosed() && vals.ByNumber(protoreflect.EnumNumber(n)) == nil {
			return protoreflect.Value{}, &Error{Field: s.path, Reason: fmt.Sprintf("%d is not a value of enum %s", n, s.fd.Enum().FullName())}
		}
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if !null {
			if err := e.message(msgVal.Message(), s.msg, v.Elems()); err != nil {
				return protoreflect.Value{}, err
			}
		}
		return msgVal, nil
	}
	return protoreflect.Value{}, &Error{Field: s.path, Reason: "unsupported kind " + s.fd.Kind().String()}
}

// wireType is the wire type of a non-repeated field of fd's kind.
func wireType(fd protoreflect.FieldDescriptor) protowire.Type {
	switch fd.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	case protoreflect.FloatKind, protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return protowire.Fixed32Type
	case protoreflect.DoubleKind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return protowire.Fixed64Type
	}
	return protowire.VarintType
}
