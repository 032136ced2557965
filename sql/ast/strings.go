package ast

// Code below gives every node its String method: its canonical SQL text (see Format).

// String returns the canonical SQL text of the node.
func (n *AfterMatch) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Alias) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *ArrayExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *BetweenExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *BinaryExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *CTE) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Call) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *CaseExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *CastExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *ColumnDef) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *ColumnRef) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *CreateCatalog) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *CreateDatabase) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *CreateFunction) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *CreateTable) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *CreateView) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *DataType) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *DerivedTable) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Describe) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Descriptor) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Drop) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *ExistsExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Explain) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *ExtractExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *FieldAccess) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *FloorCeilExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Frame) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *FrameBound) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *GroupingSets) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Ident) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *InExpr) String() string         { return Format(n) }
func (n *QuantifiedExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *IndexExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Insert) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *IntervalLiteral) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *IsDistinctFrom) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *IsExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Join) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *LikeClause) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *LikeExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *LikeOption) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Literal) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *MapExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *MatchRecognize) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Name) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *NamedArg) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *DefaultArg) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *NamedWindow) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Option) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *OrderItem) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *OverlayExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *PatternAlt) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *PatternDefine) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *PatternGroup) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *PatternQuant) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *PatternSeq) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *PatternVar) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *PositionExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *PrimaryKey) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Query) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *QueryStmt) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Reset) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *RowExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *RowField) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Select) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *SelectItem) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Set) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *SetOp) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Show) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Star) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *StatementSet) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *SubqueryExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *SubstringExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *TableArg) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *TableFunc) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *TableName) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *TimeUnitArg) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *TrimExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *TypedLiteral) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *UnaryExpr) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Unnest) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Use) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Values) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Watermark) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *When) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *WindowSpec) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *Hint) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *JSONFunc) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *JSONKeyValue) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *JSONBehavior) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *IsJSONExpr) String() string { return Format(n) }
