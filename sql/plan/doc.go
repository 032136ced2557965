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
//	Join             regular join (inner/left/right/full) on equi-keys plus a
//	                 residual condition; rowtimes become plain timestamps
//	IntervalJoin     a join bounding one input's time attribute by the
//	                 other's (BETWEEN r.ts - a AND r.ts + b and friends)
//	WindowJoin       a join of two window TVF / window aggregation outputs
//	                 on window_start and window_end
//	TemporalJoin     an event-time temporal join (FOR SYSTEM_TIME AS OF
//	                 left.rowtime) of a versioned table (temporal.go)
//	Rank             ROW_NUMBER() OVER (PARTITION BY .. ORDER BY ..) bounded
//	                 by an enclosing WHERE: Top-N, deduplication, window
//	                 Top-N or window deduplication (Strategy)
//	Correlate        each row joined with the rows of a table function or
//	                 UNNEST called on it (LATERAL TABLE, CROSS JOIN UNNEST)
//	SemiJoin         WHERE x [NOT] IN (SELECT y ..) / [NOT] EXISTS (.. WHERE
//	                 inner = outer ..): a semi (anti) join, left columns only
//	OverAggregate    agg(...) OVER (PARTITION BY .. ORDER BY time_attr frame)
//	                 appending one column per call to every row
//	MatchRecognize   MATCH_RECOGNIZE ... ONE ROW PER MATCH over an append-only
//	                 input: DEFINE and MEASURES bound over navigation slots
//	                 (match.go)
//	Sink             INSERT INTO a catalog table
//
// User-defined functions (Functions, on the Binder) resolve as Flink's:
// temporary system functions before the built-ins, catalog functions
// after them; a user aggregate becomes an AggCall with its UDF set.
// ExplainAST, ExplainPhysical, ExplainExecution and ExplainJSON print the
// sections of Flink's EXPLAIN (explain.go). SplitDistinctAggregates
// (split_agg.go, Flink's SplitAggregateRule) splits an Aggregate with
// DISTINCT calls into PARTIAL and FINAL Aggregates, before Optimize, when
// the session asks for it.
//
// Joins in FROM (JOIN ... ON/USING, comma joins with their condition in
// WHERE) extract equi-keys from the condition's conjuncts (computing cast
// key columns when the two sides' types differ) and push one-sided WHERE
// conjuncts into an inner join's inputs; a join without an equi-key runs
// on one key (one subtask), as in Flink. A ROW_NUMBER() select item binds
// to an unbounded Rank under a Calc; the enclosing query's filter on the
// row number bounds it (fuseRank), drops the row number column when
// nothing selects it and picks the strategy. A Rank no filter bounds is
// refused when the plan is translated. Other OVER calls of a select list
// (aggregate functions, also inside expressions) bind to one
// OverAggregate (bindOver): all must share one window, as in Flink. In
// the batch mode OVER calls bind to a BatchOverAggregate instead
// (bindBatchOver, batch_over.go: any windows, frames and ranking
// functions), except ROW_NUMBER()s of one window, which bind to a Rank
// that Optimize turns into a BatchOverAggregate when no filter bounds it.
//
// Every Rel has an output schema and a coarse changelog mode
// (insert-only or updating with -U/+U), derived bottom-up as Flink's
// planner does; Explain prints the tree with both (operator uids derive
// from it). InferChangelogs (changelog.go) infers the precise modes of a
// job's plans as Flink's FlinkChangelogModeInferenceProgram: the kinds
// each node produces, then whether its consumers need UPDATE_BEFORE. A Rel tree is immutable once the
// binder returns it (fuseRank edits the nodes it just built).
package plan
