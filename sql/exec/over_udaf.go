package exec

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
)

// checkOverRetract refuses a user-defined aggregate without Retract in a
// bounded OVER frame (ROWS n PRECEDING, RANGE INTERVAL PRECEDING), whose
// rows leave the frame by retraction. Flink fails the same way when it
// generates the aggregate's code ("No matching retract method found for
// AggregateFunction ..."). Unbounded frames only accumulate.
func (s OverAggSpec) checkOverRetract() error {
	if s.Unbounded {
		return nil
	}
	for _, c := range s.Aggs {
		if c.Func != UserDefined || c.UDF == nil || c.UDF.CanRetract() {
			continue
		}
		types := make([]string, len(c.Args))
		for i, a := range c.Args {
			if a >= 0 && a < len(s.InputTypes) {
				t := s.InputTypes[a]
				t.TimeAttr = row.NoTimeAttr
				types[i] = t.String()
			}
		}
		return fmt.Errorf("sql/exec: OverAggregate: No matching retract method found for AggregateFunction '%s' with parameters '(%s)'; a bounded OVER window retracts the rows leaving its frame, so the function must implement Retract (udf.Retractor)", c.UDFName, strings.Join(types, ", "))
	}
	return nil
}

// apply accumulates (or retracts) r and fails naming the row when an
// accumulator refused it (a user-defined function's error or panic).
func (f *overFn) apply(r row.Row, retract bool) error {
	f.set.apply(r, retract)
	if !f.fallible {
		return nil
	}
	if err := f.set.failed(); err != nil {
		what := ""
		if retract {
			what = " (leaving the frame)"
		}
		return fmt.Errorf("sql: OverAggregate on row %s%s: %w", row.FormatRow(r, f.spec.InputTypes), what, err)
	}
	return nil
}

// values computes the aggregate results into f.vals; a failing GetValue
// fails naming the current row r.
func (f *overFn) values(r row.Row) error {
	f.vals = f.set.appendValues(f.vals[:0])
	if !f.fallible {
		return nil
	}
	if err := f.set.failed(); err != nil {
		return fmt.Errorf("sql: OverAggregate on row %s: %w", row.FormatRow(r, f.spec.InputTypes), err)
	}
	return nil
}
