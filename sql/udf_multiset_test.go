package sql_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/udf"
)

// registerMultisetTestFunctions registers the Go functions of
// testdata/udf_multiset.txt: MULTISET<T> arguments and results as
// udf.Multiset[T] (Flink's Map<T, Integer> conversion class).
func registerMultisetTestFunctions(t testing.TB, s *sql.Session) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// ms_describe(MULTISET<STRING>): the entries in element order, or
	// "nil" for a NULL multiset (a nil map: the function is called).
	describe, err := udf.Func1(func(m udf.Multiset[string]) (string, error) {
		if m == nil {
			return "nil", nil
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%s:%d", k, m[k])
		}
		b.WriteString("}")
		return b.String(), nil
	})
	must(err)
	must(s.CreateTemporarySystemFunction("ms_describe", describe))
	// ms_words(STRING): the multiset of the space-separated words; an
	// empty string gives a NULL multiset (a nil map).
	words, err := udf.Func1(func(str string) (udf.Multiset[string], error) {
		if str == "" {
			return nil, nil
		}
		m := udf.Multiset[string]{}
		for _, w := range strings.Fields(str) {
			m[w]++
		}
		return m, nil
	})
	must(err)
	must(s.CreateTemporarySystemFunction("ms_words", words))
	// ms_scale(MULTISET<BIGINT>, INT NOT NULL): every count times k; a
	// NULL k makes the call NULL without calling (a non-pointer
	// parameter), a NULL multiset gives NULL (nil in, nil out).
	scale, err := udf.Func2(func(m udf.Multiset[int64], k int32) (udf.Multiset[int64], error) {
		if m == nil {
			return nil, nil
		}
		out := make(udf.Multiset[int64], len(m))
		for e, n := range m {
			out[e] = n * int(k)
		}
		return out, nil
	})
	must(err)
	must(s.CreateTemporarySystemFunction("ms_scale", scale))
	// ms_null_elem(): a multiset holding a NULL element, as a function
	// written against row values may return one.
	must(s.CreateTemporarySystemFunction("ms_null_elem", nullElemMultiset{}))
	must(s.CreateTemporarySystemFunction("ms_entries", multisetEntries{}))
	bag, err := udf.NewAggregate[wordBagAcc](wordBag{}, nil)
	must(err)
	must(s.CreateTemporarySystemFunction("word_bag", bag))
}

// nullElemMultiset returns MULTISET<STRING> {NULL=1, a=2}.
type nullElemMultiset struct{}

func (nullElemMultiset) ParamTypes() []row.Type { return nil }
func (nullElemMultiset) ResultType([]row.Type) (row.Type, error) {
	return row.MultisetType(row.String()), nil
}
func (nullElemMultiset) Eval([]row.Value) (row.Value, error) {
	return row.Map([]row.Value{row.Null(), row.Str("a")}, []row.Value{row.Int(1), row.Int(2)}), nil
}

// multisetEntries is a table function: one row (element, count) per
// distinct element of a MULTISET<STRING>, in element order.
type multisetEntries struct{}

func (multisetEntries) ParamTypes() []row.Type {
	t, _ := udf.MultisetType[string]()
	return []row.Type{t}
}

func (multisetEntries) ResultType([]row.Type) ([]row.Field, error) {
	return []row.Field{{Name: "elem", Type: row.String()}, {Name: "n", Type: row.IntType()}}, nil
}

func (multisetEntries) Eval(args []row.Value, emit func(...row.Value)) error {
	m, err := udf.MultisetFrom[string](args[0])
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		emit(row.Str(k), row.Int(int64(m[k])))
	}
	return nil
}

// wordBag is an aggregate function returning a MULTISET<STRING>: the
// non-NULL strings with their counts (COLLECT written in Go), with
// retract and merge.
type wordBag struct{}

type wordBagAcc struct{ Counts map[string]int }

func (wordBag) ParamTypes() []row.Type { return []row.Type{row.String()} }

func (wordBag) ResultType([]row.Type) (row.Type, error) {
	t, err := udf.MultisetType[string]()
	return t.NotNull(), err
}

func (wordBag) CreateAccumulator() wordBagAcc { return wordBagAcc{Counts: map[string]int{}} }

func (wordBag) Accumulate(acc *wordBagAcc, args []row.Value) error {
	if !args[0].IsNull() {
		acc.Counts[args[0].Str()]++
	}
	return nil
}

func (wordBag) Retract(acc *wordBagAcc, args []row.Value) error {
	if !args[0].IsNull() {
		s := args[0].Str()
		if acc.Counts[s]--; acc.Counts[s] == 0 {
			delete(acc.Counts, s)
		}
	}
	return nil
}

func (wordBag) Merge(acc, other *wordBagAcc) error {
	for k, n := range other.Counts {
		acc.Counts[k] += n
	}
	return nil
}

func (wordBag) GetValue(acc *wordBagAcc) (row.Value, error) {
	return udf.MultisetValue(udf.Multiset[string](acc.Counts))
}
