// Package sql runs Flink SQL on Weir: a session holds the catalog (tables,
// views, functions) and the options set with SET, and turns statements into
// jobs on Weir's DataStream runtime.
//
// The layers, each its own package:
//
//	sql/ast, sql/parser   Flink's dialect → syntax tree (positions, printing)
//	sql/expr              typed expressions, Flink's casts and built-ins,
//	                      compiled to closures over row slots
//	sql/exec              the runtime operators SQL compiles to (group and
//	                      window aggregation with changelogs, ...)
//	sql/result            a changelog materialised, and printed as the
//	                      SQL client prints it
//	sql/udf               user-defined scalar, table and aggregate
//	                      functions written in Go (Session.RegisterFunction,
//	                      CreateTemporarySystemFunction)
//
// Rows cross the boundary as row.Row (package row): a RowKind (+I, -U,
// +U, -D) and typed values.
package sql
