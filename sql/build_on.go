package sql

import (
	"fmt"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// BuildOn adds the job's operators to env as Build does, except that the
// tables named in inputs read the given streams instead of their
// connectors (as Flink's StreamTableEnvironment.fromDataStream does): each
// stream carries the table's physical columns in declaration order, with
// timestamps and watermarks already assigned. Several jobs built on the
// same stream share its source, so benchmarks and tests can run SQL over
// exactly the records a DataStream job sees. A table of the default
// database is named by its name, another by catalog.database.name.
func (j *Job) BuildOn(env *weir.Environment, inputs map[string]weir.Stream[row.Row], collect func(row.Row) error) error {
	loc, err := time.LoadLocation(j.cfg.Get("table.local-time-zone"))
	if err != nil {
		return fmt.Errorf("sql: table.local-time-zone: %w", err)
	}
	t := &translator{env: env, cfg: j.cfg, reg: j.sess.reg, loc: loc, uids: map[string]int{}, inputs: inputs}
	return j.build(t, collect)
}
