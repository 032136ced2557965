package plan

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// This file infers the precise changelog mode of every node of optimized
// plans, as Flink's FlinkChangelogModeInferenceProgram does, in two
// passes:
//
//  1. the modify kinds a node may produce (insert, update, delete),
//     bottom-up from the sources (Flink's ModifyKindSetTrait);
//  2. the update kind its consumers need (none, only UPDATE_AFTER, or
//     UPDATE_BEFORE and UPDATE_AFTER), top-down from the sinks (Flink's
//     UpdateKindTrait). A sink that takes no UPDATE_BEFORE (an upsert sink
//     keyed as its input, a blackhole) asks for only UPDATE_AFTER first;
//     where a node on the way cannot give that (a Calc with a condition,
//     an aggregation or ranking that retracts its updating input, a join
//     of updating inputs), the pass backtracks and asks for both.
//
// Rel.Mode (insert-only or updating) stays the coarse mode: operator uids
// derive from Explain, which prints it.

// Changelog is a precise changelog mode: the row kinds a node's output
// may carry, one bit 1<<row.Kind per kind (the layout of connector's
// ChangelogMode).
type Changelog uint8

// Changelog modes of whole streams.
const (
	// InsertOnlyChangelog is [I].
	InsertOnlyChangelog = Changelog(1 << row.Insert)
	// AllChangelog is [I,UB,UA,D].
	AllChangelog = Changelog(1<<row.Insert | 1<<row.UpdateBefore | 1<<row.UpdateAfter | 1<<row.Delete)
)

// Has reports whether the mode holds kind k.
func (c Changelog) Has(k row.Kind) bool { return c&(1<<k) != 0 }

// String prints the mode as Flink's EXPLAIN CHANGELOG_MODE does: the
// kinds in the order I, UB, UA, D, or NONE (a sink's own mode).
func (c Changelog) String() string {
	var parts []string
	for _, k := range []struct {
		kind row.Kind
		name string
	}{{row.Insert, "I"}, {row.UpdateBefore, "UB"}, {row.UpdateAfter, "UA"}, {row.Delete, "D"}} {
		if c.Has(k.kind) {
			parts = append(parts, k.name)
		}
	}
	if len(parts) == 0 {
		return "NONE"
	}
	return strings.Join(parts, ",")
}

// ChangelogOptions tell InferChangelogs what the roots' consumers take.
type ChangelogOptions struct {
	// SinkModes returns the row kinds a sink takes when its query
	// produces q (the connector's ChangelogMode(q)); nil: every kind.
	SinkModes func(s *Sink, q Changelog) Changelog
	// ForceMaterialize: table.exec.sink.upsert-materialize is FORCE, so
	// every upsert sink with a primary key materialises its input and
	// needs its UPDATE_BEFORE rows (with AUTO only those whose primary
	// key is not an upsert key of the input, which need them anyway).
	ForceMaterialize bool
	// QueryUpdateBefore makes a query root (not a Sink) provide
	// UPDATE_BEFORE rows, as the rows a query returns to its client
	// (Flink's collect sink). Without it a query root prefers only
	// UPDATE_AFTER, as Flink's EXPLAIN of a query does.
	QueryUpdateBefore bool
	// RetractTopN plans every Top-N over an updating input as
	// RetractStrategy, never UpdateFastStrategy (a test seam: the plans
	// of Weir before it had UpdatableTopN).
	RetractTopN bool
	// Shared returns the key of a sub-plan that the runtime runs once
	// for every consumer with the same key (sub-plan reuse), or false.
	// Nodes with one key get one mode: UPDATE_BEFORE when any consumer
	// needs it. A node that appears under several parents (the same
	// Rel) is shared too.
	Shared func(Rel) (string, bool)
}

// Changelogs holds the inferred modes of a job's plans.
type Changelogs struct {
	modes map[Rel]Changelog
	drops map[edge]bool
}

// edge is input i of parent.
type edge struct {
	parent Rel
	i      int
}

// Of returns r's inferred mode; AllChangelog or InsertOnlyChangelog (by
// r.Mode) for a node not inferred, or on a nil Changelogs.
func (c *Changelogs) Of(r Rel) Changelog {
	if c != nil {
		if m, ok := c.modes[r]; ok {
			return m
		}
	}
	if _, ok := r.(*Sink); ok {
		return 0
	}
	if r.Mode() == InsertOnly {
		return InsertOnlyChangelog
	}
	return AllChangelog
}

// UpdateBefore reports whether r must emit UPDATE_BEFORE rows: its mode
// has updates and some consumer needs their UPDATE_BEFORE (true on a nil
// Changelogs).
func (c *Changelogs) UpdateBefore(r Rel) bool { return c.Of(r).Has(row.UpdateBefore) }

// DropUpdateBefore reports whether the planner puts Flink's
// DropUpdateBefore between parent and its input i: a source producing
// UPDATE_BEFORE rows that the consumer does not need.
func (c *Changelogs) DropUpdateBefore(parent Rel, i int) bool {
	return c != nil && c.drops[edge{parent, i}]
}

// modifyKinds is Flink's ModifyKindSet.
type modifyKinds uint8

const (
	kindInsert modifyKinds = 1 << iota
	kindUpdate
	kindDelete

	allKinds = kindInsert | kindUpdate | kindDelete
)

// updateKind is Flink's UpdateKind.
type updateKind uint8

const (
	updateNone updateKind = iota
	onlyUpdateAfter
	beforeAndAfter
)

func onlyAfterOrNone(k modifyKinds) updateKind {
	if k&kindUpdate != 0 {
		return onlyUpdateAfter
	}
	return updateNone
}

func beforeAfterOrNone(k modifyKinds) updateKind {
	if k&kindUpdate != 0 {
		return beforeAndAfter
	}
	return updateNone
}

func changelogOf(k modifyKinds, u updateKind) Changelog {
	var c Changelog
	if k&kindInsert != 0 {
		c |= 1 << row.Insert
	}
	if k&kindUpdate != 0 {
		c |= 1 << row.UpdateAfter
		if u == beforeAndAfter {
			c |= 1 << row.UpdateBefore
		}
	}
	if k&kindDelete != 0 {
		c |= 1 << row.Delete
	}
	return c
}

// InferChangelogs infers the modes of roots (a job's sinks and query,
// after Optimize). It never fails: where no assignment satisfies every
// consumer (which the planner's checks refuse first), the nodes keep
// their coarse modes.
func InferChangelogs(roots []Rel, o ChangelogOptions) *Changelogs {
	in := &inferer{o: o, kinds: map[Rel]modifyKinds{}, forced: map[string]bool{}, seen: map[Rel]int{}}
	for _, r := range roots {
		in.count(r)
	}
	for r := range in.seen {
		if rk, ok := r.(*Rank); ok {
			rk.UpdateFast = nil // RetractStrategy unless the inference picks UpdateFast
		}
	}
	for {
		in.trail, in.drops = in.trail[:0], in.drops[:0]
		ok := true
		for _, r := range roots {
			if !in.root(r) {
				ok = false
				break
			}
		}
		if !ok {
			return &Changelogs{}
		}
		// One mode per shared sub-plan: a key with consumers that
		// disagree on UPDATE_BEFORE provides it to all of them.
		ub := map[string][2]bool{}
		for _, oc := range in.trail {
			if oc.key == "" {
				continue
			}
			v := ub[oc.key]
			v[boolIndex(oc.mode.Has(row.UpdateBefore))] = true
			ub[oc.key] = v
		}
		again := false
		for key, v := range ub {
			if v[0] && v[1] && !in.forced[key] {
				in.forced[key], again = true, true
			}
		}
		if !again {
			break
		}
	}
	c := &Changelogs{modes: map[Rel]Changelog{}, drops: map[edge]bool{}}
	for _, oc := range in.trail {
		c.modes[oc.r] = oc.mode
		if rk, ok := oc.r.(*Rank); ok {
			rk.UpdateFast = oc.fast
		}
	}
	for _, e := range in.drops {
		c.drops[e] = true
	}
	return c
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

type occurrence struct {
	r    Rel
	mode Changelog
	key  string // shared sub-plan key, or ""
	fast []int  // a Rank's UpdateFast key
}

type inferer struct {
	o     ChangelogOptions
	kinds map[Rel]modifyKinds
	// forced holds the keys of shared sub-plans that must provide
	// UPDATE_BEFORE (another consumer needs it).
	forced map[string]bool
	// seen counts the parents of each node (a node under several
	// parents is shared).
	seen map[Rel]int
	// trail records the modes given so far; a failed alternative
	// truncates it back.
	trail []occurrence
	drops []edge
}

func (in *inferer) count(r Rel) {
	in.seen[r]++
	if in.seen[r] > 1 {
		return
	}
	for _, x := range r.Inputs() {
		in.count(x)
	}
}

// key returns r's shared sub-plan key, or "".
func (in *inferer) key(r Rel) string {
	if in.o.Shared != nil {
		if k, ok := in.o.Shared(r); ok {
			return "digest:" + k
		}
	}
	if in.seen[r] > 1 {
		return fmt.Sprintf("node:%p", r)
	}
	return ""
}

// modify is the first pass: the modify kinds r may produce.
func (in *inferer) modify(r Rel) modifyKinds {
	if k, ok := in.kinds[r]; ok {
		return k
	}
	var k modifyKinds
	union := func(rs ...Rel) modifyKinds {
		var u modifyKinds
		for _, x := range rs {
			u |= in.modify(x)
		}
		return u
	}
	switch n := r.(type) {
	case *Scan:
		k = kindInsert
		if n.Table.SourceMode == Updating {
			k = allKinds
		}
	case *Values:
		k = kindInsert
	case *Sink:
		in.modify(n.In)
		k = 0
	case *Calc, *Correlate, *LookupJoin, *Expand, *WindowTVF:
		k = in.modify(r.Inputs()[0])
	case *Union:
		k = union(n.Ins...)
	case *Aggregate:
		// Deletes only when the group can lose its last row.
		k = kindInsert | kindUpdate
		if in.modify(n.In)&(kindUpdate|kindDelete) != 0 {
			k |= kindDelete
		}
	case *WindowAggregate, *IntervalJoin, *WindowJoin, *TemporalSort, *MatchRecognize, *OverAggregate:
		union(r.Inputs()...)
		k = kindInsert
	case *Sort:
		in.modify(n.In)
		k = kindInsert
	case *BatchOverAggregate:
		in.modify(n.In)
		k = kindInsert
	case *Rank:
		ik := in.modify(n.In)
		k = allKinds
		switch {
		case n.Mode() == InsertOnly:
			// Row numbering, window rankings, proctime first-row
			// deduplication.
			k = kindInsert
		case n.Strategy == Dedup && ik == kindInsert:
			// A deduplication over inserts replaces its row, never
			// deletes it (Flink: INSERT_ONLY merged with UPDATE_ONLY).
			k = kindInsert | kindUpdate
		}
	case *Join:
		k = union(n.Left, n.Right)
		if n.Type != InnerJoin {
			k = allKinds
		}
	case *SemiJoin:
		k = union(n.Left, n.Right)
		if n.Window != nil {
			k = kindInsert
		} else if n.Anti {
			k = allKinds
		}
	case *TemporalJoin:
		in.modify(n.Right)
		k = in.modify(n.Left)
	default:
		union(r.Inputs()...)
		k = kindInsert
		if r.Mode() == Updating {
			k = allKinds
		}
	}
	in.kinds[r] = k
	return k
}

// root satisfies a root's consumer.
func (in *inferer) root(r Rel) bool {
	if _, ok := r.(*Sink); ok {
		in.modify(r)
		_, ok := in.visit(r, updateNone, edge{})
		return ok
	}
	k := in.modify(r)
	wants := []updateKind{updateNone}
	if k&kindUpdate != 0 {
		wants = []updateKind{onlyUpdateAfter, beforeAndAfter}
		if in.o.QueryUpdateBefore {
			wants = wants[1:]
		}
	}
	return in.first(r, wants, edge{})
}

// first visits r with the first of wants that it satisfies.
func (in *inferer) first(r Rel, wants []updateKind, e edge) bool {
	for _, w := range wants {
		mark, drops := len(in.trail), len(in.drops)
		if got, ok := in.visit(r, w, e); ok && got == w {
			return true
		}
		in.trail, in.drops = in.trail[:mark], in.drops[:drops]
	}
	return false
}

// child visits input i of parent with the update kind required of it.
func (in *inferer) child(parent Rel, i int, req updateKind) bool {
	got, ok := in.visit(parent.Inputs()[i], req, edge{parent, i})
	return ok && got == req
}

// children visits every input of parent with the same requirement.
func (in *inferer) children(parent Rel, req updateKind) bool {
	for i := range parent.Inputs() {
		if !in.child(parent, i, req) {
			return false
		}
	}
	return true
}

// give records r's mode with update kind u and returns u.
func (in *inferer) give(r Rel, u updateKind, key string) (updateKind, bool) {
	k := in.kinds[r]
	if (u == updateNone) != (k&kindUpdate == 0) {
		return u, false // no assignment with this update kind
	}
	in.trail = append(in.trail, occurrence{r: r, mode: changelogOf(k, u), key: key})
	return u, true
}

// visit is the second pass: r provides update kind req to its consumer
// (e is the edge it is read through), or reports false. It returns the
// update kind r provides.
func (in *inferer) visit(r Rel, req updateKind, e edge) (updateKind, bool) {
	key := in.key(r)
	if key != "" && in.forced[key] && req == onlyUpdateAfter {
		// Another consumer of the shared sub-plan needs UPDATE_BEFORE.
		return 0, false
	}
	switch n := r.(type) {
	case *Sink:
		return in.sink(n)
	case *Scan:
		if in.kinds[r]&kindUpdate == 0 {
			return in.give(r, updateNone, key)
		}
		// A changelog source gives UPDATE_BEFORE; Flink drops it
		// (DropUpdateBefore) for a consumer that asks only for
		// UPDATE_AFTER.
		if _, ok := in.give(r, beforeAndAfter, key); !ok {
			return 0, false
		}
		if req == onlyUpdateAfter && e.parent != nil {
			in.drops = append(in.drops, e)
			return onlyUpdateAfter, true
		}
		return beforeAndAfter, true
	case *Values:
		return in.give(r, updateNone, key)
	case *Calc:
		// A filter cannot turn an update into only its UPDATE_AFTER: a
		// row that no longer passes would never be retracted
		// (FLINK-9528); unless it reads only columns of an upsert key
		// of its input, whose rows pass or fail it alike.
		if req == onlyUpdateAfter && n.Cond != nil && !onUpsertKey(n) {
			return 0, false
		}
		return in.forward(r, req, key)
	case *Correlate, *LookupJoin, *Expand, *WindowTVF:
		return in.forward(r, req, key)
	case *Union:
		provided := updateNone
		for i, x := range n.Ins {
			want := req
			if in.kinds[x]&kindUpdate == 0 {
				want = updateNone
			}
			if !in.child(r, i, want) {
				return 0, false
			}
			switch {
			case want == updateNone:
			case provided == updateNone:
				provided = want
			case provided != want:
				return 0, false
			}
		}
		return in.give(r, provided, key)
	case *Aggregate:
		// A group aggregation retracts its updating input: it needs
		// the UPDATE_BEFORE rows; its own updates follow its consumer.
		if !in.child(r, 0, beforeAfterOrNone(in.kinds[n.In])) {
			return 0, false
		}
		return in.give(r, req, key)
	case *Rank:
		// A Top-N over an updating input with a unique key and sort keys
		// that only move up runs as UpdateFastStrategy when its input
		// can give only UPDATE_AFTER (Flink's visitRankStrategies tries
		// the strategies in order: UpdateFast, then Retract).
		if fast := n.updateFastKey(in.kinds[n.In]); fast != nil && !in.o.RetractTopN {
			mark, drops := len(in.trail), len(in.drops)
			if in.child(r, 0, onlyUpdateAfter) {
				if u, ok := in.give(r, req, key); ok {
					in.trail[len(in.trail)-1].fast = fast
					return u, true
				}
			}
			in.trail, in.drops = in.trail[:mark], in.drops[:drops]
		}
		// A retracting Top-N or deduplication over an updating input
		// needs its UPDATE_BEFORE rows; over an insert-only input it
		// needs nothing.
		if !in.child(r, 0, beforeAfterOrNone(in.kinds[n.In])) {
			return 0, false
		}
		return in.give(r, req, key)
	case *Sort:
		// The batch Sort takes its input's final table (exec.Final
		// counts the rows: retractions with UPDATE_BEFORE).
		if !in.child(r, 0, beforeAfterOrNone(in.kinds[n.In])) {
			return 0, false
		}
		return in.give(r, req, key)
	case *BatchOverAggregate:
		// As the batch Sort: over its input's final table.
		if !in.child(r, 0, beforeAfterOrNone(in.kinds[n.In])) {
			return 0, false
		}
		return in.give(r, req, key)
	case *WindowAggregate, *IntervalJoin, *WindowJoin, *TemporalSort, *MatchRecognize, *OverAggregate:
		if !in.children(r, updateNone) {
			return 0, false
		}
		return in.give(r, req, key)
	case *Join, *SemiJoin:
		if s, ok := r.(*SemiJoin); ok && s.Window != nil {
			// A window semi or anti join: append-only, as WindowJoin.
			if !in.children(r, updateNone) {
				return 0, false
			}
			return in.give(r, req, key)
		}
		// Weir's joins keep their inputs' rows counted, not by a unique
		// key: an updating input must retract with UPDATE_BEFORE.
		for i, x := range r.Inputs() {
			k := in.kinds[x]
			if req == onlyUpdateAfter && k&kindUpdate != 0 {
				return 0, false
			}
			if !in.child(r, i, beforeAfterOrNone(k)) {
				return 0, false
			}
		}
		return in.give(r, req, key)
	case *TemporalJoin:
		lk := in.kinds[n.Left]
		left := onlyAfterOrNone(lk)
		if req == beforeAndAfter {
			left = beforeAfterOrNone(lk)
		}
		if !in.child(r, 0, left) {
			return 0, false
		}
		// The versioned side takes either, only UPDATE_AFTER first.
		rk := in.kinds[n.Right]
		if !in.first(n.Right, []updateKind{onlyAfterOrNone(rk), beforeAfterOrNone(rk)}, edge{r, 1}) {
			return 0, false
		}
		return in.give(r, left, key)
	}
	// Any other node: its updating inputs retract, and it gives
	// UPDATE_BEFORE with its updates.
	for i, x := range r.Inputs() {
		if !in.child(r, i, beforeAfterOrNone(in.kinds[x])) {
			return 0, false
		}
	}
	return in.give(r, beforeAfterOrNone(in.kinds[r]), key)
}

// forward passes req to r's one input and gives what it gives.
func (in *inferer) forward(r Rel, req updateKind, key string) (updateKind, bool) {
	got, ok := in.visit(r.Inputs()[0], req, edge{r, 0})
	if !ok || got != req {
		return 0, false
	}
	return in.give(r, got, key)
}

// sink asks its input for what the sink takes: without UPDATE_BEFORE
// rows only UPDATE_AFTER first, unless it has a primary key that is not
// its input's upsert key (then the sink needs the UPDATE_BEFORE rows to
// delete the rows of an old key).
func (in *inferer) sink(s *Sink) (updateKind, bool) {
	k := in.kinds[s.In]
	accepted := AllChangelog
	if in.o.SinkModes != nil {
		accepted = in.o.SinkModes(s, changelogOf(k, beforeAfterOrNone(k)))
	}
	var wants []updateKind
	switch {
	case accepted.Has(row.UpdateBefore):
		wants = []updateKind{beforeAfterOrNone(k)}
	case accepted.Has(row.UpdateAfter):
		wants = []updateKind{onlyAfterOrNone(k), beforeAfterOrNone(k)}
		if pk := sinkKey(s); len(pk) > 0 && (in.o.ForceMaterialize || !hasKey(upsertKeys(s.In), pk)) { // upsertKeys: temporal.go
			wants = wants[1:]
		}
	default:
		wants = []updateKind{updateNone}
	}
	if !in.first(s.In, wants, edge{s, 0}) {
		return 0, false
	}
	in.trail = append(in.trail, occurrence{r: s, mode: 0})
	return updateNone, true
}

// onUpsertKey reports whether c's condition reads only columns of one
// upsert key of c's input.
func onUpsertKey(c *Calc) bool {
	var cols []int
	expr.Refs(c.Cond, func(i int) { cols = append(cols, i) })
	for _, key := range upsertKeys(c.In) {
		in := map[int]bool{}
		for _, k := range key {
			in[k] = true
		}
		all := true
		for _, x := range cols {
			all = all && in[x]
		}
		if all {
			return true
		}
	}
	return false
}

// sinkKey returns the sink's primary key as positions of its input's
// columns (the physical and writable metadata columns in declaration
// order), or nil.
func sinkKey(s *Sink) []int {
	t := s.Table
	if len(t.PrimaryKey) == 0 {
		return nil
	}
	pos := make([]int, len(t.Columns))
	n := 0
	for i := range t.Columns {
		pos[i] = -1
		if t.Kinds[i] == Computed || (t.Kinds[i] == Metadata && i < len(t.Virtual) && t.Virtual[i]) {
			continue
		}
		pos[i] = n
		n++
	}
	key := make([]int, len(t.PrimaryKey))
	for i, c := range t.PrimaryKey {
		if pos[c] < 0 {
			return nil
		}
		key[i] = pos[c]
	}
	return key
}

// hasKey reports whether keys holds key as a set.
func hasKey(keys [][]int, key []int) bool {
	for _, k := range keys {
		if sameSet(k, key) {
			return true
		}
	}
	return false
}

func sameSet(a, b []int) bool {
	set := map[int]bool{}
	for _, x := range a {
		set[x] = true
	}
	other := map[int]bool{}
	for _, x := range b {
		if !set[x] {
			return false
		}
		other[x] = true
	}
	return len(set) == len(other)
}
