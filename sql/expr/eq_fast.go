package expr

import (
	"fmt"

	"github.com/weirstream/weir/row"
)

// compileRefEqualsInt compiles =($i, k) (either order) of an integer
// column and a non-NULL integer literal of the same type root as one
// closure reading the column (a filter such as event_type = 2): the same
// result as the general comparison, NULL for a NULL column. It reports
// false for any other call.
func compileRefEqualsInt(n *Call) (Evaluator, bool) {
	if n.Func == nil || n.Func.Name != "=" || len(n.Args) != 2 {
		return nil, false
	}
	r, ok := n.Args[0].(*InputRef)
	l, ok2 := n.Args[1].(*Literal)
	if !ok || !ok2 {
		r, ok = n.Args[1].(*InputRef)
		l, ok2 = n.Args[0].(*Literal)
	}
	if !ok || !ok2 || r.Index < 0 || l.Value.IsNull() || l.T.Root != r.T.Root {
		return nil, false
	}
	switch l.T.Root {
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
	default:
		return nil, false
	}
	i, k := r.Index, l.Value.Int()
	return func(_ *EvalContext, in []row.Value) (row.Value, error) {
		if i >= len(in) {
			return row.Value{}, fmt.Errorf("expr: input reference $%d out of range (row has %d fields)", i, len(in))
		}
		v := in[i]
		if v.IsNull() {
			return row.Value{}, nil
		}
		return row.Bool(v.Int() == k), nil
	}, true
}
