// Package ast is the syntax tree of Weir's Flink SQL dialect.
//
// The parser (package sql/parser) produces these nodes; the planner consumes them. The tree is
// purely syntactic: names are not resolved, data types are kept as written ([DataType] holds a
// type name, its parameters and element types), and function names are not looked up.
//
// Invariants:
//
//   - Every node carries the source position of its first token ([Pos]: 1-based line and
//     column, 0-based byte offset), reachable through [Node.Position].
//   - Every node prints back to canonical Flink SQL with [Format] (or its String method). The
//     canonical text re-parses to a tree equal to the original one when positions are ignored:
//     keywords are upper-cased, identifiers keep their case and are back-quoted only when needed,
//     parentheses are inserted only where operator precedence requires them, aliases always use
//     AS, plural interval units (MINUTES) are printed singular and postfix array types
//     (INT ARRAY) are printed as ARRAY<INT>.
//   - Parentheses that only group are not kept as nodes.
//
// [Walk] and [Inspect] visit a tree in depth-first order.
//
// Concurrency: nodes are plain values with no internal synchronisation; a tree may be read by
// many goroutines as long as none modifies it.
package ast
