package sql_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/udf"
)

// A Go function takes and returns a MULTISET as a udf.Multiset[T], a map
// of each element to its count (Flink's Map<T, Integer>); a NULL multiset
// is a nil map.
func Example_multisetUDF() {
	sess := sql.NewSession(sql.SessionOptions{})
	// The most frequent element of a MULTISET<STRING> (the smallest of
	// those tied), NULL for a NULL or empty multiset.
	mode, err := udf.Func1(func(m udf.Multiset[string]) (*string, error) {
		var best *string
		for e, n := range m {
			if best == nil || n > m[*best] || n == m[*best] && e < *best {
				best = &e
			}
		}
		return best, nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The multiset of the lower-cased words of a string.
	bag, err := udf.Func1(func(s string) (udf.Multiset[string], error) {
		m := udf.Multiset[string]{}
		for _, w := range strings.Fields(strings.ToLower(s)) {
			m[w]++
		}
		return m, nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := sess.CreateTemporarySystemFunction("mode_of", mode); err != nil {
		fmt.Println(err)
		return
	}
	if err := sess.CreateTemporarySystemFunction("bag_of", bag); err != nil {
		fmt.Println(err)
		return
	}
	stmts, err := parser.Parse(`SELECT s, bag_of(s), mode_of(bag_of(s)) FROM (VALUES ('b A b'), ('a C c'), ('')) AS T(s)`)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, job, err := sess.Execute(stmts[0])
	if err != nil {
		fmt.Println(err)
		return
	}
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	types := job.Schema().Types()
	if err := job.Build(env, func(r row.Row) error {
		fmt.Println(row.FormatRow(r, types))
		return nil
	}); err != nil {
		fmt.Println(err)
		return
	}
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// +I[b A b, {a=1, b=2}, b]
	// +I[a C c, {a=1, c=2}, c]
	// +I[, {}, NULL]
}
