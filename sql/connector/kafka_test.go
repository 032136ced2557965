package connector_test

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/weirtest"
)

func kafkaCluster(t *testing.T, topics ...string) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	seeds := c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tp := range topics {
		if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, tp); err != nil {
			t.Fatal(err)
		}
	}
	return strings.Join(seeds, ",")
}

// signalBuffer counts lines and closes done once it has n.
type signalBuffer struct {
	syncBuffer
	n    int
	done chan struct{}
}

func (s *signalBuffer) Write(p []byte) (int, error) {
	n, err := s.syncBuffer.Write(p)
	s.mu.Lock()
	full := strings.Count(s.b.String(), "\n") >= s.n
	s.mu.Unlock()
	if full {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
	return n, err
}

// TestKafkaSourceToPrint reads JSON values with a raw key and metadata
// columns from kfake and prints them.
func TestKafkaSourceToPrint(t *testing.T) {
	seeds := kafkaCluster(t, "orders")
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ts := time.UnixMilli(1_600_000_000_123)
	recs := []*kgo.Record{
		{Topic: "orders", Key: []byte("k1"), Value: []byte(`{"amount": 10.5}`), Timestamp: ts, Headers: []kgo.RecordHeader{{Key: "h", Value: []byte{1}}}},
		{Topic: "orders", Key: []byte("k2"), Value: []byte(`{"amount": "oops"}`), Timestamp: ts},
		{Topic: "orders", Key: []byte("k3"), Value: []byte(`{"amount": 7}`), Timestamp: ts},
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	src := table(t, "orders", `
name STRING
amount DECIMAL(10, 2)
metadata ts TIMESTAMP_LTZ(3) timestamp
metadata off BIGINT offset
metadata part INT partition
metadata hs MAP<STRING,BYTES> headers
'connector' = 'kafka'
'topic' = 'orders'
'properties.bootstrap.servers' = '`+seeds+`'
'scan.startup.mode' = 'earliest-offset'
'key.format' = 'raw'
'key.fields' = 'name'
'value.format' = 'json'
'value.fields-include' = 'EXCEPT_KEY'
'value.json.ignore-parse-errors' = 'true'
`)
	buf := &signalBuffer{n: 3, done: make(chan struct{})}
	reg := connector.Default()
	reg.Register(connector.Print{Stdout: buf})
	s, err := reg.CreateSource(src)
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(weir.Options{})
	st, err := s.Produce(connector.BuildContext{Env: env, Prefix: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := reg.CreateSink(table(t, "out", "name STRING\namount DECIMAL(10, 2)\nts TIMESTAMP_LTZ(3)\noff BIGINT\npart INT\nhs MAP<STRING,BYTES>\n'connector' = 'print'"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Consume(connector.BuildContext{Env: env, Prefix: "out"}, st); err != nil {
		t.Fatal(err)
	}
	job, err := env.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-buf.done:
	case <-ctx.Done():
		t.Fatalf("timed out; printed %q", buf.lines())
	}
	job.Cancel()
	_ = job.Wait()
	want := []string{
		"+I[k1, 10.50, 2020-09-13 12:26:40.123, 0, 0, {h=x'01'}]",
		"+I[k2, NULL, 2020-09-13 12:26:40.123, 1, 0, {}]",
		"+I[k3, 7.00, 2020-09-13 12:26:40.123, 2, 0, {}]",
	}
	if got := buf.lines(); !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestKafkaSinkExactlyOnce writes a bounded datagen table to Kafka with
// the exactly-once sink and reads it back read_committed.
func TestKafkaSinkExactlyOnce(t *testing.T) {
	seeds := kafkaCluster(t, "out")
	gen := table(t, "gen", `
id BIGINT
name STRING
'connector' = 'datagen'
'rows-per-second' = '1000000'
'fields.id.kind' = 'sequence'
'fields.id.start' = '1'
'fields.id.end' = '20'
'fields.name.kind' = 'sequence'
'fields.name.start' = '101'
'fields.name.end' = '200'
`)
	sink := table(t, "sink", `
id BIGINT
name STRING
'connector' = 'kafka'
'topic' = 'out'
'properties.bootstrap.servers' = '`+seeds+`'
'key.format' = 'json'
'key.fields' = 'id'
'format' = 'csv'
'sink.delivery-guarantee' = 'exactly-once'
'sink.transactional-id-prefix' = 'test-job'
`)
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	if err := runJob(t, connector.Default(), env, gen, sink, connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...), kgo.ConsumeTopics("out"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []string
	for len(got) < 20 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Key)+" "+string(r.Value)) })
	}
	sort.Strings(got)
	var want []string
	for i := 1; i <= 20; i++ {
		id := itoa(i)
		want = append(want, `{"id":`+id+`} `+id+`,`+itoa(100+i))
	}
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestUpsertKafka writes a changelog through the upsert-kafka sink (+I/+U
// as values, -D as a tombstone, -U dropped), checks the topic, and reads
// it back through the upsert-kafka source, normalized as Flink's
// ChangelogNormalize does: +I for a's first value, -U/+U for its update,
// +I for b and -D with b's whole last row for its tombstone.
func TestUpsertKafka(t *testing.T) {
	seeds := kafkaCluster(t, "counts")
	spec := "k STRING\nc BIGINT\n'connector' = 'upsert-kafka'\n'topic' = 'counts'\n'properties.bootstrap.servers' = '" + seeds + "'\n'key.format' = 'raw'\n'value.format' = 'json'\n"
	ctx := table(t, "counts", spec)
	ctx.PrimaryKey = []int{0}
	reg := connector.Default()
	k, err := reg.CreateSink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := weirtest.New(weir.Options{})
	in := weirtest.NewInput[row.Row](h)
	if _, err := k.Consume(connector.BuildContext{Env: h.Env(), Prefix: "counts"}, in.Stream()); err != nil {
		t.Fatal(err)
	}
	h.Start(t)
	for _, r := range []row.Row{
		row.Of(row.Str("a"), row.Int(1)),
		row.Of(row.Str("a"), row.Int(1)).WithKind(row.UpdateBefore),
		row.Of(row.Str("a"), row.Int(2)).WithKind(row.UpdateAfter),
		row.Of(row.Str("b"), row.Int(5)),
		row.Of(row.Str("b"), row.Int(5)).WithKind(row.Delete),
	} {
		if err := in.Push(r, weir.NoTimestamp); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.End(); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...), kgo.ConsumeTopics("counts"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var topic []string
	for len(topic) < 4 && c.Err() == nil {
		cl.PollFetches(c).EachRecord(func(r *kgo.Record) {
			v := "null"
			if r.Value != nil {
				v = string(r.Value)
			}
			topic = append(topic, string(r.Key)+"="+v)
		})
	}
	if want := []string{`a={"k":"a","c":1}`, `a={"k":"a","c":2}`, `b={"k":"b","c":5}`, `b=null`}; !slices.Equal(topic, want) {
		t.Fatalf("topic holds %q, want %q", topic, want)
	}
	buf := &signalBuffer{n: 5, done: make(chan struct{})}
	reg.Register(connector.Print{Stdout: buf})
	src, err := reg.CreateSource(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(weir.Options{})
	st, err := src.Produce(connector.BuildContext{Env: env, Prefix: "counts"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := reg.CreateSink(table(t, "out", "k STRING\nc BIGINT\n'connector' = 'print'"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Consume(connector.BuildContext{Env: env, Prefix: "out"}, st); err != nil {
		t.Fatal(err)
	}
	job, err := env.Start(c)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-buf.done:
	case <-c.Done():
		t.Fatalf("timed out; printed %q", buf.lines())
	}
	job.Cancel()
	_ = job.Wait()
	if got, want := buf.lines(), []string{"+I[a, 1]", "-U[a, 1]", "+U[a, 2]", "+I[b, 5]", "-D[b, 5]"}; !slices.Equal(got, want) {
		t.Errorf("read back %q, want %q", got, want)
	}
}
