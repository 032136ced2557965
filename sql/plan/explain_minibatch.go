package plan

import (
	"fmt"
	"strings"
	"time"

	"github.com/weirstream/weir/row"
)

// PhysicalOptions tune ExplainPhysicalWith.
type PhysicalOptions struct {
	// Modes, when set (EXPLAIN CHANGELOG_MODE, see InferChangelogs),
	// add each node's changelogMode=[..] and Flink's DropUpdateBefore
	// nodes.
	Modes *Changelogs
	// MiniBatchInterval, when > 0 (table.exec.mini-batch.enabled with
	// its allow-latency), prints Flink's
	// MiniBatchAssigner(interval=[..ms], mode=[ProcTime]) above each
	// source scan, as Flink's MiniBatchIntervalInferRule inserts it, except
	// under operators that need watermarks (where Flink's assigner
	// runs in RowTime mode, which Weir does not have). Weir runs no
	// operator for the node: a mini-batch GroupAggregate times its own
	// batches.
	MiniBatchInterval time.Duration
	// AggTwoPhase, when set, says which Aggregates run in two phases
	// (see TwoPhaseAggregate): they print as Flink's
	// GlobalGroupAggregate over an Exchange over a LocalGroupAggregate.
	AggTwoPhase func(*Aggregate) bool
	// WindowTwoPhase, when set, says which WindowAggregates run in two
	// phases (see TwoPhaseWindowAggregate): they print as Flink's
	// GlobalWindowAggregate over an Exchange over a LocalWindowAggregate.
	WindowTwoPhase func(*WindowAggregate) bool
}

// ExplainPhysicalWith is ExplainPhysical with options.
func ExplainPhysicalWith(roots []Rel, o PhysicalOptions) string {
	var parts []string
	for _, r := range roots {
		var b strings.Builder
		p := physical(r, o.Modes, o.AggTwoPhase, o.WindowTwoPhase)
		if o.MiniBatchInterval > 0 {
			p = withMiniBatchAssigners(p, o.MiniBatchInterval)
		}
		printPhys(&b, p, o.Modes != nil, "", "")
		parts = append(parts, b.String())
	}
	return strings.Join(parts, "\n")
}

// withMiniBatchAssigners puts a MiniBatchAssigner above every source scan
// of p that no watermark-driven operator reads.
func withMiniBatchAssigners(p *physNode, interval time.Duration) *physNode {
	if needsWatermarks(p.rel) {
		return p
	}
	if _, scan := p.rel.(*Scan); scan && p.source {
		return &physNode{name: "MiniBatchAssigner", mode: p.mode, ins: []*physNode{p},
			attrs: []string{fmt.Sprintf("interval=[%dms]", interval.Milliseconds()), "mode=[ProcTime]"}}
	}
	for i, in := range p.ins {
		p.ins[i] = withMiniBatchAssigners(in, interval)
	}
	return p
}

// needsWatermarks reports whether r is an operator driven by event time
// (or one Weir treats so for mini-batch: its time attribute may be one),
// above which Flink's mini-batch interval inference switches to RowTime
// mode.
func needsWatermarks(r Rel) bool {
	switch n := r.(type) {
	case *WindowAggregate, *WindowTVF, *WindowJoin, *IntervalJoin, *TemporalSort, *TemporalJoin, *MatchRecognize, *OverAggregate:
		return true
	case *Rank:
		// An event-time deduplication (Flink's mini-batch interval
		// inference gives it a RowTime interval).
		return n.Strategy == Dedup && len(n.OrderBy) > 0 && n.In.Columns()[n.OrderBy[0].Col].Type.TimeAttr == row.Rowtime
	}
	return false
}
