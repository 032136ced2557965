package ast

// Pos is a position in the SQL source text.
type Pos struct {
	// Line is the 1-based line number.
	Line int
	// Column is the 1-based column, counted in Unicode code points.
	Column int
	// Offset is the 0-based byte offset.
	Offset int
}

// Position returns p itself; embedding Pos gives every node its Position method.
func (p Pos) Position() Pos { return p }

// Node is implemented by every syntax tree node.
type Node interface {
	// Position is where the node's first token starts.
	Position() Pos
	// String is the node's canonical SQL text (see Format).
	String() string
	format(p *printer)
}

// Statement is a top-level SQL statement.
type Statement interface {
	Node
	statementNode()
}

// Expr is a scalar (row-level) expression.
type Expr interface {
	Node
	exprNode()
}

// QueryExpr is a query: a SELECT, a set operation, VALUES, or a [Query] carrying WITH, ORDER BY
// and LIMIT around one of those.
type QueryExpr interface {
	Node
	queryNode()
}

// TableRef is an item of a FROM clause.
type TableRef interface {
	Node
	tableRefNode()
}

// Ident is an identifier. Name keeps its case as written (back quotes removed, doubled back
// quotes unescaped).
type Ident struct {
	Pos
	Name string
}

// Name is a possibly qualified name such as catalog.db.table.
type Name struct {
	Pos
	Parts []*Ident
}

// Last returns the last part of the name (the object's own name).
func (n *Name) Last() *Ident { return n.Parts[len(n.Parts)-1] }
