package sql

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
)

// applyOverwrite hands INSERT OVERWRITE to the sink (Flink's
// SupportsOverwrite.applyOverwrite, with the static partition): a sink
// that does not support it is refused with Flink's message. The static
// partition values are constants, evaluated here.
func applyOverwrite(sink connector.Sink, s *plan.Sink) error {
	if !s.Overwrite {
		return nil
	}
	ow, ok := sink.(connector.SupportsOverwrite)
	if !ok {
		return fmt.Errorf("sql: INSERT OVERWRITE requires that the underlying DynamicTableSink of table '%s' implements the SupportsOverwrite interface.", strings.Join(s.Table.Path(), "."))
	}
	// Table column index -> index in the physical schema the connector
	// sees (partition columns are physical).
	phys := map[int]int{}
	for i, k := range s.Table.Kinds {
		if k == plan.Physical {
			phys[i] = len(phys)
		}
	}
	static := map[int]row.Value{}
	for i, e := range s.Static {
		p, ok := phys[i]
		if !ok {
			return fmt.Errorf("sql: INSERT OVERWRITE %s: static partition column %s is not physical", s.Table.Name, s.Table.Columns[i].Name)
		}
		v, err := expr.Eval(nil, e, nil)
		if err != nil {
			return fmt.Errorf("sql: INSERT OVERWRITE %s: value of static partition column %s: %w", s.Table.Name, s.Table.Columns[i].Name, err)
		}
		static[p] = v
	}
	return ow.ApplyOverwrite(static)
}
