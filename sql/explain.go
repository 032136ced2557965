package sql

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/plan"
)

// explain runs EXPLAIN [PLAN FOR | detail, ..] stmt in Flink's shape:
// "== Abstract Syntax Tree ==" (the bound plan before the planner's
// rules), "== Optimized Physical Plan ==" (with changelogMode=[..] under
// CHANGELOG_MODE), "== Optimized Execution Plan ==", and with
// JSON_EXECUTION_PLAN "== Physical Execution Plan ==" (JSON). The
// statement is a query, an INSERT or a statement set.
func (s *Session) explain(n *ast.Explain) (*Result, *Job, error) {
	changelog, jsonPlan := false, false
	for _, d := range n.Details {
		switch d {
		case "CHANGELOG_MODE":
			changelog = true
		case "JSON_EXECUTION_PLAN":
			jsonPlan = true
		case "ESTIMATED_COST":
			return nil, nil, fmt.Errorf("sql: EXPLAIN ESTIMATED_COST is not supported: Weir's planner has no cost model (CHANGELOG_MODE and JSON_EXECUTION_PLAN are)")
		default:
			return nil, nil, fmt.Errorf("sql: EXPLAIN %s is not supported (CHANGELOG_MODE and JSON_EXECUTION_PLAN are)", d)
		}
	}
	raw, err := s.logicalRoots(n.Stmt)
	if err != nil {
		return nil, nil, err
	}
	j, err := s.plan(n.Stmt)
	if err != nil {
		return nil, nil, err
	}
	j.markMaterialized() // upsert_materialize.go
	opt := j.roots()
	popts := plan.PhysicalOptions{AggTwoPhase: aggTwoPhase(j.cfg), WindowTwoPhase: windowTwoPhase(j.cfg)}
	if mb, err := miniBatchOf(j.cfg, false); err != nil {
		return nil, nil, err
	} else if mb.Enabled() {
		popts.MiniBatchInterval = mb.Interval
	}
	var b strings.Builder
	b.WriteString("== Abstract Syntax Tree ==\n")
	b.WriteString(plan.ExplainAST(raw))
	b.WriteString("\n== Optimized Physical Plan ==\n")
	if changelog {
		// A query's own EXPLAIN prefers only UPDATE_AFTER, as Flink's
		// (its client would need UPDATE_BEFORE: see Job.build).
		popts.Modes = j.changelogs(false)
	}
	b.WriteString(plan.ExplainPhysicalWith(opt, popts))
	b.WriteString("\n== Optimized Execution Plan ==\n")
	// The operators that run: no modes, no DropUpdateBefore.
	popts.Modes = nil
	b.WriteString(plan.ExplainPhysicalWith(opt, popts))
	if jsonPlan {
		js, err := plan.ExplainJSONWith(opt, j.cfg.Int("parallelism.default"), popts)
		if err != nil {
			return nil, nil, err
		}
		b.WriteString("\n== Physical Execution Plan ==\n")
		b.WriteString(js)
	}
	return &Result{Text: b.String()}, nil, nil
}

// logicalRoots binds stmt without the planner's rules: one plan per sink,
// or the query's.
func (s *Session) logicalRoots(stmt ast.Statement) ([]plan.Rel, error) {
	b := s.binder()
	switch n := stmt.(type) {
	case *ast.Insert:
		sk, err := b.Insert(n)
		if err != nil {
			return nil, err
		}
		return []plan.Rel{sk}, nil
	case *ast.StatementSet:
		var out []plan.Rel
		for _, ins := range n.Inserts {
			sk, err := b.Insert(ins)
			if err != nil {
				return nil, err
			}
			out = append(out, sk)
		}
		return out, nil
	case *ast.QueryStmt:
		r, err := b.Query(n.Query)
		if err != nil {
			return nil, err
		}
		return []plan.Rel{r}, nil
	case ast.QueryExpr:
		r, err := b.Query(n)
		if err != nil {
			return nil, err
		}
		return []plan.Rel{r}, nil
	}
	return nil, fmt.Errorf("sql: EXPLAIN of %T is not supported", stmt)
}

// roots returns the job's plans: the query's, or one per sink.
func (j *Job) roots() []plan.Rel {
	var out []plan.Rel
	if j.query != nil {
		out = append(out, j.query)
	}
	for _, s := range j.sinks {
		out = append(out, s)
	}
	return out
}
