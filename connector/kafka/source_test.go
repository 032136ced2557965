package kafka

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
)

// gather is a sink that signals once it holds n records.
type gather[T any] struct {
	mu    sync.Mutex
	vals  []T
	n     int
	done  chan struct{}
	marks map[int]chan struct{}
}

func newGather[T any](n int) *gather[T] {
	return &gather[T]{n: n, done: make(chan struct{}), marks: map[int]chan struct{}{}}
}

// mark returns a channel closed once the sink holds k records; call it
// before the job starts.
func (g *gather[T]) mark(k int) chan struct{} {
	ch := make(chan struct{})
	g.marks[k] = ch
	return ch
}

func (g *gather[T]) add(v T) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.vals = append(g.vals, v)
	if len(g.vals) == g.n {
		close(g.done)
	}
	if ch, ok := g.marks[len(g.vals)]; ok {
		close(ch)
	}
}

func (g *gather[T]) values() []T {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]T(nil), g.vals...)
}

// wait waits for n records, failing the test if the job ends first.
func (g *gather[T]) wait(t *testing.T, job *weir.JobClient) {
	t.Helper()
	select {
	case <-g.done:
	case <-job.Done():
		t.Fatalf("job ended with %d of %d records: %v", len(g.values()), g.n, job.Wait())
	case <-time.After(60 * time.Second):
		t.Fatalf("%d of %d records after 60s", len(g.values()), g.n)
	}
}

func stop(t *testing.T, job *weir.JobClient) {
	t.Helper()
	job.Cancel()
	if err := job.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("job: %v", err)
	}
}

type tagged struct {
	Record
	Subtask int
}

// TestPartitionAssignment reads two topics at parallelism 3 and checks
// that every partition is read, once, by the subtask PartitionOwner names;
// then a topic matching the pattern and new partitions of a known topic
// are created while the job runs and are read too.
func TestPartitionAssignment(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "orders", 6)
	createTopic(t, seeds, "orders-eu", 3)
	var recs []*kgo.Record
	for p := range int32(6) {
		recs = append(recs, &kgo.Record{Topic: "orders", Partition: p, Value: []byte(fmt.Sprint("o", p))})
	}
	for p := range int32(3) {
		recs = append(recs, &kgo.Record{Topic: "orders-eu", Partition: p, Value: []byte(fmt.Sprint("e", p))})
	}
	produce(t, seeds, recs...)

	env := weir.NewEnvironment(weir.Options{Parallelism: 3})
	src := weir.FromSource[Record](env, NewSource(SourceOptions[Record]{
		Brokers: seeds, Topics: []string{"orders"}, TopicRegexp: regexp.MustCompile(`^orders-`),
		Deserializer: RecordDeserializer{}, DiscoveryInterval: 50 * time.Millisecond,
		ClientOptions: []kgo.Opt{kgo.MetadataMinAge(50 * time.Millisecond)},
	}), weir.NoWatermarks[Record](), "kafka")
	// Chained to the source: the subtask is the reading one.
	withSubtask := weir.Process(src, &subtaskTagger{})
	g := newGather[tagged](9 + 2 + 2)
	withSubtask.SinkTo(weir.SinkFunc[tagged](func(_ context.Context, v tagged, _ int64) error { g.add(v); return nil })).SetParallelism(1)
	nine := g.mark(9)
	job, err := env.Start(context.Background())
	must(t, err)

	// Wait for the first nine, then add a topic and partitions.
	first := &gather[struct{}]{n: 9, done: nine}
	first.wait(t, job)
	createTopic(t, seeds, "orders-us", 2)
	resp, err := admin(t, seeds).CreatePartitions(context.Background(), 2, "orders")
	must(t, err)
	must(t, resp.Error())
	produce(t, seeds,
		&kgo.Record{Topic: "orders-us", Partition: 0, Value: []byte("u0")},
		&kgo.Record{Topic: "orders-us", Partition: 1, Value: []byte("u1")},
		&kgo.Record{Topic: "orders", Partition: 6, Value: []byte("o6")},
		&kgo.Record{Topic: "orders", Partition: 7, Value: []byte("o7")})
	g.wait(t, job)
	stop(t, job)

	seen := map[string]bool{}
	for _, v := range g.values() {
		if want := PartitionOwner(v.Topic, v.Partition, 3); v.Subtask != want {
			t.Errorf("%s partition %d read by subtask %d, want %d", v.Topic, v.Partition, v.Subtask, want)
		}
		if seen[string(v.Value)] {
			t.Errorf("record %s read twice", v.Value)
		}
		seen[string(v.Value)] = true
	}
	for _, want := range []string{"o0", "o5", "o6", "o7", "e0", "e2", "u0", "u1"} {
		if !seen[want] {
			t.Errorf("record %s not read", want)
		}
	}
}

type subtaskTagger struct{ subtask int }

func (s *subtaskTagger) Open(ctx *weir.RuntimeContext) error { s.subtask = ctx.Subtask(); return nil }
func (s *subtaskTagger) ProcessElement(ctx *weir.Context[tagged], r Record) error {
	ctx.Collect(tagged{Record: r, Subtask: s.subtask})
	return nil
}

func TestPartitionOwnerSpreads(t *testing.T) {
	for _, p := range []int{1, 2, 3, 7} {
		counts := make([]int, p)
		for part := range int32(3 * p) {
			o := PartitionOwner("topic", part, p)
			if o < 0 || o >= p {
				t.Fatalf("owner %d of parallelism %d", o, p)
			}
			counts[o]++
		}
		for s, c := range counts {
			if c != 3 {
				t.Fatalf("parallelism %d: subtask %d owns %d of %d partitions, want 3", p, s, c, 3*p)
			}
		}
	}
}

// wmSink records the records and watermarks reaching it.
type wmSink struct {
	mu   sync.Mutex
	wms  []int64
	recs int
	ch   chan struct{}
}

func (s *wmSink) CreateWriter(weir.SinkContext) (weir.SinkWriter[string], error) { return s, nil }
func (s *wmSink) Write(context.Context, string, int64) error {
	s.mu.Lock()
	s.recs++
	s.mu.Unlock()
	s.poke()
	return nil
}
func (s *wmSink) WriteWatermark(_ context.Context, wm int64) error {
	s.mu.Lock()
	s.wms = append(s.wms, wm)
	s.mu.Unlock()
	s.poke()
	return nil
}
func (s *wmSink) poke() {
	select {
	case s.ch <- struct{}{}:
	default:
	}
}
func (s *wmSink) Flush(context.Context, bool) error { return nil }
func (s *wmSink) Close() error                      { return nil }

func (s *wmSink) last() (int64, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.wms) == 0 {
		return weir.MinWatermark, s.recs
	}
	return s.wms[len(s.wms)-1], s.recs
}

// until waits for cond over the sink's last watermark and record count.
func (s *wmSink) until(t *testing.T, job *weir.JobClient, what string, cond func(wm int64, n int) bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		wm, n := s.last()
		if cond(wm, n) {
			return
		}
		select {
		case <-s.ch:
		case <-time.After(50 * time.Millisecond):
		case <-job.Done():
			t.Fatalf("job ended waiting for %s: %v", what, job.Wait())
		case <-deadline:
			t.Fatalf("waiting for %s: watermark %d, %d records", what, wm, n)
		}
	}
}

// TestWatermarksPerPartition checks that the source's watermark is the
// minimum over its partitions, and that a quiet partition stops holding it
// back after the strategy's idle timeout (on a fake processing-time clock).
func TestWatermarksPerPartition(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "events", 2)
	at := func(p int32, ts int64) *kgo.Record {
		return &kgo.Record{Topic: "events", Partition: p, Value: []byte(fmt.Sprint(p, "@", ts)), Timestamp: time.UnixMilli(ts)}
	}
	produce(t, seeds, at(0, 1000), at(0, 3000), at(0, 5000), at(1, 100), at(1, 200))

	var clock atomic.Int64
	clock.Store(1_000_000)
	env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1, Clock: clock.Load})
	src := weir.FromSource[string](env, NewSource(SourceOptions[string]{
		Brokers: seeds, Topics: []string{"events"}, Deserializer: StringSerde{},
	}), weir.ForBoundedOutOfOrderness[string](0).WithIdleness(time.Second), "kafka")
	sink := &wmSink{ch: make(chan struct{}, 1)}
	src.SinkTo(sink)
	job, err := env.Start(context.Background())
	must(t, err)
	defer stop(t, job)

	sink.until(t, job, "all five records and watermark 199", func(wm int64, n int) bool { return n == 5 && wm == 199 })
	sink.mu.Lock()
	for _, wm := range sink.wms {
		if wm > 199 {
			t.Errorf("watermark %d passed partition 1's records (max 200)", wm)
		}
	}
	sink.mu.Unlock()

	// Both partitions go quiet for longer than the idle timeout; then only
	// partition 0 gets a record: partition 1 no longer holds event time.
	clock.Add(2000)
	produce(t, seeds, at(0, 7000))
	sink.until(t, job, "watermark 6999 once partition 1 is idle", func(wm int64, n int) bool { return wm == 6999 })
}

// TestDeadLetters sends records that do not decode to the dead-letter
// output with their position, and fails the job under the default policy.
func TestDeadLetters(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "json", 1)
	type doc struct{ N int }
	produce(t, seeds,
		&kgo.Record{Topic: "json", Value: []byte(`{"N":1}`)},
		&kgo.Record{Topic: "json", Value: []byte(`{"N":`)},
		&kgo.Record{Topic: "json", Value: []byte(`{"N":3}`)},
		&kgo.Record{Topic: "json", Value: []byte(`{"N":4} GARBAGE`)},
		&kgo.Record{Topic: "json", Value: []byte(`{"N":"five"}`)},
		&kgo.Record{Topic: "json", Value: []byte(`null`)})

	tag := weir.NewOutputTag[weir.DeadLetter]("dead")
	env := weir.NewEnvironment(weir.Options{})
	src := weir.FromSource[doc](env, NewSource(SourceOptions[doc]{
		Brokers: seeds, Topics: []string{"json"}, Deserializer: JSONSerde[doc]{}, ErrorPolicy: weir.DeadLetterTo(tag),
	}), weir.NoWatermarks[doc](), "kafka")
	good := newGather[doc](2)
	src.SinkTo(weir.SinkFunc[doc](func(_ context.Context, v doc, _ int64) error { good.add(v); return nil }))
	dead := newGather[weir.DeadLetter](4)
	weir.SideOutput(src, tag).SinkTo(weir.SinkFunc[weir.DeadLetter](func(_ context.Context, v weir.DeadLetter, _ int64) error { dead.add(v); return nil }))
	job, err := env.Start(context.Background())
	must(t, err)
	good.wait(t, job)
	dead.wait(t, job)
	stop(t, job)
	if g := good.values(); g[0].N != 1 || g[1].N != 3 {
		t.Fatalf("good records %v", g)
	}
	d := dead.values()[0]
	if d.Source != "topic json partition 0 offset 1" || string(d.Raw) != `{"N":` || d.Reason != "json: unexpected end of the value" {
		t.Fatalf("dead letter %+v", d)
	}
	// Trailing garbage, a type mismatch (with its field) and null are bad
	// records too; reasons do not repeat prefixes.
	want := []weir.DeadLetter{
		{Source: "topic json partition 0 offset 3", Reason: `json: 7 bytes after the value, starting "GARBAGE"`},
		{Source: "topic json partition 0 offset 4", Field: "N", Reason: "json: cannot decode a JSON string into int (byte 11)"},
		{Source: "topic json partition 0 offset 5", Reason: "json: the value is null"},
	}
	for i, w := range want {
		if g := dead.values()[i+1]; g.Source != w.Source || g.Field != w.Field || g.Reason != w.Reason {
			t.Errorf("dead letter %d: %q field %q reason %q, want %q field %q reason %q", i+1, g.Source, g.Field, g.Reason, w.Source, w.Field, w.Reason)
		}
	}

	// Under the default policy the bad record fails the job.
	env = weir.NewEnvironment(weir.Options{})
	weir.FromSource[doc](env, NewSource(SourceOptions[doc]{
		Brokers: seeds, Topics: []string{"json"}, Deserializer: JSONSerde[doc]{},
	}), weir.NoWatermarks[doc](), "kafka").SinkTo(weir.SinkFunc[doc](func(context.Context, doc, int64) error { return nil }))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.Execute(ctx); !errors.Is(err, weir.ErrBadRecord) || !strings.Contains(err.Error(), "offset 1") {
		t.Fatalf("job under the fail policy: %v", err)
	}
}

// TestStartOffsets starts fresh jobs from the earliest offset, a
// timestamp and a group's committed offsets.
func TestStartOffsets(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "start", 1)
	var recs []*kgo.Record
	for i := range int64(5) {
		recs = append(recs, &kgo.Record{Topic: "start", Value: []byte(fmt.Sprint(i)), Timestamp: time.UnixMilli(1000 * (i + 1))})
	}
	produce(t, seeds, recs...)
	ctx := context.Background()
	adm := admin(t, seeds)
	var commit kadm.Offsets
	commit.AddOffset("start", 0, 4, -1)
	resp, err := adm.CommitOffsets(ctx, "g", commit)
	must(t, err)
	must(t, resp.Error())

	for _, tc := range []struct {
		name  string
		start StartOffset
		want  []string
	}{
		{"earliest", Earliest(), []string{"0", "1", "2", "3", "4"}},
		{"timestamp", AtTimestamp(time.UnixMilli(2500)), []string{"2", "3", "4"}},
		{"committed", CommittedOffsets("g"), []string{"4"}},
		{"no commits", CommittedOffsets("other"), []string{"0", "1", "2", "3", "4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := weir.NewEnvironment(weir.Options{})
			src := weir.FromSource[string](env, NewSource(SourceOptions[string]{
				Brokers: seeds, Topics: []string{"start"}, Deserializer: StringSerde{}, Start: tc.start,
			}), weir.NoWatermarks[string](), "kafka")
			g := newGather[string](len(tc.want))
			src.SinkTo(weir.SinkFunc[string](func(_ context.Context, v string, _ int64) error { g.add(v); return nil }))
			job, err := env.Start(ctx)
			must(t, err)
			g.wait(t, job)
			stop(t, job)
			if got := g.values(); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOptionErrors(t *testing.T) {
	ok := SourceOptions[string]{Brokers: []string{"x:1"}, Topics: []string{"t"}, Deserializer: StringSerde{}}
	// check wants an error matching ErrOptions and weir.ErrInvalidOption,
	// worded "kafka: option <name>: ...".
	check := func(what, option string, err error) {
		t.Helper()
		var oe *weir.InvalidOptionError
		if !errors.Is(err, ErrOptions) || !weir.IsInvalidOption(err) || !errors.As(err, &oe) || oe.Option != option ||
			!strings.HasPrefix(err.Error(), "kafka: option "+option+": ") {
			t.Errorf("%s: %v, want an invalid option error on %s", what, err, option)
		}
	}
	for _, tc := range []struct {
		name, option string
		edit         func(*SourceOptions[string])
	}{
		{"no brokers", "Brokers", func(o *SourceOptions[string]) { o.Brokers = nil }},
		{"no topics", "Topics", func(o *SourceOptions[string]) { o.Topics = nil }},
		{"no deserializer", "Deserializer", func(o *SourceOptions[string]) { o.Deserializer = nil }},
		{"no group", "Start", func(o *SourceOptions[string]) { o.Start = CommittedOffsets("") }},
	} {
		o := ok
		tc.edit(&o)
		_, err := NewSource(o).CreateReader(weir.SourceContext{Parallelism: 1})
		check("source "+tc.name, tc.option, err)
	}
	sok := SinkOptions[string]{Brokers: []string{"x:1"}, Topic: "t", Serializer: StringSerde{}}
	for _, tc := range []struct {
		name, option string
		edit         func(*SinkOptions[string])
	}{
		{"no brokers", "Brokers", func(o *SinkOptions[string]) { o.Brokers = nil }},
		{"no topic", "Topic", func(o *SinkOptions[string]) { o.Topic = "" }},
		{"no serializer", "Serializer", func(o *SinkOptions[string]) { o.Serializer = nil }},
		{"no prefix", "TransactionalIDPrefix", func(o *SinkOptions[string]) { o.Guarantee = ExactlyOnce }},
		{"bad guarantee", "Guarantee", func(o *SinkOptions[string]) { o.Guarantee = 7 }},
		{"bad policy", "LostTransactions", func(o *SinkOptions[string]) { o.LostTransactions = 9 }},
	} {
		o := sok
		tc.edit(&o)
		_, err := NewSink(o).CreateWriter(weir.SinkContext{Parallelism: 1})
		check("sink "+tc.name, tc.option, err)
	}
}

// TestAtLeastOnceSink writes through the at-least-once sink with a key
// and a partition selector.
func TestAtLeastOnceSink(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "alo", 3)
	env := weir.NewEnvironment(weir.Options{})
	vals := make([]string, 30)
	for i := range vals {
		vals[i] = fmt.Sprint(i)
	}
	weir.FromSlice(env, vals).SinkTo(NewSink(SinkOptions[string]{
		Brokers: seeds, Topic: "alo", Serializer: StringSerde{},
		Key:       func(v string) []byte { return []byte("k" + v) },
		Partition: func(v string) int32 { return int32(len(v) % 3) },
	}))
	must(t, env.Execute(context.Background()))
	got := consume(t, seeds, "alo", len(vals), false)
	if len(got) != len(vals) {
		t.Fatalf("%d records, want %d", len(got), len(vals))
	}
	for _, r := range got {
		if string(r.Key) != "k"+string(r.Value) || r.Partition != int32(len(r.Value)%3) {
			t.Fatalf("record key %s value %s in partition %d", r.Key, r.Value, r.Partition)
		}
	}
}

// TestCommitGroup checks that completed checkpoints' offsets reach the
// monitoring group.
func TestCommitGroup(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "mon", 2)
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, &kgo.Record{Topic: "mon", Partition: int32(i % 2), Value: []byte(fmt.Sprint(i))})
	}
	produce(t, seeds, recs...)
	env := weir.NewEnvironment(weir.Options{
		Parallelism: 2,
		Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: t.TempDir()},
	})
	weir.FromSource[string](env, NewSource(SourceOptions[string]{
		Brokers: seeds, Topics: []string{"mon"}, Deserializer: StringSerde{}, CommitGroup: "monitor",
	}), weir.NoWatermarks[string](), "kafka").SinkTo(weir.SinkFunc[string](func(context.Context, string, int64) error { return nil }))
	job, err := env.Start(context.Background())
	must(t, err)
	defer stop(t, job)
	adm := admin(t, seeds)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		offs, err := adm.FetchOffsets(context.Background(), "monitor")
		if err == nil {
			o0, ok0 := offs.Lookup("mon", 0)
			o1, ok1 := offs.Lookup("mon", 1)
			if ok0 && ok1 && o0.At == 5 && o1.At == 5 {
				return
			}
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("group offsets after 30s: %v %v", offs, err)
		case <-job.Done():
			t.Fatalf("job ended: %v", job.Wait())
		}
	}
}

// TestStartLatest starts after the records present when the partition is
// first read: records produced later arrive, earlier ones never.
func TestStartLatest(t *testing.T) {
	seeds := cluster(t)
	createTopic(t, seeds, "late", 1)
	for i := range 5 {
		produce(t, seeds, &kgo.Record{Topic: "late", Value: []byte(fmt.Sprint("early", i))})
	}
	env := weir.NewEnvironment(weir.Options{})
	g := newGather[string](1)
	weir.FromSource[string](env, NewSource(SourceOptions[string]{
		Brokers: seeds, Topics: []string{"late"}, Deserializer: StringSerde{}, Start: Latest(),
	}), weir.NoWatermarks[string](), "kafka").SinkTo(weir.SinkFunc[string](func(_ context.Context, v string, _ int64) error { g.add(v); return nil }))
	job, err := env.Start(context.Background())
	must(t, err)
	defer stop(t, job)
	// The reader resolves "latest" at some point after the start: produce
	// until a record produced after that arrives.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for i := 0; ; i++ {
		produce(t, seeds, &kgo.Record{Topic: "late", Value: []byte(fmt.Sprint("late", i))})
		select {
		case <-g.done:
			for _, v := range g.values() {
				if strings.HasPrefix(v, "early") {
					t.Fatalf("read %s, produced before the start", v)
				}
			}
			return
		case <-tick.C:
		case <-deadline:
			t.Fatal("no record after 30s")
		}
	}
}
