// Package expr is Weir's SQL types-and-expressions layer: a resolved,
// typed expression tree with Flink SQL's type rules, its compilation to Go
// closures over the columns of a row, and Flink's built-in scalar
// functions. The parser (sql/parser) produces untyped syntax; the planner
// resolves it into this package's Expr tree, folds constants, and compiles
// the expressions its operators (sql/exec) evaluate per row.
//
// # The tree
//
// An Expr is one of
//
//	*InputRef     $i, column i of the input row, with its type
//	*Literal      a typed constant (row.Value + row.Type); NullLit() is the
//	              untyped NULL that resolution types from its context
//	*Symbol       a keyword argument: time units (YEAR .. NANOSECOND, DOW,
//	              DOY, EPOCH, ...) and TRIM's BOTH/LEADING/TRAILING
//	*Call         a resolved built-in (Func) over arguments
//	*Cast         CAST / TRY_CAST, and the implicit casts resolution inserts
//	*Case         a searched CASE (simple CASE resolves to it)
//	*FieldAccess  x.name on a ROW
//
// Trees are immutable values; build them only through the constructors,
// which type-check: NewCall(name, args...), NewCast, NewTryCast, NewCase,
// NewSimpleCase, NewFieldAccess, NewJSONValue (JSON_VALUE ... RETURNING).
// String() prints Flink's RexNode style as in EXPLAIN: "+($0, 1)",
// "CAST($1 AS BIGINT)", "IS NULL($2)", "CASE(=($0, 1), 'a', 'b')",
// literals as SQL ("'abc'", "DATE '2020-01-01'", "1.5", "10:BIGINT" for
// non-INT integers, "null:INT" for a typed NULL).
//
// # How the planner calls it
//
// SQL syntax maps onto calls by name, arguments in source order:
//
//	a + b, a || b, a = b, a AND b   NewCall("+", a, b), "||", "=", "AND" (n-ary)
//	-a, NOT a                       NewCall("-", a), NewCall("NOT", a)
//	a IS [NOT] NULL/TRUE/...        NewCall("IS NOT NULL", a), ...
//	a IS [NOT] DISTINCT FROM b      NewCall("IS DISTINCT FROM", a, b)
//	a [NOT] BETWEEN l AND h         NewCall("BETWEEN", a, l, h)
//	a [NOT] IN (x, y)               NewCall("IN", a, x, y)
//	a [NOT] LIKE p [ESCAPE e]       NewCall("LIKE", a, p[, e]); "SIMILAR TO"
//	a % b                           NewCall("MOD", a, b) ("%" is a synonym)
//	EXTRACT(YEAR FROM t)            NewCall("EXTRACT", Sym("YEAR"), t)
//	FLOOR(t TO DAY)                 NewCall("FLOOR", t, Sym("DAY"))
//	TIMESTAMPADD(HOUR, n, t)        NewCall("TIMESTAMPADD", Sym("HOUR"), n, t)
//	TRIM(LEADING 'x' FROM s)        NewCall("TRIM", Sym("LEADING"), x, s)
//	POSITION(a IN b)                NewCall("POSITION", a, b)
//	arr[i], map[k]                  NewCall("ITEM", arr, i)
//	ARRAY[...], MAP[...], ROW(...)  NewCall("ARRAY", ...), "MAP", "ROW"
//	CURRENT_TIMESTAMP, NOW()        NewCall("CURRENT_TIMESTAMP")
//	CAST(x AS t), TRY_CAST          NewCast(x, t), NewTryCast(x, t)
//	1, 1.5, 1e3, 'ab', X'0f'        NumericLiteral, StringLiteral, BinaryLiteral
//	DATE/TIME/TIMESTAMP '...'       ParseDate, ParseTime, ParseTimestamp
//	INTERVAL '1 2:00' DAY TO MINUTE ParseInterval(text, "DAY TO MINUTE")
//
// Builtins().Names() lists every function; each Func's Doc states its
// Flink semantics.
//
// # Types
//
// Resolution follows Flink: integers widen to the wider integer type
// (INT + BIGINT is BIGINT; overflow wraps as Java's); any FLOAT/DOUBLE
// operand makes the result approximate; DECIMAL arithmetic derives
// precision and scale as LogicalTypeMerging (+: max integer digits +
// max scale + 1; *: p1+p2+1, s1+s2; /: scale max(6, s1+p2+1); capped at 38
// keeping the integer digits and at least min(s, 6) fraction digits); INT
// / INT is an integer division. Comparison operands, IN lists, CASE and
// COALESCE results go to LeastRestrictive's common type (ragged CHARs
// become VARCHAR, as FlinkTypeSystem configures Calcite; TIMESTAMPs of
// different precision take the larger; a string compared with a DATE,
// TIME or TIMESTAMP is cast to it (TRY_CAST: a string that does not parse
// makes the comparison NULL), a string compared with a number is an
// error as in Flink since FLINK-24914). An untyped NULL takes the type of
// the other operands. Strict functions are nullable when any argument
// is; a type error reads like Calcite's: "Cannot apply '+' to arguments
// of type '<STRING> + <INT>'".
//
// # Evaluation
//
// CompilePredicate (WHERE: passes only on TRUE) and CompileProjection (a
// SELECT list into a reusable output slice) wrap Compile for operators.
//
// Compile turns a tree into an Evaluator, func(ctx, row) (Value, error):
// each node becomes one closure specialised at compile time for its
// operand types (an INT + INT closure reads Value.Int and wraps to 32
// bits; a DOUBLE comparison reads Value.Float), calling its children's
// closures directly. There is no reflection, no interface dispatch per
// value and no map per row; evaluating arithmetic and comparisons over
// scalar columns allocates nothing (TestEvalAllocs). Functions whose
// pattern argument is a literal (LIKE, REGEXP_*, DATE_FORMAT, JSON paths)
// compile it once; otherwise the last pattern is cached in the closure.
//
// NULL is the zero row.Value. Strict functions return NULL when an
// argument is NULL, without calling the function body. AND, OR and NOT
// use three-valued logic; AND stops at the first FALSE and OR at the first
// TRUE, CASE, IF and COALESCE evaluate only the branch they return, as
// Flink's generated code does, so an error in an unevaluated branch never
// surfaces. IS [NOT] TRUE/FALSE/UNKNOWN/NULL and IS [NOT] DISTINCT FROM
// never return NULL.
//
// Runtime failures are errors, never panics, each naming the function:
// a failing CAST ("expr: CAST: cannot cast 'x' to INT: not a number"),
// an integer or DECIMAL division by zero ("expr: /: division by zero"),
// ELEMENT of a longer array. TRY_CAST turns cast failures into NULL. A
// DOUBLE division by zero gives Infinity or NaN as in Java; DECIMAL
// results that exceed their precision are NULL, as Flink's DecimalData.
// Functions Flink defines to return NULL on bad input (TO_TIMESTAMP,
// REGEXP_EXTRACT with a bad pattern, JSON_VALUE on invalid JSON, ...) do.
//
// # EvalContext
//
// The EvalContext carries what an expression reads besides its row: the
// session time zone (Location, Flink's table.local-time-zone; nil is UTC)
// and the statement time Now. CURRENT_TIMESTAMP, NOW, LOCALTIMESTAMP,
// CURRENT_DATE, CURRENT_TIME and UNIX_TIMESTAMP() return Now: an operator
// in streaming mode sets it before each record (Flink evaluates them per
// record there), a batch query once per query; when Now is zero the wall
// clock is read at each call. CURRENT_ROW_TIMESTAMP always reads the wall
// clock. An EvalContext, and a compiled Evaluator, belong to one goroutine
// (one subtask): RAND's generator and the pattern caches are per closure
// and unsynchronised, so compile once per subtask.
//
// # Constant folding
//
// Fold replaces every deterministic call, cast or CASE over literals with
// its value; IsDeterministic reports whether a tree avoids the volatile
// built-ins (RAND, RAND_INTEGER, UUID, CURRENT_TIMESTAMP and friends,
// UNIX_TIMESTAMP()). Nodes that depend on the session zone fold only with
// FoldIn(e, zone); nodes whose evaluation fails are kept so the error
// surfaces at run time.
package expr
