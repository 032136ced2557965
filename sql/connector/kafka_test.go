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
	"github.com/weirstream/weir/sql/connector"
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
