package parser

import "github.com/weirstream/weir/sql/ast"

// simpleTypes are the built-in type names without element types, with the number of
// parameters they accept.
var simpleTypes = map[string]int{
	"CHAR": 1, "CHARACTER": 1, "VARCHAR": 1, "STRING": 0, "BOOLEAN": 0, "BINARY": 1,
	"VARBINARY": 1, "BYTES": 0, "DECIMAL": 2, "DEC": 2, "NUMERIC": 2, "TINYINT": 0,
	"SMALLINT": 0, "INT": 0, "INTEGER": 0, "BIGINT": 0, "FLOAT": 0, "REAL": 0, "DOUBLE": 0,
	"DATE": 0, "TIME": 1, "TIMESTAMP": 1, "TIMESTAMP_LTZ": 1, "NULL": 0, "VARIANT": 0,
}

// dataType parses a data type with its NOT NULL and postfix ARRAY/MULTISET suffixes.
func (p *parser) dataType() *ast.DataType {
	p.enter()
	defer p.leave()
	t := p.baseType()
	t.NotNull = p.notNull()
	for p.isKw("ARRAY") || p.isKw("MULTISET") {
		t = &ast.DataType{Pos: t.Pos, Name: p.next().upper, Elem: []*ast.DataType{t}}
		t.NotNull = p.notNull()
	}
	return t
}

func (p *parser) notNull() bool {
	if p.acceptKws("NOT", "NULL") {
		return true
	}
	// "NULL ON EMPTY|ERROR" after a JSON_VALUE/JSON_QUERY RETURNING type
	// is a behaviour, not the type's nullability.
	if p.isKw("NULL") && !p.isKwAt(1, "ON") {
		p.i++ // explicitly nullable, the default
	}
	return false
}

func (p *parser) baseType() *ast.DataType {
	t := p.peek()
	pos := t.pos
	if t.kind != tIdent {
		if t.kind == tQIdent {
			return &ast.DataType{Pos: pos, UserName: p.name()}
		}
		p.expected("data type")
	}
	u := t.upper
	switch u {
	case "ARRAY", "MULTISET":
		p.i++
		p.expectOp("<")
		e := p.dataType()
		p.expectOp(">")
		return &ast.DataType{Pos: pos, Name: u, Elem: []*ast.DataType{e}}
	case "MAP":
		p.i++
		p.expectOp("<")
		k := p.dataType()
		p.expectOp(",")
		v := p.dataType()
		p.expectOp(">")
		return &ast.DataType{Pos: pos, Name: u, Elem: []*ast.DataType{k, v}}
	case "ROW":
		p.i++
		closer := ">"
		if p.acceptOp("(") {
			closer = ")"
		} else {
			p.expectOp("<")
		}
		d := &ast.DataType{Pos: pos, Name: u, Fields: []*ast.RowField{}}
		for !p.isOp(closer) {
			f := &ast.RowField{Pos: p.pos(), Name: p.ident()}
			f.Type = p.dataType()
			if p.peek().kind == tString {
				f.Description = p.stringPtr()
			}
			d.Fields = append(d.Fields, f)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(closer)
		return d
	case "INTERVAL":
		p.i++
		q := p.intervalQualifier()
		return &ast.DataType{Pos: pos, Name: u, IntervalFrom: q.Unit, IntervalTo: q.To,
			IntervalPrecision: q.Precision, IntervalFracPrecision: q.FracPrecision}
	}
	nparams, ok := simpleTypes[u]
	if !ok {
		if ast.IsReserved(u) {
			p.expected("data type")
		}
		return &ast.DataType{Pos: pos, UserName: p.name()}
	}
	p.i++
	d := &ast.DataType{Pos: pos, Name: u}
	if u == "DOUBLE" {
		p.acceptKw("PRECISION")
	}
	if nparams > 0 && p.acceptOp("(") {
		d.Params = []int{p.intLit()}
		if nparams > 1 && p.acceptOp(",") {
			d.Params = append(d.Params, p.intLit())
		}
		p.expectOp(")")
	}
	if u == "TIME" || u == "TIMESTAMP" {
		switch {
		case p.acceptKws("WITHOUT", "TIME", "ZONE"):
		case p.acceptKws("WITH", "LOCAL", "TIME", "ZONE"):
			d.WithLocalTimeZone = true
		}
	}
	return d
}
