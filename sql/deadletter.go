package sql

import (
	"fmt"
	"maps"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/plan"
)

// deadLetterPathOption is Weir's table option (not Flink's) that routes
// the records a source cannot decode to a directory instead of failing
// the job: each goes, as a weir.DeadLetter in JSON (source: file and line
// or topic, partition and offset; field; reason; raw bytes; time), to
// exactly-once part files there, committed with the job's checkpoints
// (or when a bounded input ends). With a format's ignore-parse-errors
// the records go there too rather than being skipped.
const deadLetterPathOption = "dead-letter.path"

// connectorOptions returns a table's options without Weir's own, which
// the planner handles and the connectors do not know.
func connectorOptions(opts map[string]string) map[string]string {
	if _, ok := opts[deadLetterPathOption]; !ok {
		return opts
	}
	out := maps.Clone(opts)
	delete(out, deadLetterPathOption)
	return out
}

// routeDeadLetters sets bc up to send tab's rejected records to its
// 'dead-letter.path'; the returned function, called after the source's
// Produce, adds the dead-letter sink (or refuses a connector that gave no
// dead-letter stream). Without the option both do nothing.
func (t *translator) routeDeadLetters(tab *plan.Table, bc *connector.BuildContext) func() error {
	dir, ok := tab.Options[deadLetterPathOption]
	if !ok {
		return func() error { return nil }
	}
	tag := weir.NewOutputTag[weir.DeadLetter](bc.Prefix + "-dead-letters")
	bc.OnError = weir.DeadLetterTo(tag)
	var streams []weir.Stream[weir.DeadLetter]
	bc.DeadLetters = func(s weir.Stream[weir.DeadLetter]) { streams = append(streams, s) }
	return func() error {
		if dir == "" {
			return fmt.Errorf("sql: table %s: option '%s' needs a directory", tab.Name, deadLetterPathOption)
		}
		if len(streams) == 0 {
			return fmt.Errorf("sql: table %s: the '%s' connector does not route dead letters: option '%s' is supported by filesystem, kafka and upsert-kafka sources", tab.Name, tab.Options["connector"], deadLetterPathOption)
		}
		dl := streams[0]
		if len(streams) > 1 {
			dl = weir.Union(streams[0], streams[1:]...)
		}
		dl.SinkTo(file.ExactlyOnceJSONSink[weir.DeadLetter](dir, file.ExactlyOnceOptions{})).
			Name(bc.Prefix + "-dead-letters").UID(bc.Prefix + "-dead-letters")
		return nil
	}
}
