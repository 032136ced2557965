package sql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// TestTemporalJoinKafka runs an event-time temporal join end to end on
// Kafka (kfake): an orders topic (JSON values, event time = the records'
// Kafka timestamps) LEFT JOINed FOR SYSTEM_TIME AS OF the order time with
// an upsert-kafka rates topic (updates as values, deletes as tombstones,
// event time = the records' timestamps), written to an upsert-kafka topic
// keyed by order_id. The topic read back equals the answer computed here
// from the produced records: each order with the rate its currency had at
// the order's time (NULL before the currency's first rate and after a
// delete). Both input topics have two partitions, read by two subtasks;
// the last record of every partition is a sentinel at a later time, so
// the watermark passes every real order.
func TestTemporalJoinKafka(t *testing.T) {
	const parts = 2
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	seeds := c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	suffix := fmt.Sprintf("%d", rand.Uint32())
	ordersTopic, ratesTopic, outTopic := "orders-"+suffix, "rates-"+suffix, "enriched-"+suffix
	for _, tp := range []string{ordersTopic, ratesTopic, outTopic} {
		if _, err := kadm.NewClient(cl).CreateTopic(ctx, parts, 1, nil, tp); err != nil {
			t.Fatal(err)
		}
	}

	// The input, and the answer computed from it.
	type rateEvent struct {
		ts   int64
		rate *int64 // nil: deleted
	}
	currencies := []string{"EUR", "USD", "JPY", "GBP", "CHF", "CNY"}
	partOf := func(cur string) int32 { return int32(slices.Index(currencies, cur) % parts) }
	history := map[string][]rateEvent{}
	type order struct {
		id       int64
		currency string
		amount   int64
		ts       int64
	}
	var orders []order
	var recs []*kgo.Record
	rng := rand.New(rand.NewPCG(21, 22))
	base := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC).UnixMilli()
	ts := base
	live := map[string]bool{}
	for i := range 400 {
		ts += 1 + int64(rng.IntN(1000))
		cur := currencies[rng.IntN(len(currencies))]
		if rng.IntN(3) == 0 {
			rec := &kgo.Record{Topic: ratesTopic, Partition: partOf(cur), Key: []byte(cur), Timestamp: time.UnixMilli(ts)}
			if live[cur] && rng.IntN(4) == 0 {
				history[cur] = append(history[cur], rateEvent{ts: ts})
				live[cur] = false
			} else {
				r := int64(100 + rng.IntN(50))
				rec.Value = fmt.Appendf(nil, `{"currency":%q,"rate":%d}`, cur, r)
				history[cur] = append(history[cur], rateEvent{ts: ts, rate: &r})
				live[cur] = true
			}
			recs = append(recs, rec)
			continue
		}
		o := order{id: int64(i), currency: cur, amount: int64(1 + rng.IntN(9)), ts: ts}
		if rng.IntN(10) == 0 {
			o.currency = "XXX" // never has a rate
		}
		orders = append(orders, o)
		recs = append(recs, &kgo.Record{Topic: ordersTopic, Partition: int32(rng.IntN(parts)), Timestamp: time.UnixMilli(ts),
			Value: fmt.Appendf(nil, `{"order_id":%d,"currency":%q,"amount":%d}`, o.id, o.currency, o.amount)})
	}
	// Sentinels: every partition of both topics ends at end.
	end := ts + 10_000
	for p := range int32(parts) {
		cur := fmt.Sprintf("~end%d", p)
		r := int64(1)
		history[cur] = append(history[cur], rateEvent{ts: end, rate: &r})
		recs = append(recs, &kgo.Record{Topic: ratesTopic, Partition: p, Key: []byte(cur), Timestamp: time.UnixMilli(end),
			Value: fmt.Appendf(nil, `{"currency":%q,"rate":1}`, cur)})
		o := order{id: 1000 + int64(p), currency: cur, amount: 1, ts: end}
		orders = append(orders, o)
		recs = append(recs, &kgo.Record{Topic: ordersTopic, Partition: p, Timestamp: time.UnixMilli(end),
			Value: fmt.Appendf(nil, `{"order_id":%d,"currency":%q,"amount":1}`, o.id, o.currency)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, o := range orders {
		rate := "null"
		for _, e := range history[o.currency] {
			if e.ts > o.ts {
				break
			}
			rate = "null"
			if e.rate != nil {
				rate = fmt.Sprint(*e.rate)
			}
		}
		want = append(want, fmt.Sprintf(`%d={"order_id":%d,"currency":%q,"amount":%d,"order_time":%q,"rate":%s}`,
			o.id, o.id, o.currency, o.amount, time.UnixMilli(o.ts).UTC().Format("2006-01-02 15:04:05.999Z"), rate))
	}
	sort.Strings(want)

	script := fmt.Sprintf(`
CREATE TABLE orders (
  order_id BIGINT,
  currency STRING,
  amount BIGINT,
  order_time TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
  WATERMARK FOR order_time AS order_time
) WITH ('connector' = 'kafka', 'topic' = '%[1]s', 'properties.bootstrap.servers' = '%[4]s',
  'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
CREATE TABLE rates (
  currency STRING,
  rate BIGINT,
  update_time TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
  WATERMARK FOR update_time AS update_time,
  PRIMARY KEY (currency) NOT ENFORCED
) WITH ('connector' = 'upsert-kafka', 'topic' = '%[2]s', 'properties.bootstrap.servers' = '%[4]s',
  'key.format' = 'raw', 'value.format' = 'json');
CREATE TABLE enriched (
  order_id BIGINT,
  currency STRING,
  amount BIGINT,
  order_time TIMESTAMP_LTZ(3),
  rate BIGINT,
  PRIMARY KEY (order_id) NOT ENFORCED
) WITH ('connector' = 'upsert-kafka', 'topic' = '%[3]s', 'properties.bootstrap.servers' = '%[4]s',
  'key.format' = 'json', 'value.format' = 'json');
INSERT INTO enriched
SELECT o.order_id, o.currency, o.amount, o.order_time, r.rate
FROM orders AS o
LEFT JOIN rates FOR SYSTEM_TIME AS OF o.order_time AS r
ON o.currency = r.currency;
`, ordersTopic, ratesTopic, outTopic, strings.Join(seeds, ","))
	sess := sql.NewSession(sql.SessionOptions{})
	stmts, err := parser.Parse(script)
	if err != nil {
		t.Fatal(err)
	}
	var job *sql.Job
	for _, st := range stmts {
		_, j, err := sess.Execute(st)
		if err != nil {
			t.Fatal(err)
		}
		if j != nil {
			job = j
		}
	}
	opts := job.Options()
	opts.Parallelism = parts
	env := weir.NewEnvironment(opts)
	if err := job.Build(env, nil); err != nil {
		t.Fatal(err)
	}
	running, err := env.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		running.Cancel()
		_ = running.Wait()
	}()

	// Read the output topic until it holds a row for every order.
	rd, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(outTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	got := map[string]string{}
	for len(got) < len(want) && ctx.Err() == nil {
		fs := rd.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			var key struct {
				OrderID int64 `json:"order_id"`
			}
			if err := json.Unmarshal(r.Key, &key); err != nil {
				t.Errorf("key %q: %v", r.Key, err)
				return
			}
			k := fmt.Sprint(key.OrderID)
			if r.Value == nil {
				delete(got, k)
				return
			}
			got[k] = string(r.Value)
		})
	}
	var lines []string
	for k, v := range got {
		lines = append(lines, k+"="+v)
	}
	sort.Strings(lines)
	if !slices.Equal(lines, want) {
		t.Fatalf("the output topic holds %d rows, want %d:\n got %s\nwant %s", len(lines), len(want), strings.Join(lines, "\n    "), strings.Join(want, "\n    "))
	}
	if len(history["EUR"]) == 0 || len(orders) < 200 {
		t.Fatalf("degenerate input: %d orders", len(orders))
	}
}
