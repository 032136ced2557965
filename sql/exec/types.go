package exec

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
)

// Func is an aggregate function.
type Func uint8

// The aggregate functions. Their result types follow Flink (see
// ResultType).
const (
	// CountStar is COUNT(*) (and COUNT(1)): the number of rows.
	CountStar Func = iota + 1
	// Count is COUNT(x [, y...]): the rows whose arguments are all non-NULL.
	Count
	// Sum is SUM(x): NULL when no non-NULL input.
	Sum
	// Sum0 is Calcite's $SUM0: SUM that is 0 instead of NULL.
	Sum0
	// Avg is AVG(x).
	Avg
	// Min is MIN(x).
	Min
	// Max is MAX(x).
	Max
	// FirstValue is FIRST_VALUE(x): the first non-NULL value.
	FirstValue
	// LastValue is LAST_VALUE(x): the last non-NULL value.
	LastValue
	// ListAgg is LISTAGG(x [, sep]): the non-NULL values joined by sep
	// (default ",").
	ListAgg
	// Lag is LAG(x [, offset [, default]]) in an OVER window: x of the
	// row offset (default 1) rows before, or default (NULL) when there is
	// none; NULL values of x count (lag.go).
	Lag
	// SingleValue is Calcite's SINGLE_VALUE(x), which the planner puts
	// over a scalar subquery: x of the group's one row (NULL for none);
	// a second row fails the job (single_value.go).
	SingleValue
	// ArrayAgg is ARRAY_AGG([DISTINCT] x [RESPECT NULLS | IGNORE NULLS]):
	// the values in arrival order as an ARRAY, NULL when there are none
	// (arrayagg.go).
	ArrayAgg
	// JSONObjectAggNullOnNull and JSONObjectAggAbsentOnNull are
	// JSON_OBJECTAGG(KEY k VALUE v [NULL|ABSENT ON NULL]) over the key and
	// the value as JSON text (the planner serialises it); JSONArrayAgg... are
	// JSON_ARRAYAGG(v [NULL|ABSENT ON NULL]) (jsonagg.go).
	JSONObjectAggNullOnNull
	JSONObjectAggAbsentOnNull
	JSONArrayAggNullOnNull
	JSONArrayAggAbsentOnNull
	// Percentile is PERCENTILE(x, percentage [, frequency]) (percentile.go).
	Percentile
	// Collect is COLLECT(x): the non-NULL values with their counts as a
	// MULTISET, empty when there are none (collect.go).
	Collect
)

var funcNames = map[Func]string{
	CountStar: "COUNT(*)", Count: "COUNT", Sum: "SUM", Sum0: "$SUM0", Avg: "AVG",
	Min: "MIN", Max: "MAX", FirstValue: "FIRST_VALUE", LastValue: "LAST_VALUE", ListAgg: "LISTAGG",
	ArrayAgg:                "ARRAY_AGG",
	JSONObjectAggNullOnNull: "JSON_OBJECTAGG_NULL_ON_NULL", JSONObjectAggAbsentOnNull: "JSON_OBJECTAGG_ABSENT_ON_NULL",
	JSONArrayAggNullOnNull: "JSON_ARRAYAGG_NULL_ON_NULL", JSONArrayAggAbsentOnNull: "JSON_ARRAYAGG_ABSENT_ON_NULL",
	Percentile: "PERCENTILE", Collect: "COLLECT",
}

// String returns the SQL name of f.
func (f Func) String() string {
	if n, ok := funcNames[f]; ok {
		return n
	}
	return fmt.Sprintf("Func(%d)", uint8(f))
}

// ParseFunc returns the function of a SQL aggregate name (case
// insensitive): COUNT, SUM, $SUM0 (or SUM0), AVG, MIN, MAX, FIRST_VALUE,
// LAST_VALUE, LISTAGG, LAG, SINGLE_VALUE. COUNT with no arguments is CountStar; the caller
// turns COUNT(*) into a call without arguments.
func ParseFunc(name string, nargs int) (Func, error) {
	switch strings.ToUpper(name) {
	case "COUNT":
		if nargs == 0 {
			return CountStar, nil
		}
		return Count, nil
	case "SUM":
		return Sum, nil
	case "$SUM0", "SUM0":
		return Sum0, nil
	case "AVG":
		return Avg, nil
	case "MIN":
		return Min, nil
	case "MAX":
		return Max, nil
	case "FIRST_VALUE":
		return FirstValue, nil
	case "LAST_VALUE":
		return LastValue, nil
	case "LISTAGG":
		return ListAgg, nil
	case "LAG":
		return Lag, nil
	case "SINGLE_VALUE":
		return SingleValue, nil
	case "ARRAY_AGG":
		return ArrayAgg, nil
	case "PERCENTILE":
		return Percentile, nil
	case "COLLECT":
		return Collect, nil
	case "JSON_OBJECTAGG_NULL_ON_NULL":
		return JSONObjectAggNullOnNull, nil
	case "JSON_OBJECTAGG_ABSENT_ON_NULL":
		return JSONObjectAggAbsentOnNull, nil
	case "JSON_ARRAYAGG_NULL_ON_NULL":
		return JSONArrayAggNullOnNull, nil
	case "JSON_ARRAYAGG_ABSENT_ON_NULL":
		return JSONArrayAggAbsentOnNull, nil
	}
	return 0, fmt.Errorf("sql/exec: unknown aggregate function %s", name)
}

// ResultType returns the type of an aggregate's result for arguments of
// the given types, or an error worded as Flink's validator words it.
//
//	COUNT(*), COUNT(x...)       BIGINT NOT NULL
//	SUM(TINYINT..BIGINT)        the argument's type (Flink's Byte/Short/Int/LongSumAggFunction), nullable
//	SUM(FLOAT), SUM(DOUBLE)     the argument's type, nullable
//	SUM(DECIMAL(p, s))          DECIMAL(38, s)
//	$SUM0(x)                    as SUM, NOT NULL
//	AVG(integer, FLOAT, DOUBLE) the argument's type (integer AVG divides as integers)
//	AVG(DECIMAL(p, s))          DECIMAL(38, max(s, 6))
//	MIN, MAX, FIRST_VALUE,
//	LAST_VALUE                  the argument's type, nullable
//	LISTAGG(x [, sep])          STRING (x and sep character strings)
//	LAG(x [, offset [, def]])   x's type, nullable (offset an integer, def
//	                            of x's type: the planner casts it)
//	SINGLE_VALUE(x)             x's type, nullable
//	ARRAY_AGG(x)                ARRAY<x's type>, nullable
//	COLLECT(x)                  MULTISET<x's type> NOT NULL (Calcite's
//	                            TO_MULTISET)
//	JSON_OBJECTAGG_*(k, v)      STRING NOT NULL (k a character string)
//	JSON_ARRAYAGG_*(v)          STRING NOT NULL
//	PERCENTILE(x, p [, f])      DOUBLE, nullable; ARRAY<DOUBLE>, nullable,
//	                            when p is an ARRAY (jsonAggResultType)
//
// DISTINCT does not change the type.
func ResultType(f Func, distinct bool, args []row.Type) (row.Type, error) {
	_ = distinct
	want := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("sql/exec: invalid number of arguments to function '%s'. Was expecting %d arguments", f, n)
		}
		return nil
	}
	sig := func() error {
		parts := make([]string, len(args))
		for i, a := range args {
			parts[i] = a.WithNullable(true).String()
		}
		return fmt.Errorf("sql/exec: cannot apply '%s' to arguments of type '%s(<%s>)'", f, f, strings.Join(parts, ">, <"))
	}
	switch f {
	case CountStar:
		return row.BigInt().NotNull(), want(0)
	case Count:
		if len(args) == 0 {
			return row.Type{}, fmt.Errorf("sql/exec: COUNT needs at least one argument (COUNT(*) is CountStar)")
		}
		return row.BigInt().NotNull(), nil
	case Sum, Sum0:
		if err := want(1); err != nil {
			return row.Type{}, err
		}
		a := args[0]
		var t row.Type
		switch {
		case a.IsInteger() || a.Root == row.TypeFloat || a.Root == row.TypeDouble:
			t = row.Type{Root: a.Root}
		case a.Root == row.TypeDecimal:
			t = row.DecimalType(row.MaxDecimalPrecision, a.Scale)
		default:
			return row.Type{}, sig()
		}
		return t.WithNullable(f == Sum), nil
	case Avg:
		if err := want(1); err != nil {
			return row.Type{}, err
		}
		a := args[0]
		switch {
		case a.IsInteger() || a.Root == row.TypeFloat || a.Root == row.TypeDouble:
			return row.Type{Root: a.Root, Nullable: true}, nil
		case a.Root == row.TypeDecimal:
			return row.DecimalType(row.MaxDecimalPrecision, max(a.Scale, 6)), nil
		}
		return row.Type{}, sig()
	case Min, Max, FirstValue, LastValue:
		if err := want(1); err != nil {
			return row.Type{}, err
		}
		a := args[0]
		switch a.Root {
		case row.TypeArray, row.TypeMap, row.TypeMultiset, row.TypeRow, row.TypeNull, row.TypeVariant:
			if f == Min || f == Max {
				return row.Type{}, sig()
			}
		}
		a.TimeAttr = row.NoTimeAttr
		return a.WithNullable(true), nil
	case ListAgg:
		if len(args) < 1 || len(args) > 2 {
			return row.Type{}, fmt.Errorf("sql/exec: invalid number of arguments to function 'LISTAGG'. Was expecting 1 or 2 arguments")
		}
		for _, a := range args {
			if !a.IsString() {
				return row.Type{}, sig()
			}
		}
		return row.String(), nil
	case ArrayAgg:
		if err := want(1); err != nil {
			return row.Type{}, err
		}
		a := args[0]
		a.TimeAttr = row.NoTimeAttr
		if a.Root == row.TypeNull {
			return row.Type{}, sig()
		}
		return row.ArrayType(a), nil
	case Collect:
		if err := want(1); err != nil {
			return row.Type{}, err
		}
		a := args[0]
		a.TimeAttr = row.NoTimeAttr
		if a.Root == row.TypeNull {
			return row.Type{}, sig()
		}
		return row.MultisetType(a).NotNull(), nil
	case JSONObjectAggNullOnNull, JSONObjectAggAbsentOnNull, JSONArrayAggNullOnNull, JSONArrayAggAbsentOnNull, Percentile:
		return jsonAggResultType(f, args, sig)
	case SingleValue:
		if err := want(1); err != nil {
			return row.Type{}, err
		}
		a := args[0]
		a.TimeAttr = row.NoTimeAttr
		return a.WithNullable(true), nil
	case Lag:
		if len(args) < 1 || len(args) > 3 {
			return row.Type{}, fmt.Errorf("sql/exec: invalid number of arguments to function 'LAG'. Was expecting 1 to 3 arguments")
		}
		if len(args) > 1 && !args[1].IsInteger() {
			return row.Type{}, sig()
		}
		a := args[0]
		a.TimeAttr = row.NoTimeAttr
		return a.WithNullable(true), nil
	}
	return row.Type{}, fmt.Errorf("sql/exec: unknown aggregate function %v", f)
}
