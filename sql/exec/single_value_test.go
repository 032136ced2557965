package exec

import (
	"errors"
	"testing"

	"github.com/weirstream/weir/row"
)

// TestSingleValue checks SINGLE_VALUE against Flink's
// SingleValueAggFunction: the value after each row, or its error ("!"),
// with the accumulator encoded and decoded between rows. A failed step
// leaves the accumulator as Flink's expressions leave it (the count moves
// on), which only matters to a job that has already failed.
func TestSingleValue(t *testing.T) {
	str := row.String()
	cases := []struct {
		name string
		ops  []op
		want []string
	}{
		{"one row", []op{"+a"}, []string{"a"}},
		{"NULL row counts", []op{"+NULL", "+a"}, []string{"NULL", "!"}},
		{"second row fails", []op{"+a", "+b"}, []string{"a", "!"}},
		{"update: retract then accumulate", []op{"+a", "-a", "+b", "-b", "+c"}, []string{"a", "NULL", "b", "NULL", "c"}},
		{"retract before accumulate", []op{"-a", "+b", "+c"}, []string{"NULL", "b", "c"}},
		{"retract of two rows fails", []op{"-a", "-a"}, []string{"NULL", "!"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, err := newAggSet([]AggCall{Call(SingleValue, 0)}, []row.Type{str}, true)
			if err != nil {
				t.Fatal(err)
			}
			if !set.canFail() {
				t.Fatal("canFail is false")
			}
			for i, o := range c.ops {
				r := parseOp(t, o, []row.Type{str})
				set.apply(r, r.Kind.IsRetract())
				got := row.Format(set.appendValues(nil)[0], str)
				if err := set.failed(); err != nil {
					if !errors.Is(err, ErrSingleValue) {
						t.Fatalf("after %v: error %v", c.ops[:i+1], err)
					}
					got = "!"
				}
				if got != c.want[i] {
					t.Fatalf("after %v: got %s, want %s", c.ops[:i+1], got, c.want[i])
				}
				if err := set.decode(set.encode()); err != nil {
					t.Fatalf("step %d: decode: %v", i, err)
				}
			}
		})
	}
}

// TestSingleValueMerge checks the merge of two SINGLE_VALUE accumulators
// (the global phase of a two-phase aggregation) against Flink's
// mergeExpressions.
func TestSingleValueMerge(t *testing.T) {
	str := row.String()
	cases := []struct {
		name string
		a, b []op
		want string
	}{
		{"empty and one", nil, []op{"+x"}, "x"},
		{"one and empty", []op{"+x"}, nil, "x"},
		{"one and a retracted row", []op{"+x"}, []op{"+y", "-y"}, "x"},
		{"one and one", []op{"+x"}, []op{"+y"}, "!"},
		{"one and its retraction", []op{"+x"}, []op{"-x"}, "NULL"},
		{"a retraction and a row", []op{"-x"}, []op{"+y"}, "y"},
		{"a retracted row and a new one", []op{"+x", "-x"}, []op{"+y"}, "y"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var sets [2]*aggSet
			for i, ops := range [][]op{c.a, c.b} {
				s, err := newAggSet([]AggCall{Call(SingleValue, 0)}, []row.Type{str}, true)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range ops {
					r := parseOp(t, o, []row.Type{str})
					s.apply(r, r.Kind.IsRetract())
				}
				if err := s.failed(); err != nil {
					t.Fatal(err)
				}
				sets[i] = s
			}
			sets[0].merge(sets[1])
			got := row.Format(sets[0].appendValues(nil)[0], str)
			if err := sets[0].failed(); err != nil {
				got = "!"
			}
			if got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}
