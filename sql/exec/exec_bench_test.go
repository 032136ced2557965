package exec

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
)

const benchKeys = 10_000

// rowSource emits n rows [ts TIMESTAMP(3), key STRING, v BIGINT] over
// benchKeys keys, 100 rows per millisecond of event time (so a 1 s window
// holds 10 rows per key). Each row allocates its field slice (1 alloc per
// row belongs to the source).
type rowSource struct {
	n    int
	keys []string
}

func newRowSource(n int) rowSource {
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%05d", i)
	}
	return rowSource{n: n, keys: keys}
}

func (s rowSource) CreateReader(weir.SourceContext) (weir.SourceReader[row.Row], error) {
	return &rowReader{src: s}, nil
}

type rowReader struct {
	src rowSource
	i   int
}

func (r *rowReader) Poll(_ context.Context, out *weir.SourceOutput[row.Row]) (weir.PollStatus, error) {
	for n := 0; n < 1024 && r.i < r.src.n; n++ {
		ts := int64(r.i / 100)
		f := make([]row.Value, 3)
		f[0], f[1], f[2] = row.Timestamp(ts, 0), row.Str(r.src.keys[r.i%benchKeys]), row.Int(int64(r.i&63))
		out.CollectWithTimestamp(row.Row{Fields: f}, ts)
		r.i++
	}
	if r.i < r.src.n {
		return weir.MoreAvailable, nil
	}
	return weir.EndOfInput, nil
}

func (r *rowReader) Available() <-chan struct{} { return nil }
func (r *rowReader) Close() error               { return nil }

var benchTypes = []row.Type{row.TimestampType(3), row.String(), row.BigInt()}

var benchAggs = []AggCall{
	{Func: CountStar, Filter: NoFilter},
	{Func: Sum, Args: []int{2}, Filter: NoFilter},
}

// runBench runs b.N rows through the operator built by op into a
// discarding sink and reports the cost per input row (ns/op and
// allocs/op are per row) and the number of output rows.
func runBench(b *testing.B, backend string, op func(weir.Stream[row.Row]) (weir.Stream[row.Row], error)) {
	opts := weir.Options{Parallelism: 1, StateBackend: backend}
	if backend == weir.StatePebble {
		opts.Pebble = pebblePlugin()
		opts.StateDir = b.TempDir()
	}
	env := weir.NewEnvironment(opts)
	src := weir.FromSource[row.Row](env, newRowSource(b.N), weir.ForMonotonousTimestamps[row.Row](), "rows")
	out, err := op(src)
	if err != nil {
		b.Fatal(err)
	}
	var emitted int64
	out.SinkTo(weir.SinkFunc[row.Row](func(context.Context, row.Row, int64) error { emitted++; return nil }))
	b.ReportAllocs()
	b.ResetTimer()
	if err := env.Execute(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	// One op is one input row: ns/op and allocs/op are per row (the
	// source's own allocation of the row's fields included).
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
	b.ReportMetric(float64(emitted)/float64(b.N), "out/row")
}

// BenchmarkWindowAggregate is TUMBLE(1 s) with COUNT(*) and SUM over 10k
// keys (10 rows per key and window).
func BenchmarkWindowAggregate(b *testing.B) {
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		b.Run(backend, func(b *testing.B) {
			runBench(b, backend, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return WindowAggregate(s, WindowAggSpec{InputTypes: benchTypes, TimeCol: 0,
					Window: Tumble(time.Second), GroupKeys: []int{1}, Aggs: benchAggs})
			})
		})
	}
}

// BenchmarkGroupAggregate is GROUP BY key with COUNT(*) and SUM over 10k
// keys, retract output (-U and +U per row after a key's first).
func BenchmarkGroupAggregate(b *testing.B) {
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		b.Run(backend, func(b *testing.B) {
			runBench(b, backend, func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return GroupAggregate(s, GroupAggSpec{InputTypes: benchTypes, GroupKeys: []int{1}, Aggs: benchAggs,
					InsertOnly: true, GenerateUpdateBefore: true})
			})
		})
	}
}

func pebblePlugin() weir.PebbleEngine { return pebble.New() }
