package ast

import (
	"strconv"
	"strings"
)

// Operator precedence levels, lowest first, as used by the parser and the printer. They
// follow Calcite's relative order: OR < AND < NOT < IS < comparison < BETWEEN/IN/LIKE <
// additive < multiplicative (and ||) < unary sign < primary.
const (
	PrecLowest = iota
	PrecOr
	PrecAnd
	PrecNot
	PrecIs
	PrecCmp
	PrecLike
	PrecAdd
	PrecMul
	PrecUnary
	PrecPrimary
)

// Precedence returns the binding strength of op.
func (op BinaryOp) Precedence() int {
	switch op {
	case OpOr:
		return PrecOr
	case OpAnd:
		return PrecAnd
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		return PrecCmp
	case OpAdd, OpSub:
		return PrecAdd
	default: // *, /, %, ||
		return PrecMul
	}
}

// ExprPrecedence returns the precedence of e's outermost operator (PrecPrimary for atoms).
func ExprPrecedence(e Expr) int {
	switch e := e.(type) {
	case *BinaryExpr:
		return e.Op.Precedence()
	case *UnaryExpr:
		if e.Op == OpNot {
			return PrecNot
		}
		return PrecUnary
	case *IsExpr, *IsJSONExpr:
		return PrecIs
	case *IsDistinctFrom, *QuantifiedExpr:
		return PrecCmp
	case *BetweenExpr, *InExpr, *LikeExpr:
		return PrecLike
	case *NamedArg:
		return PrecLowest
	}
	return PrecPrimary
}

// reservedFuncs are reserved words that may still name a function when followed by '('.
var reservedFuncs = map[string]bool{"GROUPING": true, "LEFT": true, "RIGHT": true}

// IsReservedFunc reports whether word is a reserved word usable as a function name.
func IsReservedFunc(word string) bool { return reservedFuncs[strings.ToUpper(word)] }

// Format returns the canonical SQL text of n.
func Format(n Node) string {
	var p printer
	n.format(&p)
	return p.b.String()
}

// FormatScript returns statements as a script: each statement followed by ";\n".
func FormatScript(stmts []Statement) string {
	var p printer
	for _, s := range stmts {
		s.format(&p)
		p.w(";\n")
	}
	return p.b.String()
}

// FormatQuoted returns the SQL text of n as Format does, with every
// identifier back-quoted: Flink's serializable form of an expression
// (its asSerializableString), as SHOW CREATE TABLE prints computed
// columns and watermarks.
func FormatQuoted(n Node) string {
	p := printer{quoteAll: true}
	n.format(&p)
	return p.b.String()
}

type printer struct {
	b strings.Builder
	// quoteAll back-quotes every identifier (FormatQuoted).
	quoteAll bool
}

func (p *printer) w(s string) { p.b.WriteString(s) }

func (p *printer) ident(id *Ident) {
	if p.quoteAll {
		p.forceQuote(id.Name)
		return
	}
	p.w(QuoteIdent(id.Name))
}

func (p *printer) idents(ids []*Ident) {
	for i, id := range ids {
		if i > 0 {
			p.w(", ")
		}
		p.ident(id)
	}
}

func (p *printer) parts(ids []*Ident) {
	for i, id := range ids {
		if i > 0 {
			p.w(".")
		}
		p.ident(id)
	}
}

func (p *printer) exprs(es []Expr) {
	for i, e := range es {
		if i > 0 {
			p.w(", ")
		}
		e.format(p)
	}
}

// operand prints e, parenthesised when its precedence is below min.
func (p *printer) operand(e Expr, min int) {
	if ExprPrecedence(e) < min {
		p.w("(")
		e.format(p)
		p.w(")")
		return
	}
	e.format(p)
}

func (p *printer) str(s string) { p.w(QuoteString(s)) }

// forceQuote writes name back-quoted even where QuoteIdent would not need to.
func (p *printer) forceQuote(name string) {
	p.w("`" + strings.ReplaceAll(name, "`", "``") + "`")
}

// keywordSyntaxFuncs are the function names the parser reads with keyword syntax inside the
// parentheses (CAST(x AS t), TRIM(BOTH ..), ...). A plain call to a function of that name
// must be written back-quoted, except the plain forms the parser accepts itself.
var keywordSyntaxFuncs = map[string]bool{"CAST": true, "TRY_CAST": true, "EXTRACT": true,
	"POSITION": true, "TRIM": true, "OVERLAY": true, "SUBSTRING": true, "FLOOR": true,
	"CEIL": true, "CEILING": true, "TIMESTAMPADD": true, "TIMESTAMPDIFF": true,
	"DESCRIPTOR": true, "JSON_EXISTS": true, "JSON_VALUE": true, "JSON_QUERY": true,
	"JSON_OBJECT": true, "JSON_OBJECTAGG": true, "JSON_ARRAY": true, "JSON_ARRAYAGG": true}

// needsQuotedName reports whether a single-part call name must be back-quoted so that it
// re-parses as a plain call.
func (n *Call) needsQuotedName() bool {
	u := strings.ToUpper(n.Name.Parts[0].Name)
	if !keywordSyntaxFuncs[u] {
		return false
	}
	plain := !n.Distinct && !n.All && n.Filter == nil && n.Over == nil && n.OverName == nil &&
		len(n.Args) > 0
	switch u {
	case "SUBSTRING", "FLOOR", "CEIL", "CEILING":
		// SUBSTRING(s, i, n) and FLOOR(x) are plain calls unless an argument is a named or
		// table argument, which the keyword forms do not accept.
		if !plain {
			return true
		}
		for _, a := range n.Args {
			switch a.(type) {
			case *NamedArg, *TableArg, *Descriptor, *TimeUnitArg, *DefaultArg:
				return true
			}
		}
		return false
	case "TIMESTAMPADD", "TIMESTAMPDIFF":
		if len(n.Args) == 0 {
			return false
		}
		_, unit := n.Args[0].(*TimeUnitArg)
		return !unit || n.Distinct || n.All
	}
	return true
}

// builtinTypeNames are the type names the parser reads as built-in types; a user-defined type
// of the same name must be back-quoted.
var builtinTypeNames = map[string]bool{"CHAR": true, "CHARACTER": true, "VARCHAR": true,
	"STRING": true, "BOOLEAN": true, "BINARY": true, "VARBINARY": true, "BYTES": true,
	"DECIMAL": true, "DEC": true, "NUMERIC": true, "TINYINT": true, "SMALLINT": true,
	"INT": true, "INTEGER": true, "BIGINT": true, "FLOAT": true, "REAL": true, "DOUBLE": true,
	"DATE": true, "TIME": true, "TIMESTAMP": true, "TIMESTAMP_LTZ": true, "NULL": true,
	"ARRAY": true, "MULTISET": true, "MAP": true, "ROW": true, "INTERVAL": true}

func (p *printer) int(n int) { p.w(strconv.Itoa(n)) }

// ---- expressions ----

func (n *Ident) format(p *printer) { p.ident(n) }
func (n *Name) format(p *printer)  { p.parts(n.Parts) }

func (n *Literal) format(p *printer) {
	switch n.Kind {
	case StringLit:
		p.str(n.Value)
	case BinaryLit:
		p.w("X'" + n.Value + "'")
	case NullLit:
		p.w("NULL")
	case UnknownLit:
		p.w("UNKNOWN")
	default:
		p.w(n.Value)
	}
}

func (n *TypedLiteral) format(p *printer) { p.w(n.Type + " "); p.str(n.Value) }

func (n *IntervalLiteral) format(p *printer) {
	p.w("INTERVAL ")
	if n.Negative {
		p.w("-")
	}
	p.str(n.Value)
	p.w(" " + string(n.Unit))
	switch {
	case n.To == "" && n.FracPrecision > 0:
		p.w("(" + strconv.Itoa(n.Precision) + ", " + strconv.Itoa(n.FracPrecision) + ")")
	case n.Precision > 0:
		p.w("(" + strconv.Itoa(n.Precision) + ")")
	}
	if n.To != "" {
		p.w(" TO " + string(n.To))
		if n.FracPrecision > 0 {
			p.w("(" + strconv.Itoa(n.FracPrecision) + ")")
		}
	}
}

func (n *ColumnRef) format(p *printer) { p.parts(n.Parts) }

func (n *Star) format(p *printer) {
	for _, q := range n.Qualifier {
		p.ident(q)
		p.w(".")
	}
	p.w("*")
}

func (n *UnaryExpr) format(p *printer) {
	if n.Op == OpNot {
		p.w("NOT ")
		p.operand(n.Operand, PrecNot)
		return
	}
	p.w(string(n.Op))
	if u, ok := n.Operand.(*UnaryExpr); ok && u.Op != OpNot {
		// "--" would start a comment.
		p.w("(")
		u.format(p)
		p.w(")")
		return
	}
	p.operand(n.Operand, PrecUnary)
}

func (n *BinaryExpr) format(p *printer) {
	prec := n.Op.Precedence()
	p.operand(n.Left, prec)
	p.w(" " + string(n.Op) + " ")
	p.operand(n.Right, prec+1)
}

func (n *IsExpr) format(p *printer) {
	p.operand(n.Expr, PrecIs)
	p.w(" IS ")
	if n.Not {
		p.w("NOT ")
	}
	p.w(string(n.Test))
}

func (n *IsDistinctFrom) format(p *printer) {
	p.operand(n.Left, PrecCmp)
	p.w(" IS ")
	if n.Not {
		p.w("NOT ")
	}
	p.w("DISTINCT FROM ")
	p.operand(n.Right, PrecCmp+1)
}

func (p *printer) not(b bool) {
	if b {
		p.w(" NOT")
	}
}

func (n *BetweenExpr) format(p *printer) {
	p.operand(n.Expr, PrecLike)
	p.not(n.Not)
	p.w(" BETWEEN ")
	if n.Symmetric {
		p.w("SYMMETRIC ")
	}
	p.operand(n.Low, PrecLike+1)
	p.w(" AND ")
	p.operand(n.High, PrecLike+1)
}

func (n *InExpr) format(p *printer) {
	p.operand(n.Expr, PrecLike)
	p.not(n.Not)
	p.w(" IN (")
	if n.Query != nil {
		n.Query.format(p)
	} else {
		p.exprs(n.List)
	}
	p.w(")")
}

func (n *QuantifiedExpr) format(p *printer) {
	p.operand(n.Expr, PrecCmp)
	p.w(" " + string(n.Op) + " " + n.Quant + " (")
	n.Query.format(p)
	p.w(")")
}

func (n *LikeExpr) format(p *printer) {
	p.operand(n.Expr, PrecLike)
	p.not(n.Not)
	if n.Similar {
		p.w(" SIMILAR TO ")
	} else {
		p.w(" LIKE ")
	}
	p.operand(n.Pattern, PrecLike+1)
	if n.Escape != nil {
		p.w(" ESCAPE ")
		p.operand(n.Escape, PrecLike+1)
	}
}

func (n *ExistsExpr) format(p *printer) { p.w("EXISTS ("); n.Query.format(p); p.w(")") }

func (n *SubqueryExpr) format(p *printer) { p.w("("); n.Query.format(p); p.w(")") }

func (n *CaseExpr) format(p *printer) {
	p.w("CASE")
	if n.Operand != nil {
		p.w(" ")
		n.Operand.format(p)
	}
	for _, w := range n.Whens {
		p.w(" ")
		w.format(p)
	}
	if n.Else != nil {
		p.w(" ELSE ")
		n.Else.format(p)
	}
	p.w(" END")
}

func (n *When) format(p *printer) {
	p.w("WHEN ")
	n.Cond.format(p)
	p.w(" THEN ")
	n.Result.format(p)
}

func (n *CastExpr) format(p *printer) {
	if n.Try {
		p.w("TRY_CAST(")
	} else {
		p.w("CAST(")
	}
	n.Expr.format(p)
	p.w(" AS ")
	n.Type.format(p)
	p.w(")")
}

func (n *Call) format(p *printer) {
	if n.NoParens {
		p.w(n.Name.Last().Name)
		return
	}
	if len(n.Name.Parts) == 1 && IsReservedFunc(n.Name.Parts[0].Name) {
		p.w(n.Name.Parts[0].Name)
	} else {
		for i, part := range n.Name.Parts {
			if i > 0 {
				p.w(".")
			}
			if len(n.Name.Parts) == 1 && n.needsQuotedName() {
				p.forceQuote(part.Name)
			} else {
				p.w(quoteFuncName(part.Name))
			}
		}
	}
	p.w("(")
	if n.Distinct {
		p.w("DISTINCT ")
	} else if n.All {
		p.w("ALL ")
	}
	p.exprs(n.Args)
	if n.NullTreatment != "" {
		p.w(" " + n.NullTreatment)
	}
	p.w(")")
	if n.Filter != nil {
		p.w(" FILTER (WHERE ")
		n.Filter.format(p)
		p.w(")")
	}
	if n.Over != nil {
		p.w(" OVER ")
		n.Over.format(p)
	} else if n.OverName != nil {
		p.w(" OVER ")
		p.ident(n.OverName)
	}
}

func (n *DefaultArg) format(p *printer) { p.w("DEFAULT") }

func (n *NamedArg) format(p *printer) {
	// Any word may name an argument: it is followed by =>.
	if lexesAsIdent(n.Name.Name) {
		p.w(n.Name.Name)
	} else {
		p.ident(n.Name)
	}
	p.w(" => ")
	n.Value.format(p)
}

func (n *TableArg) format(p *printer) {
	p.w("TABLE ")
	n.Name.format(p)
	switch len(n.PartitionBy) {
	case 0:
	case 1:
		p.w(" PARTITION BY ")
		n.PartitionBy[0].format(p)
	default:
		p.w(" PARTITION BY (")
		p.exprs(n.PartitionBy)
		p.w(")")
	}
}

func (n *Descriptor) format(p *printer) { p.w("DESCRIPTOR("); p.idents(n.Columns); p.w(")") }

func (n *TimeUnitArg) format(p *printer) { p.w(string(n.Unit)) }

func (n *JSONFunc) format(p *printer) {
	p.w(n.Name + "(")
	p.exprs(n.Args)
	for i, kv := range n.KeyValues {
		if i > 0 {
			p.w(", ")
		}
		kv.format(p)
	}
	sep := " "
	if len(n.Args) == 0 && len(n.KeyValues) == 0 {
		sep = ""
	}
	if n.Returning != nil {
		p.w(sep + "RETURNING ")
		n.Returning.format(p)
		sep = " "
	}
	if n.Wrapper != "" {
		p.w(sep + n.Wrapper + " WRAPPER")
		sep = " "
	}
	if n.OnEmpty != nil {
		p.w(sep)
		n.OnEmpty.format(p)
		p.w(" ON EMPTY")
		sep = " "
	}
	if n.OnError != nil {
		p.w(sep)
		n.OnError.format(p)
		p.w(" ON ERROR")
		sep = " "
	}
	if n.OnNull != "" {
		p.w(sep + n.OnNull + " ON NULL")
	}
	p.w(")")
}

func (n *JSONKeyValue) format(p *printer) {
	p.w("KEY ")
	n.Key.format(p)
	p.w(" VALUE ")
	n.Value.format(p)
}

func (n *JSONBehavior) format(p *printer) {
	p.w(n.Kind)
	if n.Default != nil {
		p.w(" ")
		n.Default.format(p)
	}
}

func (n *IsJSONExpr) format(p *printer) {
	p.operand(n.Expr, PrecIs)
	p.w(" IS ")
	if n.Not {
		p.w("NOT ")
	}
	p.w("JSON")
	if n.Kind != "" {
		p.w(" " + n.Kind)
	}
}

func (n *ExtractExpr) format(p *printer) {
	p.w("EXTRACT(" + string(n.Unit) + " FROM ")
	n.Expr.format(p)
	p.w(")")
}

func (n *FloorCeilExpr) format(p *printer) {
	if n.Ceil {
		p.w("CEIL(")
	} else {
		p.w("FLOOR(")
	}
	n.Expr.format(p)
	p.w(" TO " + string(n.Unit) + ")")
}

func (n *PositionExpr) format(p *printer) {
	p.w("POSITION(")
	p.operand(n.Sub, PrecLike+1)
	p.w(" IN ")
	n.In.format(p)
	if n.From != nil {
		p.w(" FROM ")
		n.From.format(p)
	}
	p.w(")")
}

func (n *TrimExpr) format(p *printer) {
	p.w("TRIM(")
	if n.Side != "" || n.Chars != nil {
		if n.Side != "" {
			p.w(string(n.Side) + " ")
		}
		if n.Chars != nil {
			n.Chars.format(p)
			p.w(" ")
		}
		p.w("FROM ")
	}
	n.Expr.format(p)
	p.w(")")
}

func (n *SubstringExpr) format(p *printer) {
	p.w("SUBSTRING(")
	n.Expr.format(p)
	p.w(" FROM ")
	n.From.format(p)
	if n.Length != nil {
		p.w(" FOR ")
		n.Length.format(p)
	}
	p.w(")")
}

func (n *OverlayExpr) format(p *printer) {
	p.w("OVERLAY(")
	n.Expr.format(p)
	p.w(" PLACING ")
	n.Placing.format(p)
	p.w(" FROM ")
	n.From.format(p)
	if n.Length != nil {
		p.w(" FOR ")
		n.Length.format(p)
	}
	p.w(")")
}

func (n *ArrayExpr) format(p *printer) { p.w("ARRAY["); p.exprs(n.Elems); p.w("]") }
func (n *MapExpr) format(p *printer)   { p.w("MAP["); p.exprs(n.Elems); p.w("]") }

func (n *RowExpr) format(p *printer) {
	if n.Explicit {
		p.w("ROW")
	}
	p.w("(")
	p.exprs(n.Fields)
	p.w(")")
}

// postfixBase reports whether e can be written bare before [i] or .f.
func postfixBase(e Expr, field bool) bool {
	switch e := e.(type) {
	case *Call:
		return !e.NoParens
	case *IndexExpr, *FieldAccess:
		return true
	case *ColumnRef, *ArrayExpr, *MapExpr:
		return !field
	}
	return false
}

func (p *printer) postfixBase(e Expr, field bool) {
	if postfixBase(e, field) {
		e.format(p)
		return
	}
	p.w("(")
	e.format(p)
	p.w(")")
}

func (n *IndexExpr) format(p *printer) {
	p.postfixBase(n.Expr, false)
	p.w("[")
	n.Index.format(p)
	p.w("]")
}

func (n *FieldAccess) format(p *printer) {
	p.postfixBase(n.Expr, true)
	p.w(".")
	p.ident(n.Field)
}

func (n *GroupingSets) format(p *printer) {
	p.w(string(n.Kind) + " (")
	p.exprs(n.Items)
	p.w(")")
}

// ---- data types ----

func (n *DataType) format(p *printer) {
	switch {
	case n.UserName != nil:
		for i, part := range n.UserName.Parts {
			if i > 0 {
				p.w(".")
			}
			if i == 0 && builtinTypeNames[strings.ToUpper(part.Name)] {
				p.forceQuote(part.Name)
			} else {
				p.ident(part)
			}
		}
	case n.Name == "ARRAY" || n.Name == "MULTISET":
		p.w(n.Name + "<")
		n.Elem[0].format(p)
		p.w(">")
	case n.Name == "MAP":
		p.w("MAP<")
		n.Elem[0].format(p)
		p.w(", ")
		n.Elem[1].format(p)
		p.w(">")
	case n.Name == "ROW" && len(n.Fields) == 0:
		p.w("ROW()")
	case n.Name == "ROW":
		p.w("ROW<")
		for i, f := range n.Fields {
			if i > 0 {
				p.w(", ")
			}
			f.format(p)
		}
		p.w(">")
	case n.Name == "INTERVAL":
		p.w("INTERVAL " + string(n.IntervalFrom))
		switch {
		case n.IntervalTo == "" && n.IntervalFracPrecision > 0:
			p.w("(" + strconv.Itoa(n.IntervalPrecision) + ", " +
				strconv.Itoa(n.IntervalFracPrecision) + ")")
		case n.IntervalPrecision > 0:
			p.w("(" + strconv.Itoa(n.IntervalPrecision) + ")")
		}
		if n.IntervalTo != "" {
			p.w(" TO " + string(n.IntervalTo))
			if n.IntervalFracPrecision > 0 {
				p.w("(" + strconv.Itoa(n.IntervalFracPrecision) + ")")
			}
		}
	default:
		p.w(n.Name)
		if len(n.Params) > 0 {
			p.w("(")
			for i, v := range n.Params {
				if i > 0 {
					p.w(", ")
				}
				p.int(v)
			}
			p.w(")")
		}
		if n.WithLocalTimeZone {
			p.w(" WITH LOCAL TIME ZONE")
		}
	}
	if n.NotNull {
		p.w(" NOT NULL")
	}
}

func (n *RowField) format(p *printer) {
	p.ident(n.Name)
	p.w(" ")
	n.Type.format(p)
	if n.Description != nil {
		p.w(" ")
		p.str(*n.Description)
	}
}

// ---- queries ----

func (n *Query) format(p *printer) {
	if len(n.With) > 0 {
		p.w("WITH ")
		for i, c := range n.With {
			if i > 0 {
				p.w(", ")
			}
			c.format(p)
		}
		p.w(" ")
	}
	if _, ok := n.Body.(*Query); ok {
		p.w("(")
		n.Body.format(p)
		p.w(")")
	} else {
		n.Body.format(p)
	}
	if len(n.OrderBy) > 0 {
		p.w(" ORDER BY ")
		p.orderItems(n.OrderBy)
	}
	if n.Fetch {
		if n.Offset != nil {
			p.w(" OFFSET ")
			p.operand(n.Offset, PrecCmp+1)
			p.w(" ROWS")
		}
		p.w(" FETCH FIRST ")
		p.operand(n.Limit, PrecCmp+1)
		p.w(" ROWS ONLY")
		return
	}
	if n.Limit != nil {
		p.w(" LIMIT ")
		p.operand(n.Limit, PrecCmp+1)
	}
	if n.Offset != nil {
		p.w(" OFFSET ")
		p.operand(n.Offset, PrecCmp+1)
	}
}

func (n *CTE) format(p *printer) {
	p.ident(n.Name)
	if len(n.Columns) > 0 {
		p.w(" (")
		p.idents(n.Columns)
		p.w(")")
	}
	p.w(" AS (")
	n.Query.format(p)
	p.w(")")
}

func (n *Select) format(p *printer) {
	p.w("SELECT")
	p.hints(n.Hints)
	p.w(" ")
	if n.Distinct {
		p.w("DISTINCT ")
	} else if n.All {
		p.w("ALL ")
	}
	for i, it := range n.Items {
		if i > 0 {
			p.w(", ")
		}
		it.format(p)
	}
	if n.From != nil {
		p.w(" FROM ")
		n.From.format(p)
	}
	if n.Where != nil {
		p.w(" WHERE ")
		n.Where.format(p)
	}
	if len(n.GroupBy) > 0 {
		p.w(" GROUP BY ")
		p.exprs(n.GroupBy)
	}
	if n.Having != nil {
		p.w(" HAVING ")
		n.Having.format(p)
	}
	if len(n.Windows) > 0 {
		p.w(" WINDOW ")
		for i, w := range n.Windows {
			if i > 0 {
				p.w(", ")
			}
			w.format(p)
		}
	}
}

func (n *SelectItem) format(p *printer) {
	n.Expr.format(p)
	if n.Alias != nil {
		p.w(" AS ")
		p.ident(n.Alias)
	}
}

func setPrec(k SetOpKind) int {
	if k == Intersect {
		return 2
	}
	return 1
}

func (p *printer) setOperand(q QueryExpr, parent SetOpKind, right bool) {
	paren := false
	switch q := q.(type) {
	case *Query:
		paren = true
	case *SetOp:
		paren = setPrec(q.Kind) < setPrec(parent) || right && setPrec(q.Kind) == setPrec(parent)
	}
	if paren {
		p.w("(")
		q.format(p)
		p.w(")")
		return
	}
	q.format(p)
}

func (n *SetOp) format(p *printer) {
	p.setOperand(n.Left, n.Kind, false)
	p.w(" " + string(n.Kind) + " ")
	if n.All {
		p.w("ALL ")
	} else if n.Distinct {
		p.w("DISTINCT ")
	}
	p.setOperand(n.Right, n.Kind, true)
}

func (n *Values) format(p *printer) {
	p.w("VALUES ")
	for i, r := range n.Rows {
		if i > 0 {
			p.w(", ")
		}
		p.w("(")
		p.exprs(r)
		p.w(")")
	}
}

func (p *printer) orderItems(items []*OrderItem) {
	for i, it := range items {
		if i > 0 {
			p.w(", ")
		}
		it.format(p)
	}
}

func (n *OrderItem) format(p *printer) {
	n.Expr.format(p)
	if n.Desc {
		p.w(" DESC")
	} else if n.Asc {
		p.w(" ASC")
	}
	if n.Nulls != "" {
		p.w(" NULLS " + n.Nulls)
	}
}

func (n *NamedWindow) format(p *printer) {
	p.ident(n.Name)
	p.w(" AS ")
	n.Spec.format(p)
}

func (n *WindowSpec) format(p *printer) {
	p.w("(")
	sep := ""
	if n.Base != nil {
		p.ident(n.Base)
		sep = " "
	}
	if len(n.PartitionBy) > 0 {
		p.w(sep + "PARTITION BY ")
		p.exprs(n.PartitionBy)
		sep = " "
	}
	if len(n.OrderBy) > 0 {
		p.w(sep + "ORDER BY ")
		p.orderItems(n.OrderBy)
		sep = " "
	}
	if n.Frame != nil {
		p.w(sep)
		n.Frame.format(p)
	}
	p.w(")")
}

func (n *Frame) format(p *printer) {
	p.w(n.Unit + " ")
	if n.End == nil {
		n.Start.format(p)
		return
	}
	p.w("BETWEEN ")
	n.Start.format(p)
	p.w(" AND ")
	n.End.format(p)
}

func (n *FrameBound) format(p *printer) {
	if n.Offset != nil {
		// A column named like the bound keywords must stay quoted.
		if c, ok := n.Offset.(*ColumnRef); ok && len(c.Parts) == 1 &&
			(strings.EqualFold(c.Parts[0].Name, "UNBOUNDED") ||
				strings.EqualFold(c.Parts[0].Name, "CURRENT")) {
			p.forceQuote(c.Parts[0].Name)
		} else {
			p.operand(n.Offset, PrecAnd+1)
		}
		p.w(" ")
	}
	p.w(string(n.Kind))
}

// hints writes " /*+ h1, h2 */" (with the leading space) when there are hints.
func (p *printer) hints(hs []*Hint) {
	if len(hs) == 0 {
		return
	}
	p.w(" /*+ ")
	for i, h := range hs {
		if i > 0 {
			p.w(", ")
		}
		h.format(p)
	}
	p.w(" */")
}

func (n *Hint) format(p *printer) {
	p.ident(n.Name)
	switch {
	case len(n.Options) > 0:
		p.options(n.Options)
	case len(n.Args) > 0:
		p.w("(")
		p.exprs(n.Args)
		p.w(")")
	}
}

func (p *printer) alias(a *Alias) {
	if a != nil {
		p.w(" ")
		a.format(p)
	}
}

func (n *Alias) format(p *printer) {
	p.w("AS ")
	p.ident(n.Name)
	if len(n.Columns) > 0 {
		p.w(" (")
		p.idents(n.Columns)
		p.w(")")
	}
}

func (n *TableName) format(p *printer) {
	n.Name.format(p)
	p.hints(n.Hints)
	if n.SystemTime != nil {
		p.w(" FOR SYSTEM_TIME AS OF ")
		p.operand(n.SystemTime, PrecCmp+1)
	}
	p.alias(n.Alias)
}

func (n *DerivedTable) format(p *printer) {
	if n.Lateral {
		p.w("LATERAL ")
	}
	p.w("(")
	n.Query.format(p)
	p.w(")")
	p.alias(n.Alias)
}

func (n *TableFunc) format(p *printer) {
	if n.Lateral {
		p.w("LATERAL ")
	}
	p.w("TABLE(")
	n.Call.format(p)
	p.w(")")
	p.alias(n.Alias)
}

func (n *Unnest) format(p *printer) {
	p.w("UNNEST(")
	p.exprs(n.Exprs)
	p.w(")")
	if n.WithOrdinality {
		p.w(" WITH ORDINALITY")
	}
	p.alias(n.Alias)
}

func (n *Join) format(p *printer) {
	n.Left.format(p)
	if n.Kind == CommaJoin {
		p.w(", ")
	} else {
		p.w(" ")
		if n.Natural {
			p.w("NATURAL ")
		}
		p.w(string(n.Kind) + " ")
	}
	if _, ok := n.Right.(*Join); ok {
		p.w("(")
		n.Right.format(p)
		p.w(")")
	} else {
		n.Right.format(p)
	}
	if n.On != nil {
		p.w(" ON ")
		n.On.format(p)
	}
	if len(n.Using) > 0 {
		p.w(" USING (")
		p.idents(n.Using)
		p.w(")")
	}
}

func (n *MatchRecognize) format(p *printer) {
	if _, ok := n.Input.(*Join); ok {
		p.w("(")
		n.Input.format(p)
		p.w(")")
	} else {
		n.Input.format(p)
	}
	p.w(" MATCH_RECOGNIZE (")
	sep := ""
	if len(n.PartitionBy) > 0 {
		p.w("PARTITION BY ")
		p.exprs(n.PartitionBy)
		sep = " "
	}
	if len(n.OrderBy) > 0 {
		p.w(sep + "ORDER BY ")
		p.orderItems(n.OrderBy)
		sep = " "
	}
	if len(n.Measures) > 0 {
		p.w(sep + "MEASURES ")
		for i, m := range n.Measures {
			if i > 0 {
				p.w(", ")
			}
			m.format(p)
		}
		sep = " "
	}
	if n.RowsPerMatch {
		if n.AllRows {
			p.w(sep + "ALL ROWS PER MATCH")
		} else {
			p.w(sep + "ONE ROW PER MATCH")
		}
		sep = " "
	}
	if n.AfterMatch != nil {
		p.w(sep)
		n.AfterMatch.format(p)
		sep = " "
	}
	p.w(sep + "PATTERN (")
	n.Pattern.format(p)
	p.w(")")
	if n.Within != nil {
		p.w(" WITHIN ")
		p.operand(n.Within, PrecPrimary)
	}
	p.w(" DEFINE ")
	for i, d := range n.Defines {
		if i > 0 {
			p.w(", ")
		}
		d.format(p)
	}
	p.w(")")
	p.alias(n.Alias)
}

func (n *AfterMatch) format(p *printer) {
	p.w("AFTER MATCH " + string(n.Kind))
	if n.Var != nil {
		p.w(" ")
		p.ident(n.Var)
	}
}

func (n *PatternDefine) format(p *printer) {
	p.ident(n.Var)
	p.w(" AS ")
	n.Cond.format(p)
}

func (n *PatternVar) format(p *printer) { p.ident(n.Name) }

func (n *PatternSeq) format(p *printer) {
	for i, t := range n.Terms {
		if i > 0 {
			p.w(" ")
		}
		if _, ok := t.(*PatternAlt); ok {
			p.w("(")
			t.format(p)
			p.w(")")
		} else {
			t.format(p)
		}
	}
}

func (n *PatternAlt) format(p *printer) {
	for i, t := range n.Alts {
		if i > 0 {
			p.w(" | ")
		}
		t.format(p)
	}
}

func (n *PatternGroup) format(p *printer) { p.w("("); n.Pattern.format(p); p.w(")") }

func (n *PatternQuant) format(p *printer) {
	switch n.Term.(type) {
	case *PatternVar, *PatternGroup:
		n.Term.format(p)
	default:
		p.w("(")
		n.Term.format(p)
		p.w(")")
	}
	switch {
	case n.Symbol != "":
		p.w(n.Symbol)
	case n.Max == n.Min:
		p.w("{" + strconv.Itoa(n.Min) + "}")
	case n.Max < 0:
		p.w("{" + strconv.Itoa(n.Min) + ",}")
	default:
		p.w("{" + strconv.Itoa(n.Min) + "," + strconv.Itoa(n.Max) + "}")
	}
	if n.Reluctant {
		p.w("?")
	}
}

// ---- statements ----

func (n *QueryStmt) format(p *printer) { n.Query.format(p) }

func (p *printer) options(opts []*Option) {
	p.w("(")
	for i, o := range opts {
		if i > 0 {
			p.w(", ")
		}
		o.format(p)
	}
	p.w(")")
}

func (n *Option) format(p *printer) {
	if n.KeyIdent {
		p.w(QuoteIdent(n.Key))
	} else {
		p.str(n.Key)
	}
	p.w(" = ")
	if n.ValueLit != nil {
		p.operand(n.ValueLit, PrecCmp+1)
	} else {
		p.str(n.Value)
	}
}

func (n *Insert) format(p *printer) {
	if n.Overwrite {
		p.w("INSERT OVERWRITE ")
	} else {
		p.w("INSERT INTO ")
	}
	n.Table.format(p)
	p.hints(n.Hints)
	if len(n.Partition) > 0 {
		p.w(" PARTITION ")
		p.options(n.Partition)
	}
	if len(n.Columns) > 0 {
		p.w(" (")
		p.idents(n.Columns)
		p.w(")")
	}
	p.w(" ")
	n.Query.format(p)
}

func (p *printer) comment(c *string) {
	if c != nil {
		p.w(" COMMENT ")
		p.str(*c)
	}
}

func (n *CreateTable) format(p *printer) {
	switch {
	case n.CreateOrReplace:
		p.w("CREATE OR REPLACE ")
	case n.Replace:
		p.w("REPLACE ")
	default:
		p.w("CREATE ")
	}
	if n.Temporary {
		p.w("TEMPORARY ")
	}
	p.w("TABLE ")
	if n.IfNotExists {
		p.w("IF NOT EXISTS ")
	}
	n.Name.format(p)
	if len(n.Columns)+len(n.Watermarks) > 0 || n.PrimaryKey != nil {
		p.w(" (")
		sep := ""
		for _, c := range n.Columns {
			p.w(sep)
			c.format(p)
			sep = ", "
		}
		for _, w := range n.Watermarks {
			p.w(sep)
			w.format(p)
			sep = ", "
		}
		if n.PrimaryKey != nil {
			p.w(sep)
			n.PrimaryKey.format(p)
		}
		p.w(")")
	}
	p.comment(n.Comment)
	if len(n.PartitionedBy) > 0 {
		p.w(" PARTITIONED BY (")
		p.idents(n.PartitionedBy)
		p.w(")")
	}
	if n.Options != nil {
		p.w(" WITH ")
		p.options(n.Options)
	}
	if n.Like != nil {
		p.w(" ")
		n.Like.format(p)
	}
	if n.AsQuery != nil {
		p.w(" AS ")
		n.AsQuery.format(p)
	}
}

// columnWords are words that start a non-column element of a CREATE TABLE list.
var columnWords = map[string]bool{"WATERMARK": true, "PERIOD": true}

func (n *ColumnDef) format(p *printer) {
	if columnWords[strings.ToUpper(n.Name.Name)] {
		p.forceQuote(n.Name.Name)
	} else {
		p.ident(n.Name)
	}
	switch {
	case n.Kind == ComputedColumn:
		p.w(" AS ")
		n.Expr.format(p)
	case n.Type == nil: // a name alone (CTAS)
	default:
		p.w(" ")
		n.Type.format(p)
		if n.Kind == MetadataColumn {
			p.w(" METADATA")
			if n.MetadataKey != nil {
				p.w(" FROM ")
				p.str(*n.MetadataKey)
			}
			if n.Virtual {
				p.w(" VIRTUAL")
			}
		}
	}
	if n.PrimaryKey != nil {
		p.w(" ")
		n.PrimaryKey.format(p)
	}
	p.comment(n.Comment)
}

func (n *Watermark) format(p *printer) {
	p.w("WATERMARK FOR ")
	n.Column.format(p)
	p.w(" AS ")
	n.Expr.format(p)
}

func (n *PrimaryKey) format(p *printer) {
	if n.Name != nil {
		p.w("CONSTRAINT ")
		p.ident(n.Name)
		p.w(" ")
	}
	p.w("PRIMARY KEY")
	if len(n.Columns) > 0 {
		p.w(" (")
		p.idents(n.Columns)
		p.w(")")
	}
	if n.NotEnforced {
		p.w(" NOT ENFORCED")
	}
}

func (n *LikeClause) format(p *printer) {
	p.w("LIKE ")
	n.Source.format(p)
	if len(n.Options) > 0 {
		p.w(" (")
		for i, o := range n.Options {
			if i > 0 {
				p.w(" ")
			}
			o.format(p)
		}
		p.w(")")
	}
}

func (n *LikeOption) format(p *printer) { p.w(n.Strategy + " " + n.Feature) }

func (n *CreateView) format(p *printer) {
	p.w("CREATE ")
	if n.Temporary {
		p.w("TEMPORARY ")
	}
	p.w("VIEW ")
	if n.IfNotExists {
		p.w("IF NOT EXISTS ")
	}
	n.Name.format(p)
	if len(n.Columns) > 0 {
		p.w(" (")
		p.idents(n.Columns)
		p.w(")")
	}
	p.comment(n.Comment)
	p.w(" AS ")
	n.Query.format(p)
}

func (n *CreateFunction) format(p *printer) {
	p.w("CREATE ")
	if n.Temporary {
		p.w("TEMPORARY ")
		if n.System {
			p.w("SYSTEM ")
		}
	}
	p.w("FUNCTION ")
	if n.IfNotExists {
		p.w("IF NOT EXISTS ")
	}
	n.Name.format(p)
	p.w(" AS ")
	p.str(n.Class)
	if n.Language != "" {
		p.w(" LANGUAGE " + n.Language)
	}
}

func (n *CreateCatalog) format(p *printer) {
	p.w("CREATE CATALOG ")
	if n.IfNotExists {
		p.w("IF NOT EXISTS ")
	}
	p.ident(n.Name)
	p.comment(n.Comment)
	p.w(" WITH ")
	p.options(n.Options)
}

func (n *CreateDatabase) format(p *printer) {
	p.w("CREATE DATABASE ")
	if n.IfNotExists {
		p.w("IF NOT EXISTS ")
	}
	n.Name.format(p)
	p.comment(n.Comment)
	if n.Options != nil {
		p.w(" WITH ")
		p.options(n.Options)
	}
}

func (n *Drop) format(p *printer) {
	p.w("DROP ")
	if n.Temporary {
		p.w("TEMPORARY ")
		if n.System {
			p.w("SYSTEM ")
		}
	}
	p.w(n.Object + " ")
	if n.IfExists {
		p.w("IF EXISTS ")
	}
	n.Name.format(p)
	switch {
	case n.Restrict:
		p.w(" RESTRICT")
	case n.Cascade:
		p.w(" CASCADE")
	}
}

func (n *Set) format(p *printer) {
	p.w("SET")
	if n.Key != nil {
		p.w(" ")
		p.str(*n.Key)
		p.w(" = ")
		p.str(n.Value)
	}
}

func (n *Reset) format(p *printer) {
	p.w("RESET")
	if n.Key != nil {
		p.w(" ")
		p.str(*n.Key)
	}
}

func (n *Show) format(p *printer) {
	p.w("SHOW ")
	if n.User {
		p.w("USER ")
	}
	p.w(n.Object)
	if n.Name != nil {
		p.w(" ")
		n.Name.format(p)
	}
	if n.From != nil {
		p.w(" FROM ")
		n.From.format(p)
	}
	if n.Like != nil {
		if n.NotLike {
			p.w(" NOT")
		}
		if n.ILike {
			p.w(" ILIKE ")
		} else {
			p.w(" LIKE ")
		}
		p.str(*n.Like)
	}
}

func (n *Describe) format(p *printer) {
	p.w("DESCRIBE ")
	if n.Object != "" {
		p.w(n.Object + " ")
	}
	if n.Extended {
		p.w("EXTENDED ")
	}
	if first := n.Name.Parts[0].Name; strings.EqualFold(first, "EXTENDED") {
		p.forceQuote(first)
		for _, part := range n.Name.Parts[1:] {
			p.w(".")
			p.ident(part)
		}
	} else {
		n.Name.format(p)
	}
}

func (n *Explain) format(p *printer) {
	p.w("EXPLAIN ")
	if n.PlanFor {
		p.w("PLAN FOR ")
	} else if len(n.Details) > 0 {
		p.w(strings.Join(n.Details, ", ") + " ")
	}
	n.Stmt.format(p)
}

func (n *StatementSet) format(p *printer) {
	if n.Execute {
		p.w("EXECUTE STATEMENT SET BEGIN ")
	} else {
		p.w("BEGIN STATEMENT SET; ")
	}
	for _, ins := range n.Inserts {
		ins.format(p)
		p.w("; ")
	}
	p.w("END")
}

func (n *Use) format(p *printer) {
	p.w("USE ")
	if n.Catalog {
		p.w("CATALOG ")
	}
	n.Name.format(p)
}
