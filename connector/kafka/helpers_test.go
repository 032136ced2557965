package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// cluster starts an in-process kfake cluster of three brokers.
func cluster(t testing.TB) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func admin(t testing.TB, seeds []string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func createTopic(t testing.TB, seeds []string, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := admin(t, seeds).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// produce writes records synchronously to the partitions they name.
func produce(t testing.TB, seeds []string, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// consume reads topic from the start with the given isolation level until
// it has n records (or more) or the deadline passes, and returns them.
func consume(t testing.TB, seeds []string, topic string, n int, committed bool) []*kgo.Record {
	t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic)}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: %d records after 30s, want %d", topic, len(out), n)
		}
		if err := fs.Err(); err != nil {
			t.Fatalf("consume %s: %v", topic, err)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// offsets returns the sum over topic's partitions of the last stable
// offsets (read_committed) or high watermarks.
func offsets(t testing.TB, seeds []string, topic string, committed bool) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adm := admin(t, seeds)
	var l kadm.ListedOffsets
	var err error
	if committed {
		l, err = adm.ListCommittedOffsets(ctx, topic)
	} else {
		l, err = adm.ListEndOffsets(ctx, topic)
	}
	if err == nil {
		err = l.Error()
	}
	if err != nil {
		t.Fatalf("list offsets of %s: %v", topic, err)
	}
	var sum int64
	l.Each(func(o kadm.ListedOffset) { sum += o.Offset })
	return sum
}

// committedRecords returns how many records of topic a read_committed
// consumer can read now. The last stable offset alone does not tell: an
// aborted transaction moves it past its records and marker, though none
// of them is visible. So each partition is read with read_uncommitted,
// keeping the control records: a record below the last stable offset
// counts when it is outside transactions, or when its producer's next
// marker in the partition (which may lie past that offset, behind an open
// transaction's records) is a commit.
func committedRecords(t testing.TB, seeds []string, topic string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := admin(t, seeds).ListCommittedOffsets(ctx, topic)
	if err == nil {
		err = l.Error()
	}
	if err != nil {
		t.Fatalf("list offsets of %s: %v", topic, err)
	}
	stable := map[int32]int64{}
	l.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			stable[o.Partition] = o.Offset
		}
	})
	if len(stable) == 0 {
		return 0
	}
	parts := map[int32]kgo.Offset{}
	for p := range stable {
		parts[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchIsolationLevel(kgo.ReadUncommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	type producer struct {
		p  int32
		id int64
	}
	// undecided: per producer, its records below the last stable offset
	// whose marker was not read yet; reached: partitions read up to their
	// last stable offset.
	undecided := map[producer]int{}
	reached := map[int32]bool{}
	pending := func() bool {
		if len(reached) < len(stable) {
			return true
		}
		for k := range undecided {
			if _, ok := stable[k.p]; ok {
				return true
			}
		}
		return false
	}
	n := 0
	for pending() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: not read up to the last stable offsets %v and their transactions' markers after 30s", topic, stable)
		}
		if err := fs.Err(); err != nil {
			t.Fatalf("consume %s: %v", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end := stable[r.Partition]
			if r.Offset >= end-1 {
				reached[r.Partition] = true
			}
			k := producer{r.Partition, r.ProducerID}
			switch {
			case r.Attrs.IsControl():
				// The key of a marker: version (int16), type (int16: 0
				// abort, 1 commit).
				if len(r.Key) < 4 {
					t.Fatalf("%s/%d@%d: control record with a %d-byte key", topic, r.Partition, r.Offset, len(r.Key))
				}
				if r.Key[2] == 0 && r.Key[3] == 1 {
					n += undecided[k]
				}
				delete(undecided, k)
			case r.Offset >= end:
			case r.Attrs.IsTransactional():
				undecided[k]++
			default:
				n++
			}
		})
	}
	return n
}
