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

// temporalKafka is the setup of the Kafka temporal join tests: a kfake
// cluster with an orders topic (JSON values, event time = the records'
// Kafka timestamps), an upsert-kafka rates topic (updates as values,
// deletes as tombstones, event time = the records' timestamps) and an
// upsert-kafka output topic keyed by order_id, each with two partitions;
// the records to produce, and the answer computed from them: each order
// with the rate its currency had at the order's time (NULL before the
// currency's first rate and after a delete).
type temporalKafka struct {
	t             *testing.T
	seeds         []string
	cl            *kgo.Client
	orders, rates string
	out           string
	recs          []*kgo.Record
	want          []string
	partitions    int32
}

func newTemporalKafka(t *testing.T, ctx context.Context, seed uint64) *temporalKafka {
	const parts = 2
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	k := &temporalKafka{t: t, seeds: c.ListenAddrs(), partitions: parts}
	k.cl, err = kgo.NewClient(kgo.SeedBrokers(k.seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.cl.Close)
	suffix := fmt.Sprintf("%d", rand.Uint32())
	k.orders, k.rates, k.out = "orders-"+suffix, "rates-"+suffix, "enriched-"+suffix
	for _, tp := range []string{k.orders, k.rates, k.out} {
		if _, err := kadm.NewClient(k.cl).CreateTopic(ctx, parts, 1, nil, tp); err != nil {
			t.Fatal(err)
		}
	}

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
	rng := rand.New(rand.NewPCG(seed, seed+1))
	ts := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC).UnixMilli()
	live := map[string]bool{}
	for i := range 400 {
		ts += 1 + int64(rng.IntN(1000))
		cur := currencies[rng.IntN(len(currencies))]
		if rng.IntN(3) == 0 {
			rec := &kgo.Record{Topic: k.rates, Partition: partOf(cur), Key: []byte(cur), Timestamp: time.UnixMilli(ts)}
			if live[cur] && rng.IntN(4) == 0 {
				history[cur] = append(history[cur], rateEvent{ts: ts})
				live[cur] = false
			} else {
				r := int64(100 + rng.IntN(50))
				rec.Value = fmt.Appendf(nil, `{"currency":%q,"rate":%d}`, cur, r)
				history[cur] = append(history[cur], rateEvent{ts: ts, rate: &r})
				live[cur] = true
			}
			k.recs = append(k.recs, rec)
			continue
		}
		o := order{id: int64(i), currency: cur, amount: int64(1 + rng.IntN(9)), ts: ts}
		if rng.IntN(10) == 0 {
			o.currency = "XXX" // never has a rate
		}
		orders = append(orders, o)
		k.recs = append(k.recs, &kgo.Record{Topic: k.orders, Partition: int32(rng.IntN(parts)), Timestamp: time.UnixMilli(ts),
			Value: fmt.Appendf(nil, `{"order_id":%d,"currency":%q,"amount":%d}`, o.id, o.currency, o.amount)})
	}
	// Sentinels: every partition of both topics ends at end, so the
	// watermark passes every real order.
	end := ts + 10_000
	for p := range int32(parts) {
		cur := fmt.Sprintf("~end%d", p)
		r := int64(1)
		history[cur] = append(history[cur], rateEvent{ts: end, rate: &r})
		k.recs = append(k.recs, &kgo.Record{Topic: k.rates, Partition: p, Key: []byte(cur), Timestamp: time.UnixMilli(end),
			Value: fmt.Appendf(nil, `{"currency":%q,"rate":1}`, cur)})
		o := order{id: 1000 + int64(p), currency: cur, amount: 1, ts: end}
		orders = append(orders, o)
		k.recs = append(k.recs, &kgo.Record{Topic: k.orders, Partition: p, Timestamp: time.UnixMilli(end),
			Value: fmt.Appendf(nil, `{"order_id":%d,"currency":%q,"amount":1}`, o.id, o.currency)})
	}
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
		k.want = append(k.want, fmt.Sprintf(`%d={"order_id":%d,"currency":%q,"amount":%d,"order_time":%q,"rate":%s}`,
			o.id, o.id, o.currency, o.amount, time.UnixMilli(o.ts).UTC().Format("2006-01-02 15:04:05.999Z"), rate))
	}
	sort.Strings(k.want)
	if len(history["EUR"]) == 0 || len(orders) < 200 {
		t.Fatalf("degenerate input: %d orders", len(orders))
	}
	return k
}

// produce writes recs.
func (k *temporalKafka) produce(ctx context.Context, recs []*kgo.Record) {
	if err := k.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		k.t.Fatal(err)
	}
}

// job plans the INSERT of the temporal join.
func (k *temporalKafka) job() *sql.Job {
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
`, k.orders, k.rates, k.out, strings.Join(k.seeds, ","))
	sess := sql.NewSession(sql.SessionOptions{})
	stmts, err := parser.Parse(script)
	if err != nil {
		k.t.Fatal(err)
	}
	var job *sql.Job
	for _, st := range stmts {
		_, j, err := sess.Execute(st)
		if err != nil {
			k.t.Fatal(err)
		}
		if j != nil {
			job = j
		}
	}
	return job
}

// start runs the job with the options opts makes of the job's.
func (k *temporalKafka) start(ctx context.Context, opts func(weir.Options) weir.Options) *weir.JobClient {
	job := k.job()
	env := weir.NewEnvironment(opts(job.Options()))
	if err := job.Build(env, nil); err != nil {
		k.t.Fatal(err)
	}
	running, err := env.Start(ctx)
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(func() {
		running.Cancel()
		_ = running.Wait()
	})
	return running
}

// read reads the output topic until it holds n keys, and returns its
// final table as sorted "order_id=value" lines.
func (k *temporalKafka) read(ctx context.Context, n int) []string {
	rd, err := kgo.NewClient(kgo.SeedBrokers(k.seeds...), kgo.ConsumeTopics(k.out), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		k.t.Fatal(err)
	}
	defer rd.Close()
	got := map[string]string{}
	for len(got) < n && ctx.Err() == nil {
		rd.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var key struct {
				OrderID int64 `json:"order_id"`
			}
			if err := json.Unmarshal(r.Key, &key); err != nil {
				k.t.Errorf("key %q: %v", r.Key, err)
				return
			}
			id := fmt.Sprint(key.OrderID)
			if r.Value == nil {
				delete(got, id)
				return
			}
			got[id] = string(r.Value)
		})
	}
	var lines []string
	for id, v := range got {
		lines = append(lines, id+"="+v)
	}
	sort.Strings(lines)
	return lines
}

func (k *temporalKafka) check(got []string) {
	if !slices.Equal(got, k.want) {
		k.t.Fatalf("the output topic holds %d rows, want %d:\n got %s\nwant %s", len(got), len(k.want),
			strings.Join(got, "\n    "), strings.Join(k.want, "\n    "))
	}
}

// TestTemporalJoinKafka runs an event-time temporal join end to end on
// Kafka (kfake): orders LEFT JOIN rates FOR SYSTEM_TIME AS OF the order
// time, INSERTed into an upsert-kafka topic at parallelism 2, whose final
// table equals the answer computed from the produced records.
func TestTemporalJoinKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	k := newTemporalKafka(t, ctx, 21)
	k.produce(ctx, k.recs)
	k.start(ctx, func(o weir.Options) weir.Options {
		o.Parallelism = int(k.partitions)
		return o
	})
	k.check(k.read(ctx, len(k.want)))
}

// TestTemporalJoinKafkaRestore: the same join runs at parallelism 2 on the
// first half of the records until its output holds every order the
// watermark has passed, stops with a savepoint (orders and versions
// waiting in the join's state), and is restored at parallelism 1, which
// reads the second half. The output topic ends with the same answer.
func TestTemporalJoinKafkaRestore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	k := newTemporalKafka(t, ctx, 31)
	half := len(k.recs) / 2
	first := k.recs[:half]
	k.produce(ctx, first)
	// The join's watermark after the first half: the least of every
	// partition's latest timestamp. The orders at or before it are due.
	latest := map[string]int64{}
	for _, r := range first {
		p := fmt.Sprintf("%s/%d", r.Topic, r.Partition)
		latest[p] = max(latest[p], r.Timestamp.UnixMilli())
	}
	if len(latest) != 2*int(k.partitions) {
		t.Fatalf("the first half fills %d partitions", len(latest))
	}
	wm := int64(1 << 62)
	for _, ts := range latest {
		wm = min(wm, ts)
	}
	due, waiting := 0, 0
	for _, r := range first {
		if r.Topic == k.orders {
			if r.Timestamp.UnixMilli() <= wm {
				due++
			} else {
				waiting++
			}
		}
	}
	if due == 0 || waiting == 0 {
		t.Fatalf("degenerate split: %d orders due, %d waiting", due, waiting)
	}
	dir := t.TempDir()
	job := k.start(ctx, func(o weir.Options) weir.Options {
		o.Parallelism = int(k.partitions)
		o.Checkpoints = weir.CheckpointOptions{Interval: time.Hour, Dir: dir + "/ck"}
		return o
	})
	if got := k.read(ctx, due); len(got) != due {
		t.Fatalf("before the savepoint the output holds %d rows, want %d", len(got), due)
	}
	sp, err := job.StopWithSavepoint(ctx, dir+"/sp")
	if err != nil {
		t.Fatal(err)
	}
	k.produce(ctx, k.recs[half:])
	k.start(ctx, func(o weir.Options) weir.Options {
		o.Parallelism = 1
		o.Checkpoints = weir.CheckpointOptions{Interval: time.Hour, Dir: dir + "/ck2"}
		o.Restore = sp
		return o
	})
	k.check(k.read(ctx, len(k.want)))
}
