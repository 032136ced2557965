package exec

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// miniBatchOf returns spec with mini-batch on.
func miniBatchOf(spec GroupAggSpec, size int64) GroupAggSpec {
	spec.MiniBatch = MiniBatch{Interval: time.Second, Size: size}
	return spec
}

// TestGroupAggMiniBatchSameAnswer runs the random changelog of
// TestGroupAggSameAnswer through a mini-batch GroupAggregate under every
// configuration (with restores from a checkpoint taken while rows are
// held), with and without -U rows and a state TTL, and with snapshots of
// the non-mini-batch operator restored into the mini-batch one and back:
// the final table is the same, and the changelog is shorter (the updates
// inside a batch are coalesced).
func TestGroupAggMiniBatchSameAnswer(t *testing.T) {
	base, steps, outTypes, want := groupAggRandomChangelog(t)
	for _, variant := range []struct {
		name string
		edit func(*GroupAggSpec)
	}{
		{"retract", func(*GroupAggSpec) {}},
		{"upsert", func(s *GroupAggSpec) { s.GenerateUpdateBefore = false }},
		{"ttl", func(s *GroupAggSpec) { s.StateTTL = time.Hour }},
		{"general", func(s *GroupAggSpec) { s.generalPath = true }},
	} {
		plain := base
		variant.edit(&plain)
		for _, size := range []int64{1, 7, 1000} {
			mini := miniBatchOf(plain, size)
			configs := sameAnswerConfigs
			if variant.name != "retract" {
				// The other variants on one plain run and one restore.
				configs = []config{sameAnswerConfigs[0], sameAnswerConfigs[5]}
			}
			for _, c := range configs {
				t.Run(fmt.Sprintf("%s/size%d/%s", variant.name, size, c), func(t *testing.T) {
					agg := func(spec GroupAggSpec) func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
						return func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return GroupAggregate(s, spec) }
					}
					log := runSteps(t, c, steps, agg(mini))
					if diff := cmp.Diff(want, materializeUpsert(t, log, outTypes, 1, plain.GenerateUpdateBefore)); diff != "" {
						t.Fatalf("final table (-want +got):\n%s", diff)
					}
					if c.then == nil && size > 1 {
						if n, m := len(runSteps(t, c, steps, agg(plain))), len(log); m >= n {
							t.Fatalf("mini-batch of %d emitted %d rows, without it %d: want fewer", size, m, n)
						}
					}
					if c.then != nil && size == 7 {
						// Snapshots restore across the switch, both ways.
						for _, dir := range [][2]GroupAggSpec{{plain, mini}, {mini, plain}} {
							log := runStepsRebuilt(t, c, steps, agg(dir[0]), agg(dir[1]))
							if diff := cmp.Diff(want, materializeUpsert(t, log, outTypes, 1, plain.GenerateUpdateBefore)); diff != "" {
								t.Fatalf("final table, mini-batch %v then %v (-want +got):\n%s", dir[0].MiniBatch.Enabled(), dir[1].MiniBatch.Enabled(), diff)
							}
						}
					}
				})
			}
		}
	}
}

// materializeUpsert is materialize, and for an upsert changelog (no -U
// rows) applies +U as an upsert of the key.
func materializeUpsert(t *testing.T, log []row.Row, types []row.Type, nkeys int, retract bool) []string {
	t.Helper()
	if retract {
		return materialize(t, log, types, nkeys)
	}
	table := map[string]string{}
	for _, r := range log {
		key := row.FormatRow(row.Row{Fields: r.Fields[:nkeys]}, types)
		switch r.Kind {
		case row.Insert, row.UpdateAfter:
			if _, ok := table[key]; ok == (r.Kind == row.Insert) {
				t.Fatalf("%s: the table holds %q", row.FormatRow(r, types), table[key])
			}
			table[key] = row.FormatRow(r.WithKind(row.Insert), types)
		case row.UpdateBefore:
			t.Fatalf("%s in an upsert changelog", row.FormatRow(r, types))
		default:
			if table[key] != row.FormatRow(r.WithKind(row.Insert), types) {
				t.Fatalf("%s deletes %s, but the table holds %q", row.FormatRow(r, types), key, table[key])
			}
			delete(table, key)
		}
	}
	out := make([]string, 0, len(table))
	for _, v := range table {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// miniBatchHarness runs a mini-batch COUNT(*), SUM(v) GROUP BY k over
// (k STRING, v BIGINT), with checkpoints on.
func miniBatchHarness(t *testing.T, opts weir.Options, restore *weirtest.Snapshot, size int64) (*weirtest.Harness, *weirtest.Input[row.Row], *weirtest.Output[row.Row]) {
	t.Helper()
	if opts.Checkpoints.Dir == "" {
		opts.Checkpoints = weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}
	}
	h := weirtest.New(opts)
	if restore != nil {
		h = weirtest.Restore(opts, *restore)
	}
	in := weirtest.NewInput[row.Row](h)
	spec := GroupAggSpec{InputTypes: []row.Type{row.String(), row.BigInt()}, GroupKeys: []int{0}, UID: "agg", GenerateUpdateBefore: true,
		Aggs:      []AggCall{{Func: CountStar, Filter: NoFilter}, {Func: Sum, Args: []int{1}, Filter: NoFilter}},
		MiniBatch: MiniBatch{Interval: time.Second, Size: size}}
	s, err := GroupAggregate(in.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	out := weirtest.Capture(h, s)
	h.Start(t)
	return h, in, out
}

func push(t *testing.T, in *weirtest.Input[row.Row], rows ...row.Row) {
	t.Helper()
	for _, r := range rows {
		if err := in.Push(r, weir.NoTimestamp); err != nil {
			t.Fatal(err)
		}
	}
}

func kv(kind row.Kind, k string, v int64) row.Row {
	r := row.Of(row.Str(k), row.Int(v))
	r.Kind = kind
	return r
}

func formatRows(rows []row.Row) string {
	types := []row.Type{row.String(), row.BigInt(), row.BigInt()}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(row.FormatRow(r, types) + "\n")
	}
	return b.String()
}

func checkRows(t *testing.T, what string, got []row.Row, want string) {
	t.Helper()
	if diff := cmp.Diff(want, formatRows(got)); diff != "" {
		t.Fatalf("%s (-want +got):\n%s", what, diff)
	}
}

// TestGroupAggMiniBatchFlushBySize: nothing is emitted until the batch
// holds size rows; then each key's net change, once, in the order of the
// keys' first rows.
func TestGroupAggMiniBatchFlushBySize(t *testing.T) {
	_, in, out := miniBatchHarness(t, weir.Options{}, nil, 4)
	push(t, in, kv(row.Insert, "a", 1), kv(row.Insert, "b", 10), kv(row.Insert, "a", 2))
	checkRows(t, "before the batch is full", out.Take(), "")
	push(t, in, kv(row.Insert, "a", 3))
	checkRows(t, "the first batch", out.Take(), "+I[a, 3, 6]\n+I[b, 1, 10]\n")
	// -U old / +U new once per key; an unchanged result emits nothing; a
	// group left empty is deleted.
	push(t, in, kv(row.Insert, "a", 5), kv(row.Delete, "b", 10), kv(row.Insert, "a", 4), kv(row.Delete, "a", 4))
	checkRows(t, "the second batch", out.Take(), "-U[a, 3, 6]\n+U[a, 4, 11]\n-D[b, 1, 10]\n")
	push(t, in, kv(row.Insert, "c", 1), kv(row.Delete, "c", 1), kv(row.Insert, "a", 0), kv(row.UpdateBefore, "a", 0))
	checkRows(t, "a batch that changes no result", out.Take(), "")
	// The end of input handles what is held; a retraction of a group
	// without state is ignored.
	push(t, in, kv(row.Delete, "d", 1), kv(row.Insert, "e", 7))
	if err := in.End(); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "at the end of input", out.Take(), "+I[e, 1, 7]\n")
}

// TestGroupAggMiniBatchFlushByTime: a batch is handled at the next
// multiple of the interval in processing time, even without more input.
func TestGroupAggMiniBatchFlushByTime(t *testing.T) {
	h, in, out := miniBatchHarness(t, weir.Options{}, nil, 1000)
	if err := h.SetProcessingTime(10_400); err != nil {
		t.Fatal(err)
	}
	push(t, in, kv(row.Insert, "a", 1), kv(row.Insert, "a", 2))
	if err := h.SetProcessingTime(10_999); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "before the interval's end", out.Take(), "")
	if err := h.SetProcessingTime(11_000); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "at the interval's end", out.Take(), "+I[a, 2, 3]\n")
	push(t, in, kv(row.Insert, "a", 3))
	if err := h.SetProcessingTime(11_999); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "before the next interval's end", out.Take(), "")
	if err := h.SetProcessingTime(12_000); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "at the next interval's end", out.Take(), "-U[a, 2, 3]\n+U[a, 3, 6]\n")
	// Ordinary watermarks do not flush; the final one does.
	push(t, in, kv(row.Insert, "b", 1))
	if err := in.Watermark(5); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "after a watermark", out.Take(), "")
	if err := in.Watermark(weir.MaxWatermark); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "after the final watermark", out.Take(), "+I[b, 1, 1]\n")
}

// TestGroupAggMiniBatchCheckpointMidBatch takes a checkpoint while rows are
// held: they are handled before the barrier (so in the snapshot's state and
// output), and the job restored from it neither loses nor repeats them.
func TestGroupAggMiniBatchCheckpointMidBatch(t *testing.T) {
	dir := t.TempDir()
	opts := weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: dir}}
	h, in, out := miniBatchHarness(t, opts, nil, 100)
	push(t, in, kv(row.Insert, "a", 1), kv(row.Insert, "b", 2), kv(row.Insert, "a", 3))
	checkRows(t, "held", out.Take(), "")
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, "handled before the barrier", out.Take(), "+I[a, 2, 4]\n+I[b, 1, 2]\n")
	// Rows after the checkpoint, held when the job fails: a restore
	// replays them from the source.
	push(t, in, kv(row.Insert, "a", 5))
	checkRows(t, "held after the checkpoint", out.Take(), "")

	h2, in2, out2 := miniBatchHarness(t, weir.Options{Parallelism: 2, Checkpoints: opts.Checkpoints}, &snap, 100)
	push(t, in2, kv(row.Insert, "a", 5), kv(row.Delete, "b", 2))
	if err := in2.End(); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "after the restore", sortRows(out2.Take()), "-D[b, 1, 2]\n-U[a, 2, 4]\n+U[a, 3, 9]\n")
	_ = h2
}

// sortRows orders rows of different keys by key (subtasks interleave them)
// keeping each key's rows in order.
func sortRows(rows []row.Row) []row.Row {
	slices.SortStableFunc(rows, func(a, b row.Row) int { return strings.Compare(b.Fields[0].Str(), a.Fields[0].Str()) })
	return rows
}

// TestGroupAggMiniBatchSpecErrors: an interval needs a size > 0.
func TestGroupAggMiniBatchSpecErrors(t *testing.T) {
	for _, c := range []struct {
		mb   MiniBatch
		want string
	}{
		{MiniBatch{Interval: time.Second}, "mini-batch size must be > 0 (it is 0)"},
		{MiniBatch{Interval: time.Second, Size: -1}, "mini-batch size must be > 0 (it is -1)"},
		{MiniBatch{Interval: time.Microsecond, Size: 5}, "MiniBatch Latency must be greater than 0 ms"},
	} {
		spec := GroupAggSpec{InputTypes: []row.Type{row.String()}, GroupKeys: []int{0}, Aggs: []AggCall{{Func: CountStar, Filter: NoFilter}}, MiniBatch: c.mb}
		if _, err := spec.OutputTypes(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.mb, err, c.want)
		}
	}
}
