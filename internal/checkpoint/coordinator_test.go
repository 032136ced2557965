package checkpoint

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// TestCoordinator runs the scripts in testdata/coordinator. Commands:
//
//	init tasks=N [interval=D] [timeout=D] [pause=D] [tolerable=N] [retained=N] [last=ID] [concurrent=N]
//	tick t=D                      advance time to D since start
//	ack id=N task=I t=D
//	decline id=N task=I t=D [subsumed]  (subsumed: overtaken by a newer barrier)
//	finish task=I t=D             task I ended its input
//	written id=N t=D [err=TEXT]   metadata of N written (or failed)
//	trigger t=D [savepoint]       trigger now
//	state                         pending and retained checkpoints
//
// Each prints the actions the coordinator returned, one per line.
func TestCoordinator(t *testing.T) {
	datadriven.RunTest(t, "testdata/coordinator", func(t *testing.T, d *datadriven.TestData) string {
		return run(t, d)
	})
}

var (
	coord *Coordinator
	start = time.Unix(1_700_000_000, 0)
)

func run(t *testing.T, d *datadriven.TestData) string {
	arg := func(name string) string {
		for _, a := range d.CmdArgs {
			if a.Key == name {
				if len(a.Vals) == 0 {
					return "true"
				}
				return a.Vals[0]
			}
		}
		return ""
	}
	dur := func(name string) time.Duration {
		s := arg(name)
		if s == "" {
			return 0
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			d.Fatalf(t, "%s: %v", name, err)
		}
		return v
	}
	num := func(name string) int {
		var n int
		if s := arg(name); s != "" {
			if _, err := fmt.Sscan(s, &n); err != nil {
				d.Fatalf(t, "%s: %v", name, err)
			}
		}
		return n
	}
	now := start.Add(dur("t"))
	var acts []Action
	switch d.Cmd {
	case "init":
		var tasks []TaskID
		for i := 0; i < num("tasks"); i++ {
			tasks = append(tasks, TaskID{Vertex: 0, Subtask: i})
		}
		coord = NewCoordinator(Config{Interval: dur("interval"), Timeout: dur("timeout"), MinPause: dur("pause"),
			TolerableFailures: num("tolerable"), Retained: num("retained"), MaxConcurrent: num("concurrent")}, tasks, int64(num("last")), start)
		return ""
	case "tick":
		acts = coord.Tick(now)
	case "ack":
		acts = coord.Ack(now, int64(num("id")), TaskID{Vertex: 0, Subtask: num("task")})
	case "decline":
		if arg("subsumed") != "" {
			acts = coord.DeclineSubsumed(now, int64(num("id")), TaskID{Vertex: 0, Subtask: num("task")})
			break
		}
		acts = coord.Decline(now, int64(num("id")), TaskID{Vertex: 0, Subtask: num("task")}, "test")
	case "finish":
		acts = coord.TaskFinished(now, TaskID{Vertex: 0, Subtask: num("task")})
	case "written":
		var err error
		if e := arg("err"); e != "" {
			err = fmt.Errorf("%s", e)
		}
		acts = coord.MetadataWritten(now, int64(num("id")), err)
	case "trigger":
		var err error
		acts, err = coord.TriggerNow(now, arg("savepoint") != "")
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
	case "state":
		return fmt.Sprintf("pending %v retained %v final-done %v\n", coord.Pending(), coord.Completed(), coord.FinalDone())
	default:
		d.Fatalf(t, "unknown command %s", d.Cmd)
	}
	var b strings.Builder
	for _, a := range acts {
		b.WriteString(a.String())
		b.WriteByte('\n')
	}
	return b.String()
}
