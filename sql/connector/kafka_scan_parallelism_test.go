package connector_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql/connector"
)

// TestKafkaScanParallelismReads: a kafka source with scan.parallelism 2
// under a job of parallelism 3 reads every record of a 3-partition topic
// once (its 2 subtasks share the partitions).
func TestKafkaScanParallelismReads(t *testing.T) {
	seeds := kafkaCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, 1, nil, "scanpar"); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	var want []string
	for i := 1; i <= 9; i++ {
		recs = append(recs, &kgo.Record{Topic: "scanpar", Partition: int32(i % 3), Value: []byte(fmt.Sprintf(`{"id": %d}`, i))})
		want = append(want, fmt.Sprintf("+I[%d]", i))
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	src := table(t, "src", "id BIGINT\n'connector' = 'kafka'\n'topic' = 'scanpar'\n'properties.bootstrap.servers' = '"+seeds+"'\n'scan.startup.mode' = 'earliest-offset'\n'format' = 'json'\n'scan.parallelism' = '2'\n")
	buf := &signalBuffer{n: len(want), done: make(chan struct{})}
	reg := connector.Default()
	reg.Register(connector.Print{Stdout: buf})
	s, err := reg.CreateSource(src)
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(weir.Options{Parallelism: 3})
	st, err := s.Produce(connector.BuildContext{Env: env, Prefix: "src"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := reg.CreateSink(table(t, "out", "id BIGINT\n'connector' = 'print'\n'sink.parallelism' = '1'\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Consume(connector.BuildContext{Env: env, Prefix: "out"}, st); err != nil {
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
	got := buf.lines()
	sort.Slice(got, func(i, j int) bool { return len(got[i]) < len(got[j]) || len(got[i]) == len(got[j]) && got[i] < got[j] })
	if !slices.Equal(got, want) {
		t.Errorf("read %q, want %q", got, want)
	}
}
