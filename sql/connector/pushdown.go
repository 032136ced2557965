package connector

import (
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// FilterPushDown is implemented by sources that evaluate filters
// themselves (Flink's SupportsFilterPushDown). The planner splits the
// WHERE clause over a scan into conjuncts, after constant folding, and
// offers those that are deterministic and read physical columns only.
type FilterPushDown interface {
	// ApplyFilters offers the source filters: deterministic boolean
	// expressions over the physical columns of Context.Schema (an
	// expr.InputRef is a column's index there). accepted[i] reports that
	// the source applies filters[i] (EXPLAIN shows it in the scan's
	// filter=[...]); remaining[i] that the planner must still evaluate
	// it above the scan. A filter may be both (the source's answer is a
	// superset of the rows for which it is TRUE); one that is neither is
	// kept above the scan. The planner removes only the filters accepted
	// and not remaining: for those the source must produce exactly the
	// rows for which the filter is TRUE (not FALSE, not NULL). The
	// source keeps the accepted filters; the planner offers them again to
	// a fresh source when it builds the job, and the source must accept
	// them again.
	ApplyFilters(filters []expr.Expr) (accepted, remaining []bool)
}

// PartitionPushDown is implemented by sources of partitioned tables that
// read only some partitions (Flink's SupportsPartitionPushDown): the
// planner evaluates the conjuncts of the WHERE clause that read
// partition columns only against each partition's values, removes them
// from the filter above the scan, and has the source read only the
// partitions for which they are TRUE (partition pruning).
type PartitionPushDown interface {
	// ListPartitions returns the partitions that exist now, each as the
	// values of Context.PartitionKeys in order (NULL for the default
	// partition); ok is false when the source cannot list them at
	// planning time (the planner then prunes nothing and keeps the
	// conjuncts above the scan).
	ListPartitions() (parts [][]row.Value, ok bool, err error)
	// ApplyPartitions makes the source read only the partitions for
	// which keep reports true, given their values as ListPartitions
	// gives them. The source calls keep for every partition it finds
	// when it runs, including partitions that did not exist when the
	// planner listed them (they are pruned the same way); an error of
	// keep fails the job, as the filter would have. keep is safe for
	// concurrent use.
	ApplyPartitions(keep func(vals []row.Value) (bool, error))
}
