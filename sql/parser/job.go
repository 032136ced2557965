package parser

import (
	"github.com/weirstream/weir/sql/ast"
)

// The job statements (Flink's parserImpls.ftl SqlShowJobs, SqlStopJob,
// SqlDescribeJob).

// isJobStatement reports whether the statement starting here is SHOW JOBS,
// STOP JOB or DESCRIBE|DESC JOB 'id' (DESCRIBE job without a string is a
// table named job).
func (p *parser) isJobStatement() bool {
	switch {
	case p.isKw("SHOW"):
		return p.isKwAt(1, "JOBS")
	case p.isKw("STOP"):
		return true
	case p.isKw("DESCRIBE", "DESC"):
		return p.isKwAt(1, "JOB") && p.peekAt(2).kind == tString
	}
	return false
}

func (p *parser) jobStatement() ast.Statement {
	pos := p.pos()
	switch {
	case p.acceptKws("SHOW", "JOBS"):
		return &ast.ShowJobs{Pos: pos}
	case p.isKw("DESCRIBE", "DESC"):
		p.i++
		p.expectKw("JOB")
		return &ast.DescribeJob{Pos: pos, JobID: p.stringLit()}
	}
	p.expectKw("STOP", "JOB")
	s := &ast.StopJob{Pos: pos, JobID: p.stringLit()}
	if p.acceptKws("WITH", "SAVEPOINT") {
		s.WithSavepoint = true
	}
	if p.isKw("WITH") && p.isKwAt(1, "DRAIN") {
		if !s.WithSavepoint {
			p.failAt(p.peek(), "WITH DRAIN could only be used after WITH SAVEPOINT.")
		}
		p.i += 2
		s.WithDrain = true
	}
	return s
}
