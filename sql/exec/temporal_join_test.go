package exec

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/result"
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

// TestTemporalJoinSameAnswer: a LEFT temporal join of random orders with a
// random versioned table (inserts, updates with their -U rows, deletes),
// no row late, ends with the batch answer (each order with the version of
// its key valid at its time) at parallelism 1 and 4, on both backends,
// through a checkpoint and a restore at another parallelism.
func TestTemporalJoinSameAnswer(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	lt := []row.Type{row.BigInt(), row.TimestampType(3), row.BigInt()}
	rt := []row.Type{row.BigInt(), row.BigInt(), row.TimestampType(3)}
	type version struct {
		ts   int64
		r    row.Row
		live bool
	}
	history := map[int64][]version{} // key -> versions in time order
	current := map[int64]row.Row{}   // key -> live row
	var steps []joinFeedStep
	var lefts []row.Row
	wm, ts := int64(0), int64(1000)
	var batch []row.Row // left rows after the last watermark
	for i := range 600 {
		ts += int64(rng.IntN(40))
		k := int64(rng.IntN(6))
		switch rng.IntN(10) {
		case 0, 1, 2: // a version
			prev, ok := current[k]
			r := row.Of(row.Int(k), row.Int(int64(i)), row.Timestamp(ts, 0))
			if ok && rng.IntN(4) == 0 {
				del := prev.WithKind(row.Delete)
				del.Fields = slices.Clone(prev.Fields)
				del.Fields[2] = row.Timestamp(ts, 0)
				steps = append(steps, joinFeedStep{input: 1, r: &del, ts: ts})
				delete(current, k)
				history[k] = append(history[k], version{ts: ts, r: del})
				break
			}
			if ok {
				ub := prev.WithKind(row.UpdateBefore)
				steps = append(steps, joinFeedStep{input: 1, r: &ub, ts: ts})
				r.Kind = row.UpdateAfter
			}
			steps = append(steps, joinFeedStep{input: 1, r: &r, ts: ts})
			current[k] = r
			history[k] = append(history[k], version{ts: ts, r: r, live: true})
		case 3: // retract an order not yet due
			if len(batch) == 0 {
				continue
			}
			j := rng.IntN(len(batch))
			d := batch[j].WithKind(row.Delete)
			steps = append(steps, joinFeedStep{input: 0, r: &d, ts: d.Fields[1].Millis()})
			lefts = append(lefts, d)
			batch = slices.Delete(batch, j, j+1)
		default: // an order, sometimes with a NULL key
			key := row.Int(k)
			if rng.IntN(20) == 0 {
				key = row.Null()
			}
			r := row.Of(key, row.Timestamp(ts, 0), row.Int(int64(i)))
			steps = append(steps, joinFeedStep{input: 0, r: &r, ts: ts})
			lefts = append(lefts, r)
			batch = append(batch, r)
		}
		if i%25 == 24 && ts > wm {
			wm = ts
			steps = append(steps, joinFeedStep{ts: wm})
			batch = batch[:0]
		}
	}
	steps = append(steps, joinFeedStep{ts: math.MaxInt64})

	// The batch answer.
	outTypes := append(slices.Clone(lt), rt...)
	table := result.NewTable(outTypes, nil)
	for _, l := range lefts {
		var match []row.Value
		if !l.Fields[0].IsNull() {
			at := l.Fields[1].Millis()
			for _, v := range history[l.Fields[0].Int()] {
				if v.ts > at {
					break
				}
				match = nil
				if v.live {
					match = v.r.Fields
				}
			}
		}
		if match == nil {
			match = make([]row.Value, len(rt))
		}
		if err := table.Apply(joinRows(l.Kind, l.Fields, match)); err != nil {
			t.Fatal(err)
		}
	}
	want := table.Sorted()
	if len(want) < 100 {
		t.Fatalf("only %d rows in the answer", len(want))
	}
	spec := TemporalJoinSpec{Type: LeftJoin, LeftTypes: lt, RightTypes: rt, LeftKeys: []int{0}, RightKeys: []int{0}, LeftTime: 1, RightTime: 2}
	checkJoinSameAnswer(t, want, func(c joinSameAnswerConfig) *result.Table {
		return joinSameAnswerRun(t, 2, outTypes, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return TemporalJoin(s[0], s[1], spec)
		}, steps, c.p1, c.b1, c.p2, c.b2)
	})
}
