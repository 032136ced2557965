package connector

import (
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// TestChangeWatermarksAssigner: a change's timestamp is what the planner's
// assigner computes over the change's last row, whether the planner gives
// a shared assigner (Timestamp) or one per subtask (NewTimestamp, which
// the SQL translator uses); the source's own timestamp (a commit time, a
// Kafka record's timestamp) is not the table's rowtime.
func TestChangeWatermarksAssigner(t *testing.T) {
	type change struct{ rows []row.Row }
	lastRow := func(c change) (row.Row, bool) {
		if len(c.rows) == 0 {
			return row.Row{}, false
		}
		return c.rows[len(c.rows)-1], true
	}
	last := func() func(change) (row.Row, bool) { return lastRow }
	rowtime := func(r row.Row) int64 { return r.Fields[1].Int() }
	upd := change{rows: []row.Row{
		row.Of(row.Int(1), row.Int(100)).WithKind(row.UpdateBefore),
		row.Of(row.Int(1), row.Int(250)).WithKind(row.UpdateAfter),
	}}
	del := change{rows: []row.Row{row.Of(row.Int(1), row.Int(300)).WithKind(row.Delete)}}
	bad := change{}
	for _, tc := range []struct {
		name  string
		strat weir.WatermarkStrategy[row.Row]
	}{
		{"Timestamp", weir.WatermarkStrategy[row.Row]{Timestamp: rowtime}},
		{"NewTimestamp", weir.WatermarkStrategy[row.Row]{NewTimestamp: func() func(row.Row) int64 { return rowtime }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := changeWatermarks(tc.strat, last)
			ts := out.Timestamp
			if out.NewTimestamp != nil {
				ts = out.NewTimestamp()
			}
			if ts == nil {
				t.Fatal("the change strategy has no assigner: the source's own timestamps would be used")
			}
			for _, c := range []struct {
				c    change
				want int64
			}{{upd, 250}, {del, 300}, {bad, weir.NoTimestamp}} {
				if got := ts(c.c); got != c.want {
					t.Errorf("timestamp of %v = %d, want %d", c.c.rows, got, c.want)
				}
			}
		})
	}
	if out := changeWatermarks(weir.WatermarkStrategy[row.Row]{}, last); out.Timestamp != nil || out.NewTimestamp != nil {
		t.Error("a strategy without an assigner got one")
	}
}
