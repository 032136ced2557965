package ast

// Visitor is called by [Walk] for each node. If Visit returns a non-nil visitor w, Walk visits
// the node's children with w and then calls w.Visit(nil).
type Visitor interface {
	Visit(n Node) (w Visitor)
}

// Walk traverses the tree rooted at n in depth-first order, in source order of the children.
func Walk(v Visitor, n Node) {
	if v = v.Visit(n); v == nil {
		return
	}
	for _, c := range Children(n) {
		Walk(v, c)
	}
	v.Visit(nil)
}

type inspector func(Node) bool

func (f inspector) Visit(n Node) Visitor {
	if n != nil && f(n) {
		return f
	}
	return nil
}

// Inspect traverses the tree rooted at n in depth-first order, calling f for each node;
// when f returns false the node's children are skipped.
func Inspect(n Node, f func(Node) bool) { Walk(inspector(f), n) }

type children []Node

func (c *children) add(ns ...Node) {
	for _, n := range ns {
		if n != nil && !isNilNode(n) {
			*c = append(*c, n)
		}
	}
}

// isNilNode catches typed nil pointers stored in interfaces.
func isNilNode(n Node) bool {
	switch n := n.(type) {
	case *Ident:
		return n == nil
	case *Name:
		return n == nil
	case *DataType:
		return n == nil
	case *WindowSpec:
		return n == nil
	case *Alias:
		return n == nil
	case *Frame:
		return n == nil
	case *FrameBound:
		return n == nil
	case *PrimaryKey:
		return n == nil
	case *LikeClause:
		return n == nil
	case *AfterMatch:
		return n == nil
	case *Call:
		return n == nil
	case *JSONBehavior:
		return n == nil
	}
	return false
}

func addExprs(c *children, es []Expr) {
	for _, e := range es {
		c.add(e)
	}
}

func addIdents(c *children, ids []*Ident) {
	for _, id := range ids {
		c.add(id)
	}
}

func addOrder(c *children, items []*OrderItem) {
	for _, it := range items {
		c.add(it)
	}
}

func addHints(c *children, hs []*Hint) {
	for _, h := range hs {
		c.add(h)
	}
}

func addOptions(c *children, opts []*Option) {
	for _, o := range opts {
		c.add(o)
	}
}

// Children returns the direct child nodes of n in source order. Nil optional children are
// left out.
func Children(n Node) []Node {
	var c children
	switch n := n.(type) {
	case *Name:
		addIdents(&c, n.Parts)
	case *ColumnRef:
		addIdents(&c, n.Parts)
	case *Star:
		addIdents(&c, n.Qualifier)
	case *UnaryExpr:
		c.add(n.Operand)
	case *BinaryExpr:
		c.add(n.Left, n.Right)
	case *IsExpr:
		c.add(n.Expr)
	case *IsDistinctFrom:
		c.add(n.Left, n.Right)
	case *BetweenExpr:
		c.add(n.Expr, n.Low, n.High)
	case *InExpr:
		c.add(n.Expr)
		addExprs(&c, n.List)
		c.add(n.Query)
	case *QuantifiedExpr:
		c.add(n.Expr, n.Query)
	case *LikeExpr:
		c.add(n.Expr, n.Pattern, n.Escape)
	case *ExistsExpr:
		c.add(n.Query)
	case *SubqueryExpr:
		c.add(n.Query)
	case *CaseExpr:
		c.add(n.Operand)
		for _, w := range n.Whens {
			c.add(w)
		}
		c.add(n.Else)
	case *When:
		c.add(n.Cond, n.Result)
	case *CastExpr:
		c.add(n.Expr, n.Type)
	case *Call:
		c.add(n.Name)
		addExprs(&c, n.Args)
		c.add(n.Filter, n.Over, n.OverName)
	case *NamedArg:
		c.add(n.Name, n.Value)
	case *TableArg:
		c.add(n.Name)
		addExprs(&c, n.PartitionBy)
	case *Descriptor:
		addIdents(&c, n.Columns)
	case *JSONFunc:
		addExprs(&c, n.Args)
		for _, kv := range n.KeyValues {
			c.add(kv)
		}
		c.add(n.Returning, n.OnEmpty, n.OnError)
	case *JSONKeyValue:
		c.add(n.Key, n.Value)
	case *JSONBehavior:
		c.add(n.Default)
	case *IsJSONExpr:
		c.add(n.Expr)
	case *ExtractExpr:
		c.add(n.Expr)
	case *FloorCeilExpr:
		c.add(n.Expr)
	case *PositionExpr:
		c.add(n.Sub, n.In, n.From)
	case *TrimExpr:
		c.add(n.Chars, n.Expr)
	case *SubstringExpr:
		c.add(n.Expr, n.From, n.Length)
	case *OverlayExpr:
		c.add(n.Expr, n.Placing, n.From, n.Length)
	case *ArrayExpr:
		addExprs(&c, n.Elems)
	case *MapExpr:
		addExprs(&c, n.Elems)
	case *RowExpr:
		addExprs(&c, n.Fields)
	case *IndexExpr:
		c.add(n.Expr, n.Index)
	case *FieldAccess:
		c.add(n.Expr, n.Field)
	case *GroupingSets:
		addExprs(&c, n.Items)
	case *DataType:
		c.add(n.UserName)
		for _, e := range n.Elem {
			c.add(e)
		}
		for _, f := range n.Fields {
			c.add(f)
		}
	case *RowField:
		c.add(n.Name, n.Type)
	case *Query:
		for _, cte := range n.With {
			c.add(cte)
		}
		c.add(n.Body)
		addOrder(&c, n.OrderBy)
		c.add(n.Offset, n.Limit)
	case *CTE:
		c.add(n.Name)
		addIdents(&c, n.Columns)
		c.add(n.Query)
	case *Select:
		addHints(&c, n.Hints)
		for _, it := range n.Items {
			c.add(it)
		}
		c.add(n.From, n.Where)
		addExprs(&c, n.GroupBy)
		c.add(n.Having)
		for _, w := range n.Windows {
			c.add(w)
		}
	case *SelectItem:
		c.add(n.Expr, n.Alias)
	case *SetOp:
		c.add(n.Left, n.Right)
	case *Values:
		for _, r := range n.Rows {
			addExprs(&c, r)
		}
	case *OrderItem:
		c.add(n.Expr)
	case *NamedWindow:
		c.add(n.Name, n.Spec)
	case *WindowSpec:
		c.add(n.Base)
		addExprs(&c, n.PartitionBy)
		addOrder(&c, n.OrderBy)
		c.add(n.Frame)
	case *Frame:
		c.add(n.Start, n.End)
	case *FrameBound:
		c.add(n.Offset)
	case *Alias:
		c.add(n.Name)
		addIdents(&c, n.Columns)
	case *TableName:
		c.add(n.Name)
		addHints(&c, n.Hints)
		c.add(n.SystemTime, n.Alias)
	case *Hint:
		c.add(n.Name)
		addOptions(&c, n.Options)
		addExprs(&c, n.Args)
	case *DerivedTable:
		c.add(n.Query, n.Alias)
	case *TableFunc:
		c.add(n.Call, n.Alias)
	case *Unnest:
		addExprs(&c, n.Exprs)
		c.add(n.Alias)
	case *Join:
		c.add(n.Left, n.Right, n.On)
		addIdents(&c, n.Using)
	case *MatchRecognize:
		c.add(n.Input)
		addExprs(&c, n.PartitionBy)
		addOrder(&c, n.OrderBy)
		for _, m := range n.Measures {
			c.add(m)
		}
		c.add(n.AfterMatch, n.Pattern, n.Within)
		for _, d := range n.Defines {
			c.add(d)
		}
		c.add(n.Alias)
	case *AfterMatch:
		c.add(n.Var)
	case *PatternDefine:
		c.add(n.Var, n.Cond)
	case *PatternVar:
		c.add(n.Name)
	case *PatternSeq:
		for _, t := range n.Terms {
			c.add(t)
		}
	case *PatternAlt:
		for _, t := range n.Alts {
			c.add(t)
		}
	case *PatternGroup:
		c.add(n.Pattern)
	case *PatternQuant:
		c.add(n.Term)
	case *QueryStmt:
		c.add(n.Query)
	case *Option:
		c.add(n.ValueLit)
	case *Insert:
		c.add(n.Table)
		addHints(&c, n.Hints)
		addOptions(&c, n.Partition)
		addIdents(&c, n.Columns)
		c.add(n.Query)
	case *CreateTable:
		c.add(n.Name)
		for _, col := range n.Columns {
			c.add(col)
		}
		for _, w := range n.Watermarks {
			c.add(w)
		}
		c.add(n.PrimaryKey)
		addIdents(&c, n.PartitionedBy)
		addOptions(&c, n.Options)
		c.add(n.Like, n.AsQuery)
	case *ColumnDef:
		c.add(n.Name, n.Type, n.Expr, n.PrimaryKey)
	case *Watermark:
		c.add(n.Column, n.Expr)
	case *PrimaryKey:
		c.add(n.Name)
		addIdents(&c, n.Columns)
	case *LikeClause:
		c.add(n.Source)
		for _, o := range n.Options {
			c.add(o)
		}
	case *CreateView:
		c.add(n.Name)
		addIdents(&c, n.Columns)
		c.add(n.Query)
	case *CreateFunction:
		c.add(n.Name)
	case *CreateCatalog:
		c.add(n.Name)
		addOptions(&c, n.Options)
	case *CreateDatabase:
		c.add(n.Name)
		addOptions(&c, n.Options)
	case *Drop:
		c.add(n.Name)
	case *Show:
		c.add(n.Name, n.From)
	case *Describe:
		c.add(n.Name)
	case *Explain:
		c.add(n.Stmt)
	case *StatementSet:
		for _, ins := range n.Inserts {
			c.add(ins)
		}
	case *Use:
		c.add(n.Name)
	case *LoadModule:
		c.add(n.Name)
		addOptions(&c, n.Options)
	case *UnloadModule:
		c.add(n.Name)
	case *UseModules:
		for _, id := range n.Names {
			c.add(id)
		}
	default:
		alterChildren(&c, n) // alter.go
	}
	return c
}
