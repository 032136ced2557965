package exec

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// TestTemporalJoinScripts runs testdata/temporal_*.txt with the commands of
// TestJoinScripts and
//
//	tjoin type=inner|left left=(...) right=(...) lkeys=(..) rkeys=(..) ltime=C rtime=C [cond=(op,l,r)] [ttl=D]
//	watermark N left|right     the watermark of one input only
func TestTemporalJoinScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		base := path[strings.LastIndex(path, "/")+1:]
		if !strings.HasPrefix(base, "temporal_") {
			t.Skip("not a temporal join script")
		}
		s := &opScript{t: t}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch {
			case d.Cmd == "tjoin":
				return s.temporalJoin(d)
			case d.Cmd == "watermark" && (d.HasArg("left") || d.HasArg("right")):
				wm, err := strconv.ParseInt(d.CmdArgs[0].Key, 10, 64)
				if err != nil {
					tm, terr := time.Parse("2006-01-02T15:04:05.999", d.CmdArgs[0].Key)
					if terr != nil {
						d.Fatalf(t, "watermark: %v", err)
					}
					wm = tm.UnixMilli()
				}
				in := s.ins[0]
				if d.HasArg("right") {
					in = s.ins[1]
				}
				if err := in.Watermark(wm); err != nil {
					return "error: " + err.Error()
				}
				return sortedIf(d, s.take())
			}
			return s.run(t, d)
		})
	})
}

// sortedIf sorts the lines of out with the argument "sorted".
func sortedIf(d *datadriven.TestData, out string) string {
	if !d.HasArg("sorted") {
		return out
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

func (s *opScript) temporalJoin(d *datadriven.TestData) string {
	lt, err := scriptArgTypes(d, "left")
	if err != nil {
		return err.Error()
	}
	rt, err := scriptArgTypes(d, "right")
	if err != nil {
		return err.Error()
	}
	jt, err := scriptJoinType(scriptArgStr(d, "type", "inner"))
	if err != nil {
		return err.Error()
	}
	spec := TemporalJoinSpec{Type: jt, LeftTypes: lt, RightTypes: rt, LeftKeys: scriptArgInts(d, "lkeys"), RightKeys: scriptArgInts(d, "rkeys"),
		LeftTime: int(scriptArgInt(d, "ltime", 0)), RightTime: int(scriptArgInt(d, "rtime", 0)), Condition: scriptCond(d), StateTTL: scriptArgDur(d, "ttl")}
	s.inTypes = [][]row.Type{lt, rt}
	s.out = append(append([]row.Type{}, lt...), rt...)
	s.build = func(ins []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
		return TemporalJoin(ins[0], ins[1], spec)
	}
	return s.start(1, weir.StateHeap, "")
}
