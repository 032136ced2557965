package exec

import "github.com/weirstream/weir/row"

// nullWindow returns r with both its window_start and window_end NULL
// (a copy): a row of the padded side of an outer window join, whose
// window columns the local window aggregate keys as one "no window"
// group, which the global aggregate drops as late.
func nullWindow(r row.Row, start, end int) row.Row {
	fields := append([]row.Value(nil), r.Fields...)
	fields[start], fields[end] = row.Null(), row.Null()
	return row.Row{Kind: r.Kind, Fields: fields}
}
