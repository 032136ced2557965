package cep_test

import (
	"context"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/bench"
	"github.com/weirstream/weir/cep"
)

// Throughput of a 3-step pattern with Within over 100k keys, heap state
// backend, parallelism 1, whole job (source, key exchange, CEP, sink). One
// op is one input event. Run, for example:
//
//	go test -run '^$' -bench CEP -benchtime 2000000x ./cep/

type benchEvent struct {
	Key  uint32
	Kind uint8 // 0 a, 1 b, 2 c, 3 other
	Amt  int32
	TS   int64
}

const benchKeys = 100_000

type benchSource struct{ n int64 }

func (s benchSource) CreateReader(weir.SourceContext) (weir.SourceReader[benchEvent], error) {
	return &benchReader{n: s.n}, nil
}

type benchReader struct{ n, next int64 }

// Event i goes to key i mod 100k; each key sees a, b, c, other in turn,
// one event every 100k ms of event time, so every key completes a match
// every four of its events, well within the pattern's ten minutes.
func (r *benchReader) Poll(_ context.Context, out *weir.SourceOutput[benchEvent]) (weir.PollStatus, error) {
	end := min(r.next+1024, r.n)
	for i := r.next; i < end; i++ {
		e := benchEvent{Key: uint32(i % benchKeys), Kind: uint8((i / benchKeys) % 4), Amt: int32(i % 1000), TS: i}
		out.CollectWithTimestamp(e, e.TS)
	}
	r.next = end
	if end >= r.n {
		return weir.EndOfInput, nil
	}
	return weir.MoreAvailable, nil
}

func (r *benchReader) Close() error { return nil }

type countSink struct{ n *int64 }

func (s countSink) CreateWriter(weir.SinkContext) (weir.SinkWriter[int32], error) { return s, nil }
func (s countSink) Write(context.Context, int32, int64) error                     { *s.n++; return nil }
func (s countSink) Flush(context.Context, bool) error                             { return nil }
func (s countSink) Close() error                                                  { return nil }

func benchCEP(b *testing.B, procTime, view bool) {
	n := int64(b.N)
	p := cep.Begin[benchEvent]("a").Where(func(e benchEvent) bool { return e.Kind == 0 }).
		FollowedBy("b").Where(func(e benchEvent) bool { return e.Kind == 1 }).
		FollowedBy("c").Where(func(e benchEvent) bool { return e.Kind == 2 }).
		Within(10 * time.Minute)
	var matches int64
	run := func() error {
		env := weir.NewEnvironment(weir.Options{Parallelism: 1, AutoWatermarkInterval: -1})
		src := weir.FromSource[benchEvent](env, benchSource{n: n}, weir.ForMonotonousTimestamps[benchEvent](), "events")
		ps := cep.Pattern(weir.KeyBy(src, func(e benchEvent) uint32 { return e.Key }), p)
		if procTime {
			ps = ps.InProcessingTime()
		}
		var out weir.Stream[int32]
		if view {
			out = cep.SelectMatch(ps, func(_ uint32, m *cep.Match[benchEvent]) (int32, error) { return m.Get("c")[0].Amt, nil })
		} else {
			out = cep.Select(ps, func(_ uint32, m map[string][]benchEvent) (int32, error) { return m["c"][0].Amt, nil })
		}
		out.SinkTo(countSink{&matches})
		return env.Execute(context.Background())
	}
	b.ResetTimer()
	m, err := bench.Measure(n, run)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if want := n / benchKeys / 4 * benchKeys; n >= 4*benchKeys && (matches < want || matches > want+benchKeys) {
		b.Fatalf("%d matches, want about %d", matches, want)
	}
	b.ReportMetric(m.PerCoreSecond(), "events/s/core")
	b.ReportMetric(m.AllocsPerRecord(), "allocs/event")
	b.ReportMetric(float64(matches)/float64(n), "matches/event")
}

func BenchmarkCEPEventTime(b *testing.B)      { benchCEP(b, false, false) }
func BenchmarkCEPProcessingTime(b *testing.B) { benchCEP(b, true, false) }

// The same with SelectMatch: no match map per match.
func BenchmarkCEPEventTimeMatch(b *testing.B)      { benchCEP(b, false, true) }
func BenchmarkCEPProcessingTimeMatch(b *testing.B) { benchCEP(b, true, true) }
