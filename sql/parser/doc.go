// Package parser parses Weir's Flink SQL dialect into the syntax tree of package sql/ast.
//
// The lexer and the recursive-descent parser are hand-written; expressions are parsed by
// precedence climbing with the levels of [ast.PrecOr] .. [ast.PrecPrimary] (Calcite's order).
// Keywords are case-insensitive, identifiers keep their case; `back-quoted` identifiers may
// contain any character (a back quote is written twice). Comments are -- to end of line and
// /* ... */. Hint comments /*+ ... */ are parsed where Flink reads them, after a table name
// (table hints such as OPTIONS), after an INSERT target and right after SELECT (query hints
// such as BROADCAST or LOOKUP); elsewhere they are ignored like comments.
//
// Entry points: [Parse] for a script of ';'-separated statements, [ParseOne] for a single
// statement, [ParseExpr] for an expression and [ParseType] for a data type. Every failure is
// an [*Error] carrying the line and column of the offending token and a message naming what
// was found and what was expected; [Error.Detail] renders the source line with a caret under
// that column. A word that looks like a misspelt clause keyword (FORM, WHER) is reported as
// such.
//
// # Dialect
//
// Queries: SELECT [ALL|DISTINCT] with aliases, *, t.*; FROM with dotted table names, aliases
// with column lists, FOR SYSTEM_TIME AS OF, subqueries, LATERAL, [LATERAL] TABLE(fn(..)),
// UNNEST(..) [WITH ORDINALITY], window table functions (TUMBLE, HOP, CUMULATE, SESSION with
// TABLE t [PARTITION BY ..], DESCRIPTOR(..) and name => value arguments), joins (INNER, LEFT,
// RIGHT, FULL [OUTER], CROSS, NATURAL, comma) with ON or USING, MATCH_RECOGNIZE; WITH; WHERE;
// GROUP BY with GROUPING SETS, ROLLUP, CUBE and (); HAVING; WINDOW; UNION, INTERSECT, EXCEPT
// [ALL|DISTINCT]; ORDER BY with ASC/DESC and NULLS FIRST/LAST; LIMIT, OFFSET, FETCH
// FIRST|NEXT n ROWS ONLY; VALUES.
//
// Expressions: numeric, string (doubled ' escapes, U&'\0041'), binary (X'0AFF'), boolean, NULL,
// UNKNOWN, DATE/TIME/TIMESTAMP and INTERVAL literals (plural units such as MINUTES accepted);
// column references; function calls with DISTINCT/ALL, COUNT(*), FILTER (WHERE ..), OVER
// (window spec with ROWS/RANGE frames) or OVER name; CAST, TRY_CAST, CASE, IS [NOT]
// NULL/TRUE/FALSE/UNKNOWN, IS [NOT] DISTINCT FROM, [NOT] BETWEEN [SYMMETRIC], [NOT] IN (list
// or subquery), EXISTS, [NOT] LIKE/SIMILAR TO .. [ESCAPE], scalar subqueries, ARRAY[..],
// MAP[..], ROW(..), (a, b), x[i], x.f, EXTRACT, FLOOR/CEIL(x TO unit), POSITION, TRIM,
// SUBSTRING(s FROM i FOR n), OVERLAY, TIMESTAMPADD/TIMESTAMPDIFF(unit, ..), and
// CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIME, LOCALTIME, LOCALTIMESTAMP without
// parentheses.
//
// Statements: queries; INSERT INTO|OVERWRITE [PARTITION (..)] [(cols)]; CREATE [TEMPORARY]
// TABLE (physical, computed and metadata columns, WATERMARK, PRIMARY KEY .. NOT ENFORCED,
// COMMENT, PARTITIONED BY, WITH, LIKE .. (options), AS query); CREATE [TEMPORARY] VIEW;
// CREATE [TEMPORARY [SYSTEM]] FUNCTION .. AS 'class' [LANGUAGE ..]; CREATE CATALOG [IF NOT
// EXISTS] .. [COMMENT ..]; CREATE DATABASE; DROP (DATABASE .. [RESTRICT|CASCADE]); SET; RESET;
// SHOW (with FROM|IN and [NOT] LIKE|ILIKE; SHOW CREATE CATALOG); DESCRIBE/DESC [CATALOG|
// DATABASE]; EXPLAIN
// [PLAN FOR | details]; EXECUTE STATEMENT SET BEGIN .. END and the SQL client's BEGIN
// STATEMENT SET; .. END; USE [CATALOG]; SHOW JOBS, STOP JOB, DESCRIBE JOB; LOAD MODULE,
// UNLOAD MODULE, USE MODULES.
//
// The parser never panics on bad input: internally a syntax error unwinds the recursive
// descent with a private panic value that the entry points recover and return as the error.
// Nesting is bounded (200 levels) so hostile input cannot exhaust the stack. Parsing is
// stateless; the functions may be called from many goroutines at once.
package parser
