package ast

// QueryStmt is a query used as a statement.
type QueryStmt struct {
	Pos
	Query QueryExpr
}

// Insert is INSERT INTO|OVERWRITE table [PARTITION (k = v, ..)] [(cols)] query.
type Insert struct {
	Pos
	Overwrite bool
	Table     *Name
	// Hints are the sink table hints /*+ OPTIONS(..) */ written after the table name.
	Hints     []*Hint
	Partition []*Option
	Columns   []*Ident
	Query     QueryExpr
}

// Option is a 'key' = 'value' pair of a WITH (...) property list, or a static partition
// key = literal of INSERT ... PARTITION (...); for the latter Value may be any literal text.
type Option struct {
	Pos
	Key   string
	Value string
	// KeyIdent reports a key written as an identifier (partition specs), not a string.
	KeyIdent bool
	// ValueLit is the partition value when it is not a string literal, else nil.
	ValueLit Expr
}

// CreateTable is CREATE [TEMPORARY] TABLE [IF NOT EXISTS] name (...) [COMMENT '..']
// [PARTITIONED BY (..)] [WITH (..)] [LIKE ..] [AS query].
type CreateTable struct {
	Pos
	Temporary   bool
	IfNotExists bool
	Name        *Name
	Columns     []*ColumnDef
	Watermarks  []*Watermark
	// PrimaryKey is the table-level primary key constraint (an inline one is on its column).
	PrimaryKey    *PrimaryKey
	Comment       *string
	PartitionedBy []*Ident
	Options       []*Option
	Like          *LikeClause
	// AsQuery is the query of CREATE TABLE ... AS SELECT (CTAS) and
	// [CREATE OR] REPLACE TABLE ... AS SELECT (RTAS); there a column may
	// be a name alone (Type nil), to order the query's columns.
	AsQuery QueryExpr
	// Replace is REPLACE TABLE, and CreateOrReplace CREATE OR REPLACE
	// TABLE (both with AsQuery).
	Replace, CreateOrReplace bool
}

// ColumnKind is the kind of a [ColumnDef].
type ColumnKind int

// Column kinds.
const (
	// PhysicalColumn is name type.
	PhysicalColumn ColumnKind = iota
	// ComputedColumn is name AS expr.
	ComputedColumn
	// MetadataColumn is name type METADATA [FROM 'key'] [VIRTUAL].
	MetadataColumn
)

// ColumnDef is a column of CREATE TABLE.
type ColumnDef struct {
	Pos
	Name *Ident
	Kind ColumnKind
	// Type is the data type of physical and metadata columns.
	Type *DataType
	// Expr is the expression of a computed column.
	Expr Expr
	// MetadataKey is the FROM 'key' of a metadata column, or nil.
	MetadataKey *string
	Virtual     bool
	// PrimaryKey is an inline [CONSTRAINT n] PRIMARY KEY NOT ENFORCED, or nil.
	PrimaryKey *PrimaryKey
	Comment    *string
}

// Watermark is WATERMARK FOR column AS expr.
type Watermark struct {
	Pos
	Column *Name
	Expr   Expr
}

// PrimaryKey is [CONSTRAINT name] PRIMARY KEY [(cols)] [NOT ENFORCED]. Columns is empty for
// an inline constraint.
type PrimaryKey struct {
	Pos
	Name        *Ident
	Columns     []*Ident
	NotEnforced bool
}

// LikeClause is LIKE source [(option, ..)] of CREATE TABLE.
type LikeClause struct {
	Pos
	Source  *Name
	Options []*LikeOption
}

// LikeOption is INCLUDING|EXCLUDING|OVERWRITING ALL|CONSTRAINTS|GENERATED|METADATA|OPTIONS|
// PARTITIONS|WATERMARKS; both words are upper-cased.
type LikeOption struct {
	Pos
	Strategy string
	Feature  string
}

// CreateView is CREATE [TEMPORARY] VIEW [IF NOT EXISTS] name [(cols)] [COMMENT '..'] AS query.
type CreateView struct {
	Pos
	Temporary   bool
	IfNotExists bool
	Name        *Name
	Columns     []*Ident
	Comment     *string
	Query       QueryExpr
}

// CreateFunction is CREATE [TEMPORARY [SYSTEM]] FUNCTION [IF NOT EXISTS] name AS 'class'
// [LANGUAGE GO|JAVA|SCALA|PYTHON].
type CreateFunction struct {
	Pos
	Temporary   bool
	System      bool
	IfNotExists bool
	Name        *Name
	Class       string
	// Language is upper-cased, empty when not written.
	Language string
}

// CreateCatalog is CREATE CATALOG [IF NOT EXISTS] name [COMMENT '..'] WITH (..).
type CreateCatalog struct {
	Pos
	IfNotExists bool
	Name        *Ident
	Comment     *string
	Options     []*Option
}

// CreateDatabase is CREATE DATABASE [IF NOT EXISTS] name [COMMENT '..'] [WITH (..)].
type CreateDatabase struct {
	Pos
	IfNotExists bool
	Name        *Name
	Comment     *string
	Options     []*Option
}

// Drop is DROP [TEMPORARY [SYSTEM]] TABLE|VIEW|FUNCTION|DATABASE|CATALOG [IF EXISTS] name.
type Drop struct {
	Pos
	// Object is TABLE, VIEW, FUNCTION, DATABASE or CATALOG.
	Object    string
	Temporary bool
	System    bool
	IfExists  bool
	Name      *Name
	// Restrict and Cascade are DROP DATABASE's RESTRICT and CASCADE
	// (RESTRICT when neither is written).
	Restrict, Cascade bool
}

// Set is SET 'key' = 'value', or a bare SET (list the configuration) when Key is nil.
type Set struct {
	Pos
	Key   *string
	Value string
}

// Reset is RESET ['key']; Key is nil for resetting everything.
type Reset struct {
	Pos
	Key *string
}

// Show is SHOW CATALOGS|DATABASES|TABLES|VIEWS|FUNCTIONS|MODULES|JARS|CURRENT CATALOG|
// CURRENT DATABASE, SHOW COLUMNS FROM t, or SHOW CREATE TABLE|VIEW name, with the optional
// FROM|IN container and [NOT] LIKE|ILIKE filter of the listing forms.
type Show struct {
	Pos
	// Object is the upper-cased object kind ("TABLES", "CURRENT CATALOG", "CREATE TABLE", ...).
	Object string
	// User is SHOW USER FUNCTIONS.
	User bool
	// Name is the object of SHOW CREATE TABLE|VIEW|CATALOG, else nil.
	Name *Name
	// From is the catalog, database or table of SHOW TABLES|VIEWS|FUNCTIONS|DATABASES|COLUMNS
	// FROM|IN name, or nil.
	From *Name
	// Like is the pattern of [NOT] LIKE|ILIKE 'pattern', or nil.
	Like    *string
	NotLike bool
	ILike   bool
}

// Describe is DESCRIBE|DESC [EXTENDED] name, or DESCRIBE|DESC CATALOG|DATABASE [EXTENDED]
// name (Object "CATALOG" or "DATABASE").
type Describe struct {
	Pos
	Object   string
	Extended bool
	Name     *Name
}

// Explain is EXPLAIN [PLAN FOR | detail, ..] statement. Details are upper-cased
// (ESTIMATED_COST, CHANGELOG_MODE, JSON_EXECUTION_PLAN, PLAN_ADVICE); PlanFor reports
// EXPLAIN PLAN FOR.
type Explain struct {
	Pos
	PlanFor bool
	Details []string
	Stmt    Statement
}

// StatementSet is EXECUTE STATEMENT SET BEGIN insert; .. END, or (Execute false) the SQL
// client form BEGIN STATEMENT SET; insert; .. END.
type StatementSet struct {
	Pos
	Execute bool
	Inserts []*Insert
}

// Use is USE [CATALOG] name.
type Use struct {
	Pos
	Catalog bool
	Name    *Name
}

func (*QueryStmt) statementNode()      {}
func (*Insert) statementNode()         {}
func (*CreateTable) statementNode()    {}
func (*CreateView) statementNode()     {}
func (*CreateFunction) statementNode() {}
func (*CreateCatalog) statementNode()  {}
func (*CreateDatabase) statementNode() {}
func (*Drop) statementNode()           {}
func (*Set) statementNode()            {}
func (*Reset) statementNode()          {}
func (*Show) statementNode()           {}
func (*Describe) statementNode()       {}
func (*Explain) statementNode()        {}
func (*StatementSet) statementNode()   {}
func (*Use) statementNode()            {}
