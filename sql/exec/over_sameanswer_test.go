package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// TestOverAggSameAnswer runs random event-time rows (none late) through
// OverAggregate with each kind of frame under every configuration
// (parallelism, backend, restore in the middle at another parallelism),
// and compares the output with the frames computed by their definition:
// per partition, rows ordered by time then arrival; ROWS n: the row and
// the n before it; RANGE d: the rows whose time is within d before the
// row's (peers included); UNBOUNDED: every row up to it (RANGE: up to its
// last peer).
func TestOverAggSameAnswer(t *testing.T) {
	in := []row.Type{row.String(), row.BigInt(), row.TimestampType(3)}
	aggs := []AggCall{
		Call(CountStar), Call(Sum, 1), Call(Max, 1), Call(FirstValue, 1), Call(Count, 1).WithDistinct(),
	}
	rng := rand.New(rand.NewPCG(7, 11))
	var steps []step
	var rows []row.Row
	wm := int64(1000)
	for i := range 500 {
		if i%25 == 24 {
			wm += int64(rng.IntN(3000))
			steps = append(steps, step{wm: wm})
			continue
		}
		ts := wm + 1 + int64(rng.IntN(40))*100
		v := row.Value{}
		if rng.IntN(6) != 0 {
			v = row.Int(int64(rng.IntN(50)))
		}
		r := row.Of(row.Str(fmt.Sprintf("k%d", rng.IntN(5))), v, row.Timestamp(ts, 0))
		rows = append(rows, r)
		steps = append(steps, step{r: r, ts: ts})
	}
	frames := []struct {
		name      string
		rows      bool
		unbounded bool
		preceding int64
	}{
		{"rows-3", true, false, 3},
		{"range-2s", false, false, 2000},
		{"rows-unbounded", true, true, 0},
		{"range-unbounded", false, true, 0},
	}
	for _, f := range frames {
		spec := OverAggSpec{InputTypes: in, PartitionKeys: []int{0}, TimeCol: 2, Rows: f.rows, Unbounded: f.unbounded,
			Preceding: f.preceding, Aggs: aggs, UID: "over"}
		types, err := spec.OutputTypes()
		if err != nil {
			t.Fatal(err)
		}
		want := overReference(rows, f.rows, f.unbounded, f.preceding, types)
		for _, c := range sameAnswerConfigs {
			t.Run(f.name+"/"+c.String(), func(t *testing.T) {
				out := runSteps(t, c, steps, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
					return OverAggregate(s, spec)
				})
				got := make([]string, len(out))
				for i, r := range out {
					got[i] = row.FormatRow(r, types)
				}
				slices.Sort(got)
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("output differs from the frames' definition (-want +got):\n%s", d)
				}
			})
		}
	}
}

// overReference computes every row's frame by definition.
func overReference(rows []row.Row, isRows, unbounded bool, preceding int64, types []row.Type) []string {
	parts := map[string][]row.Row{}
	for _, r := range rows {
		parts[r.Fields[0].Str()] = append(parts[r.Fields[0].Str()], r)
	}
	var out []string
	for _, p := range parts {
		slices.SortStableFunc(p, func(a, b row.Row) int { return int(a.Fields[2].Millis() - b.Fields[2].Millis()) })
		for i, r := range p {
			t := r.Fields[2].Millis()
			var frame []row.Row
			for j, o := range p {
				ot := o.Fields[2].Millis()
				var in bool
				switch {
				case isRows && unbounded:
					in = j <= i
				case isRows:
					in = j <= i && int64(i-j) <= preceding
				case unbounded:
					in = ot <= t
				default:
					in = ot <= t && t-ot <= preceding
				}
				if in {
					frame = append(frame, o)
				}
			}
			var n, sum, nonNull int64
			maxV, first := row.Value{}, row.Value{}
			distinct := map[int64]bool{}
			for _, o := range frame {
				n++
				v := o.Fields[1]
				if v.IsNull() {
					continue
				}
				nonNull++
				sum += v.Int()
				if maxV.IsNull() || v.Int() > maxV.Int() {
					maxV = v
				}
				if first.IsNull() {
					first = v
				}
				distinct[v.Int()] = true
			}
			s := row.Value{}
			if nonNull > 0 {
				s = row.Int(sum)
			}
			res := row.Of(r.Fields[0], r.Fields[1], r.Fields[2], row.Int(n), s, maxV, first, row.Int(int64(len(distinct))))
			out = append(out, row.FormatRow(res, types))
		}
	}
	slices.Sort(out)
	return out
}
