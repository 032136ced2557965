package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Recovery of transactions left open by a crash of `weir dev kafka`.
//
// kfake keeps the state of open transactions in memory and saves it only
// when it shuts down cleanly. After a crash (kill -9, a machine crash) it
// reloads the partitions from their segment files, treats every
// transaction that has records but no end marker as aborted (and bumps the
// producer's epoch), but writes no ABORT marker. A read_committed consumer
// learns from a fetch that producer id P aborted from offset o on and then
// skips every transactional batch of P until it reads an ABORT marker of
// P: without one it skips all that P writes later, including transactions
// committed after the restart (a transactional id keeps its producer id
// across InitProducerID, and Weir's exactly-once sink reuses its ids). A
// later full reload would even count the aborted records as part of the
// next committed transaction of P.
//
// recoverOpenTransactions repairs this before the broker listens, unless
// the last run stopped cleanly (it leaves the file cleanStopFile): it loads
// the data directory in a private cluster on loopback ports, reads every
// partition uncommitted with its control records, and writes an ABORT
// marker (WriteTxnMarkers) for each producer whose last transaction in a
// partition has no end marker and which the cluster does not list as
// still in a transaction (DescribeProducers: a clean shutdown keeps open
// transactions open). The private cluster then shuts down cleanly, and the
// real one loads the repaired directory. Kafka itself keeps open
// transactions across a crash in its transaction log; kfake aborts them,
// so records of a transaction open at a crash are gone (read_committed
// consumers never see them, as if it had timed out).

// openTxn is a transaction a producer left without an end marker in one
// partition.
type openTxn struct {
	topic       string
	partition   int32
	producerID  int64
	epoch       int16
	firstOffset int64
}

// recoverOpenTransactions repairs the data directory of f (which has one)
// and returns the transactions it aborted. The private cluster has the
// options of the real one but listens on random loopback ports; it creates
// the --topics of a new directory as the real one would.
func recoverOpenTransactions(ctx context.Context, f devKafkaFlags) ([]openTxn, error) {
	f.host, f.port = "127.0.0.1", 0
	opts, err := devKafkaOpts(f)
	if err != nil {
		return nil, err
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("dev kafka: loading %s: %w", f.dataDir, err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		return nil, fmt.Errorf("dev kafka: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	topics, err := adm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("dev kafka: recovering transactions: %w", err)
	}
	starts, err := adm.ListStartOffsets(ctx, topics.Names()...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("dev kafka: recovering transactions: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics.Names()...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("dev kafka: recovering transactions: %w", err)
	}
	var open []openTxn
	var scanErr error
	starts.Each(func(s kadm.ListedOffset) {
		e, ok := ends.Lookup(s.Topic, s.Partition)
		if scanErr != nil || !ok || e.Offset <= s.Offset {
			return
		}
		var found []openTxn
		found, scanErr = scanOpenTxns(ctx, c.ListenAddrs(), s.Topic, s.Partition, s.Offset, e.Offset)
		open = append(open, found...)
	})
	if scanErr != nil {
		return nil, fmt.Errorf("dev kafka: recovering transactions: %w", scanErr)
	}
	if len(open) == 0 {
		return nil, nil
	}
	// Transactions the cluster restored as open (after a clean shutdown)
	// stay open.
	var set kadm.TopicsSet
	for _, o := range open {
		set.Add(o.topic, o.partition)
	}
	described, err := adm.DescribeProducers(ctx, set)
	if err != nil {
		return nil, fmt.Errorf("dev kafka: recovering transactions: %w", err)
	}
	active := map[openTxn]bool{}
	described.EachProducer(func(p kadm.DescribedProducer) {
		active[openTxn{topic: p.Topic, partition: p.Partition, producerID: p.ProducerID}] = true
	})
	var aborted []openTxn
	for _, o := range open {
		if active[openTxn{topic: o.topic, partition: o.partition, producerID: o.producerID}] {
			continue
		}
		var ts kadm.TopicsSet
		ts.Add(o.topic, o.partition)
		resp, err := adm.WriteTxnMarkers(ctx, kadm.TxnMarkers{ProducerID: o.producerID, ProducerEpoch: o.epoch, Topics: ts})
		if err == nil {
			resp.EachPartition(func(p kadm.TxnMarkersPartitionResponse) { err = errors.Join(err, p.Err) })
		}
		if err != nil {
			return aborted, fmt.Errorf("dev kafka: writing the abort marker of producer %d in %s-%d: %w", o.producerID, o.topic, o.partition, err)
		}
		aborted = append(aborted, o)
	}
	return aborted, nil
}

// scanOpenTxns reads partition p of topic from start to end, uncommitted
// with control records, and returns the transactions without an end
// marker: per producer id, transactional records after its last marker.
func scanOpenTxns(ctx context.Context, seeds []string, topic string, p int32, start, end int64) ([]openTxn, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.KeepControlRecords(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {p: kgo.NewOffset().At(start)}}))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	open := map[int64]openTxn{}
	for next := start; next < end; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading %s-%d: at offset %d of %d: %w", topic, p, next, end, err)
		}
		if err := fs.Err(); err != nil {
			return nil, fmt.Errorf("reading %s-%d: %w", topic, p, err)
		}
		for _, r := range fs.Records() {
			next = r.Offset + 1
			switch {
			case r.Attrs.IsControl():
				delete(open, r.ProducerID)
			case r.Attrs.IsTransactional():
				if _, ok := open[r.ProducerID]; !ok {
					open[r.ProducerID] = openTxn{topic: topic, partition: p, producerID: r.ProducerID,
						epoch: r.ProducerEpoch, firstOffset: r.Offset}
				}
			}
		}
	}
	out := make([]openTxn, 0, len(open))
	for _, o := range open {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b openTxn) int { return int(a.firstOffset - b.firstOffset) })
	return out, nil
}
