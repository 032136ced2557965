// Package parser parses Weir's Flink SQL dialect into the syntax tree of package sql/ast.
//
// The lexer and the recursive-descent parser are hand-written; expressions are parsed by
// precedence climbing with the levels of [ast.PrecOr] .. [ast.PrecPrimary]. Keywords are
// case-insensitive, identifiers keep their case; `back-quoted` identifiers may contain any
// character (a back quote is written twice). Comments are -- to end of line and /* ... */.
// Hint comments /*+ ... */ are parsed where Flink reads them, after a table name (table hints
// such as OPTIONS) and right after SELECT (query hints such as BROADCAST or LOOKUP); elsewhere
// they are ignored like comments.
//
// Entry points: [Parse] for a script of ';'-separated statements, [ParseOne] for a single
// statement, [ParseExpr] for an expression and [ParseType] for a data type. Every failure is
// an [*Error] carrying the line and column of the offending token; [Error.Detail] renders the
// source line with a caret under that column.
//
// The parser never panics on bad input: internally a syntax error unwinds the recursive
// descent with a private panic value that the entry points recover and return as the error.
// Parsing is stateless; the functions may be called from many goroutines at once.
package parser
