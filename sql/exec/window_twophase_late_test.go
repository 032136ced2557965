package exec

import (
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// lateStep is a row, or a watermark when r has no fields.
type lateStep struct {
	r  row.Row
	wm int64
}

func pushLateSteps(t *testing.T, in *weirtest.Input[row.Row], steps []lateStep, ts func(row.Row) int64) {
	t.Helper()
	for _, s := range steps {
		if len(s.r.Fields) == 0 {
			if err := in.Watermark(s.wm); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := in.Push(s.r, ts(s.r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.End(); err != nil {
		t.Fatal(err)
	}
}

// TestAttachedWindowPhasesLateAndNullWindows: the attached (cascaded)
// window aggregation in one and in two phases over rows of windows that
// have fired (late) and rows with NULL window columns (the padded side of
// an outer window join): the same results and the same count of dropped
// rows (numLateRecordsDropped). Before, the local phase dropped the
// NULL-window rows itself, uncounted.
func TestAttachedWindowPhasesLateAndNullWindows(t *testing.T) {
	types, err := parseTypes("STRING, TIMESTAMP(3), TIMESTAMP(3), BIGINT")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := parseAgg("SUM($3)")
	if err != nil {
		t.Fatal(err)
	}
	count, err := parseAgg("COUNT(*)")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	win := func(k string, w int64, v int64) row.Row {
		return row.Of(row.Str(k), row.Timestamp(base+w*5000, 0), row.Timestamp(base+w*5000+5000, 0), row.Int(v))
	}
	noWin := func(k string, v int64, nullStart, nullEnd bool) row.Row {
		r := win(k, 0, v)
		if nullStart {
			r.Fields[1] = row.Null()
		}
		if nullEnd {
			r.Fields[2] = row.Null()
		}
		return r
	}
	steps := []lateStep{
		{r: win("a", 0, 1)}, {r: win("b", 0, 2)}, {r: noWin("a", 100, true, true)},
		{r: noWin("b", 200, true, false)}, {r: noWin("a", 300, false, true)},
		{r: win("a", 1, 3)},
		{wm: base + 5000 - 1},                      // fires window 0
		{r: win("a", 0, 40)}, {r: win("b", 0, 50)}, // late
		{r: win("a", 1, 4)}, {r: noWin("c", 400, true, true)},
		{wm: base + 10000 - 1}, // fires window 1
		{r: win("a", 1, 60)},   // late
		{r: win("b", 2, 5)}, {r: noWin("a", 500, true, true)},
	}
	const wantLate = 3 + 1 + 1 + 2 + 1
	for _, p := range []int{1, 2} {
		var want []string
		var wantDropped int64
		for _, twoPhase := range []bool{false, true} {
			counters := &Counters{}
			spec := AttachedWindowAggSpec{InputTypes: types, WindowStart: 1, WindowEnd: 2, GroupKeys: []int{0},
				Aggs: []AggCall{sum, count}, UID: "cascade", Counters: counters}
			outTypes, err := spec.OutputTypes()
			if err != nil {
				t.Fatal(err)
			}
			h := weirtest.New(weir.Options{Parallelism: p})
			in := weirtest.NewInput[row.Row](h)
			var out weir.Stream[row.Row]
			if twoPhase {
				local, err := AttachedLocalWindowAggregate(in.Stream(), spec)
				if err != nil {
					t.Fatal(err)
				}
				out, err = AttachedGlobalWindowAggregate(local, spec)
				if err != nil {
					t.Fatal(err)
				}
			} else if out, err = AttachedWindowAggregate(in.Stream(), spec); err != nil {
				t.Fatal(err)
			}
			o := weirtest.Capture(h, out)
			h.Start(t)
			pushLateSteps(t, in, steps, func(r row.Row) int64 { return base })
			var got []string
			for _, r := range o.Take() {
				got = append(got, row.FormatRow(r, outTypes))
			}
			slices.Sort(got)
			dropped := counters.LateRecordsDropped.Load()
			if !twoPhase {
				want, wantDropped = got, dropped
				if len(want) != 4 || dropped != wantLate {
					t.Fatalf("p%d one phase: %q, %d dropped; want 4 rows, %d dropped", p, want, dropped, wantLate)
				}
				continue
			}
			if !slices.Equal(got, want) || dropped != wantDropped {
				t.Fatalf("p%d two phases: %q, %d dropped;\none phase: %q, %d dropped", p, got, dropped, want, wantDropped)
			}
		}
	}
}

// TestWindowPhasesLate: TUMBLE, HOP and CUMULATE window aggregations in
// one and in two phases over late rows (their windows fired, or for HOP
// and CUMULATE some of them): the same results and the same count of
// dropped rows.
func TestWindowPhasesLate(t *testing.T) {
	types, err := parseTypes("STRING, TIMESTAMP(3), BIGINT")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := parseAgg("SUM($2)")
	if err != nil {
		t.Fatal(err)
	}
	count, err := parseAgg("COUNT(*)")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	at := func(k string, sec float64, v int64) lateStep {
		return lateStep{r: row.Of(row.Str(k), row.Timestamp(base+int64(sec*1000), 0), row.Int(v))}
	}
	wm := func(sec float64) lateStep { return lateStep{wm: base + int64(sec*1000)} }
	steps := []lateStep{
		at("a", 1, 1), at("b", 2, 2), at("a", 4.5, 3), wm(3),
		at("a", 6, 4), wm(6), // fires TUMBLE [0,5), HOP [-5,5), CUMULATE [0,5)
		at("a", 2, 10), at("b", 4, 20), // late for the windows ending at 5
		at("b", 7, 5), at("a", 11, 6), wm(11), // fires [5,10), [0,10)
		at("a", 3, 30), at("b", 8, 40), at("a", 9.5, 50), // late in all but HOP [5,15), CUMULATE none
		at("b", 12, 7), wm(20),
		at("a", 16, 60), // late everywhere
	}
	for _, w := range []Window{Tumble(5 * time.Second), Hop(5*time.Second, 10*time.Second), Cumulate(5*time.Second, 10*time.Second)} {
		for _, p := range []int{1, 2} {
			var want []string
			var wantDropped int64
			for _, twoPhase := range []bool{false, true} {
				counters := &Counters{}
				spec := WindowAggSpec{InputTypes: types, TimeCol: 1, Window: w, GroupKeys: []int{0},
					Aggs: []AggCall{sum, count}, UID: "w", Counters: counters}
				if twoPhase && !WindowTwoPhaseSupported(spec) {
					t.Fatalf("%v: no two-phase plan", w)
				}
				outTypes, err := spec.OutputTypes()
				if err != nil {
					t.Fatal(err)
				}
				h := weirtest.New(weir.Options{Parallelism: p})
				in := weirtest.NewInput[row.Row](h)
				var out weir.Stream[row.Row]
				if twoPhase {
					local, err := LocalWindowAggregate(in.Stream(), spec)
					if err != nil {
						t.Fatal(err)
					}
					if out, err = GlobalWindowAggregate(local, spec); err != nil {
						t.Fatal(err)
					}
				} else if out, err = WindowAggregate(in.Stream(), spec); err != nil {
					t.Fatal(err)
				}
				o := weirtest.Capture(h, out)
				h.Start(t)
				pushLateSteps(t, in, steps, func(r row.Row) int64 { return r.Fields[1].Millis() })
				var got []string
				for _, r := range o.Take() {
					got = append(got, row.FormatRow(r, outTypes))
				}
				slices.Sort(got)
				dropped := counters.LateRecordsDropped.Load()
				if !twoPhase {
					want, wantDropped = got, dropped
					if dropped == 0 {
						t.Fatalf("%v p%d: no late row dropped: %q", w, p, got)
					}
					continue
				}
				if !slices.Equal(got, want) || dropped != wantDropped {
					t.Fatalf("%v p%d two phases: %q, %d dropped;\none phase: %q, %d dropped", w, p, got, dropped, want, wantDropped)
				}
			}
		}
	}
}
