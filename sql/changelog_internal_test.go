package sql

import (
	"testing"

	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/plan"
)

// TestRuntimeUpdateBefore checks which group aggregations the translator
// runs with UPDATE_BEFORE (Job.changelogs(true)): not toward a blackhole
// or an upsert sink keyed by the group key, always toward a print sink,
// a query's client, a filter on the count, or an upsert sink keyed
// otherwise.
func TestRuntimeUpdateBefore(t *testing.T) {
	sess := NewSession(SessionOptions{})
	ddl := `CREATE TABLE src (w STRING, n INT) WITH ('connector' = 'datagen');
CREATE TABLE bh (w STRING, n BIGINT) WITH ('connector' = 'blackhole');
CREATE TABLE pr (w STRING, n BIGINT) WITH ('connector' = 'print');
CREATE TABLE up_w (w STRING, n BIGINT, PRIMARY KEY (w) NOT ENFORCED) WITH ('connector' = 'upsert-kafka', 'topic' = 'cmode-up', 'properties.bootstrap.servers' = 'localhost:9092', 'key.format' = 'json', 'value.format' = 'json');
CREATE TABLE up_n (w STRING, n BIGINT, PRIMARY KEY (n) NOT ENFORCED) WITH ('connector' = 'upsert-kafka', 'topic' = 'cmode-up', 'properties.bootstrap.servers' = 'localhost:9092', 'key.format' = 'json', 'value.format' = 'json');`
	stmts, err := parser.Parse(ddl)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stmts {
		if _, _, err := sess.Execute(st); err != nil {
			t.Fatal(err)
		}
	}
	agg := " SELECT w, COUNT(*) FROM src GROUP BY w"
	for _, c := range []struct {
		stmt string
		ub   bool
	}{
		{"INSERT INTO bh" + agg, false},
		{"INSERT INTO up_w" + agg, false},
		{"INSERT INTO pr" + agg, true},
		{"INSERT INTO up_n" + agg, true},
		{"INSERT INTO bh SELECT * FROM (" + agg + ") AS t(w, n) WHERE n > 1", true},
		// A filter on the group key passes or drops all of a key's rows.
		{"INSERT INTO bh SELECT * FROM (" + agg + ") WHERE w > 'a'", false},
		{agg, true},
	} {
		st, err := parser.Parse(c.stmt)
		if err != nil {
			t.Fatal(err)
		}
		j, err := sess.plan(st[0])
		if err != nil {
			t.Fatal(err)
		}
		modes := j.changelogs(true)
		var aggs []*plan.Aggregate
		var find func(r plan.Rel)
		find = func(r plan.Rel) {
			if a, ok := r.(*plan.Aggregate); ok {
				aggs = append(aggs, a)
			}
			for _, in := range r.Inputs() {
				find(in)
			}
		}
		for _, r := range j.roots() {
			find(r)
		}
		if len(aggs) != 1 {
			t.Fatalf("%s: %d aggregations", c.stmt, len(aggs))
		}
		tr := &translator{modes: modes}
		if got := tr.updateBefore(aggs[0]); got != c.ub {
			t.Errorf("%s: aggregation emits UPDATE_BEFORE %v, want %v (mode %s)", c.stmt, got, c.ub, modes.Of(aggs[0]))
		}
	}
}
