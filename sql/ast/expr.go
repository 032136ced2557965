package ast

// LiteralKind classifies a [Literal].
type LiteralKind int

// Literal kinds.
const (
	// IntegerLit is an exact numeric literal without a point or exponent: 42.
	IntegerLit LiteralKind = iota
	// DecimalLit is an exact numeric literal with a decimal point: 1.5.
	DecimalLit
	// ApproxLit is an approximate numeric literal with an exponent: 1e3.
	ApproxLit
	// StringLit is a character string literal; Value holds the unescaped text.
	StringLit
	// BinaryLit is a binary string literal X'0AFF'; Value holds the hexadecimal digits
	// upper-cased.
	BinaryLit
	// BoolLit is TRUE or FALSE; Value holds "TRUE" or "FALSE".
	BoolLit
	// NullLit is NULL.
	NullLit
	// UnknownLit is UNKNOWN (the null boolean).
	UnknownLit
)

// Literal is a constant. Numeric literals keep their source text in Value (normalised to upper
// case for the exponent marker); they are never negative: -1 is a [UnaryExpr].
type Literal struct {
	Pos
	Kind  LiteralKind
	Value string
}

// TypedLiteral is a datetime literal: DATE '2020-01-01', TIME '12:00:00' or
// TIMESTAMP '2020-01-01 00:00:00'. Type is the upper-cased keyword. (Flink has no
// TIMESTAMP_LTZ literal; TO_TIMESTAMP_LTZ(..) is a function call.)
type TypedLiteral struct {
	Pos
	Type  string
	Value string
}

// TimeUnit is a datetime unit keyword, upper-cased and singular: YEAR, MONTH, DAY, HOUR,
// MINUTE, SECOND, QUARTER, WEEK, MILLISECOND, MICROSECOND, NANOSECOND, DOW, DOY, EPOCH, ...
type TimeUnit string

// IntervalLiteral is INTERVAL 'value' unit [TO unit], e.g. INTERVAL '10' MINUTE or
// INTERVAL '1 10:00:00' DAY TO SECOND. Negative reports a leading minus inside the literal
// (INTERVAL -'1' DAY).
type IntervalLiteral struct {
	Pos
	Negative bool
	Value    string
	Unit     TimeUnit
	// Precision is the leading field precision, 0 when absent: INTERVAL '100' DAY(3).
	Precision int
	// To is the end unit of a range interval, empty for a single unit.
	To TimeUnit
	// FracPrecision is the fractional second precision of SECOND(p) as end unit (or as single
	// unit after the leading precision: SECOND(2, 3)); 0 when absent.
	FracPrecision int
}

// ColumnRef is a (possibly qualified) column reference: a, t.a, db.t.a.
type ColumnRef struct {
	Pos
	Parts []*Ident
}

// Star is * or t.* in a select list or as COUNT(*)'s argument. Qualifier is empty for a bare *.
type Star struct {
	Pos
	Qualifier []*Ident
}

// UnaryOp is a prefix operator.
type UnaryOp string

// Unary operators.
const (
	OpNeg UnaryOp = "-"
	OpPos UnaryOp = "+"
	OpNot UnaryOp = "NOT"
)

// UnaryExpr is a prefix operator applied to an operand.
type UnaryExpr struct {
	Pos
	Op      UnaryOp
	Operand Expr
}

// BinaryOp is an infix operator.
type BinaryOp string

// Binary operators.
const (
	OpOr     BinaryOp = "OR"
	OpAnd    BinaryOp = "AND"
	OpEq     BinaryOp = "="
	OpNe     BinaryOp = "<>"
	OpLt     BinaryOp = "<"
	OpLe     BinaryOp = "<="
	OpGt     BinaryOp = ">"
	OpGe     BinaryOp = ">="
	OpAdd    BinaryOp = "+"
	OpSub    BinaryOp = "-"
	OpMul    BinaryOp = "*"
	OpDiv    BinaryOp = "/"
	OpMod    BinaryOp = "%"
	OpConcat BinaryOp = "||"
)

// BinaryExpr is an infix operator applied to two operands. != is parsed as OpNe.
type BinaryExpr struct {
	Pos
	Op          BinaryOp
	Left, Right Expr
}

// IsTest is what an [IsExpr] tests for.
type IsTest string

// IS tests.
const (
	IsNull    IsTest = "NULL"
	IsTrue    IsTest = "TRUE"
	IsFalse   IsTest = "FALSE"
	IsUnknown IsTest = "UNKNOWN"
)

// IsExpr is x IS [NOT] NULL|TRUE|FALSE|UNKNOWN.
type IsExpr struct {
	Pos
	Expr Expr
	Not  bool
	Test IsTest
}

// IsDistinctFrom is x IS [NOT] DISTINCT FROM y.
type IsDistinctFrom struct {
	Pos
	Left, Right Expr
	Not         bool
}

// BetweenExpr is x [NOT] BETWEEN [ASYMMETRIC|SYMMETRIC] low AND high.
type BetweenExpr struct {
	Pos
	Expr      Expr
	Not       bool
	Symmetric bool
	Low, High Expr
}

// InExpr is x [NOT] IN (list) or x [NOT] IN (subquery); exactly one of List and Query is set.
type InExpr struct {
	Pos
	Expr  Expr
	Not   bool
	List  []Expr
	Query QueryExpr
}

// QuantifiedExpr is x op SOME (subquery), x op ANY (subquery) (Quant
// "SOME" or "ANY", synonyms) or x op ALL (subquery), op a comparison. The
// parser reads x = SOME/ANY (subquery) as x IN (subquery) and x <> ALL
// (subquery) as x NOT IN (subquery), as Calcite does.
type QuantifiedExpr struct {
	Pos
	Expr  Expr
	Op    BinaryOp
	Quant string
	Query QueryExpr
}

// LikeExpr is x [NOT] LIKE pattern [ESCAPE e], or x [NOT] SIMILAR TO pattern [ESCAPE e].
type LikeExpr struct {
	Pos
	Expr    Expr
	Not     bool
	Similar bool
	Pattern Expr
	Escape  Expr
}

// ExistsExpr is EXISTS (subquery).
type ExistsExpr struct {
	Pos
	Query QueryExpr
}

// SubqueryExpr is a scalar subquery (SELECT ...) used as an expression.
type SubqueryExpr struct {
	Pos
	Query QueryExpr
}

// CaseExpr is CASE [operand] WHEN .. THEN .. [ELSE ..] END. Operand is nil for a searched CASE.
type CaseExpr struct {
	Pos
	Operand Expr
	Whens   []*When
	Else    Expr
}

// When is one WHEN cond THEN result branch of a CASE.
type When struct {
	Pos
	Cond, Result Expr
}

// CastExpr is CAST(x AS type) or, with Try, TRY_CAST(x AS type).
type CastExpr struct {
	Pos
	Try  bool
	Expr Expr
	Type *DataType
}

// Call is a function call: name(args) with the optional aggregate decorations
// DISTINCT/ALL, FILTER (WHERE ..) and OVER. NoParens marks the niladic functions written
// without parentheses (CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIME, LOCALTIME,
// LOCALTIMESTAMP).
type Call struct {
	Pos
	Name     *Name
	Distinct bool
	// All is the explicit ALL quantifier (COUNT(ALL x)).
	All  bool
	Args []Expr
	// NullTreatment is "RESPECT NULLS" or "IGNORE NULLS" written after
	// the arguments (ARRAY_AGG(x IGNORE NULLS)), else "".
	NullTreatment string
	NoParens      bool
	// Filter is the aggregate filter condition of FILTER (WHERE cond), or nil.
	Filter Expr
	// Over is the window of an OVER (...) clause, or nil.
	Over *WindowSpec
	// OverName is the window name of OVER w, or nil.
	OverName *Ident
}

// NamedArg is a named argument name => value of a (table) function call.
type NamedArg struct {
	Pos
	Name  *Ident
	Value Expr
}

// DefaultArg is the keyword DEFAULT as a whole argument of a function call, by name or by
// position (f(a => 1, b => DEFAULT), f(1, DEFAULT)): the default of an optional parameter,
// NULL (Flink's named parameters, Calcite's DEFAULT).
type DefaultArg struct {
	Pos
}

// TableArg is TABLE name [PARTITION BY ..] as an argument of a table function
// (TUMBLE(TABLE t, ...), SESSION(TABLE t PARTITION BY k, ...)).
type TableArg struct {
	Pos
	Name        *Name
	PartitionBy []Expr
}

// Descriptor is DESCRIPTOR(col, ..) as a table function argument.
type Descriptor struct {
	Pos
	Columns []*Ident
}

// TimeUnitArg is a datetime unit written as a function argument, as in
// TIMESTAMPADD(DAY, 1, ts) and TIMESTAMPDIFF(HOUR, a, b).
type TimeUnitArg struct {
	Pos
	Unit TimeUnit
}

// ExtractExpr is EXTRACT(unit FROM x).
type ExtractExpr struct {
	Pos
	Unit TimeUnit
	Expr Expr
}

// FloorCeilExpr is FLOOR(x TO unit) or CEIL(x TO unit). Plain FLOOR(x) is a [Call].
type FloorCeilExpr struct {
	Pos
	Ceil bool
	Expr Expr
	Unit TimeUnit
}

// PositionExpr is POSITION(sub IN s [FROM start]).
type PositionExpr struct {
	Pos
	Sub, In Expr
	From    Expr
}

// TrimSide is the side of a TRIM: BOTH, LEADING or TRAILING ("" when not written).
type TrimSide string

// Trim sides.
const (
	TrimBoth     TrimSide = "BOTH"
	TrimLeading  TrimSide = "LEADING"
	TrimTrailing TrimSide = "TRAILING"
)

// TrimExpr is TRIM([BOTH|LEADING|TRAILING] [chars] FROM s) or TRIM(s).
type TrimExpr struct {
	Pos
	Side  TrimSide
	Chars Expr
	Expr  Expr
}

// SubstringExpr is SUBSTRING(s FROM start [FOR length]); the comma form is a [Call].
type SubstringExpr struct {
	Pos
	Expr   Expr
	From   Expr
	Length Expr
}

// OverlayExpr is OVERLAY(s PLACING r FROM start [FOR length]).
type OverlayExpr struct {
	Pos
	Expr    Expr
	Placing Expr
	From    Expr
	Length  Expr
}

// ArrayExpr is the array constructor ARRAY[a, b, ..].
type ArrayExpr struct {
	Pos
	Elems []Expr
}

// MapExpr is the map constructor MAP[k1, v1, k2, v2, ..]; Elems alternate keys and values.
type MapExpr struct {
	Pos
	Elems []Expr
}

// RowExpr is a row constructor: ROW(a, b) when Explicit, else (a, b). In GROUP BY an
// implicit row with no fields is the empty grouping set ().
type RowExpr struct {
	Pos
	Explicit bool
	Fields   []Expr
}

// IndexExpr is element access x[i] on arrays and maps.
type IndexExpr struct {
	Pos
	Expr  Expr
	Index Expr
}

// FieldAccess is field access on a composite value that is not a plain column path:
// (x).f, f(..).g, a[1].g.
type FieldAccess struct {
	Pos
	Expr  Expr
	Field *Ident
}

// GroupingKind is the kind of a [GroupingSets] element.
type GroupingKind string

// Grouping kinds.
const (
	GroupingSetsKind GroupingKind = "GROUPING SETS"
	RollupKind       GroupingKind = "ROLLUP"
	CubeKind         GroupingKind = "CUBE"
)

// GroupingSets is a GROUP BY element GROUPING SETS (..), ROLLUP (..) or CUBE (..). Its
// items are expressions, implicit [RowExpr]s for composite sets (the empty one for ()), and
// nested GroupingSets inside GROUPING SETS.
type GroupingSets struct {
	Pos
	Kind  GroupingKind
	Items []Expr
}

// JSONFunc is one of the SQL/JSON functions whose arguments use keyword clauses:
// JSON_EXISTS, JSON_VALUE, JSON_QUERY (Args: value and path), JSON_ARRAY, JSON_ARRAYAGG (Args:
// the items), JSON_OBJECT, JSON_OBJECTAGG (KeyValues). Plain JSON functions (JSON_STRING,
// JSON(..)) are [Call]s.
type JSONFunc struct {
	Pos
	// Name is the upper-cased function name.
	Name      string
	Args      []Expr
	KeyValues []*JSONKeyValue
	// Returning is the RETURNING type of JSON_VALUE and JSON_QUERY, or nil.
	Returning *DataType
	// Wrapper is the JSON_QUERY wrapper behaviour: "WITHOUT ARRAY", "WITH CONDITIONAL ARRAY",
	// "WITH UNCONDITIONAL ARRAY" or "" when not written.
	Wrapper string
	// OnEmpty and OnError are the ON EMPTY and ON ERROR behaviours, or nil.
	OnEmpty, OnError *JSONBehavior
	// OnNull is "NULL" or "ABSENT" for the NULL|ABSENT ON NULL clause, "" when not written.
	OnNull string
}

// JSONKeyValue is [KEY] key VALUE value in JSON_OBJECT and JSON_OBJECTAGG.
type JSONKeyValue struct {
	Pos
	Key, Value Expr
}

// JSONBehavior is an ON EMPTY or ON ERROR behaviour: Kind is NULL, ERROR, TRUE, FALSE,
// UNKNOWN, EMPTY ARRAY, EMPTY OBJECT or DEFAULT (with Default set).
type JSONBehavior struct {
	Pos
	Kind    string
	Default Expr
}

// IsJSONExpr is x IS [NOT] JSON [VALUE|SCALAR|ARRAY|OBJECT]; Kind is "" when not written.
type IsJSONExpr struct {
	Pos
	Expr Expr
	Not  bool
	Kind string
}

func (*JSONFunc) exprNode()        {}
func (*IsJSONExpr) exprNode()      {}
func (*Literal) exprNode()         {}
func (*TypedLiteral) exprNode()    {}
func (*IntervalLiteral) exprNode() {}
func (*ColumnRef) exprNode()       {}
func (*Star) exprNode()            {}
func (*UnaryExpr) exprNode()       {}
func (*BinaryExpr) exprNode()      {}
func (*IsExpr) exprNode()          {}
func (*IsDistinctFrom) exprNode()  {}
func (*BetweenExpr) exprNode()     {}
func (*InExpr) exprNode()          {}
func (*QuantifiedExpr) exprNode()  {}
func (*LikeExpr) exprNode()        {}
func (*ExistsExpr) exprNode()      {}
func (*SubqueryExpr) exprNode()    {}
func (*CaseExpr) exprNode()        {}
func (*CastExpr) exprNode()        {}
func (*Call) exprNode()            {}
func (*NamedArg) exprNode()        {}
func (*DefaultArg) exprNode()      {}
func (*TableArg) exprNode()        {}
func (*Descriptor) exprNode()      {}
func (*TimeUnitArg) exprNode()     {}
func (*ExtractExpr) exprNode()     {}
func (*FloorCeilExpr) exprNode()   {}
func (*PositionExpr) exprNode()    {}
func (*TrimExpr) exprNode()        {}
func (*SubstringExpr) exprNode()   {}
func (*OverlayExpr) exprNode()     {}
func (*ArrayExpr) exprNode()       {}
func (*MapExpr) exprNode()         {}
func (*RowExpr) exprNode()         {}
func (*IndexExpr) exprNode()       {}
func (*FieldAccess) exprNode()     {}
func (*GroupingSets) exprNode()    {}
