package sql

import (
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/plan"
)

// matchRecognize translates MATCH_RECOGNIZE to exec.MatchRecognize, on the
// CEP engine.
func (t *translator) matchRecognize(n *plan.MatchRecognize) (weir.Stream[row.Row], error) {
	in, err := t.stream(n.In)
	if err != nil {
		return in, err
	}
	return exec.MatchRecognize(in, t.matchSpec(n))
}

// matchSpec is the runtime spec of a MATCH_RECOGNIZE node.
func (t *translator) matchSpec(n *plan.MatchRecognize) exec.MatchSpec {
	spec := exec.MatchSpec{
		InputTypes:    plan.Types(n.In),
		PartitionKeys: n.PartitionKeys,
		TimeCol:       n.TimeCol,
		Measures:      n.Measures,
		MeasureNavs:   n.MeasureNavs,
		Skip:          exec.MatchSkip(n.Skip),
		SkipVar:       n.SkipVar,
		Within:        time.Duration(n.Within) * time.Millisecond,
		Location:      t.loc,
		UID:           t.uid("Match", describeNode(n)),
		Name:          "Match",
	}
	if n.ProcTime {
		spec.TimeCol = exec.ProcTime
	}
	for _, k := range n.OrderBy {
		spec.OrderBy = append(spec.OrderBy, exec.SortKey{Col: k.Col, Desc: k.Desc, NullsFirst: !k.NullsLast})
	}
	for _, v := range n.Vars {
		spec.Vars = append(spec.Vars, exec.MatchVar{Name: v.Name, Min: v.Min, Max: v.Max, Greedy: v.Greedy, Define: v.Define, Navs: v.Navs})
	}
	for _, nav := range n.Navs {
		spec.Navs = append(spec.Navs, exec.MatchNav{Kind: exec.MatchNavKind(nav.Kind), Var: nav.Var, Offset: nav.Offset,
			Arg: nav.Arg, Agg: nav.Agg, Distinct: nav.Distinct, T: nav.T})
	}
	return spec
}
