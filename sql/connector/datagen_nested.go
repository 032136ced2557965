package connector

import "github.com/weirstream/weir/row"

// nested reads the options of the parts of a random ARRAY, MULTISET,
// MAP or ROW column as Flink's RandomGeneratorVisitor does: it visits
// the element type under the name '<name>.element', a map's key and
// value under '<name>.key' and '<name>.value', a row's fields under
// '<name>.<field>', so 'fields.m.element.min', 'fields.m.key.length',
// 'fields.r.f.null-rate', ... set them (at any depth), with the same
// defaults and checks as a column's own options. Nested columns are
// random (Flink's visitor has no sequence there).
func (g *genField) nested(o *options, p string, t row.Type) error {
	var names []string
	var types []row.Type
	switch t.Root {
	case row.TypeArray, row.TypeMultiset:
		names, types = []string{"element"}, []row.Type{*t.Elem}
	case row.TypeMap:
		names, types = []string{"key", "value"}, []row.Type{*t.Elem, *t.Value}
	case row.TypeRow:
		for _, f := range t.Fields {
			names, types = append(names, f.Name), append(types, f.Type)
		}
	}
	g.kids = make([]genField, len(types))
	for i, kt := range types {
		kp := p + names[i] + "."
		k := genField{t: kt, length: -1}
		k.nullRate = o.float(kp+"null-rate", 0, 0, 1)
		if err := k.random(o, kp, kt); err != nil {
			return err
		}
		g.kids[i] = k
	}
	return o.err
}
