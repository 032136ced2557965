package protobuf

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/weirstream/weir/row"
)

// Compile parses and links .proto sources: files maps import paths to
// their text, main is the path of the file to return. Imports of the
// standard google/protobuf/*.proto files resolve without being listed.
func Compile(ctx context.Context, files map[string]string, main string) (protoreflect.FileDescriptor, error) {
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			Accessor: protocompile.SourceAccessorFromMap(files),
		}),
	}
	fs, err := c.Compile(ctx, main)
	if err != nil {
		return nil, fmt.Errorf("protobuf: %w", err)
	}
	return fs[0], nil
}

// CompileFile compiles the .proto file at path, resolving its imports
// relative to the file's directory (and the standard ones).
func CompileFile(ctx context.Context, path string) (protoreflect.FileDescriptor, error) {
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			ImportPaths: []string{filepath.Dir(path)},
		}),
	}
	fs, err := c.Compile(ctx, filepath.Base(path))
	if err != nil {
		return nil, fmt.Errorf("protobuf: %w", err)
	}
	return fs[0], nil
}

// Parse compiles one .proto source without imports other than the
// standard ones.
func Parse(source string) (protoreflect.FileDescriptor, error) {
	return Compile(context.Background(), map[string]string{"schema.proto": source}, "schema.proto")
}

// FromDescriptorSet reads a serialized FileDescriptorSet (protoc
// --descriptor_set_out --include_imports) and returns its files.
func FromDescriptorSet(b []byte) (*protoregistry.Files, error) {
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("protobuf: descriptor set: %w", err)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return nil, fmt.Errorf("protobuf: descriptor set: %w", err)
	}
	return files, nil
}

// FindMessage returns the message named name in a file: its full name
// ("pkg.Outer.Inner"), or its name relative to the file's package. An
// empty name picks the file's only top-level message.
func FindMessage(fd protoreflect.FileDescriptor, name string) (protoreflect.MessageDescriptor, error) {
	if name == "" {
		if fd.Messages().Len() != 1 {
			return nil, fmt.Errorf("protobuf: %s has %d top-level messages: name one", fd.Path(), fd.Messages().Len())
		}
		return fd.Messages().Get(0), nil
	}
	cands := []protoreflect.FullName{protoreflect.FullName(name)}
	if pkg := fd.Package(); pkg != "" {
		cands = append(cands, protoreflect.FullName(string(pkg)+"."+name))
	}
	for _, n := range cands {
		if md := findIn(fd.Messages(), n); md != nil {
			return md, nil
		}
	}
	return nil, fmt.Errorf("protobuf: no message %s in %s", name, fd.Path())
}

func findIn(ms protoreflect.MessageDescriptors, n protoreflect.FullName) protoreflect.MessageDescriptor {
	for i := 0; i < ms.Len(); i++ {
		m := ms.Get(i)
		if m.FullName() == n {
			return m
		}
		if strings.HasPrefix(string(n), string(m.FullName())+".") {
			if r := findIn(m.Messages(), n); r != nil {
				return r
			}
		}
	}
	return nil
}

// FindInFiles returns the message of a registry by full name.
func FindInFiles(files *protoregistry.Files, name string) (protoreflect.MessageDescriptor, error) {
	d, err := files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil, fmt.Errorf("protobuf: message %s: %w", name, err)
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, fmt.Errorf("protobuf: %s is not a message", name)
	}
	return md, nil
}

// MessageIndex returns the path of md in its file as the Confluent wire
// format writes it: the index of the top-level message, then of each
// nested message down to md.
func MessageIndex(md protoreflect.MessageDescriptor) []int {
	var idx []int
	for d := protoreflect.Descriptor(md); ; {
		m, ok := d.(protoreflect.MessageDescriptor)
		if !ok {
			break
		}
		idx = append(idx, m.Index())
		d = m.Parent()
	}
	for i, j := 0, len(idx)-1; i < j; i, j = i+1, j-1 {
		idx[i], idx[j] = idx[j], idx[i]
	}
	return idx
}

// MessageAt returns the message at a Confluent message index in fd.
func MessageAt(fd protoreflect.FileDescriptor, index []int) (protoreflect.MessageDescriptor, error) {
	if len(index) == 0 {
		return nil, errors.New("protobuf: empty message index")
	}
	ms := fd.Messages()
	var md protoreflect.MessageDescriptor
	for _, i := range index {
		if i < 0 || i >= ms.Len() {
			return nil, fmt.Errorf("protobuf: message index %v is not in %s", index, fd.Path())
		}
		md = ms.Get(i)
		ms = md.Messages()
	}
	return md, nil
}

// RowType returns the row type of a message as Flink's protobuf format
// maps it: bool BOOLEAN; int32, sint32, sfixed32 INT; int64, sint64,
// sfixed64, uint32, fixed32, uint64, fixed64 BIGINT; float FLOAT; double
// DOUBLE; string STRING; bytes BYTES; enum STRING; message ROW; repeated
// ARRAY; map MAP. Every field is nullable. A recursive message has no row
// type.
func RowType(md protoreflect.MessageDescriptor) (row.Type, error) {
	return rowType(md, nil)
}

func rowType(md protoreflect.MessageDescriptor, seen []protoreflect.FullName) (row.Type, error) {
	for _, s := range seen {
		if s == md.FullName() {
			return row.Type{}, fmt.Errorf("protobuf: message %s is recursive", md.FullName())
		}
	}
	seen = append(seen, md.FullName())
	fs := md.Fields()
	fields := make([]row.Field, fs.Len())
	for i := 0; i < fs.Len(); i++ {
		fd := fs.Get(i)
		var t row.Type
		var err error
		switch {
		case fd.IsMap():
			var k, v row.Type
			if k, err = kindType(fd.MapKey(), seen); err == nil {
				v, err = kindType(fd.MapValue(), seen)
			}
			t = row.MapType(k, v)
		case fd.IsList():
			var e row.Type
			e, err = kindType(fd, seen)
			t = row.ArrayType(e)
		default:
			t, err = kindType(fd, seen)
		}
		if err != nil {
			return row.Type{}, err
		}
		fields[i] = row.Field{Name: string(fd.Name()), Type: t}
	}
	return row.RowType(fields...), nil
}

func kindType(fd protoreflect.FieldDescriptor, seen []protoreflect.FullName) (row.Type, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return row.Boolean(), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return row.IntType(), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return row.BigInt(), nil
	case protoreflect.FloatKind:
		return row.FloatType(), nil
	case protoreflect.DoubleKind:
		return row.Double(), nil
	case protoreflect.StringKind, protoreflect.EnumKind:
		return row.String(), nil
	case protoreflect.BytesKind:
		return row.BytesType(), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return rowType(fd.Message(), seen)
	}
	return row.Type{}, fmt.Errorf("protobuf: field %s: kind %s has no row type", fd.FullName(), fd.Kind())
}

// Source writes a proto3 .proto source whose message name has a field per
// column of s, in order, numbered from 1: BOOLEAN bool, TINYINT,
// SMALLINT and INT int32, BIGINT int64, FLOAT float, DOUBLE double,
// CHAR/VARCHAR string, BINARY/VARBINARY bytes, ROW a nested message,
// ARRAY repeated, MAP map. Nullable scalars are 'optional' so that NULL
// and the default value stay apart. Other types (DECIMAL, dates and
// times, intervals), an ARRAY of ARRAY or MAP, a MAP of ARRAY or MAP, and
// column names that are not protobuf identifiers are errors.
func Source(name string, s row.Schema) (string, error) {
	if !isIdent(name) {
		return "", fmt.Errorf("protobuf: message name %q is not an identifier", name)
	}
	var b strings.Builder
	b.WriteString("syntax = \"proto3\";\n\n")
	g := &gen{}
	if err := g.message(&b, name, s.Columns, "", ""); err != nil {
		return "", err
	}
	return b.String(), nil
}

type gen struct{ n int }

func (g *gen) message(b *strings.Builder, name string, cols []row.Field, indent, path string) error {
	fmt.Fprintf(b, "%smessage %s {\n", indent, name)
	in := indent + "  "
	for i, c := range cols {
		p := c.Name
		if path != "" {
			p = path + "." + c.Name
		}
		if !isIdent(c.Name) {
			return &Error{Field: p, Reason: "the column name is not a protobuf identifier"}
		}
		var decl string
		switch c.Type.Root {
		case row.TypeArray:
			e := *c.Type.Elem
			if e.Root == row.TypeArray || e.Root == row.TypeMap {
				return &Error{Field: p, Reason: fmt.Sprintf("type %s: protobuf has no repeated repeated or repeated map", c.Type)}
			}
			t, err := g.fieldType(b, e, in, p)
			if err != nil {
				return err
			}
			decl = "repeated " + t
		case row.TypeMap:
			k, v := *c.Type.Elem, *c.Type.Value
			switch {
			case k.IsString(), k.IsInteger(), k.Root == row.TypeBoolean:
			default:
				return &Error{Field: p, Reason: fmt.Sprintf("type %s: a protobuf map key is an integer, bool or string", c.Type)}
			}
			if v.Root == row.TypeArray || v.Root == row.TypeMap {
				return &Error{Field: p, Reason: fmt.Sprintf("type %s: a protobuf map value is not repeated or a map", c.Type)}
			}
			kt, _ := scalarType(k)
			vt, err := g.fieldType(b, v, in, p)
			if err != nil {
				return err
			}
			decl = "map<" + kt + ", " + vt + ">"
		default:
			t, err := g.fieldType(b, c.Type, in, p)
			if err != nil {
				return err
			}
			decl = t
			if c.Type.Nullable && c.Type.Root != row.TypeRow {
				decl = "optional " + t
			}
		}
		fmt.Fprintf(b, "%s%s %s = %d;\n", in, decl, c.Name, i+1)
	}
	fmt.Fprintf(b, "%s}\n", indent)
	return nil
}

// fieldType returns the protobuf type of t, writing a nested message for
// a ROW.
func (g *gen) fieldType(b *strings.Builder, t row.Type, indent, path string) (string, error) {
	if t.Root == row.TypeRow {
		g.n++
		name := fmt.Sprintf("Row%d", g.n)
		if err := g.message(b, name, t.Fields, indent, path); err != nil {
			return "", err
		}
		return name, nil
	}
	s, ok := scalarType(t)
	if !ok {
		return "", &Error{Field: path, Reason: fmt.Sprintf("type %s has no protobuf type", t)}
	}
	return s, nil
}

func scalarType(t row.Type) (string, bool) {
	switch t.Root {
	case row.TypeBoolean:
		return "bool", true
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt:
		return "int32", true
	case row.TypeBigInt:
		return "int64", true
	case row.TypeFloat:
		return "float", true
	case row.TypeDouble:
		return "double", true
	case row.TypeChar, row.TypeVarChar:
		return "string", true
	case row.TypeBinary, row.TypeVarBinary:
		return "bytes", true
	}
	return "", false
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
