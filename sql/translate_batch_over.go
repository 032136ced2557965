package sql

import (
	"fmt"
	"os"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/plan"
)

// batchOverAggregate runs the OVER windows of the batch mode: one
// exec.BatchOver per window, each appending its calls' columns, over the
// input's final table (exec.Final) when the input updates.
func (t *translator) batchOverAggregate(n *plan.BatchOverAggregate) (weir.Stream[row.Row], error) {
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
	for wi, w := range n.Windows {
		spec := exec.BatchOverSpec{Types: append([]row.Type(nil), types...), PartitionKeys: w.PartitionKeys, Name: "OverAggregate",
			UID:          t.uid("OverAggregate", fmt.Sprintf("%s#%d", describeNode(n), wi)),
			MemoryBudget: t.cfg.MemorySize("table.exec.resource.external-buffer-memory"),
			SpillDirs:    tmpDirs(t.cfg.Get("io.tmp.dirs"))}
		for _, k := range w.OrderBy {
			spec.OrderBy = append(spec.OrderBy, exec.OrderKey{Col: k.Col, Desc: k.Desc, NullsLast: k.NullsLast})
		}
		for _, c := range w.Calls {
			call, err := batchOverCall(c)
			if err != nil {
				return in, err
			}
			spec.Calls = append(spec.Calls, call)
			types = append(types, c.Agg.Type)
		}
		if in, err = exec.BatchOver(in, spec); err != nil {
			return in, err
		}
	}
	return in, nil
}

var batchOverFuncs = map[string]exec.BatchOverFunc{
	"ROW_NUMBER":   exec.OverRowNumber,
	"RANK":         exec.OverRank,
	"DENSE_RANK":   exec.OverDenseRank,
	"PERCENT_RANK": exec.OverPercentRank,
	"CUME_DIST":    exec.OverCumeDist,
	"NTILE":        exec.OverNtile,
	"LEAD":         exec.OverLead,
	"LAG":          exec.OverLag,
}

var batchBoundKinds = map[ast.BoundKind]exec.BoundKind{
	ast.UnboundedPreceding: exec.BoundUnboundedPreceding,
	ast.Preceding:          exec.BoundPreceding,
	ast.CurrentRow:         exec.BoundCurrentRow,
	ast.Following:          exec.BoundFollowing,
	ast.UnboundedFollowing: exec.BoundUnboundedFollowing,
}

func batchOverCall(c plan.BatchOverCall) (exec.BatchOverCall, error) {
	out := exec.BatchOverCall{Offset: c.Offset, Default: c.Default, Arg: -1}
	if f, ok := batchOverFuncs[c.Agg.Func]; ok && c.Agg.UDF == nil {
		out.Func = f
		if len(c.Agg.Args) > 0 {
			out.Arg = c.Agg.Args[0]
		}
		return out, nil
	}
	agg, err := aggFunc(c.Agg)
	if err != nil {
		return out, err
	}
	out.Func, out.Agg, out.Rows = exec.OverAgg, agg, c.Rows
	out.Start = exec.FrameBound{Kind: batchBoundKinds[c.Start.Kind], Rows: c.Start.Rows, Range: c.Start.Range, RangeType: c.Start.RangeType}
	out.End = exec.FrameBound{Kind: batchBoundKinds[c.End.Kind], Rows: c.End.Rows, Range: c.End.Range, RangeType: c.End.RangeType}
	return out, nil
}

// tmpDirs splits io.tmp.dirs as Flink does: at ',', '|' or the system's
// path list separator (':' on Unix, ';' on Windows).
func tmpDirs(v string) []string {
	var dirs []string
	for _, d := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '|' || r == os.PathListSeparator }) {
		if d = strings.TrimSpace(d); d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}
