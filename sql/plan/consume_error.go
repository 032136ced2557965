package plan

import (
	"fmt"
	"strings"
)

// This file words the planner's error for an operator (or a sink) that
// takes only insert-only input but is given changes, as Flink's
// FlinkChangelogModeInferenceProgram does:
//
//	<owner> doesn't support consuming <kinds> changes which is produced by node <node>
//
// where <kinds> are the modify kinds the node produces beyond INSERT
// ("update", "delete" or "update and delete") and <node> is the node whose
// output reaches the owner: Flink's visitor passes the owner's requirement
// through the nodes that forward their input's changes unchanged (Calc,
// Correlate, LookupJoin, Exchange, Expand, WindowTableFunction, Union) and
// the first other node that cannot satisfy it is named.

// ChangeProducer returns the node Flink names when in's changes reach an
// operator that takes only inserts: in itself, or through forwarding nodes
// the first input below them that produces changes. It returns nil when in
// is insert-only.
func ChangeProducer(in Rel) Rel {
	k := &inferer{kinds: map[Rel]modifyKinds{}}
	return k.producer(in)
}

func (in *inferer) producer(r Rel) Rel {
	if in.modify(r)&^kindInsert == 0 {
		return nil
	}
	switch r.(type) {
	case *Calc, *Correlate, *LookupJoin, *Expand, *WindowTVF, *Union:
		for _, x := range r.Inputs() {
			if p := in.producer(x); p != nil {
				return p
			}
		}
	}
	return r
}

// ChangeKinds names the changes besides inserts that r produces, in
// Flink's words: "update", "delete", "update and delete", or "" for an
// insert-only node.
func ChangeKinds(r Rel) string {
	k := (&inferer{kinds: map[Rel]modifyKinds{}}).modify(r)
	var names []string
	if k&kindUpdate != 0 {
		names = append(names, "update")
	}
	if k&kindDelete != 0 {
		names = append(names, "delete")
	}
	return strings.Join(names, " and ")
}

// ConsumeError returns Flink's error for owner (e.g. "OverAggregate" or
// "Table sink 'default_catalog.default_database.t'") given in's changes,
// or nil when in is insert-only.
func ConsumeError(owner string, in Rel) error {
	p := ChangeProducer(in)
	if p == nil {
		return nil
	}
	return fmt.Errorf("%s doesn't support consuming %s changes which is produced by node %s", owner, ChangeKinds(p), NodeString(p))
}

// NodeString describes a node on one line as Flink's
// getRelDetailedDescription does in errors: its name and attributes,
// without the changelog mode Explain adds.
func NodeString(r Rel) string {
	name, attrs := r.describe()
	return name + "(" + strings.Join(attrs, ", ") + ")"
}
