package ast

// The module statements (Flink's LOAD MODULE, UNLOAD MODULE, USE MODULES).

// LoadModule is LOAD MODULE name [WITH (..)].
type LoadModule struct {
	Pos
	Name    *Ident
	Options []*Option
}

// UnloadModule is UNLOAD MODULE name.
type UnloadModule struct {
	Pos
	Name *Ident
}

// UseModules is USE MODULES name [, name ..].
type UseModules struct {
	Pos
	Names []*Ident
}

func (*LoadModule) statementNode()   {}
func (*UnloadModule) statementNode() {}
func (*UseModules) statementNode()   {}

func (n *LoadModule) format(p *printer) {
	p.w("LOAD MODULE ")
	p.ident(n.Name)
	if len(n.Options) > 0 {
		p.w(" WITH ")
		p.options(n.Options)
	}
}

func (n *UnloadModule) format(p *printer) {
	p.w("UNLOAD MODULE ")
	p.ident(n.Name)
}

func (n *UseModules) format(p *printer) {
	p.w("USE MODULES ")
	for i, id := range n.Names {
		if i > 0 {
			p.w(", ")
		}
		p.ident(id)
	}
}

// String returns the canonical SQL text of the node.
func (n *LoadModule) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *UnloadModule) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *UseModules) String() string { return Format(n) }
