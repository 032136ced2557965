package exec

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
)

// op is one input row for an accumulator test: "+5" accumulates 5, "-5"
// retracts it, "+NULL" accumulates NULL; several arguments are separated
// by "|" ("+a|;").
type op string

// TestAccumulators feeds each call a sequence of rows and checks the
// value after every one. After every step the accumulators are encoded
// and decoded again (as between two records of a key), so the encoding
// is checked along.
func TestAccumulators(t *testing.T) {
	bigint, integer, str := row.BigInt(), row.IntType(), row.String()
	dec := row.DecimalType(10, 2)
	cases := []struct {
		name       string
		call       AggCall
		in         []row.Type
		insertOnly bool
		ops        []op
		want       []string // the value after each op
	}{
		{"count star counts NULL rows", AggCall{Func: CountStar}, []row.Type{bigint}, false,
			[]op{"+1", "+NULL", "-1", "-NULL"}, []string{"1", "2", "1", "0"}},
		{"count skips NULL", AggCall{Func: Count, Args: []int{0}}, []row.Type{bigint}, false,
			[]op{"+1", "+NULL", "+2", "-1"}, []string{"1", "1", "2", "1"}},
		{"count of two args needs both", AggCall{Func: Count, Args: []int{0, 1}}, []row.Type{bigint, bigint}, false,
			[]op{"+1|NULL", "+1|2", "+NULL|2"}, []string{"0", "1", "1"}},
		{"sum retracted to empty is NULL", AggCall{Func: Sum, Args: []int{0}}, []row.Type{bigint}, false,
			[]op{"+NULL", "+5", "+7", "-5", "-7"}, []string{"NULL", "5", "12", "7", "NULL"}},
		{"sum0 retracted to empty is 0", AggCall{Func: Sum0, Args: []int{0}}, []row.Type{bigint}, false,
			[]op{"+NULL", "+5", "-5"}, []string{"0", "5", "0"}},
		{"sum bigint wraps", AggCall{Func: Sum, Args: []int{0}}, []row.Type{bigint}, false,
			[]op{"+9223372036854775807", "+1"}, []string{"9223372036854775807", "-9223372036854775808"}},
		{"sum smallint wraps", AggCall{Func: Sum, Args: []int{0}}, []row.Type{row.SmallInt()}, false,
			[]op{"+32767", "+2", "-2"}, []string{"32767", "-32767", "32767"}},
		{"sum decimal", AggCall{Func: Sum, Args: []int{0}}, []row.Type{dec}, false,
			[]op{"+1.25", "+-0.50", "-1.25"}, []string{"1.25", "0.75", "-0.50"}},
		{"sum double", AggCall{Func: Sum, Args: []int{0}}, []row.Type{row.Double()}, false,
			[]op{"+0.5", "+0.25"}, []string{"0.5", "0.75"}},
		{"avg int truncates", AggCall{Func: Avg, Args: []int{0}}, []row.Type{integer}, false,
			[]op{"+1", "+2", "+-7", "-1"}, []string{"1", "1", "-1", "-2"}},
		{"avg tinyint sums beyond its range", AggCall{Func: Avg, Args: []int{0}}, []row.Type{row.TinyInt()}, false,
			[]op{"+100", "+100"}, []string{"100", "100"}},
		{"avg decimal", AggCall{Func: Avg, Args: []int{0}}, []row.Type{dec}, false,
			[]op{"+1.00", "+0.01", "+0.01", "-1.00", "-0.01", "-0.01"},
			[]string{"1.000000", "0.505000", "0.340000", "0.010000", "0.010000", "NULL"}},
		{"avg rounds half up", AggCall{Func: Avg, Args: []int{0}}, []row.Type{row.DecimalType(5, 0)}, false,
			[]op{"+2", "+0", "+0"}, []string{"2.000000", "1.000000", "0.666667"}},
		{"max retract current extreme", AggCall{Func: Max, Args: []int{0}}, []row.Type{bigint}, false,
			[]op{"+3", "+9", "+9", "-9", "-9", "-3"}, []string{"3", "9", "9", "9", "3", "NULL"}},
		{"min retract before accumulate", AggCall{Func: Min, Args: []int{0}}, []row.Type{bigint}, false,
			[]op{"-1", "+5", "+1", "+1"}, []string{"NULL", "5", "5", "1"}},
		{"min of strings", AggCall{Func: Min, Args: []int{0}}, []row.Type{str}, false,
			[]op{"+b", "+a", "+NULL", "-a"}, []string{"b", "a", "a", "b"}},
		{"max append-only", AggCall{Func: Max, Args: []int{0}}, []row.Type{bigint}, true,
			[]op{"+3", "+NULL", "+9", "+1"}, []string{"3", "3", "9", "9"}},
		{"first_value retract", AggCall{Func: FirstValue, Args: []int{0}}, []row.Type{str}, false,
			[]op{"+NULL", "+x", "+y", "+x", "-x", "-y"}, []string{"NULL", "x", "x", "x", "y", "x"}},
		{"last_value retract", AggCall{Func: LastValue, Args: []int{0}}, []row.Type{str}, false,
			[]op{"+x", "+y", "+x", "-x", "-x", "-y"}, []string{"x", "y", "x", "x", "y", "NULL"}},
		{"listagg", AggCall{Func: ListAgg, Args: []int{0}}, []row.Type{str}, false,
			[]op{"+a", "+NULL", "+b", "+a", "-a", "-z"}, []string{"a", "a", "a,b", "a,b,a", "b,a", "b,a"}},
		{"listagg separator", AggCall{Func: ListAgg, Args: []int{0, 1}}, []row.Type{str, str}, false,
			[]op{"+a|;", "+b|;", "+c|NULL"}, []string{"a", "a;b", "a;b;c"}},
		{"count distinct", AggCall{Func: Count, Args: []int{0}, Distinct: true}, []row.Type{bigint}, false,
			[]op{"+1", "+1", "+2", "+NULL", "-1", "-1", "-7"}, []string{"1", "1", "2", "2", "2", "1", "1"}},
		{"sum distinct", AggCall{Func: Sum, Args: []int{0}, Distinct: true}, []row.Type{bigint}, false,
			[]op{"+1", "+1", "+2", "-1", "-2"}, []string{"1", "1", "3", "3", "1"}},
		{"listagg distinct", AggCall{Func: ListAgg, Args: []int{0}, Distinct: true}, []row.Type{str}, false,
			[]op{"+a", "+b", "+a", "-a", "-a"}, []string{"a", "a,b", "a,b", "a,b", "b"}},
		{"max distinct", AggCall{Func: Max, Args: []int{0}, Distinct: true}, []row.Type{bigint}, false,
			[]op{"+4", "+4", "-4", "-4"}, []string{"4", "4", "4", "NULL"}},
		{"filter", AggCall{Func: Sum, Args: []int{0}, Filter: 1}, []row.Type{bigint, row.Boolean()}, false,
			[]op{"+1|TRUE", "+2|FALSE", "+4|NULL", "+8|TRUE", "-1|TRUE", "-8|FALSE"},
			[]string{"1", "1", "1", "9", "8", "8"}},
		{"count distinct filter", AggCall{Func: Count, Args: []int{0}, Distinct: true, Filter: 1}, []row.Type{bigint, row.Boolean()}, false,
			[]op{"+1|FALSE", "+1|TRUE", "+1|TRUE", "-1|TRUE"}, []string{"0", "1", "1", "1"}},
	}
	for _, c := range cases {
		for _, view := range []bool{false, true} {
			if view && !c.call.Distinct {
				continue
			}
			name := c.name
			if view {
				name += " (map state view)"
			}
			t.Run(name, func(t *testing.T) { testAccumulator(t, c.call, c.in, c.insertOnly, view, c.ops, c.want) })
		}
	}
}

// memView is a distinctView over a Go map (the operators use map state).
type memView map[string]int64

func (m memView) get(k string) (int64, bool) { n, ok := m[k]; return n, ok }
func (m memView) put(k string, n int64)      { m[k] = n }
func (m memView) remove(k string)            { delete(m, k) }

// testAccumulator applies ops to a set of the one call and checks its
// value after each; view keeps DISTINCT multisets in a map view.
func testAccumulator(t *testing.T, call AggCall, in []row.Type, insertOnly, view bool, ops []op, want []string) {
	if !strings.Contains(t.Name(), "filter") { // the filter cases use column 1
		call.Filter = NoFilter
	}
	set, err := newAggSet([]AggCall{call}, in, !insertOnly)
	if err != nil {
		t.Fatal(err)
	}
	if view {
		set.useDistinctView(memView{})
		set.setNamespace([]byte("ns"))
	}
	res := set.calls[0].res
	for i, o := range ops {
		r := parseOp(t, o, in)
		set.apply(r, r.Kind.IsRetract())
		// Round trip through the encoding.
		enc := set.encode()
		if err := set.decode(enc); err != nil {
			t.Fatalf("step %d: decode: %v", i, err)
		}
		if again := set.encode(); again != enc && !hasMap(call) {
			t.Fatalf("step %d: encoding changed by a round trip", i)
		}
		if got := row.Format(set.appendValues(nil)[0], res); got != want[i] {
			t.Fatalf("after %v: got %s, want %s", ops[:i+1], got, want[i])
		}
	}
}

// hasMap reports whether the call's encoding lists a Go map (whose order
// varies).
func hasMap(c AggCall) bool { return c.Distinct || c.Func == Min || c.Func == Max }

func parseOp(t *testing.T, o op, types []row.Type) row.Row {
	t.Helper()
	k := row.Insert
	if o[0] == '-' {
		k = row.UpdateBefore
	}
	parts := strings.Split(string(o[1:]), "|")
	r := row.Row{Kind: k, Fields: make([]row.Value, len(types))}
	for i, p := range parts {
		v, err := parseValue(p, types[i])
		if err != nil {
			t.Fatal(err)
		}
		r.Fields[i] = v
	}
	return r
}

// TestMerge checks that merging the accumulators of two halves of the
// input gives what accumulating all of it gives (SESSION windows merge).
func TestMerge(t *testing.T) {
	bigint, str := row.BigInt(), row.String()
	in := []row.Type{bigint, str}
	calls := []AggCall{
		{Func: CountStar, Filter: NoFilter},
		{Func: Count, Args: []int{0}, Filter: NoFilter},
		{Func: Sum, Args: []int{0}, Filter: NoFilter},
		{Func: Avg, Args: []int{0}, Filter: NoFilter},
		{Func: Min, Args: []int{0}, Filter: NoFilter},
		{Func: Max, Args: []int{1}, Filter: NoFilter},
		{Func: ListAgg, Args: []int{1}, Filter: NoFilter},
		{Func: Count, Args: []int{0}, Distinct: true, Filter: NoFilter},
		{Func: Sum, Args: []int{0}, Distinct: true, Filter: NoFilter},
	}
	rows := []op{"+5|a", "+NULL|b", "+7|c", "+5|a", "+-2|NULL", "+7|d"}
	for split := 0; split <= len(rows); split++ {
		for _, retracting := range []bool{false, true} {
			all, _ := newAggSet(calls, in, retracting)
			a, _ := newAggSet(calls, in, retracting)
			b, _ := newAggSet(calls, in, retracting)
			for i, o := range rows {
				r := parseOp(t, o, in)
				all.apply(r, false)
				if i < split {
					a.apply(r, false)
				} else {
					b.apply(r, false)
				}
			}
			a.merge(b)
			want := row.FormatRow(row.Row{Fields: all.appendValues(nil)}, all.resultTypes())
			got := row.FormatRow(row.Row{Fields: a.appendValues(nil)}, a.resultTypes())
			if got != want {
				t.Errorf("split %d retracting %v: merged %s, want %s", split, retracting, got, want)
			}
			if all.rows != a.rows {
				t.Errorf("split %d: rows %d, want %d", split, a.rows, all.rows)
			}
		}
	}
}

// TestCallString checks the constructors and the printed form.
func TestCallString(t *testing.T) {
	for _, c := range []struct {
		call AggCall
		want string
	}{
		{Call(CountStar), "COUNT(*)"},
		{Call(Sum, 1).WithDistinct().WithFilter(3), "SUM(DISTINCT $1) FILTER $3"},
		{Call(ListAgg, 2, 4), "LISTAGG($2, $4)"},
	} {
		if got := c.call.String(); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
}

// TestResultType checks the result types against Flink's.
func TestResultType(t *testing.T) {
	cases := []struct {
		f    Func
		args []row.Type
		want string
	}{
		{CountStar, nil, "BIGINT NOT NULL"},
		{Count, []row.Type{row.String()}, "BIGINT NOT NULL"},
		{Sum, []row.Type{row.TinyInt().NotNull()}, "TINYINT"},
		{Sum, []row.Type{row.IntType()}, "INT"},
		{Sum, []row.Type{row.BigInt()}, "BIGINT"},
		{Sum, []row.Type{row.FloatType()}, "FLOAT"},
		{Sum, []row.Type{row.DecimalType(10, 2)}, "DECIMAL(38, 2)"},
		{Sum0, []row.Type{row.IntType()}, "INT NOT NULL"},
		{Avg, []row.Type{row.SmallInt()}, "SMALLINT"},
		{Avg, []row.Type{row.Double()}, "DOUBLE"},
		{Avg, []row.Type{row.DecimalType(10, 2)}, "DECIMAL(38, 6)"},
		{Avg, []row.Type{row.DecimalType(30, 10)}, "DECIMAL(38, 10)"},
		{Max, []row.Type{row.String().NotNull()}, "STRING"},
		{Min, []row.Type{row.TimestampType(3).NotNull()}, "TIMESTAMP(3)"},
		{FirstValue, []row.Type{row.IntType()}, "INT"},
		{ListAgg, []row.Type{row.VarChar(10)}, "STRING"},
		{ListAgg, []row.Type{row.String(), row.String()}, "STRING"},
	}
	for _, c := range cases {
		got, err := ResultType(c.f, false, c.args)
		if err != nil {
			t.Errorf("%v%v: %v", c.f, c.args, err)
			continue
		}
		if got.String() != c.want {
			t.Errorf("%v%v = %v, want %s", c.f, c.args, got, c.want)
		}
	}
	for _, bad := range []struct {
		f    Func
		args []row.Type
	}{
		{Sum, []row.Type{row.String()}},
		{Avg, []row.Type{row.Boolean()}},
		{Sum, nil},
		{ListAgg, []row.Type{row.IntType()}},
		{Max, []row.Type{row.ArrayType(row.IntType())}},
		{CountStar, []row.Type{row.IntType()}},
	} {
		if _, err := ResultType(bad.f, false, bad.args); err == nil {
			t.Errorf("%v%v: no error", bad.f, bad.args)
		}
	}
}

// FuzzAccumulatorDecode checks that decoding arbitrary bytes as
// accumulators fails cleanly instead of panicking.
func FuzzAccumulatorDecode(f *testing.F) {
	in := []row.Type{row.BigInt(), row.String(), row.DecimalType(30, 2)}
	calls := []AggCall{
		{Func: CountStar, Filter: NoFilter},
		{Func: Sum, Args: []int{2}, Filter: NoFilter},
		{Func: Max, Args: []int{1}, Filter: NoFilter},
		{Func: LastValue, Args: []int{0}, Filter: NoFilter},
		{Func: ListAgg, Args: []int{1}, Filter: NoFilter},
		{Func: Count, Args: []int{0, 1}, Distinct: true, Filter: NoFilter},
	}
	set, err := newAggSet(calls, in, true)
	if err != nil {
		f.Fatal(err)
	}
	v, _ := row.ParseDecimal("12.5", in[2])
	set.apply(row.Of(row.Int(1), row.Str("x"), v), false)
	f.Add([]byte(set.encode()))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, _ := newAggSet(calls, in, true)
		if _, err := s.decodeBytes(b); err != nil {
			return
		}
		s.appendValues(nil)
	})
}

// TestScalarKeyMatchesAppendKey checks the fast key encoding against
// row.AppendKey, whose format decodeKey reads.
func TestScalarKeyMatchesAppendKey(t *testing.T) {
	types := []row.Type{row.Boolean(), row.IntType(), row.Double(), row.String(), row.TimestampType(9),
		row.TimestampLTZType(3), row.DecimalType(10, 2), row.DateType(), row.BytesType()}
	d, _ := row.ParseDecimal("-12.34", types[6])
	rows := []row.Row{
		row.Of(row.Bool(true), row.Int(-5), row.Float(-0.0), row.Str("héllo"), row.Timestamp(-1, 999),
			row.Timestamp(1700000000000, 0), d, row.Int(19000), row.Bytes([]byte{0, 1})),
		row.Of(make([]row.Value, len(types))...),
	}
	keys := []int{8, 0, 1, 2, 3, 4, 5, 6, 7}
	kt := keyTypes(types, keys)
	for _, r := range rows {
		want := string(row.AppendKey(nil, r, keys, kt))
		if got := keySelector(types, keys)(r); got != want {
			t.Fatalf("key %q, want %q", got, want)
		}
		vals, err := decodeKey(nil, want, kt)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			if row.Compare(vals[i], r.Fields[k], kt[i]) != 0 || vals[i].IsNull() != r.Fields[k].IsNull() {
				t.Fatalf("decoded key field %d = %v, want %v", i, row.Format(vals[i], kt[i]), row.Format(r.Fields[k], kt[i]))
			}
		}
	}
}
