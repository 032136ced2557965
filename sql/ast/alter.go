package ast

import "strings"

// AlterTableAction is what an [AlterTable] does.
type AlterTableAction int

// ALTER TABLE actions (Flink's grammar).
const (
	// AlterRenameTable is RENAME TO new_name.
	AlterRenameTable AlterTableAction = iota
	// AlterSetOptions is SET ('k' = 'v', ..).
	AlterSetOptions
	// AlterResetOptions is RESET ('k', ..).
	AlterResetOptions
	// AlterAdd is ADD schema_component or ADD (schema_component, ..).
	AlterAdd
	// AlterModify is MODIFY schema_component or MODIFY (schema_component, ..).
	AlterModify
	// AlterDropColumns is DROP column or DROP (column, ..).
	AlterDropColumns
	// AlterDropPrimaryKey is DROP PRIMARY KEY.
	AlterDropPrimaryKey
	// AlterDropConstraint is DROP CONSTRAINT name.
	AlterDropConstraint
	// AlterDropWatermark is DROP WATERMARK.
	AlterDropWatermark
	// AlterRenameColumn is RENAME column TO new_column.
	AlterRenameColumn
)

// AlterTable is ALTER TABLE [IF EXISTS] name followed by one action; the fields used depend
// on Action.
type AlterTable struct {
	Pos
	IfExists bool
	Name     *Name
	Action   AlterTableAction
	// NewName is the new name of RENAME TO.
	NewName *Name
	// Options are the pairs of SET; ResetKeys the keys of RESET (possibly none).
	Options   []*Option
	ResetKeys []string
	// Columns, Watermark and PrimaryKey are the schema components of ADD and MODIFY, in the
	// order the columns were written (a watermark or key may come anywhere in the list).
	Columns    []*AlterColumn
	Watermark  *Watermark
	PrimaryKey *PrimaryKey
	// Paren reports the parenthesised list form ADD|MODIFY (..), which a list of more than
	// one component needs.
	Paren bool
	// Drop lists the columns of DROP; Constraint is the name of DROP CONSTRAINT.
	Drop       []*Ident
	Constraint *Ident
	// Column and NewColumn are the names of RENAME column TO new_column.
	Column, NewColumn *Ident
}

// AlterColumn is a column of ALTER TABLE ADD|MODIFY with its optional position: FIRST, or
// AFTER a column.
type AlterColumn struct {
	Pos
	Column *ColumnDef
	First  bool
	After  *Ident
}

// AlterView is ALTER VIEW name RENAME TO new_name, or ALTER VIEW name AS query.
type AlterView struct {
	Pos
	Name *Name
	// NewName is set for RENAME TO, Query for AS.
	NewName *Name
	Query   QueryExpr
}

// AlterDatabase is ALTER DATABASE name SET ('k' = 'v', ..).
type AlterDatabase struct {
	Pos
	Name    *Name
	Options []*Option
}

// AlterCatalog is ALTER CATALOG name SET ('k' = 'v', ..), RESET ('k', ..) or
// COMMENT 'text'.
type AlterCatalog struct {
	Pos
	Name *Ident
	// Action is SET, RESET or COMMENT.
	Action    string
	Options   []*Option
	ResetKeys []string
	Comment   *string
}

// AlterFunction is ALTER [TEMPORARY [SYSTEM]] FUNCTION [IF EXISTS] name AS 'identifier'
// [LANGUAGE ..].
type AlterFunction struct {
	Pos
	Temporary bool
	System    bool
	IfExists  bool
	Name      *Name
	Class     string
	// Language is upper-cased, empty when not written.
	Language string
}

func (*AlterTable) statementNode()    {}
func (*AlterView) statementNode()     {}
func (*AlterDatabase) statementNode() {}
func (*AlterCatalog) statementNode()  {}
func (*AlterFunction) statementNode() {}

// String returns the canonical SQL text of the node.
func (n *AlterTable) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *AlterColumn) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *AlterView) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *AlterDatabase) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *AlterCatalog) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *AlterFunction) String() string { return Format(n) }

func (n *AlterTable) format(p *printer) {
	p.w("ALTER TABLE ")
	if n.IfExists {
		p.w("IF EXISTS ")
	}
	n.Name.format(p)
	switch n.Action {
	case AlterRenameTable:
		p.w(" RENAME TO ")
		n.NewName.format(p)
	case AlterSetOptions:
		p.w(" SET ")
		p.options(n.Options)
	case AlterResetOptions:
		p.w(" RESET ")
		p.keys(n.ResetKeys)
	case AlterAdd, AlterModify:
		if n.Action == AlterAdd {
			p.w(" ADD ")
		} else {
			p.w(" MODIFY ")
		}
		count := len(n.Columns)
		if n.Watermark != nil {
			count++
		}
		if n.PrimaryKey != nil {
			count++
		}
		paren := n.Paren || count > 1
		if paren {
			p.w("(")
		}
		sep := ""
		for _, c := range n.Columns {
			p.w(sep)
			c.format(p)
			sep = ", "
		}
		if n.Watermark != nil {
			p.w(sep)
			n.Watermark.format(p)
			sep = ", "
		}
		if n.PrimaryKey != nil {
			p.w(sep)
			n.PrimaryKey.format(p)
		}
		if paren {
			p.w(")")
		}
	case AlterDropColumns:
		p.w(" DROP ")
		if len(n.Drop) == 1 && !n.Paren {
			p.alterColumnName(n.Drop[0])
		} else {
			p.w("(")
			p.idents(n.Drop)
			p.w(")")
		}
	case AlterDropPrimaryKey:
		p.w(" DROP PRIMARY KEY")
	case AlterDropConstraint:
		p.w(" DROP CONSTRAINT ")
		p.ident(n.Constraint)
	case AlterDropWatermark:
		p.w(" DROP WATERMARK")
	case AlterRenameColumn:
		p.w(" RENAME ")
		p.alterColumnName(n.Column)
		p.w(" TO ")
		p.ident(n.NewColumn)
	}
}

// alterWords are words that, unquoted, start a non-column action or component of ALTER TABLE.
var alterWords = map[string]bool{"WATERMARK": true, "TO": true}

// alterColumnName prints a column name where a keyword would start another action.
func (p *printer) alterColumnName(id *Ident) {
	if alterWords[strings.ToUpper(id.Name)] {
		p.forceQuote(id.Name)
	} else {
		p.ident(id)
	}
}

func (p *printer) keys(keys []string) {
	p.w("(")
	for i, k := range keys {
		if i > 0 {
			p.w(", ")
		}
		p.str(k)
	}
	p.w(")")
}

func (n *AlterColumn) format(p *printer) {
	n.Column.format(p)
	if n.First {
		p.w(" FIRST")
	}
	if n.After != nil {
		p.w(" AFTER ")
		p.ident(n.After)
	}
}

func (n *AlterView) format(p *printer) {
	p.w("ALTER VIEW ")
	n.Name.format(p)
	if n.NewName != nil {
		p.w(" RENAME TO ")
		n.NewName.format(p)
		return
	}
	p.w(" AS ")
	n.Query.format(p)
}

func (n *AlterDatabase) format(p *printer) {
	p.w("ALTER DATABASE ")
	n.Name.format(p)
	p.w(" SET ")
	p.options(n.Options)
}

func (n *AlterCatalog) format(p *printer) {
	p.w("ALTER CATALOG ")
	p.ident(n.Name)
	switch n.Action {
	case "SET":
		p.w(" SET ")
		p.options(n.Options)
	case "RESET":
		p.w(" RESET ")
		p.keys(n.ResetKeys)
	default:
		p.w(" COMMENT ")
		p.str(*n.Comment)
	}
}

func (n *AlterFunction) format(p *printer) {
	p.w("ALTER ")
	if n.Temporary {
		p.w("TEMPORARY ")
		if n.System {
			p.w("SYSTEM ")
		}
	}
	p.w("FUNCTION ")
	if n.IfExists {
		p.w("IF EXISTS ")
	}
	n.Name.format(p)
	p.w(" AS ")
	p.str(n.Class)
	if n.Language != "" {
		p.w(" LANGUAGE " + n.Language)
	}
}

// alterChildren adds the children of the ALTER statements' nodes.
func alterChildren(c *children, n Node) {
	switch n := n.(type) {
	case *AlterTable:
		c.add(n.Name, n.NewName)
		addOptions(c, n.Options)
		for _, col := range n.Columns {
			c.add(col)
		}
		if n.Watermark != nil {
			c.add(n.Watermark)
		}
		c.add(n.PrimaryKey)
		addIdents(c, n.Drop)
		c.add(n.Constraint, n.Column, n.NewColumn)
	case *AlterColumn:
		c.add(n.Column, n.After)
	case *AlterView:
		c.add(n.Name, n.NewName)
		if n.Query != nil {
			c.add(n.Query)
		}
	case *AlterDatabase:
		c.add(n.Name)
		addOptions(c, n.Options)
	case *AlterCatalog:
		c.add(n.Name)
		addOptions(c, n.Options)
	case *AlterFunction:
		c.add(n.Name)
	}
}
