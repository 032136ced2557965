package connector

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
)

// ChangelogMode is the format's changelog mode, as Flink's
// FileSystemTableSink.getChangelogMode: a changelog format that Weir
// encodes (debezium-json, canal-json) takes every kind of change and writes each as
// one line of the part files, in the order it arrives; json, csv, raw
// and parquet take inserts only. As Flink's, sink.parallelism is refused
// with an input that is not insert-only: a writer of another parallelism
// than its input sits behind a rebalance, which could reorder the changes
// of one key.
func (t *fsSink) ChangelogMode(q ChangelogMode) (ChangelogMode, error) {
	if t.codec == nil || !t.codec.encodesChangelog {
		return insertOnlySink(t.table, "filesystem", q)
	}
	if t.sinkPar > 0 && !q.IsInsertOnly() {
		var kinds []string
		for _, k := range []row.Kind{row.Insert, row.UpdateBefore, row.UpdateAfter, row.Delete} {
			if q.Contains(k) {
				kinds = append(kinds, k.String())
			}
		}
		return 0, fmt.Errorf("connector: Currently, filesystem sink doesn't support setting parallelism (%d) by 'sink.parallelism' when the input stream is not INSERT only. The row kinds of input stream are [%s]",
			t.sinkPar, strings.Join(kinds, ","))
	}
	return acceptAll(q)
}
