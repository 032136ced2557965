// Package plan turns parsed Flink SQL into a logical plan of relational
// operators over typed rows, and knows each operator's changelog mode.
//
// Binding resolves names against a Catalog and scopes (FROM items and
// their aliases), types every expression with package expr (Flink's type
// rules and implicit casts), and builds a tree of Rel nodes:
//
//	Scan             a catalog table, with its computed columns and rowtime
//	Values           literal rows
//	Calc             projection and filter (one node, as Flink's Calc)
//	Aggregate        GROUP BY aggregation (updating output)
//	WindowTVF        TUMBLE/HOP/CUMULATE/SESSION appending window columns
//	WindowAggregate  GROUP BY window_start, window_end over a window TVF
//	Union            UNION ALL
//	Sink             INSERT INTO a catalog table
//
// Every Rel has an output schema and a changelog mode (insert-only or
// updating with -U/+U), derived bottom-up as Flink's planner does;
// Explain prints the tree with both. A Rel tree is immutable once built.
package plan
