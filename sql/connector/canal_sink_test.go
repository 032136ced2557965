package connector_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	weirsql "github.com/weirstream/weir/sql"
)

// TestCanalJSONKafkaRoundTrip writes a GROUP BY's changelog to Kafka as
// canal-json, checks the messages against Flink's serializer (one per row,
// +I and +U as INSERT, -U as DELETE) and reads them back through a
// canal-json source: the materialised result is the aggregation's.
func TestCanalJSONKafkaRoundTrip(t *testing.T) {
	seeds := kafkaCluster(t, "canal_counts")
	sess := weirsql.NewSession(weirsql.SessionOptions{})
	_, jobs, err := sess.ExecuteScript(fmt.Sprintf(`
CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence',
  'fields.id.start' = '1', 'fields.id.end' = '6');
CREATE TABLE counts (k BIGINT, n BIGINT, s BIGINT)
WITH ('connector' = 'kafka', 'topic' = 'canal_counts', 'properties.bootstrap.servers' = '%s', 'format' = 'canal-json');
INSERT INTO counts SELECT id %% 2, COUNT(*), SUM(id) FROM gen GROUP BY id %% 2;`, seeds))
	if err != nil {
		t.Fatal(err)
	}
	opts := jobs[0].Options()
	opts.Parallelism = 1
	env := weir.NewEnvironment(opts)
	if err := jobs[0].Build(env, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	// Per key, 3 ids: +I, then -U/+U twice: 5 messages a key, in the order
	// of the key's changes.
	got := consumeValues(t, seeds, "canal_counts", 10)
	var k0, k1 []string
	for _, v := range got {
		if strings.Contains(v, `"k":0`) {
			k0 = append(k0, v)
		} else {
			k1 = append(k1, v)
		}
	}
	want0 := []string{
		`{"data":[{"k":0,"n":1,"s":2}],"type":"INSERT"}`,
		`{"data":[{"k":0,"n":1,"s":2}],"type":"DELETE"}`,
		`{"data":[{"k":0,"n":2,"s":6}],"type":"INSERT"}`,
		`{"data":[{"k":0,"n":2,"s":6}],"type":"DELETE"}`,
		`{"data":[{"k":0,"n":3,"s":12}],"type":"INSERT"}`,
	}
	want1 := []string{
		`{"data":[{"k":1,"n":1,"s":1}],"type":"INSERT"}`,
		`{"data":[{"k":1,"n":1,"s":1}],"type":"DELETE"}`,
		`{"data":[{"k":1,"n":2,"s":4}],"type":"INSERT"}`,
		`{"data":[{"k":1,"n":2,"s":4}],"type":"DELETE"}`,
		`{"data":[{"k":1,"n":3,"s":9}],"type":"INSERT"}`,
	}
	if !slices.Equal(k0, want0) || !slices.Equal(k1, want1) {
		t.Fatalf("messages:\n%s\nwant:\n%s\n%s", strings.Join(got, "\n"), strings.Join(want0, "\n"), strings.Join(want1, "\n"))
	}
	log := runLive(t, fmt.Sprintf(`
CREATE TABLE counts (k BIGINT, n BIGINT, s BIGINT)
WITH ('connector' = 'kafka', 'topic' = 'canal_counts', 'properties.bootstrap.servers' = '%s',
      'scan.startup.mode' = 'earliest-offset', 'format' = 'canal-json');
SELECT * FROM counts;`, seeds), func() {}, func() []string {
		return []string{"+I[0, 3, 12]", "+I[1, 3, 9]"}
	})
	if len(log) != 10 {
		t.Fatalf("the changelog read back has %d rows, want 10 (each update a -D and a +I): %v", len(log), log)
	}
}

// TestCanalJSONUpsertKafkaRefused checks that upsert-kafka, which takes
// insert-only formats (Flink's), refuses canal-json.
func TestCanalJSONUpsertKafkaRefused(t *testing.T) {
	sess := weirsql.NewSession(weirsql.SessionOptions{})
	_, _, err := sess.ExecuteScript(`
CREATE TABLE u (k BIGINT, n BIGINT, PRIMARY KEY (k) NOT ENFORCED)
WITH ('connector' = 'upsert-kafka', 'topic' = 'u', 'properties.bootstrap.servers' = 'x:9092',
      'key.format' = 'json', 'value.format' = 'canal-json');
INSERT INTO u VALUES (1, 2);`)
	if err == nil || !strings.Contains(err.Error(), "is not in insert-only mode") {
		t.Fatalf("error %v, want a refusal of the changelog format", err)
	}
}

// consumeValues reads the first n record values of topic's partition 0.
func consumeValues(t *testing.T, seeds, topic string, n int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []string
	for len(out) < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	if len(out) < n {
		t.Fatalf("read %d records of %s, want %d", len(out), topic, n)
	}
	return out
}
