package ast

// Query is a query body with the clauses that apply to it as a whole: WITH, ORDER BY and
// LIMIT/OFFSET/FETCH. The parser produces a Query only when at least one of those is present.
type Query struct {
	Pos
	With    []*CTE
	Body    QueryExpr
	OrderBy []*OrderItem
	// Limit is LIMIT n or FETCH FIRST n ROWS ONLY (see Fetch), or nil.
	Limit Expr
	// Fetch reports that Limit was written as FETCH FIRST/NEXT n ROWS ONLY.
	Fetch  bool
	Offset Expr
}

// CTE is one common table expression name [(cols)] AS (query) of a WITH clause.
type CTE struct {
	Pos
	Name    *Ident
	Columns []*Ident
	Query   QueryExpr
}

// Select is SELECT [ALL|DISTINCT] items [FROM ..] [WHERE ..] [GROUP BY ..] [HAVING ..]
// [WINDOW ..].
type Select struct {
	Pos
	// Hints are the query hints /*+ ... */ written right after SELECT.
	Hints    []*Hint
	Distinct bool
	// All is an explicit ALL quantifier.
	All     bool
	Items   []*SelectItem
	From    TableRef
	Where   Expr
	GroupBy []Expr
	Having  Expr
	Windows []*NamedWindow
}

// SelectItem is an expression with an optional alias; Expr is a [*Star] for * and t.*.
type SelectItem struct {
	Pos
	Expr  Expr
	Alias *Ident
}

// SetOpKind is UNION, INTERSECT or EXCEPT.
type SetOpKind string

// Set operations.
const (
	Union     SetOpKind = "UNION"
	Intersect SetOpKind = "INTERSECT"
	Except    SetOpKind = "EXCEPT"
)

// SetOp is left UNION|INTERSECT|EXCEPT [ALL|DISTINCT] right. INTERSECT binds tighter than
// UNION and EXCEPT; all are left-associative.
type SetOp struct {
	Pos
	Kind        SetOpKind
	All         bool
	Distinct    bool
	Left, Right QueryExpr
}

// Values is VALUES (..), (..). Each row is a list of expressions.
type Values struct {
	Pos
	Rows [][]Expr
}

// OrderItem is expr [ASC|DESC] [NULLS FIRST|LAST].
type OrderItem struct {
	Pos
	Expr Expr
	Desc bool
	// Asc is an explicit ASC (the default order when neither is written).
	Asc bool
	// Nulls is "FIRST", "LAST" or "" when not written.
	Nulls string
}

// NamedWindow is name AS (spec) in a WINDOW clause.
type NamedWindow struct {
	Pos
	Name *Ident
	Spec *WindowSpec
}

// WindowSpec is the window of an OVER clause or WINDOW definition:
// ([base] [PARTITION BY ..] [ORDER BY ..] [frame]).
type WindowSpec struct {
	Pos
	Base        *Ident
	PartitionBy []Expr
	OrderBy     []*OrderItem
	Frame       *Frame
}

// Frame is ROWS|RANGE BETWEEN start AND end, or ROWS|RANGE start (End nil).
type Frame struct {
	Pos
	// Unit is "ROWS" or "RANGE".
	Unit  string
	Start *FrameBound
	End   *FrameBound
}

// BoundKind is the kind of a [FrameBound].
type BoundKind string

// Frame bound kinds.
const (
	UnboundedPreceding BoundKind = "UNBOUNDED PRECEDING"
	Preceding          BoundKind = "PRECEDING"
	CurrentRow         BoundKind = "CURRENT ROW"
	Following          BoundKind = "FOLLOWING"
	UnboundedFollowing BoundKind = "UNBOUNDED FOLLOWING"
)

// FrameBound is one end of a window frame; Offset is set for PRECEDING and FOLLOWING.
type FrameBound struct {
	Pos
	Kind   BoundKind
	Offset Expr
}

// Alias is AS name [(col, ..)] after a table reference.
type Alias struct {
	Pos
	Name    *Ident
	Columns []*Ident
}

// TableName is a named table, view or CTE reference, with optional
// FOR SYSTEM_TIME AS OF expr (temporal/lookup join) and alias.
type TableName struct {
	Pos
	Name *Name
	// Hints are the table hints /*+ OPTIONS(..) */ written after the name.
	Hints      []*Hint
	SystemTime Expr
	Alias      *Alias
}

// Hint is one hint of a /*+ ... */ comment: a name with either key-value options
// (OPTIONS('k' = 'v'), LOOKUP('table' = 'Customers', ..)) or a list of plain arguments
// (BROADCAST(t1, t2)): identifiers as [*ColumnRef], literals as [*Literal].
type Hint struct {
	Pos
	Name    *Ident
	Options []*Option
	Args    []Expr
}

// DerivedTable is a subquery in FROM: [LATERAL] (query) [AS alias].
type DerivedTable struct {
	Pos
	Lateral bool
	Query   QueryExpr
	Alias   *Alias
}

// TableFunc is a table function call in FROM: [LATERAL] TABLE(fn(..)) [AS alias]. Window
// table functions (TUMBLE, HOP, CUMULATE, SESSION) are TableFuncs whose Call has
// [TableArg], [Descriptor] and possibly [NamedArg] arguments.
type TableFunc struct {
	Pos
	Lateral bool
	Call    *Call
	Alias   *Alias
}

// Unnest is UNNEST(expr, ..) [WITH ORDINALITY] [AS alias].
type Unnest struct {
	Pos
	Exprs          []Expr
	WithOrdinality bool
	Alias          *Alias
}

// JoinKind is the kind of a [Join].
type JoinKind string

// Join kinds. CommaJoin is the implicit cross join of FROM a, b.
const (
	InnerJoin JoinKind = "JOIN"
	LeftJoin  JoinKind = "LEFT JOIN"
	RightJoin JoinKind = "RIGHT JOIN"
	FullJoin  JoinKind = "FULL JOIN"
	CrossJoin JoinKind = "CROSS JOIN"
	CommaJoin JoinKind = ","
)

// Join joins two table references. At most one of On and Using is set; Natural marks a
// NATURAL join (then neither is).
type Join struct {
	Pos
	Kind        JoinKind
	Natural     bool
	Left, Right TableRef
	On          Expr
	Using       []*Ident
}

// MatchRecognize is input MATCH_RECOGNIZE (...) [AS alias].
type MatchRecognize struct {
	Pos
	Input       TableRef
	PartitionBy []Expr
	OrderBy     []*OrderItem
	Measures    []*SelectItem
	// AllRows is ALL ROWS PER MATCH; false is ONE ROW PER MATCH (or not written, see
	// RowsPerMatch).
	AllRows bool
	// RowsPerMatch reports that a ROWS PER MATCH clause was written.
	RowsPerMatch bool
	// AfterMatch is the AFTER MATCH SKIP strategy, or nil.
	AfterMatch *AfterMatch
	Pattern    PatternTerm
	// Within is the WITHIN interval, or nil.
	Within  Expr
	Defines []*PatternDefine
	Alias   *Alias
}

// AfterMatchKind is the AFTER MATCH SKIP strategy.
type AfterMatchKind string

// AFTER MATCH SKIP strategies.
const (
	SkipToNextRow AfterMatchKind = "SKIP TO NEXT ROW"
	SkipPastLast  AfterMatchKind = "SKIP PAST LAST ROW"
	SkipToFirst   AfterMatchKind = "SKIP TO FIRST"
	SkipToLast    AfterMatchKind = "SKIP TO LAST"
)

// AfterMatch is AFTER MATCH SKIP ...; Var is the pattern variable of SKIP TO FIRST/LAST.
type AfterMatch struct {
	Pos
	Kind AfterMatchKind
	Var  *Ident
}

// PatternDefine is var AS condition in DEFINE.
type PatternDefine struct {
	Pos
	Var  *Ident
	Cond Expr
}

// PatternTerm is a row pattern of MATCH_RECOGNIZE.
type PatternTerm interface {
	Node
	patternNode()
}

// PatternVar is a pattern variable reference.
type PatternVar struct {
	Pos
	Name *Ident
}

// PatternSeq is a concatenation of pattern terms.
type PatternSeq struct {
	Pos
	Terms []PatternTerm
}

// PatternAlt is an alternation a | b.
type PatternAlt struct {
	Pos
	Alts []PatternTerm
}

// PatternGroup is a parenthesised pattern.
type PatternGroup struct {
	Pos
	Pattern PatternTerm
}

// PatternQuant is a quantified term: *, +, ?, {n}, {n,}, {n,m}, {,m}; Reluctant adds ?.
// Max is -1 for no upper bound.
type PatternQuant struct {
	Pos
	Term      PatternTerm
	Min, Max  int
	Reluctant bool
	// Symbol is the written form: "*", "+", "?" or "" for a {..} quantifier.
	Symbol string
}

func (*Query) queryNode()  {}
func (*Select) queryNode() {}
func (*SetOp) queryNode()  {}
func (*Values) queryNode() {}

func (*TableName) tableRefNode()      {}
func (*DerivedTable) tableRefNode()   {}
func (*TableFunc) tableRefNode()      {}
func (*Unnest) tableRefNode()         {}
func (*Join) tableRefNode()           {}
func (*MatchRecognize) tableRefNode() {}

func (*PatternVar) patternNode()   {}
func (*PatternSeq) patternNode()   {}
func (*PatternAlt) patternNode()   {}
func (*PatternGroup) patternNode() {}
func (*PatternQuant) patternNode() {}
