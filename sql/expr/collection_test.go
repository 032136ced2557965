package expr

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
)

// The collection functions allocate their result only: nothing for the
// searches and ARRAY_MAX/MIN, one slice for an array result (two for
// MAP_ENTRIES: the entries and their fields), the string of ARRAY_JOIN.
func TestCollectionAllocs(t *testing.T) {
	ints := row.ArrayType(tInt)
	strs := row.ArrayType(tString)
	m := row.MapType(tInt, tString)
	cols := []row.Type{ints, ints, strs, m, tString}
	in := []row.Value{
		row.Array([]row.Value{row.Int(3), row.Int(1), {}, row.Int(2), row.Int(3), row.Int(1)}),
		row.Array([]row.Value{row.Int(2), row.Int(4)}),
		row.Array([]row.Value{row.Str("a"), {}, row.Str("bc")}),
		row.Map([]row.Value{row.Int(1), row.Int(2)}, []row.Value{row.Str("x"), row.Str("y")}),
		row.Str("a,bb,,c"),
	}
	ref := func(i int) Expr { return Ref(i, cols[i]) }
	intLit := func(v int64) Expr { return Lit(row.Int(v), tInt.NotNull()) }
	strLit := func(v string) Expr { return Lit(row.Str(v), row.VarChar(len(v)).NotNull()) }
	for _, c := range []struct {
		e    Expr
		want float64
	}{
		{MustCall("ARRAY_CONTAINS", ref(0), intLit(2)), 0},
		{MustCall("ARRAY_POSITION", ref(0), intLit(2)), 0},
		{MustCall("ARRAY_MAX", ref(0)), 0},
		{MustCall("ARRAY_MIN", ref(2)), 0},
		{MustCall("ARRAY_APPEND", ref(0), intLit(9)), 1},
		{MustCall("ARRAY_REMOVE", ref(0), intLit(3)), 1},
		{MustCall("ARRAY_DISTINCT", ref(0)), 1},
		{MustCall("ARRAY_REVERSE", ref(0)), 1},
		{MustCall("ARRAY_SLICE", ref(0), intLit(2), intLit(-2)), 1},
		{MustCall("ARRAY_SORT", ref(0), Lit(row.Bool(false), tBoolean.NotNull())), 1},
		{MustCall("ARRAY_UNION", ref(0), ref(1)), 1},
		{MustCall("ARRAY_CONCAT", ref(0), ref(1), ref(0)), 1},
		{MustCall("ARRAY_EXCEPT", ref(0), ref(1)), 1},
		{MustCall("ARRAY_INTERSECT", ref(0), ref(1)), 1},
		{MustCall("ARRAY_JOIN", ref(2), strLit("+"), strLit("?")), 1},
		{MustCall("SPLIT", ref(4), strLit(",")), 1},
		{MustCall("MAP_KEYS", ref(3)), 1},
		{MustCall("MAP_VALUES", ref(3)), 1},
		{MustCall("MAP_ENTRIES", ref(3)), 2},
	} {
		ev, err := Compile(c.e)
		if err != nil {
			t.Fatalf("%s: %v", c.e, err)
		}
		ctx := &EvalContext{}
		if _, err := ev(ctx, in); err != nil {
			t.Fatalf("%s: %v", c.e, err)
		}
		n := testing.AllocsPerRun(100, func() {
			if _, err := ev(ctx, in); err != nil {
				t.Fatal(err)
			}
		})
		if n > c.want {
			t.Errorf("%s: %v allocations per call, want at most %v", c.e, n, c.want)
		}
	}
}

// Element equality is Flink's: NULL equals NULL, ROW and ARRAY by
// element, MAP as a set of entries (any order).
func TestCollectionValueEq(t *testing.T) {
	m := row.MapType(tInt, tString)
	m12 := row.Map([]row.Value{row.Int(1), row.Int(2)}, []row.Value{row.Str("a"), row.Str("b")})
	m21 := row.Map([]row.Value{row.Int(2), row.Int(1)}, []row.Value{row.Str("b"), row.Str("a")})
	m1b := row.Map([]row.Value{row.Int(1), row.Int(2)}, []row.Value{row.Str("b"), row.Str("a")})
	r := row.RowType(row.Field{Name: "a", Type: tInt}, row.Field{Name: "b", Type: m})
	for _, c := range []struct {
		t    row.Type
		a, b row.Value
		want bool
	}{
		{tInt, row.Value{}, row.Value{}, true},
		{tInt, row.Value{}, row.Int(0), false},
		{m, m12, m21, true},
		{m, m12, m1b, false},
		{r, row.Nested([]row.Value{row.Int(1), m12}), row.Nested([]row.Value{row.Int(1), m21}), true},
		{r, row.Nested([]row.Value{{}, m12}), row.Nested([]row.Value{row.Int(1), m12}), false},
		{row.ArrayType(tInt), row.Array([]row.Value{row.Int(1), {}}), row.Array([]row.Value{row.Int(1), {}}), true},
		{row.ArrayType(tInt), row.Array([]row.Value{row.Int(1)}), row.Array([]row.Value{row.Int(1), {}}), false},
	} {
		if got := valueEq(c.t)(c.a, c.b); got != c.want {
			t.Errorf("valueEq(%s)(%v, %v) = %v, want %v", c.t, c.a, c.b, got, c.want)
		}
	}
}

// Flink's validation: the needle of ARRAY_CONTAINS must be implicitly
// castable to the element type (INT to BIGINT yes, BIGINT to INT and
// BOOLEAN to INT no), ARRAY_CONCAT's arrays need a common type, and the
// errors read as Flink's.
func TestCollectionValidation(t *testing.T) {
	ints, bigs := row.ArrayType(tInt), row.ArrayType(tBigInt)
	for _, c := range []struct {
		name string
		args []Expr
		err  string // "" for a valid call
	}{
		{"ARRAY_CONTAINS", []Expr{Ref(0, bigs), Lit(row.Int(1), tInt.NotNull())}, ""},
		{"ARRAY_CONTAINS", []Expr{Ref(0, ints), Lit(row.Int(1), tBigInt.NotNull())}, "expr: ARRAY_CONTAINS: Invalid input arguments. Expected signatures are:\nARRAY_CONTAINS(haystack <ARRAY>, needle <ARRAY ELEMENT>)"},
		{"ARRAY_CONTAINS", []Expr{Ref(0, ints), Lit(row.Bool(true), tBoolean.NotNull())}, "expr: ARRAY_CONTAINS: Invalid input arguments. Expected signatures are:\nARRAY_CONTAINS(haystack <ARRAY>, needle <ARRAY ELEMENT>)"},
		{"ARRAY_CONTAINS", []Expr{Ref(0, ints), NullLit()}, ""},
		{"ARRAY_CONCAT", []Expr{Ref(0, row.ArrayType(ints)), Ref(1, ints)}, "expr: Invalid function call:\nARRAY_CONCAT(ARRAY<ARRAY<INT>>, ARRAY<INT>)"},
		{"ARRAY_MAX", []Expr{Ref(0, row.ArrayType(tBoolean))}, "expr: Invalid function call:\nARRAY_MAX(ARRAY<BOOLEAN>)"},
		{"ARRAY_SORT", []Expr{Ref(0, row.ArrayType(row.RowType(row.Field{Name: "f0", Type: tInt})))}, "expr: Invalid function call:\nARRAY_SORT(ARRAY<ROW<`f0` INT>>)"},
		{"MAP_UNION", []Expr{Ref(0, row.MapType(tInt, tString)), Ref(1, row.MapType(tString, tString))}, "expr: MAP_UNION: Invalid input arguments. Expected signatures are:\nMAP_UNION(<COMMON>, <COMMON>...)"},
	} {
		_, err := NewCall(c.name, c.args...)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s%v: %v", c.name, c.args, err)
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%s%v: error %v, want %q", c.name, c.args, err, c.err)
		}
	}
}

// Result types and nullability as CollectionFunctionsITCase and
// MapFunctionITCase expect them (the DataType of each testResult).
func TestCollectionTypes(t *testing.T) {
	intNN, strNN := tInt.NotNull(), tString.NotNull()
	arrIntNNNN := row.ArrayType(intNN).NotNull() // ARRAY<INT NOT NULL> NOT NULL
	arrStrNN := row.ArrayType(tString).NotNull() // ARRAY<STRING> NOT NULL
	arrOfStrNN := row.ArrayType(strNN)           // ARRAY<STRING NOT NULL>
	arrInt := row.ArrayType(tInt)
	lit := func(v int64) Expr { return Lit(row.Int(v), intNN) }
	str := func(s string) Expr { return Lit(row.Str(s), row.Char(len(s)).NotNull()) }
	for _, c := range []struct {
		name string
		args []Expr
		want row.Type
	}{
		{"ARRAY_CONTAINS", []Expr{Ref(0, arrInt), lit(2)}, tBoolean},
		{"ARRAY_CONTAINS", []Expr{Ref(0, arrStrNN), str("Hello")}, tBoolean.NotNull()},
		{"ARRAY_CONTAINS", []Expr{Ref(0, arrIntNNNN), Lit(row.Value{}, tInt)}, tBoolean.NotNull()},
		{"ARRAY_POSITION", []Expr{Ref(0, arrIntNNNN), lit(2)}, intNN},
		{"ARRAY_POSITION", []Expr{Ref(0, arrIntNNNN), NullLit()}, tInt},
		{"ARRAY_APPEND", []Expr{Ref(0, arrOfStrNN), str("!")}, arrOfStrNN},
		{"ARRAY_APPEND", []Expr{Ref(0, arrOfStrNN), NullLit()}, row.ArrayType(tString)},
		{"ARRAY_PREPEND", []Expr{Ref(0, arrInt), lit(1)}, arrInt},
		{"ARRAY_DISTINCT", []Expr{Ref(0, arrStrNN)}, arrStrNN},
		{"ARRAY_UNION", []Expr{Ref(0, row.ArrayType(intNN)), MustCall("ARRAY", lit(2), NullLit())}, arrInt},
		{"ARRAY_MAX", []Expr{Ref(0, arrIntNNNN)}, tInt},
		{"ARRAY_JOIN", []Expr{Ref(0, arrStrNN), str("+")}, strNN},
		{"ARRAY_JOIN", []Expr{Ref(0, row.ArrayType(tString)), str("+"), str("abc")}, tString},
		{"SPLIT", []Expr{Ref(0, strNN), str(",")}, row.ArrayType(tString).NotNull()},
		{"SPLIT", []Expr{Ref(0, strNN), NullLit()}, row.ArrayType(tString)},
		{"MAP_KEYS", []Expr{MustCall("MAP", Ref(0, tBoolean), Ref(1, tString))}, row.ArrayType(tBoolean).NotNull()},
		{"MAP_ENTRIES", []Expr{Ref(0, row.MapType(tInt, tString))}, row.ArrayType(row.RowType(row.Field{Name: "key", Type: tInt}, row.Field{Name: "value", Type: tString}))},
		{"MAP_FROM_ARRAYS", []Expr{Ref(0, arrInt), Ref(1, row.ArrayType(tString))}, row.MapType(tInt, tString)},
	} {
		e, err := NewCall(c.name, c.args...)
		if err != nil {
			t.Errorf("%s%v: %v", c.name, c.args, err)
			continue
		}
		if got := e.Type(); !got.Equal(c.want) {
			t.Errorf("%s: type %s (nullable %v), want %s (nullable %v)", e, got, got.Nullable, c.want, c.want.Nullable)
		}
	}
}

// The set operations give the same answer whether their valueSet hashes
// (inputs of hashFrom elements or more) or scans, over INT and STRING
// arrays with NULLs and repeats, checked against a reference that
// compares every pair.
func TestCollectionSetOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, et := range []row.Type{tInt, tString} {
		arr := row.ArrayType(et)
		gen := func() row.Value {
			n := rng.IntN(3 * hashFrom)
			e := make([]row.Value, n)
			for i := range e {
				switch k := rng.IntN(12); {
				case k == 0:
				case et.Root == row.TypeInt:
					e[i] = row.Int(int64(k))
				default:
					e[i] = row.Str(strings.Repeat("x", k))
				}
			}
			return row.Array(e)
		}
		eq := func(a, b row.Value) bool { return row.Compare(a, b, et) == 0 }
		has := func(s []row.Value, v row.Value) bool {
			return slices.ContainsFunc(s, func(x row.Value) bool { return eq(x, v) })
		}
		ref := map[string]func(x, y []row.Value) []row.Value{
			"ARRAY_DISTINCT": func(x, _ []row.Value) (out []row.Value) {
				for _, v := range x {
					if !has(out, v) {
						out = append(out, v)
					}
				}
				return out
			},
			"ARRAY_UNION": func(x, y []row.Value) (out []row.Value) {
				for _, v := range append(slices.Clone(x), y...) {
					if !has(out, v) {
						out = append(out, v)
					}
				}
				return out
			},
			"ARRAY_EXCEPT": func(x, y []row.Value) (out []row.Value) {
				for _, v := range x {
					if !has(y, v) && !has(out, v) {
						out = append(out, v)
					}
				}
				return out
			},
			"ARRAY_INTERSECT": func(x, y []row.Value) (out []row.Value) {
				for _, v := range x {
					if has(y, v) && !has(out, v) {
						out = append(out, v)
					}
				}
				return out
			},
		}
		for name, want := range ref {
			args := []Expr{Ref(0, arr), Ref(1, arr)}
			if name == "ARRAY_DISTINCT" {
				args = args[:1]
			}
			ev, err := Compile(MustCall(name, args...))
			if err != nil {
				t.Fatal(err)
			}
			ctx := &EvalContext{}
			for range 300 {
				in := []row.Value{gen(), gen()}
				got, err := ev(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				w := want(in[0].Elems(), in[1].Elems())
				if !slices.EqualFunc(got.Elems(), w, eq) {
					t.Fatalf("%s over %s: %s(%v, %v) = %v, want %v", name, et, name, in[0].Elems(), in[1].Elems(), got.Elems(), w)
				}
			}
		}
	}
}

// Over arrays long enough to hash, the set operations still allocate only
// their result once their sets have grown.
func TestCollectionSetOpsAllocs(t *testing.T) {
	arr := row.ArrayType(tBigInt)
	e := make([]row.Value, 200)
	for i := range e {
		e[i] = row.Int(int64(i % 70))
	}
	in := []row.Value{row.Array(e), row.Array(e[50:])}
	for _, name := range []string{"ARRAY_UNION", "ARRAY_EXCEPT", "ARRAY_INTERSECT"} {
		ev, err := Compile(MustCall(name, Ref(0, arr), Ref(1, arr)))
		if err != nil {
			t.Fatal(err)
		}
		ctx := &EvalContext{}
		if _, err := ev(ctx, in); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(50, func() { _, _ = ev(ctx, in) }); n > 1 {
			t.Errorf("%s: %v allocations per call, want 1", name, n)
		}
	}
}
