package connector

import (
	"fmt"
	"strings"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"

	"github.com/weirstream/weir/row"
)

// Nested types of the parquet format: ARRAY, MAP and ROW columns, at any
// depth, as Flink's flink-parquet writes and reads them.
//
// Writing follows Flink's ParquetSchemaConverter (with FLINK-35641's
// nullability) and ParquetRowDataWriter:
//
//	ARRAY<T>  <rep> group name (LIST) { repeated group list { <rep T> T element; } }
//	MAP<K,V>  <rep> group name (MAP) { repeated group key_value { required K key; <rep V> V value; } }
//	ROW<...>  <rep> group name { the fields, in order }
//
// where <rep> is optional for a nullable type and required for a NOT NULL
// one; a map key is always required (a NULL key cannot be written). An
// empty collection is the group with no repeated entry, a NULL one the
// group absent. The values are striped into definition and repetition
// levels here (Dremel's algorithm) and handed to parquet-go as rows.
//
// Reading assembles the values of a row back from the leaf columns'
// levels (recursive descent over a plan built from the table's type and
// the file's schema). It accepts the standard LIST and MAP layouts and
// the Parquet spec's backward-compatibility forms: a LIST whose repeated
// field is a primitive, a group of several fields, or a one-field group
// named "array" or "<list>_tuple" (then the repeated field is the
// element, elements required), a repeated field outside any LIST or MAP
// (a required list of required elements: what parquet-go, protobuf and
// parquet-avro's old writers produce for slices), a MAP whose key_value
// group has another name or a MAP_KEY_VALUE annotation, a repeated group
// annotated MAP_KEY_VALUE outside a MAP, and an optional map key (older
// Flink wrote them). ROW fields are matched to the group's fields by name
// as columns are (exactly, else ignoring case when unambiguous); a field
// the file lacks reads as NULL, one the table lacks is skipped.

// pqFileNode is one node of a file's schema, with its levels.
type pqFileNode struct {
	name     string
	optional bool
	repeated bool
	list     bool // LIST-annotated group
	mapAnn   bool // MAP-annotated group
	mapKV    bool // MAP_KEY_VALUE-annotated group
	children []*pqFileNode
	leaf     bool
	col      int // leaf column index
	typ      pq.Type
	def, rep int // maximum definition and repetition levels at this node
}

// pqFileTree reads the schema of a file: parquet-go's columns for the
// leaves' types and indexes, the footer's schema elements for the
// converted types of groups (legacy writers annotate LIST and MAP so).
func pqFileTree(pf *pq.File) (*pqFileNode, error) {
	elems := pf.Metadata().Schema
	k := 0
	var walk func(c *pq.Column, def, rep int) (*pqFileNode, error)
	walk = func(c *pq.Column, def, rep int) (*pqFileNode, error) {
		if k >= len(elems) {
			return nil, fmt.Errorf("schema elements do not match the columns")
		}
		el := &elems[k]
		k++
		n := &pqFileNode{name: c.Name(), optional: c.Optional(), repeated: c.Repeated()}
		if k > 1 { // the root is neither optional nor repeated
			switch {
			case n.optional:
				def++
			case n.repeated:
				def++
				rep++
			}
		} else {
			n.optional, n.repeated = false, false
		}
		n.def, n.rep = def, rep
		if lt := el.LogicalType; lt != nil {
			n.list, n.mapAnn = lt.List != nil, lt.Map != nil
		}
		if ct := el.ConvertedType; ct != nil {
			switch *ct {
			case deprecated.List:
				n.list = true
			case deprecated.Map:
				n.mapAnn = true
			case deprecated.MapKeyValue:
				n.mapKV = true
			}
		}
		if c.Leaf() {
			n.leaf, n.col, n.typ = true, c.Index(), c.Type()
			return n, nil
		}
		if len(c.Columns()) == 0 {
			return nil, fmt.Errorf("group %s has no fields", c.Name())
		}
		for _, ch := range c.Columns() {
			cn, err := walk(ch, def, rep)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, cn)
		}
		return n, nil
	}
	return walk(pf.Root(), 0, 0)
}

// describe names a file node's shape for a type mismatch.
func (n *pqFileNode) describe() string {
	s := ""
	if n.repeated {
		s = "repeated "
	}
	switch {
	case n.leaf:
		return s + "Parquet " + parquetTypeName(n.typ)
	case n.list:
		return s + "Parquet LIST group"
	case n.mapAnn || n.mapKV:
		return s + "Parquet MAP group"
	}
	return s + "Parquet group"
}

// child finds a group's field by name: exactly, else ignoring case when
// only one matches.
func (n *pqFileNode) child(name string) *pqFileNode {
	var alt *pqFileNode
	alts := 0
	for _, c := range n.children {
		if c.name == name {
			return c
		}
		if strings.EqualFold(c.name, name) {
			alt = c
			alts++
		}
	}
	if alts == 1 {
		return alt
	}
	return nil
}

type pqPlanKind uint8

const (
	pqLeaf pqPlanKind = iota
	pqGroup
	pqList
	pqMap
)

// pqPlan reads one value (of a column, field, element, key or value)
// from the cursors of its leaf columns.
type pqPlan struct {
	kind     pqPlanKind
	path     string // for errors: `col`.element.`f`
	field    string // for dead letters: col.element.f
	nullable bool   // false: NULL is a bad record (skip plans: true)
	// def is the definition level at which the value is not NULL.
	def int
	// leaf
	col   int
	pkind pq.Kind                           // the column's physical type
	conv  func(pq.Value) (row.Value, error) // nil: read and discard
	// group: fields in the table's order (nil: absent from the file, NULL);
	// skip, when no field is in the file, reads the file group's first
	// field so that NULL and present groups can be told apart.
	fields []*pqPlan
	skip   *pqPlan
	// list and map: an entry exists from definition level repDef; a
	// further entry of the same collection has repetition level repLvl.
	repDef, repLvl int
	elem           *pqPlan // element, or map key
	val            *pqPlan // map value; nil: the file has none (NULL values)
	// multiset: a MULTISET read from a MAP of its elements to their
	// counts (parquet_multiset.go), of element type msElem.
	multiset bool
	msElem   row.Type
	// leaves are the leaf columns the plan reads; first is leaves[0],
	// whose levels tell NULL, empty and repeated entries apart.
	leaves []int
	first  int
}

func (p *pqPlan) addLeaves(q *pqPlan) {
	if q != nil {
		p.leaves = append(p.leaves, q.leaves...)
	}
}

func (p *pqPlan) finish() *pqPlan {
	if len(p.leaves) > 0 {
		p.first = p.leaves[0]
	}
	return p
}

// planColumn builds the plan reading a value of type t from the file
// node n; parentDef is the definition level of n's parent.
func (c *parquetConfig) planColumn(t row.Type, n *pqFileNode, parentDef int, path, field string) (*pqPlan, error) {
	mismatch := func() error {
		return fmt.Errorf("column %s: a %s cannot be read as %s", path, n.describe(), t)
	}
	p := &pqPlan{path: path, field: field, nullable: t.Nullable, def: n.def}
	switch t.Root {
	case row.TypeArray:
		p.kind = pqList
		var elem *pqFileNode
		switch {
		case n.repeated && !n.list && !n.mapAnn && !n.mapKV:
			// A repeated field outside LIST/MAP: a required list of
			// required elements.
			p.def, p.repDef, p.repLvl = parentDef, n.def, n.rep
			e := *n
			e.repeated = false
			elem = &e
		case n.list && !n.repeated && !n.leaf:
			if len(n.children) != 1 || !n.children[0].repeated {
				return nil, fmt.Errorf("column %s: a LIST group whose field is not one repeated field", path)
			}
			r := n.children[0]
			p.repDef, p.repLvl = r.def, r.rep
			if r.leaf || len(r.children) > 1 || r.name == "array" || r.name == n.name+"_tuple" {
				e := *r // the repeated field is the element (2-level list)
				e.repeated = false
				elem = &e
			} else {
				elem = r.children[0]
			}
		default:
			return nil, mismatch()
		}
		ep, err := c.planColumn(*t.Elem, elem, p.repDef, path+".element", field+".element")
		if err != nil {
			return nil, err
		}
		p.elem = ep
		p.addLeaves(ep)
		return p.finish(), nil
	case row.TypeMap, row.TypeMultiset:
		p.kind = pqMap
		if t.Root == row.TypeMultiset {
			p.multiset, p.msElem = true, *t.Elem
		}
		var kv *pqFileNode
		switch {
		case (n.mapAnn || n.mapKV) && !n.repeated && !n.leaf:
			if len(n.children) != 1 || !n.children[0].repeated || n.children[0].leaf {
				return nil, fmt.Errorf("column %s: a MAP group whose field is not one repeated group", path)
			}
			kv = n.children[0]
		case n.mapKV && n.repeated && !n.leaf:
			p.def = parentDef
			kv = n
		default:
			return nil, mismatch()
		}
		if len(kv.children) > 2 {
			return nil, fmt.Errorf("column %s: a MAP's key_value group has %d fields", path, len(kv.children))
		}
		key, val := kv.children[0], (*pqFileNode)(nil)
		if len(kv.children) == 2 {
			val = kv.children[1]
			if key.name == "value" && val.name == "key" {
				key, val = val, key
			}
		}
		p.repDef, p.repLvl = kv.def, kv.rep
		kp, err := c.planColumn(*t.Elem, key, kv.def, path+".key", field+".key")
		if err != nil {
			return nil, err
		}
		p.elem = kp
		p.addLeaves(kp)
		if val == nil && p.multiset {
			return nil, fmt.Errorf("column %s: a MAP without a value field cannot be read as %s (the values are the counts)", path, t)
		}
		if val != nil {
			vp, err := c.planColumn(*t.Value, val, kv.def, path+".value", field+".value")
			if err != nil {
				return nil, err
			}
			p.val = vp
			p.addLeaves(vp)
		}
		return p.finish(), nil
	case row.TypeRow:
		if n.leaf || n.repeated || n.list || n.mapAnn || n.mapKV {
			return nil, mismatch()
		}
		p.kind = pqGroup
		for _, f := range t.Fields {
			fn := n.child(f.Name)
			if fn == nil {
				p.fields = append(p.fields, nil)
				continue
			}
			fp, err := c.planColumn(f.Type, fn, n.def, path+"."+row.QuoteIdent(f.Name), field+"."+f.Name)
			if err != nil {
				return nil, err
			}
			p.fields = append(p.fields, fp)
			p.addLeaves(fp)
		}
		if len(p.leaves) == 0 {
			p.skip = skipPlan(n.children[0], n.def)
			p.addLeaves(p.skip)
		}
		return p.finish(), nil
	}
	if !n.leaf || n.repeated {
		return nil, mismatch()
	}
	conv, err := c.converter(t, n.typ)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", path, err)
	}
	p.kind, p.col, p.pkind, p.conv, p.leaves = pqLeaf, n.col, n.typ.Kind(), conv, []int{n.col}
	return p.finish(), nil
}

// skipPlan reads and discards a file node (parentDef: its parent's
// definition level); only its first leaf at each level is read.
func skipPlan(n *pqFileNode, parentDef int) *pqPlan {
	p := &pqPlan{nullable: true, def: n.def}
	if n.repeated {
		e := *n
		e.repeated = false
		p.kind, p.def, p.repDef, p.repLvl = pqList, parentDef, n.def, n.rep
		p.elem = skipPlan(&e, n.def)
		p.addLeaves(p.elem)
		return p.finish()
	}
	if n.leaf {
		p.kind, p.col, p.leaves = pqLeaf, n.col, []int{n.col}
		return p.finish()
	}
	p.kind = pqGroup
	p.skip = skipPlan(n.children[0], n.def)
	p.addLeaves(p.skip)
	return p.finish()
}

// pqCursor is a leaf column's values in the row being assembled.
type pqCursor struct {
	vals []pq.Value
	pos  int
	set  bool
}

// pqAssembler assembles rows' values from their leaf columns' levels.
type pqAssembler struct {
	cur  []pqCursor // by leaf column index
	used []int      // the leaf columns some plan reads
	in   []bool     // by leaf column index: in used
}

func newPQAssembler(plans []*pqPlan) *pqAssembler {
	a := &pqAssembler{}
	seen := map[int]bool{}
	for _, p := range plans {
		if p == nil {
			continue
		}
		for _, c := range p.leaves {
			if !seen[c] {
				seen[c] = true
				a.used = append(a.used, c)
				if c >= len(a.cur) {
					a.cur = append(a.cur, make([]pqCursor, c+1-len(a.cur))...)
				}
			}
		}
	}
	a.in = make([]bool, len(a.cur))
	for _, c := range a.used {
		a.in[c] = true
	}
	return a
}

// pqCorrupt is an inconsistency of a row's levels.
type pqCorrupt struct{ what string }

func (e *pqCorrupt) Error() string { return "corrupt levels in the Parquet row: " + e.what }

// load splits a row into the used columns' cursors.
func (a *pqAssembler) load(pr pq.Row) error {
	for _, c := range a.used {
		a.cur[c] = pqCursor{}
	}
	for i := 0; i < len(pr); {
		c := pr[i].Column()
		j := i + 1
		for j < len(pr) && pr[j].Column() == c {
			j++
		}
		if c >= 0 && c < len(a.cur) && a.in[c] {
			if a.cur[c].set {
				return &pqCorrupt{fmt.Sprintf("the values of column %d are not together", c)}
			}
			a.cur[c] = pqCursor{vals: pr[i:j], set: true}
		}
		i = j
	}
	return nil
}

// done checks that a plan consumed all its columns' values.
func (a *pqAssembler) done(p *pqPlan) error {
	for _, c := range p.leaves {
		if cur := &a.cur[c]; cur.pos != len(cur.vals) {
			return &pqCorrupt{fmt.Sprintf("column %d has %d values, %d were assembled", c, len(cur.vals), cur.pos)}
		}
	}
	return nil
}

// pqValueError is a value that cannot be read, naming its field.
type pqValueError struct {
	field string
	err   error
}

func (e *pqValueError) Error() string { return e.err.Error() }
func (e *pqValueError) Unwrap() error { return e.err }

func (a *pqAssembler) peek(c int) (pq.Value, bool) {
	cur := &a.cur[c]
	if cur.pos >= len(cur.vals) {
		return pq.Value{}, false
	}
	return cur.vals[cur.pos], true
}

// skipAll consumes one value of every leaf of p: p is NULL or empty.
func (a *pqAssembler) skipAll(p *pqPlan) error {
	for _, c := range p.leaves {
		cur := &a.cur[c]
		if cur.pos >= len(cur.vals) {
			return &pqCorrupt{fmt.Sprintf("column %d has too few values", c)}
		}
		cur.pos++
	}
	return nil
}

// read assembles the next value of p.
func (a *pqAssembler) read(p *pqPlan) (row.Value, error) {
	v, ok := a.peek(p.first)
	if !ok {
		return row.Value{}, &pqCorrupt{fmt.Sprintf("column %d has too few values", p.first)}
	}
	if v.DefinitionLevel() < p.def {
		if err := a.skipAll(p); err != nil {
			return row.Value{}, err
		}
		if !p.nullable {
			return row.Value{}, &pqValueError{p.field, fmt.Errorf("NULL in the NOT NULL field %s", p.path)}
		}
		return row.Null(), nil
	}
	switch p.kind {
	case pqLeaf:
		a.cur[p.col].pos++
		if p.conv == nil {
			return row.Value{}, nil
		}
		if v.Kind() != p.pkind || v.Column() != p.col {
			return row.Value{}, &pqCorrupt{fmt.Sprintf("column %d holds a %s value at definition level %d", p.col, v.Kind(), v.DefinitionLevel())}
		}
		x, err := p.conv(v)
		if err != nil {
			return row.Value{}, &pqValueError{p.field, err}
		}
		return x, nil
	case pqGroup:
		out := make([]row.Value, len(p.fields))
		for i, f := range p.fields {
			if f == nil {
				continue
			}
			x, err := a.read(f)
			if err != nil {
				return row.Value{}, err
			}
			out[i] = x
		}
		if p.skip != nil {
			if _, err := a.read(p.skip); err != nil {
				return row.Value{}, err
			}
		}
		return row.Nested(out), nil
	}
	// pqList, pqMap
	if v.DefinitionLevel() < p.repDef {
		if err := a.skipAll(p); err != nil {
			return row.Value{}, err
		}
		if p.kind == pqMap {
			return row.Map([]row.Value{}, []row.Value{}), nil
		}
		return row.Array([]row.Value{}), nil
	}
	var elems, vals []row.Value
	for n := 1; ; n++ {
		e, err := a.read(p.elem)
		if err != nil {
			return row.Value{}, entryError(err, p, n)
		}
		elems = append(elems, e)
		if p.kind == pqMap {
			x := row.Null()
			if p.val != nil {
				if x, err = a.read(p.val); err != nil {
					return row.Value{}, entryError(err, p, n)
				}
			}
			vals = append(vals, x)
		}
		nv, ok := a.peek(p.first)
		if !ok || nv.RepetitionLevel() != p.repLvl {
			break
		}
	}
	if p.multiset {
		return multisetOfEntries(elems, vals, p.msElem), nil
	}
	if p.kind == pqMap {
		return row.Map(elems, vals), nil
	}
	return row.Array(elems), nil
}

// entryError says which entry of a collection holds a bad value.
func entryError(err error, p *pqPlan, n int) error {
	if ve, ok := err.(*pqValueError); ok && p.elem != nil {
		what := "element"
		if p.kind == pqMap {
			what = "entry"
		}
		return &pqValueError{ve.field, fmt.Errorf("%s %d of %s: %w", what, n, p.path, ve.err)}
	}
	return err
}

// --- writing ---------------------------------------------------------------

// nestedNode is the Parquet schema node of an ARRAY, MAP or ROW type,
// without its repetition (node adds it).
func (c *parquetConfig) nestedNode(t row.Type) pq.Node {
	switch t.Root {
	case row.TypeArray:
		return pq.List(c.node(*t.Elem))
	case row.TypeMap:
		k := *t.Elem
		k.Nullable = false // a map key is required, as in Flink
		return pq.Map(c.node(k), c.node(*t.Value))
	case row.TypeMultiset:
		// A MULTISET is a MAP of its elements to their INT32 counts
		// (Flink's ParquetSchemaConverter), the key with the element's
		// nullability (parquet_multiset.go).
		return c.multisetNode(t)
	}
	g := orderedGroup{}
	for _, f := range t.Fields {
		g.fields = append(g.fields, namedField{Node: c.node(f.Type), name: f.Name})
	}
	return g
}

// pqStripe writes one value of a column, field, element, key or value as
// leaf values with their levels.
type pqStripe struct {
	t      row.Type
	path   string
	def    int // definition level of a non-NULL value
	repDef int // list/map: of an entry
	repLvl int // list/map: of a further entry
	col    int // leaf
	kids   []*pqStripe
	leaves []int
}

// stripePlan builds the striping of type t whose parent is at
// definition level def and repetition level rep; next numbers the leaf
// columns in the schema's order.
func stripePlan(t row.Type, def, rep int, next *int, path string) *pqStripe {
	if t.Nullable {
		def++
	}
	s := &pqStripe{t: t, path: path, def: def}
	switch t.Root {
	case row.TypeArray:
		s.repDef, s.repLvl = def+1, rep+1
		s.kids = []*pqStripe{stripePlan(*t.Elem, s.repDef, s.repLvl, next, path+".element")}
	case row.TypeMap, row.TypeMultiset:
		s.repDef, s.repLvl = def+1, rep+1
		k := *t.Elem
		if t.Root == row.TypeMap {
			k.Nullable = false // a MULTISET's key follows its element (parquet_multiset.go)
		}
		s.kids = []*pqStripe{stripePlan(k, s.repDef, s.repLvl, next, path+".key"), stripePlan(*t.Value, s.repDef, s.repLvl, next, path+".value")}
	case row.TypeRow:
		for _, f := range t.Fields {
			s.kids = append(s.kids, stripePlan(f.Type, def, rep, next, path+"."+row.QuoteIdent(f.Name)))
		}
	default:
		s.col = *next
		*next++
		s.leaves = []int{s.col}
		return s
	}
	for _, k := range s.kids {
		s.leaves = append(s.leaves, k.leaves...)
	}
	return s
}

// stripe appends the leaf values of v to cols: r is the repetition level
// of its first value, d the definition level of its parent.
func (p *parquetWriter) stripe(s *pqStripe, v row.Value, r, d int, cols [][]pq.Value) error {
	if v.IsNull() {
		if !s.t.Nullable {
			return fmt.Errorf("column %s is NOT NULL but the row holds NULL", s.path)
		}
		for _, c := range s.leaves {
			cols[c] = append(cols[c], pq.NullValue().Level(r, d, c))
		}
		return nil
	}
	empty := func() {
		for _, c := range s.leaves {
			cols[c] = append(cols[c], pq.NullValue().Level(r, s.def, c))
		}
	}
	switch s.t.Root {
	case row.TypeArray:
		es := v.Elems()
		if len(es) == 0 {
			empty()
			return nil
		}
		for i, e := range es {
			ri := s.repLvl
			if i == 0 {
				ri = r
			}
			if err := p.stripe(s.kids[0], e, ri, s.repDef, cols); err != nil {
				return err
			}
		}
		return nil
	case row.TypeMap, row.TypeMultiset:
		m := v.MapOf()
		if m == nil || len(m.Keys) == 0 {
			empty()
			return nil
		}
		if len(m.Values) != len(m.Keys) {
			return fmt.Errorf("column %s: a MAP of %d keys and %d values", s.path, len(m.Keys), len(m.Values))
		}
		for i := range m.Keys {
			ri := s.repLvl
			if i == 0 {
				ri = r
			}
			if m.Keys[i].IsNull() && s.t.Root == row.TypeMap {
				return fmt.Errorf("column %s: a MAP key is NULL (Parquet map keys are required)", s.path)
			}
			if err := p.stripe(s.kids[0], m.Keys[i], ri, s.repDef, cols); err != nil {
				return err
			}
			if err := p.stripe(s.kids[1], m.Values[i], ri, s.repDef, cols); err != nil {
				return err
			}
		}
		return nil
	case row.TypeRow:
		fs := v.Elems()
		if len(fs) != len(s.kids) {
			return fmt.Errorf("column %s: a ROW of %d fields, the type has %d", s.path, len(fs), len(s.kids))
		}
		for i, k := range s.kids {
			if err := p.stripe(k, fs[i], r, s.def, cols); err != nil {
				return err
			}
		}
		return nil
	}
	pv, err := p.value(s.t, v)
	if err != nil {
		return fmt.Errorf("column %s: %w", s.path, err)
	}
	cols[s.col] = append(cols[s.col], pv.Level(r, s.def, s.col))
	return nil
}

// checkParquetType refuses the types the format has no mapping for, at
// any depth.
func checkParquetType(table string, path string, t row.Type) error {
	switch t.Root {
	case row.TypeIntervalYearMonth, row.TypeIntervalDayTime, row.TypeNull:
		return fmt.Errorf("connector: table %s: column %s: the parquet format has no %s type", table, path, t)
	case row.TypeArray:
		return checkParquetType(table, path+".element", *t.Elem)
	case row.TypeMap, row.TypeMultiset:
		if err := checkParquetType(table, path+".key", *t.Elem); err != nil {
			return err
		}
		return checkParquetType(table, path+".value", *t.Value)
	case row.TypeRow:
		for _, f := range t.Fields {
			if err := checkParquetType(table, path+"."+row.QuoteIdent(f.Name), f.Type); err != nil {
				return err
			}
		}
	}
	return nil
}
