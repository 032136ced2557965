package runtime

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestAligner runs testdata/aligner. Commands:
//
//	init channels=N [at-least-once]
//	barrier ch=C id=N
//	end ch=C
//
// Each prints the result and the blocked channels.
func TestAligner(t *testing.T) {
	var a *Aligner
	datadriven.RunTest(t, "testdata/aligner", func(t *testing.T, d *datadriven.TestData) string {
		var ch, n int
		var id int64
		for _, arg := range d.CmdArgs {
			switch arg.Key {
			case "channels":
				fmt.Sscan(arg.Vals[0], &n)
			case "ch":
				fmt.Sscan(arg.Vals[0], &ch)
			case "id":
				fmt.Sscan(arg.Vals[0], &id)
			}
		}
		var r AlignResult
		switch d.Cmd {
		case "init":
			a = NewAligner(n, !d.HasArg("at-least-once"))
			return ""
		case "barrier":
			r = a.OnBarrier(ch, id)
		case "end":
			r = a.OnEndOfInput(ch)
		default:
			d.Fatalf(t, "unknown command %s", d.Cmd)
		}
		var b strings.Builder
		if r.Aborted != 0 {
			fmt.Fprintf(&b, "abort %d\n", r.Aborted)
		}
		if r.Snapshot != 0 {
			fmt.Fprintf(&b, "snapshot %d\n", r.Snapshot)
		}
		var blocked []int
		for i := range a.seen {
			if a.Blocked(i) {
				blocked = append(blocked, i)
			}
		}
		fmt.Fprintf(&b, "aligning %d blocked %v\n", a.Aligning(), blocked)
		return b.String()
	})
}
