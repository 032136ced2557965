package expr

import (
	"testing"
	"time"

	"github.com/weirstream/weir/row"
)

func TestFold(t *testing.T) {
	types, _ := testInput(t)
	tests := []struct{ src, want string }{
		{"+(1, 2)", "3"},
		{"+($0, *(2, 3))", "+($0, 6)"},
		{"UPPER('abc')", "'ABC'"},
		{"CAST('42' AS INT)", "42"},
		{"AND($8, =(1, 1))", "AND($8, TRUE)"},
		{"/(1, 0)", "/(1, 0)"},                   // the error stays for run time
		{"CAST('x' AS INT)", "CAST('x' AS INT)"}, // likewise
		{"TRY_CAST('x' AS INT)", "null:INT"},
		{"+(RAND(), 1)", "+(RAND(), 1.0)"}, // the implicit cast of 1 folds
		{"CURRENT_TIMESTAMP()", "CURRENT_TIMESTAMP()"},
		{"CAST(TIMESTAMP '2021-01-01 00:00:00' AS TIMESTAMP_LTZ(0))", "CAST(TIMESTAMP '2021-01-01 00:00:00' AS TIMESTAMP_LTZ(0))"}, // zone-dependent
		{"FROM_UNIXTIME(0)", "FROM_UNIXTIME(0:BIGINT)"},
		{"CASE(=(1, 2), 'a', 'b')", "'b'"},
		{"CASE(=($0, 2), 'a', 'b')", "CASE(=($0, 2), 'a', 'b')"},
		{"COALESCE(NULL, 3)", "3"},
		{"EXTRACT(YEAR, DATE '2020-05-01')", "2020:BIGINT"},
		// An LTZ argument makes EXTRACT depend on the session zone.
		{"EXTRACT(HOUR, TO_TIMESTAMP_LTZ(0, 3))", "EXTRACT(HOUR, TIMESTAMP_LTZ '1970-01-01 00:00:00.000')"},
	}
	for _, tc := range tests {
		e, err := parseTestExpr(tc.src, types)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		f, err := Fold(e)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		if got := f.String(); got != tc.want {
			t.Errorf("Fold(%s) = %s, want %s", tc.src, got, tc.want)
		}
		if !f.Type().Equal(e.Type()) {
			t.Errorf("Fold(%s) changed the type %s to %s", tc.src, e.Type(), f.Type())
		}
	}
	// FoldIn folds zone-dependent nodes for a known zone.
	e, _ := parseTestExpr("FROM_UNIXTIME(0)", types)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	f, _ := FoldIn(e, sh)
	if f.String() != "'1970-01-01 08:00:00'" {
		t.Errorf("FoldIn = %s", f)
	}
}

func TestIsDeterministic(t *testing.T) {
	types, _ := testInput(t)
	for src, want := range map[string]bool{
		"+($0, 1)":                              true,
		"UPPER($3)":                             true,
		"+(RAND(), 1)":                          false,
		"IS NULL(CURRENT_TIMESTAMP())":          false,
		"CASE($8, UNIX_TIMESTAMP(), 1)":         false,
		"UNIX_TIMESTAMP('2020-01-01 00:00:00')": true,
		"CAST(CURRENT_DATE() AS STRING)":        false,
	} {
		e, err := parseTestExpr(src, types)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := IsDeterministic(e); got != want {
			t.Errorf("IsDeterministic(%s) = %v", src, got)
		}
	}
}

// RAND(seed) repeats its sequence for each compiled instance.
func TestRandSeed(t *testing.T) {
	e := MustCall("RAND", Lit(row.Int(7), tInt.NotNull()))
	seq := func() []float64 {
		ev, err := Compile(e)
		if err != nil {
			t.Fatal(err)
		}
		var out []float64
		for range 3 {
			v, _ := ev(&EvalContext{}, nil)
			out = append(out, v.Float())
		}
		return out
	}
	a, b := seq(), seq()
	for i := range a {
		if a[i] != b[i] || a[i] < 0 || a[i] >= 1 {
			t.Fatalf("sequences %v and %v", a, b)
		}
	}
	if a[0] == a[1] && a[1] == a[2] {
		t.Fatal("constant sequence")
	}
}

func TestRegistry(t *testing.T) {
	r := Builtins()
	for _, n := range r.Names() {
		f, ok := r.Lookup(n)
		if !ok || f.Doc == "" {
			t.Errorf("%s has no documentation", n)
		}
	}
	if _, ok := r.Lookup("substr"); !ok {
		t.Error("SUBSTR synonym missing")
	}
}
