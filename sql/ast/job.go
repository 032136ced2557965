package ast

// The job statements of Flink's SQL client and gateway (FLIP-222 and Flink
// 2.0's DESCRIBE JOB): they manage the jobs of the cluster a session
// submits to, and touch neither the catalog nor the session's options.

// ShowJobs is SHOW JOBS.
type ShowJobs struct {
	Pos
}

// StopJob is STOP JOB 'id' [WITH SAVEPOINT] [WITH DRAIN]; the parser takes
// WITH DRAIN only after WITH SAVEPOINT, as Flink's.
type StopJob struct {
	Pos
	JobID         string
	WithSavepoint bool
	WithDrain     bool
}

// DescribeJob is DESCRIBE|DESC JOB 'id'.
type DescribeJob struct {
	Pos
	JobID string
}

func (*ShowJobs) statementNode()    {}
func (*StopJob) statementNode()     {}
func (*DescribeJob) statementNode() {}

func (n *ShowJobs) format(p *printer) { p.w("SHOW JOBS") }

func (n *StopJob) format(p *printer) {
	p.w("STOP JOB ")
	p.str(n.JobID)
	if n.WithSavepoint {
		p.w(" WITH SAVEPOINT")
	}
	if n.WithDrain {
		p.w(" WITH DRAIN")
	}
}

func (n *DescribeJob) format(p *printer) {
	p.w("DESCRIBE JOB ")
	p.str(n.JobID)
}

// String returns the canonical SQL text of the node.
func (n *ShowJobs) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *StopJob) String() string { return Format(n) }

// String returns the canonical SQL text of the node.
func (n *DescribeJob) String() string { return Format(n) }
