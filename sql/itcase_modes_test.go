package sql_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql"
)

// aggMode is one parameter set of Flink's StreamingWithAggTestBase
// (AggregateITCase's and RankITCase's mode matrix): the aggregation phase
// strategy (LocalGlobalOn/Off), mini-batch (on: allow-latency 1 s, size 3,
// as StreamingWithMiniBatchTestBase) and the state backend.
type aggMode struct {
	name string
	// phase is the agg-phase-strategy; "" leaves the session's options
	// (phase, mini-batch) as they are.
	phase     string
	miniBatch bool
	backend   string
}

// flinkAggModes are StreamingWithAggTestBase's parameters, with Pebble for
// RocksDB.
var flinkAggModes = []aggMode{
	{"LocalGlobal=OFF, MiniBatch=OFF, heap", "ONE_PHASE", false, weir.StateHeap},
	{"LocalGlobal=OFF, MiniBatch=ON, heap", "ONE_PHASE", true, weir.StateHeap},
	{"LocalGlobal=ON, MiniBatch=ON, heap", "TWO_PHASE", true, weir.StateHeap},
	{"LocalGlobal=OFF, MiniBatch=OFF, pebble", "ONE_PHASE", false, weir.StatePebble},
	{"LocalGlobal=OFF, MiniBatch=ON, pebble", "ONE_PHASE", true, weir.StatePebble},
	{"LocalGlobal=ON, MiniBatch=ON, pebble", "TWO_PHASE", true, weir.StatePebble},
}

// flinkStateModes are StreamingWithStateTestBase's parameters (RankITCase,
// ...): the heap and the RocksDB (Pebble) state backend.
var flinkStateModes = []aggMode{
	{"heap", "", false, weir.StateHeap},
	{"pebble", "", false, weir.StatePebble},
}

// flinkMiniBatchModes are StreamingWithMiniBatchTestBase's parameters
// (JoinITCase, ...): mini-batch off and on, heap and RocksDB (Pebble); the
// phase strategy is the default.
var flinkMiniBatchModes = []aggMode{
	{"MiniBatch=OFF, heap", "AUTO", false, weir.StateHeap},
	{"MiniBatch=OFF, pebble", "AUTO", false, weir.StatePebble},
	{"MiniBatch=ON, heap", "AUTO", true, weir.StateHeap},
	{"MiniBatch=ON, pebble", "AUTO", true, weir.StatePebble},
}

// execAggModes runs a script once per mode of flinkAggModes (the block's
// backend argument is ignored) and returns the output when every mode gave
// the same one; otherwise each mode's output, labelled, so the block fails.
// The script must only run queries: it is executed once per mode.
func execAggModes(t *testing.T, sess *sql.Session, script string, so scriptOpts) string {
	return execModes(t, sess, script, so, flinkAggModes)
}

// execModes runs a script once per mode, as execAggModes.
func execModes(t *testing.T, sess *sql.Session, script string, so scriptOpts, modes []aggMode) string {
	keys := []string{"table.optimizer.agg-phase-strategy", "table.exec.mini-batch.enabled",
		"table.exec.mini-batch.allow-latency", "table.exec.mini-batch.size"}
	defer func() {
		for _, m := range modes {
			if m.phase != "" {
				for _, k := range keys {
					sess.Config().Reset(k)
				}
				return
			}
		}
	}()
	outs := make([]string, len(modes))
	same := true
	for i, m := range modes {
		if m.phase == "" {
			mso := so
			mso.backend = m.backend
			outs[i] = execScriptOpts(t, sess, script, mso)
			same = same && outs[i] == outs[0]
			continue
		}
		set := map[string]string{keys[0]: m.phase}
		if m.miniBatch {
			set[keys[1]], set[keys[2]], set[keys[3]] = "true", "1 s", "3"
		}
		for _, k := range keys {
			sess.Config().Reset(k)
			if v, ok := set[k]; ok {
				if err := sess.Config().Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
		}
		mso := so
		mso.backend = m.backend
		outs[i] = execScriptOpts(t, sess, script, mso)
		same = same && outs[i] == outs[0]
	}
	if same {
		return outs[0]
	}
	var b strings.Builder
	for i, m := range modes {
		fmt.Fprintf(&b, "mode %s:\n%s", m.name, outs[i])
	}
	return b.String()
}
