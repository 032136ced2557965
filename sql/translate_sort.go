package sql

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/plan"
)

// temporalSort runs ORDER BY time ASC (exec.TemporalSort).
func (t *translator) temporalSort(n *plan.TemporalSort) (weir.Stream[row.Row], error) {
	in, err := t.stream(n.In)
	if err != nil {
		return in, err
	}
	types := plan.Types(n.In)
	tc := n.Keys[0].Col
	if types[tc].TimeAttr == row.Proctime {
		tc = exec.ProcTime
	}
	var then []exec.OrderKey
	for _, k := range n.Keys[1:] {
		then = append(then, exec.OrderKey{Col: k.Col, Desc: k.Desc, NullsLast: k.NullsLast})
	}
	return exec.TemporalSort(in, exec.TemporalSortSpec{Types: types, TimeCol: tc, Then: then,
		UID: t.uid("TemporalSort", describeNode(n)), Name: "TemporalSort"})
}

// batchSort runs a batch query's ORDER BY (exec.BatchSort) over its
// input's final table (exec.Final) when the input updates.
func (t *translator) batchSort(n *plan.Sort) (weir.Stream[row.Row], error) {
	in, err := t.stream(n.In)
	if err != nil {
		return in, err
	}
	types := plan.Types(n.In)
	if n.In.Mode() != plan.InsertOnly {
		in, err = exec.Final(in, exec.FinalSpec{Types: types, UID: t.uid("Final", describeNode(n.In))})
		if err != nil {
			return in, err
		}
	}
	keys := make([]exec.OrderKey, len(n.Keys))
	for i, k := range n.Keys {
		keys[i] = exec.OrderKey{Col: k.Col, Desc: k.Desc, NullsLast: k.NullsLast}
	}
	return exec.BatchSort(in, exec.BatchSortSpec{Types: types, Keys: keys, Offset: n.Offset,
		UID: t.uid("Sort", describeNode(n)), Name: "Sort"})
}
