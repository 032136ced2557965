package plan

import (
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// This file holds the FOR SYSTEM_TIME AS OF entry points of the join tree
// (the hooks in bind_join.go) while lookup joins live on another branch;
// sql/plan/lookup.go there defines the same two functions and dispatches
// a rowtime AS OF to planTemporal. On merging, this file goes.

// systemTimeLeaf binds `t FOR SYSTEM_TIME AS OF expr [AS alias]`, the
// right side of a temporal join; the AS OF expression is bound by
// planTemporal, in the join's scope.
func (b *Binder) systemTimeLeaf(n *ast.TableName) (*fromNode, error) {
	r, qual, err := b.namedTable(n.Name)
	if err != nil {
		return nil, err
	}
	r, sc, err := b.applyAlias(r, n.Alias, qual)
	if err != nil {
		return nil, err
	}
	return &fromNode{rel: r, sc: sc, width: len(r.Columns()), sysTime: n}, nil
}

// planSystemTimeJoin plans a join whose right side is a table FOR
// SYSTEM_TIME AS OF a left time attribute (planTemporal).
func (b *Binder) planSystemTimeJoin(n *fromNode, conds []expr.Expr) (Rel, error) {
	if n.join == nil {
		return nil, errAt(n.sysTime, "FOR SYSTEM_TIME AS OF is supported on the right side of a join only (a temporal join)")
	}
	return b.planTemporal(n, conds)
}
