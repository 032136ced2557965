package plan

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
)

// This file prints plans in the shape of Flink's EXPLAIN: the abstract
// syntax tree (the bound plan before the planner's rules, with Calcite's
// Logical* node names), the optimized physical plan (Weir's nodes with
// the Exchange each keyed input crosses, changelog modes on request) and
// the optimized execution plan. Explain (rel.go) stays as it is: operator
// uids derive from its first line.

// ExplainAST prints roots (one per sink or query, before Optimize) as
// Flink's "== Abstract Syntax Tree ==" section prints Calcite's logical
// plan: LogicalSink, LogicalProject, LogicalFilter, LogicalAggregate,
// LogicalJoin, LogicalCorrelate, LogicalUnion, LogicalValues,
// LogicalTableScan, LogicalTableFunctionScan; nodes Weir binds directly
// to a physical operator (window aggregation, Top-N, interval and window
// joins) print as Logical<name> with their physical attributes.
func ExplainAST(roots []Rel) string {
	var parts []string
	for _, r := range roots {
		var b strings.Builder
		explainLogical(&b, r, "", "")
		parts = append(parts, b.String())
	}
	return strings.Join(parts, "\n")
}

type logicalNode struct {
	name  string
	attrs []string
	ins   []any // Rel or *logicalNode
}

func logicalOf(r Rel) *logicalNode {
	switch n := r.(type) {
	case *Scan:
		return &logicalNode{name: "LogicalTableScan", attrs: []string{"table=[[" + strings.Join(n.Table.Path(), ", ") + "]]"}}
	case *Sink:
		return &logicalNode{name: "LogicalSink", attrs: []string{"table=[" + strings.Join(n.Table.Path(), ".") + "]", "fields=[" + names(n.In.Columns()) + "]"}, ins: []any{n.In}}
	case *Calc:
		proj := make([]string, len(n.Projects))
		for i, p := range n.Projects {
			proj[i] = n.Cols[i].Name + "=[" + p.String() + "]"
		}
		var in any = n.In
		if n.Cond != nil {
			in = &logicalNode{name: "LogicalFilter", attrs: []string{"condition=[" + n.Cond.String() + "]"}, ins: []any{n.In}}
		}
		return &logicalNode{name: "LogicalProject", attrs: proj, ins: []any{in}}
	case *Aggregate:
		keys := make([]string, len(n.Keys))
		for i, k := range n.Keys {
			keys[i] = strconv.Itoa(k)
		}
		attrs := []string{"group=[{" + strings.Join(keys, ", ") + "}]"}
		for _, a := range n.Aggs {
			attrs = append(attrs, a.Name+"=["+logicalAgg(a)+"]")
		}
		return &logicalNode{name: "LogicalAggregate", attrs: attrs, ins: []any{n.In}}
	case *Union:
		ins := make([]any, len(n.Ins))
		for i, x := range n.Ins {
			ins[i] = x
		}
		return &logicalNode{name: "LogicalUnion", attrs: []string{"all=[true]"}, ins: ins}
	case *Values:
		_, attrs := n.describe()
		return &logicalNode{name: "LogicalValues", attrs: attrs[:1]}
	case *Join:
		cond := "true"
		if len(n.LeftKeys) > 0 || n.Residual != nil {
			cond = strings.TrimSuffix(strings.TrimPrefix(n.joinAttrs()[1], "where=["), "]")
		}
		return &logicalNode{name: "LogicalJoin", attrs: []string{"condition=[" + cond + "]", "joinType=[" + [...]string{"inner", "left", "right", "full"}[n.Type] + "]"}, ins: []any{n.Left, n.Right}}
	case *Correlate:
		jt := "inner"
		if n.Left {
			jt = "left"
		}
		fn := &logicalNode{name: "LogicalTableFunctionScan", attrs: []string{"invocation=[" + n.Gen.invocation(n.In.Columns()) + "]", "rowType=[" + rowType(n.Gen.Cols) + "]"}}
		return &logicalNode{name: "LogicalCorrelate", attrs: []string{"correlation=[$cor0]", "joinType=[" + jt + "]"}, ins: []any{n.In, fn}}
	case *WindowTVF:
		return &logicalNode{name: "LogicalTableFunctionScan", attrs: []string{"invocation=[" + n.Window.describe(n.In.Columns()) + "]", "rowType=[" + rowType(n.Cols) + "]"}, ins: []any{n.In}}
	}
	name, attrs := r.describe()
	var ins []any
	for _, x := range r.Inputs() {
		ins = append(ins, x)
	}
	return &logicalNode{name: "Logical" + name, attrs: attrs, ins: ins}
}

func logicalAgg(a AggCall) string {
	var b strings.Builder
	b.WriteString(a.Func + "(")
	if a.Distinct {
		b.WriteString("DISTINCT ")
	}
	for i, x := range a.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(x))
	}
	if a.IgnoreNulls {
		b.WriteString(" IGNORE NULLS")
	}
	b.WriteString(")")
	return b.String()
}

func rowType(cols []Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Type.String() + " " + c.Name
	}
	return "RecordType(" + strings.Join(parts, ", ") + ")"
}

func explainLogical(b *strings.Builder, x any, first, rest string) {
	n, ok := x.(*logicalNode)
	if !ok {
		n = logicalOf(x.(Rel))
	}
	b.WriteString(first + n.name + "(" + strings.Join(n.attrs, ", ") + ")\n")
	for i, in := range n.ins {
		if i == len(n.ins)-1 {
			explainLogical(b, in, rest+"+- ", rest+"   ")
		} else {
			explainLogical(b, in, rest+":- ", rest+":  ")
		}
	}
}

// physNode is a node of the physical plan as printed: a Rel, an Exchange
// in front of one of its inputs, or Flink's DropUpdateBefore over a
// changelog source.
type physNode struct {
	name  string
	attrs []string
	mode  Changelog
	ins   []*physNode
	// source marks a node without inputs (a scan or values).
	source bool
	// rel is the plan node printed (nil for an Exchange).
	rel Rel
	// hash marks an Exchange that partitions by key; single one that
	// sends everything to one subtask.
	hash, single bool
}

// physical builds the printed physical plan of r: Weir's nodes, with an
// Exchange in front of every input that a keyed operator partitions
// (Flink's Exchange(distribution=[hash[..]]) or [single]), each with its
// mode in modes (nil: coarse modes); with modes, a DropUpdateBefore
// where the inference put one.
//
// twoPhase, when set, says which Aggregates run in two phases: those are
// printed as GlobalGroupAggregate <- Exchange <- LocalGroupAggregate;
// winTwoPhase likewise for WindowAggregates (GlobalWindowAggregate <-
// Exchange <- LocalWindowAggregate).
func physical(r Rel, modes *Changelogs, twoPhase func(*Aggregate) bool, winTwoPhase func(*WindowAggregate) bool) *physNode {
	name, attrs := r.describe()
	p := &physNode{name: name, attrs: attrs, mode: modes.Of(r), source: len(r.Inputs()) == 0, rel: r}
	for i, in := range r.Inputs() {
		c := physical(in, modes, twoPhase, winTwoPhase)
		if modes.DropUpdateBefore(r, i) {
			c = &physNode{name: "DropUpdateBefore", mode: c.mode &^ (1 << row.UpdateBefore), ins: []*physNode{c}}
		}
		if a, ok := r.(*Aggregate); ok && twoPhase != nil && twoPhase(a) {
			return a.twoPhaseNodes(c, p.mode)
		}
		if w, ok := r.(*WindowAggregate); ok && winTwoPhase != nil && winTwoPhase(w) {
			return w.twoPhaseNodes(c, p.mode)
		}
		if keys, keyed := inputKeys(r, i); keyed {
			ex := &physNode{name: "Exchange", mode: c.mode, ins: []*physNode{c}}
			if len(keys) == 0 {
				ex.attrs, ex.single = []string{"distribution=[single]"}, true
			} else {
				cols := in.Columns()
				ks := make([]string, len(keys))
				for j, k := range keys {
					ks[j] = cols[k].Name
				}
				ex.attrs, ex.hash = []string{"distribution=[hash[" + strings.Join(ks, ", ") + "]]"}, true
			}
			c = ex
		}
		p.ins = append(p.ins, c)
	}
	return p
}

// inputKeys returns the key columns by which r partitions its input i,
// and false when r does not repartition it.
func inputKeys(r Rel, i int) ([]int, bool) {
	switch n := r.(type) {
	case *Aggregate:
		return n.Keys, true
	case *WindowAggregate:
		return n.Keys, true
	case *Rank:
		return n.PartitionKeys, true
	case *Sort:
		// On one subtask; over a Top-N without partition keys the rows
		// are there already.
		if rk, ok := n.In.(*Rank); ok && len(rk.PartitionKeys) == 0 {
			return nil, false
		}
		return nil, true
	case *Join:
		return sideKeys(&n.joinCommon, i), true
	case *IntervalJoin:
		return sideKeys(&n.joinCommon, i), true
	case *WindowJoin:
		return sideKeys(&n.joinCommon, i), true
	}
	return nil, false
}

func sideKeys(j *joinCommon, i int) []int {
	if i == 0 {
		return j.LeftKeys
	}
	return j.RightKeys
}

func printPhys(b *strings.Builder, p *physNode, changelog bool, first, rest string) {
	attrs := p.attrs
	if changelog {
		attrs = append(append([]string(nil), attrs...), "changelogMode=["+p.mode.String()+"]")
	}
	b.WriteString(first + p.name + "(" + strings.Join(attrs, ", ") + ")\n")
	for i, in := range p.ins {
		if i == len(p.ins)-1 {
			printPhys(b, in, changelog, rest+"+- ", rest+"   ")
		} else {
			printPhys(b, in, changelog, rest+":- ", rest+":  ")
		}
	}
}

// ExplainPhysical prints roots (after Optimize) as Flink's "== Optimized
// Physical Plan ==" section. With modes (EXPLAIN CHANGELOG_MODE, see
// InferChangelogs) each node ends with its changelogMode=[..] in Flink's
// format (a sink's is NONE), and Flink's DropUpdateBefore stands where
// a changelog source's UPDATE_BEFORE rows are not needed.
func ExplainPhysical(roots []Rel, modes *Changelogs) string {
	return ExplainPhysicalWith(roots, PhysicalOptions{Modes: modes})
}

// ExplainExecution prints roots (after Optimize) as Flink's "==
// Optimized Execution Plan ==" section: the operators that run, one tree
// per sink or query. (Weir runs no DropUpdateBefore operator: the
// consumer ignores the UPDATE_BEFORE rows, see docs/sql.md.)
func ExplainExecution(roots []Rel) string {
	var parts []string
	for _, r := range roots {
		var b strings.Builder
		printPhys(&b, physical(r, nil, nil, nil), false, "", "")
		parts = append(parts, b.String())
	}
	return strings.Join(parts, "\n")
}

// jsonNode and jsonEdge are the shape of Flink's JSON execution plan
// (StreamGraph's JSON: nodes with their predecessors).
type jsonNode struct {
	ID           int        `json:"id"`
	Type         string     `json:"type"`
	Pact         string     `json:"pact"`
	Contents     string     `json:"contents"`
	Parallelism  int        `json:"parallelism"`
	Predecessors []jsonEdge `json:"predecessors,omitempty"`
}

type jsonEdge struct {
	ID           int    `json:"id"`
	ShipStrategy string `json:"ship_strategy"`
	Side         string `json:"side"`
}

// ExplainJSON prints roots (after Optimize) as Flink's "== Physical
// Execution Plan ==" section (EXPLAIN JSON_EXECUTION_PLAN): a JSON object
// whose nodes are the plan's operators with their parallelism and
// predecessors; an Exchange becomes the ship strategy (HASH, GLOBAL) of
// the edge it stands for, other edges are FORWARD.
func ExplainJSON(roots []Rel, parallelism int) (string, error) {
	return ExplainJSONWith(roots, parallelism, PhysicalOptions{})
}

// ExplainJSONWith is ExplainJSON with options (AggTwoPhase; the others
// do not show in the JSON plan).
func ExplainJSONWith(roots []Rel, parallelism int, o PhysicalOptions) (string, error) {
	var nodes []jsonNode
	var add func(p *physNode) (int, string)
	add = func(p *physNode) (int, string) {
		if p.name == "Exchange" {
			id, _ := add(p.ins[0])
			if p.single {
				return id, "GLOBAL"
			}
			return id, "HASH"
		}
		var preds []jsonEdge
		for _, in := range p.ins {
			id, ship := add(in)
			preds = append(preds, jsonEdge{ID: id, ShipStrategy: ship, Side: "second"})
		}
		desc := p.name + "(" + strings.Join(p.attrs, ", ") + ")"
		n := jsonNode{ID: len(nodes) + 1, Type: desc, Pact: "Operator", Parallelism: parallelism, Predecessors: preds}
		switch {
		case p.source:
			n.Pact, n.Type = "Data Source", "Source: "+desc
		case p.name == "Sink":
			n.Pact, n.Type = "Data Sink", "Sink: "+desc
		}
		n.Contents = "[" + strconv.Itoa(n.ID) + "]:" + n.Type
		nodes = append(nodes, n)
		return n.ID, "FORWARD"
	}
	for _, r := range roots {
		add(physical(r, nil, o.AggTwoPhase, o.WindowTwoPhase))
	}
	out, err := json.MarshalIndent(struct {
		Nodes []jsonNode `json:"nodes"`
	}{nodes}, "", "  ")
	if err != nil {
		return "", fmt.Errorf("sql: EXPLAIN JSON_EXECUTION_PLAN: %w", err)
	}
	return string(out) + "\n", nil
}
