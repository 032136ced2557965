package sql_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/result"
)

// TestKafkaScripts runs the scripts of testdata_kafka/, each against its
// own kfake cluster (franz-go's in-process Kafka). Commands:
//
//	topic name=T [partitions=N]
//	                    creates topic T (1 partition by default)
//	produce topic=T     writes one record per line, "KEY VALUE" (split at
//	                    the first space); the value TOMBSTONE writes a
//	                    null value; records go in order, keyed records
//	                    to their key's partition
//	exec rows=N [parallelism=P] [table]
//	                    runs the statements as TestScripts' exec does; a
//	                    query (an unbounded Kafka scan) runs until it has
//	                    emitted N rows and is then cancelled (without rows,
//	                    a bounded query runs to its end); its changelog
//	                    is printed in arrival order, or with table its
//	                    final sorted table. A script makes the last record
//	                    it produces a sentinel whose row is the N-th: a
//	                    row emitted that should not be shifts the sentinel
//	                    out of the first N.
//	consume topic=T n=N prints the first N records of T's partition 0,
//	                    "KEY VALUE" (TOMBSTONE for a null value)
//
// $KAFKA in a block is the cluster's bootstrap address.
func TestKafkaScripts(t *testing.T) {
	datadriven.Walk(t, "testdata_kafka", func(t *testing.T, path string) {
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
		t.Cleanup(cl.Close)
		sess := sql.NewSession(sql.SessionOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			input := strings.ReplaceAll(d.Input, "$KAFKA", strings.Join(seeds, ","))
			switch d.Cmd {
			case "topic":
				var name string
				parts := 1
				d.ScanArgs(t, "name", &name)
				if d.HasArg("partitions") {
					d.ScanArgs(t, "partitions", &parts)
				}
				if _, err := kadm.NewClient(cl).CreateTopic(ctx, int32(parts), 1, nil, name); err != nil {
					return "error: " + err.Error() + "\n"
				}
				return "ok\n"
			case "produce":
				var topic string
				d.ScanArgs(t, "topic", &topic)
				for _, line := range strings.Split(input, "\n") {
					if line = strings.TrimSpace(line); line == "" {
						continue
					}
					k, v, _ := strings.Cut(line, " ")
					rec := &kgo.Record{Topic: topic, Key: []byte(k)}
					if v != "TOMBSTONE" {
						rec.Value = []byte(v)
					}
					if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
						return "error: " + err.Error() + "\n"
					}
				}
				return "ok\n"
			case "consume":
				var topic string
				var n int
				d.ScanArgs(t, "topic", &topic)
				d.ScanArgs(t, "n", &n)
				return consumeKafka(ctx, seeds, topic, n)
			case "exec":
				n, par := 0, 1
				if d.HasArg("rows") {
					d.ScanArgs(t, "rows", &n)
				}
				if d.HasArg("parallelism") {
					d.ScanArgs(t, "parallelism", &par)
				}
				return execKafkaScript(t, ctx, sess, input, n, par, d.HasArg("table"))
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	})
}

// consumeKafka reads the first n records of partition 0 of topic.
func consumeKafka(ctx context.Context, seeds []string, topic string, n int) string {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var b strings.Builder
	got := 0
	for got < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if got >= n {
				return
			}
			v := "TOMBSTONE"
			if r.Value != nil {
				v = string(r.Value)
			}
			fmt.Fprintf(&b, "%s %s\n", r.Key, v)
			got++
		})
	}
	if got < n {
		fmt.Fprintf(&b, "timed out after %d records\n", got)
	}
	return b.String()
}

// execKafkaScript runs the statements; a query runs until it has emitted
// n rows.
func execKafkaScript(t *testing.T, ctx context.Context, sess *sql.Session, script string, n, par int, table bool) string {
	stmts, err := parser.Parse(script)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	for _, st := range stmts {
		res, job, err := sess.Execute(st)
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		if res != nil {
			switch {
			case res.Text != "":
				b.WriteString(res.Text)
			case len(res.Schema.Columns) > 0:
				result.PrintTableau(&b, res.Schema, res.Rows)
			default:
				b.WriteString("ok\n")
			}
			continue
		}
		b.WriteString(runUntilRows(t, ctx, job, n, par, table))
	}
	return b.String()
}

// runUntilRows runs a query job until it has emitted n rows, then cancels
// it and prints them.
func runUntilRows(t *testing.T, ctx context.Context, job *sql.Job, n, par int, table bool) string {
	if !job.IsQuery() {
		t.Fatal("exec rows=N runs queries only")
	}
	opts := job.Options()
	opts.Parallelism = par
	opts.AutoWatermarkInterval = time.Millisecond
	env := weir.NewEnvironment(opts)
	var mu sync.Mutex
	var rows []row.Row
	enough := make(chan struct{})
	err := job.Build(env, func(r row.Row) error {
		mu.Lock()
		defer mu.Unlock()
		rows = append(rows, r.Clone())
		if len(rows) == n {
			close(enough)
		}
		return nil
	})
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	jc, err := env.Start(ctx)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	select {
	case <-enough:
	case <-jc.Done():
		if err := jc.Wait(); err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
		}
	case <-ctx.Done():
	}
	jc.Cancel()
	_ = jc.Wait()
	mu.Lock()
	defer mu.Unlock()
	if n > 0 && len(rows) > n {
		rows = rows[:n]
	}
	types := job.Schema().Types()
	if table {
		tab := result.NewTable(types, nil)
		for _, r := range rows {
			if err := tab.Apply(r); err != nil {
				fmt.Fprintf(&b, "error: %v\n", err)
			}
		}
		for _, l := range tab.Sorted() {
			b.WriteString(l + "\n")
		}
	} else {
		for _, r := range rows {
			b.WriteString(row.FormatRow(r, types) + "\n")
		}
	}
	if len(rows) < n {
		fmt.Fprintf(&b, "timed out after %d rows\n", len(rows))
	}
	return b.String()
}
