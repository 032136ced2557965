package expr

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
)

// Expr is a resolved, typed expression. Trees are immutable once built:
// build them with NewCall, NewCast, NewCase, ... which check argument
// types, insert implicit casts and compute the result type.
type Expr interface {
	// Type is the result type, nullability included.
	Type() row.Type
	// String prints the expression in the RexNode style of Flink's
	// EXPLAIN: "+($0, 1)", "CAST($1 AS BIGINT)", "UPPER($2)".
	String() string
}

// InputRef reads column Index of the input row.
type InputRef struct {
	Index int
	T     row.Type
}

// Ref returns a reference to column i of type t.
func Ref(i int, t row.Type) *InputRef { return &InputRef{Index: i, T: t} }

// Type implements Expr.
func (r *InputRef) Type() row.Type { return r.T }

// String implements Expr: "$3".
func (r *InputRef) String() string { return fmt.Sprintf("$%d", r.Index) }

// Literal is a constant of type T. A NULL literal has a zero Value and
// (before it is typed from its context) the NULL type.
type Literal struct {
	Value row.Value
	T     row.Type
}

// Lit returns a literal of value v and type t.
func Lit(v row.Value, t row.Type) *Literal { return &Literal{Value: v, T: t} }

// NullLit returns an untyped NULL literal; resolution types it from its
// context (the other operand of =, the target of a CAST, ...).
func NullLit() *Literal { return &Literal{T: row.NullType()} }

// Type implements Expr.
func (l *Literal) Type() row.Type { return l.T }

// String implements Expr: 1, 'abc', TRUE, NULL, DATE '2020-01-01',
// TIMESTAMP '2020-01-01 00:00:00.000', 1.50, 1.0E3 (DOUBLE), X'0aff'.
func (l *Literal) String() string {
	if l.Value.IsNull() {
		if l.T.Root == row.TypeNull {
			return "NULL"
		}
		return "null:" + l.T.WithNullable(true).String()
	}
	switch l.T.Root {
	case row.TypeChar, row.TypeVarChar:
		return quoteString(l.Value.Str())
	case row.TypeBinary, row.TypeVarBinary:
		return fmt.Sprintf("X'%x'", l.Value.Str())
	case row.TypeDate:
		return "DATE '" + row.Format(l.Value, l.T) + "'"
	case row.TypeTime:
		return "TIME '" + row.Format(l.Value, l.T) + "'"
	case row.TypeTimestamp:
		return "TIMESTAMP '" + row.Format(l.Value, l.T) + "'"
	case row.TypeTimestampLTZ:
		return "TIMESTAMP_LTZ '" + row.Format(l.Value, l.T) + "'"
	case row.TypeIntervalYearMonth, row.TypeIntervalDayTime:
		return "INTERVAL '" + row.Format(l.Value, l.T) + "'"
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeBigInt:
		return row.Format(l.Value, l.T) + ":" + l.T.WithNullable(true).String()
	}
	return row.Format(l.Value, l.T)
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Symbol is a keyword argument of a built-in: a time unit of EXTRACT,
// FLOOR/CEIL, TIMESTAMPADD and TIMESTAMPDIFF (YEAR, QUARTER, MONTH, WEEK,
// DAY, HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND, NANOSECOND, DOW,
// DOY, ...), or the BOTH/LEADING/TRAILING flag of TRIM. The planner passes
// it as an ordinary argument: NewCall("EXTRACT", Sym("YEAR"), ts).
type Symbol struct {
	Name string // upper case
}

// Sym returns the symbol of the given name (case-insensitive).
func Sym(name string) *Symbol { return &Symbol{Name: strings.ToUpper(name)} }

// Type implements Expr; a symbol has the NULL type marked NOT NULL, and is
// only valid where a built-in asks for one.
func (s *Symbol) Type() row.Type { return row.NullType().NotNull() }

// String implements Expr: the keyword itself.
func (s *Symbol) String() string { return s.Name }

// Call is a resolved call of a built-in function. Args already carry the
// implicit casts resolution inserted.
type Call struct {
	Func *Func
	Args []Expr
	T    row.Type
}

// Type implements Expr.
func (c *Call) Type() row.Type { return c.T }

// String implements Expr: "+($0, 1)", "UPPER($1)", "IS NULL($0)".
func (c *Call) String() string {
	var b strings.Builder
	b.WriteString(c.Func.Name)
	b.WriteByte('(')
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	b.WriteByte(')')
	return b.String()
}

// Cast converts Arg to T: an explicit CAST or TRY_CAST, or an implicit
// cast inserted by resolution (Implicit, printed the same way).
type Cast struct {
	Arg Expr
	T   row.Type
	// Try marks TRY_CAST: a failing conversion yields NULL instead of an
	// error, and the result is always nullable.
	Try bool
	// Implicit marks a cast inserted by resolution.
	Implicit bool
}

// Type implements Expr.
func (c *Cast) Type() row.Type { return c.T }

// String implements Expr: "CAST($0 AS BIGINT)" or "TRY_CAST(...)".
func (c *Cast) String() string {
	name := "CAST"
	if c.Try {
		name = "TRY_CAST"
	}
	return name + "(" + c.Arg.String() + " AS " + c.T.WithNullable(true).String() + ")"
}

// Case is a searched CASE: the Then of the first When that is TRUE, else
// Else (NULL when absent). A simple CASE x WHEN v ... is resolved by
// NewSimpleCase into When conditions "=(x, v)".
type Case struct {
	Whens, Thens []Expr
	Else         Expr // never nil after resolution (a typed NULL literal)
	T            row.Type
}

// Type implements Expr.
func (c *Case) Type() row.Type { return c.T }

// String implements Expr: "CASE(=($0, 1), 'a', =($0, 2), 'b', 'c')" as
// Flink prints it.
func (c *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE(")
	for i := range c.Whens {
		b.WriteString(c.Whens[i].String())
		b.WriteString(", ")
		b.WriteString(c.Thens[i].String())
		b.WriteString(", ")
	}
	b.WriteString(c.Else.String())
	b.WriteByte(')')
	return b.String()
}

// FieldAccess reads field Index of a ROW-typed expression (x.name).
type FieldAccess struct {
	Arg   Expr
	Index int
	T     row.Type
}

// Type implements Expr.
func (f *FieldAccess) Type() row.Type { return f.T }

// String implements Expr: "$0.name".
func (f *FieldAccess) String() string {
	return f.Arg.String() + "." + f.Arg.Type().Fields[f.Index].Name
}

// NewFieldAccess resolves x.name (case-sensitive, as Flink). The result is
// nullable if the field or the row is.
func NewFieldAccess(x Expr, name string) (Expr, error) {
	t := x.Type()
	if t.Root != row.TypeRow {
		return nil, fmt.Errorf("expr: cannot access field %q of type '%s'", name, t)
	}
	for i, f := range t.Fields {
		if f.Name == name {
			ft := f.Type
			if t.Nullable {
				ft.Nullable = true
			}
			return &FieldAccess{Arg: x, Index: i, T: ft}, nil
		}
	}
	return nil, fmt.Errorf("expr: type '%s' has no field %q", t, name)
}
