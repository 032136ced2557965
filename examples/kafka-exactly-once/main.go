// Command kafka-exactly-once is a Kafka → Weir → Kafka job whose output
// survives crashes exactly once: it reads JSON records {"key","seq","value"}
// from an input topic, keeps a running sum per key in keyed state, and
// writes {"key","seq","sum"} to an output topic in Kafka transactions that
// commit when a checkpoint completes. Source offsets, sums and staged
// transactions are stored in checkpoints.
//
// Kill it (kill -9) whenever you like and start it again with -restore
// latest: a read_committed consumer of the output topic sees every input
// record exactly once, with the running sums of an uninterrupted run.
//
// Input records must be one JSON object with all three fields (the source
// uses the JSON serde's FailOnMissingField). By default a bad record fails
// the job (which restarts and fails again at the same record, unless
// -no-restart); with -dead-letters file:DIR or -dead-letters topic:NAME it goes,
// with its position and the reason, to JSON files in DIR (written exactly
// once, with the checkpoints) or to the topic NAME (in transactions, like
// the output), and the job goes on.
//
//	weir dev kafka --topics input:4,output:4 --data-dir kafka-data
//	kafka-exactly-once -generate 10000
//	kafka-exactly-once -checkpoint-dir chk -restore latest
//	kafka-exactly-once -verify
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/connector/kafka"
	"github.com/weirstream/weir/state"
)

// Input is an input record.
type Input struct {
	Key   string `json:"key"`
	Seq   int64  `json:"seq"`
	Value int64  `json:"value"`
}

// inputSerde decodes input records: one JSON object with every field of
// Input.
var inputSerde = kafka.JSONSerde[Input]{FailOnMissingField: true}

// Output is the running sum of a key after the record seq.
type Output struct {
	Key string `json:"key"`
	Seq int64  `json:"seq"`
	Sum int64  `json:"sum"`
}

type config struct {
	brokers, input, output, checkpointDir, restore, prefix string
	interval, timeout                                      time.Duration
	parallelism, generate, keys                            int
	rate                                                   float64
	atLeastOnce, verify, verbose, noRestart                bool
	deadLetters                                            string
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kafka-exactly-once:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("kafka-exactly-once", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.brokers, "brokers", "127.0.0.1:9092", "comma-separated seed brokers")
	fs.StringVar(&c.input, "input", "input", "input topic")
	fs.StringVar(&c.output, "output", "output", "output topic")
	fs.StringVar(&c.checkpointDir, "checkpoint-dir", "checkpoints", "directory of the checkpoints")
	fs.DurationVar(&c.interval, "checkpoint-interval", time.Second, "time between checkpoints (and commits of the output)")
	fs.IntVar(&c.parallelism, "parallelism", 2, "number of subtasks per operator")
	fs.StringVar(&c.restore, "restore", "", `checkpoint to start from: "latest", a checkpoint directory, or "" for a fresh start`)
	fs.StringVar(&c.prefix, "transactional-id-prefix", "kafka-exactly-once", "prefix of the sink's transactional ids (unique to the job)")
	fs.BoolVar(&c.atLeastOnce, "at-least-once", false, "write the output at least once (no transactions)")
	fs.IntVar(&c.generate, "generate", 0, "produce this many input records to -input, and exit")
	fs.IntVar(&c.keys, "keys", 8, "with -generate: number of keys")
	fs.Float64Var(&c.rate, "rate", 0, "with -generate: records per second (0: as fast as possible)")
	fs.BoolVar(&c.verify, "verify", false, "check that the committed output holds every input record exactly once with correct sums, and exit")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "with -verify: how long to wait for the output to catch up")
	fs.BoolVar(&c.verbose, "v", false, "log the job's progress (checkpoints, restores) to stderr")
	fs.BoolVar(&c.noRestart, "no-restart", false, "exit with the first failure instead of restarting from the latest checkpoint (a bad input record fails the job again at every restart)")
	fs.StringVar(&c.deadLetters, "dead-letters", "", `where bad input records go: "file:DIR" (JSON lines files in DIR), "topic:NAME" (a Kafka topic), or "" to fail the job`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if _, _, err := deadLetterTarget(c.deadLetters); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	brokers := strings.Split(c.brokers, ",")
	switch {
	case c.generate > 0:
		return generate(ctx, brokers, c.input, c.keys, c.generate, c.rate)
	case c.verify:
		res, err := verify(ctx, brokers, c.input, c.output, c.timeout)
		if res != "" {
			fmt.Fprintln(stdout, res)
		}
		return err
	}
	logger := slog.New(slog.DiscardHandler)
	if c.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	err := job(ctx, c, brokers, logger)
	if errors.Is(err, context.Canceled) {
		return nil // stopped with Ctrl-C or SIGTERM
	}
	return err
}

// job builds and runs the pipeline until ctx ends.
func job(ctx context.Context, c config, brokers []string, logger *slog.Logger) error {
	var restart weir.RestartStrategy = weir.NoRestart{}
	if !c.noRestart {
		// A broker that goes away (restart, network) fails the job; it
		// restarts in the process from its latest checkpoint.
		restart = &weir.ExponentialDelayRestart{Initial: 200 * time.Millisecond, Max: 5 * time.Second, Jitter: 0.1}
	}
	env := weir.NewEnvironment(weir.Options{
		Parallelism: c.parallelism,
		Logger:      logger,
		Checkpoints: weir.CheckpointOptions{Interval: c.interval, Dir: c.checkpointDir, Retained: 2},
		Restore:     c.restore,
		Restart:     restart,
	})
	// Every field of Input is required: a record without one is bad.
	srcOpts := kafka.SourceOptions[Input]{
		Brokers: brokers, Topics: []string{c.input}, Deserializer: inputSerde,
	}
	dead := weir.NewOutputTag[weir.DeadLetter]("dead-letters")
	kind, where, err := deadLetterTarget(c.deadLetters)
	if err != nil {
		return err
	}
	if kind != "" {
		srcOpts.ErrorPolicy = weir.DeadLetterTo(dead)
	}
	in := weir.FromSource[Input](env, kafka.NewSource(srcOpts), weir.NoWatermarks[Input](), "input").UID("input")
	switch kind {
	case "file":
		weir.SideOutput(in, dead).SinkTo(file.ExactlyOnceJSONSink[weir.DeadLetter](where, file.ExactlyOnceOptions{})).
			Name("dead letters").UID("dead-letters")
	case "topic":
		weir.SideOutput(in, dead).SinkTo(kafka.NewSink(kafka.SinkOptions[weir.DeadLetter]{
			Brokers: brokers, Topic: where, Serializer: kafka.JSONSerde[weir.DeadLetter]{},
			Guarantee: kafka.ExactlyOnce, TransactionalIDPrefix: c.prefix + "-dead-letters", Logger: logger,
		})).Name("dead letters").UID("dead-letters")
	}
	sums := weir.ProcessKeyed[string, Input, Output](weir.KeyBy(in, func(r Input) string { return r.Key }), &runningSum{}).
		Name("running sum").UID("sums")
	guarantee := kafka.ExactlyOnce
	if c.atLeastOnce {
		guarantee = kafka.AtLeastOnce
	}
	sums.SinkTo(kafka.NewSink(kafka.SinkOptions[Output]{
		Brokers: brokers, Topic: c.output, Serializer: kafka.JSONSerde[Output]{},
		Key:       func(o Output) []byte { return []byte(o.Key) },
		Guarantee: guarantee, TransactionalIDPrefix: c.prefix, Logger: logger,
	})).Name("output").UID("output")
	return env.Execute(ctx)
}

// deadLetterTarget parses -dead-letters: "file:DIR", "topic:NAME" or "".
func deadLetterTarget(s string) (kind, where string, err error) {
	if s == "" {
		return "", "", nil
	}
	kind, where, _ = strings.Cut(s, ":")
	if (kind != "file" && kind != "topic") || where == "" {
		return "", "", fmt.Errorf("-dead-letters %q: want file:DIR or topic:NAME", s)
	}
	return kind, where, nil
}

// runningSum adds up the values of a key.
type runningSum struct {
	sum state.Value[int64]
}

func (r *runningSum) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	r.sum = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "sum"})
	return nil
}

func (r *runningSum) ProcessElement(ctx *weir.KeyedContext[string, Output], in Input) error {
	s, _ := r.sum.Value()
	s += in.Value
	r.sum.Update(s)
	ctx.Collect(Output{Key: in.Key, Seq: in.Seq, Sum: s})
	return nil
}

// inputRecord is record i of a generated input with keys keys: the
// records of a key share a Kafka key, so they stay in order in one
// partition, and their sequence numbers count from 0.
func inputRecord(topic string, keys, i int) *kgo.Record {
	k := i % keys
	in := Input{Key: fmt.Sprintf("k%d", k), Seq: int64(i / keys), Value: int64((i*104729)%1000) - 300}
	v, _ := json.Marshal(in)
	return &kgo.Record{Topic: topic, Key: []byte(in.Key), Value: v}
}

// generate produces n input records, at rate records per second if rate
// is positive.
func generate(ctx context.Context, brokers []string, topic string, keys, n int, rate float64) error {
	if keys < 1 {
		return errors.New("generate: -keys must be at least 1")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation())
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	defer cl.Close()
	var tick *time.Ticker
	batch := n
	if rate > 0 {
		// Ten batches per second.
		batch = max(1, int(rate/10))
		tick = time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
	}
	for i := 0; i < n; i += batch {
		recs := make([]*kgo.Record, 0, batch)
		for j := i; j < min(n, i+batch); j++ {
			recs = append(recs, inputRecord(topic, keys, j))
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		if tick != nil {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// quiet is how long readAll waits past the last record of a topic it reads
// to its end (want < 0).
const quiet = 3 * time.Second

// readAll reads topic with read_committed until it holds want records
// (want < 0: until no record has come for quiet after the first ones) or
// timeout passes.
func readAll(ctx context.Context, brokers []string, topic string, want int, timeout time.Duration) ([]*kgo.Record, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out []*kgo.Record
	poll := func(ctx context.Context) error {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fs.Err(); err != nil {
			return fmt.Errorf("reading %s: %w", topic, err)
		}
		out = append(out, fs.Records()...)
		return nil
	}
	if want < 0 {
		// To a quiet end: wait for the first records up to the timeout,
		// then read until none has come for quiet.
		for {
			pctx, pcancel := ctx, context.CancelFunc(func() {})
			if len(out) > 0 {
				pctx, pcancel = context.WithTimeout(ctx, quiet)
			}
			err := poll(pctx)
			pcancel()
			if err != nil {
				if pctx.Err() != nil {
					return out, nil
				}
				return out, err
			}
		}
	}
	for len(out) < want {
		if err := poll(ctx); err != nil {
			if ctx.Err() != nil {
				return out, nil
			}
			return out, err
		}
	}
	// Records beyond the expected ones (duplicates) arrive within a second.
	lctx, lcancel := context.WithTimeout(ctx, time.Second)
	defer lcancel()
	for {
		if err := poll(lctx); err != nil {
			if lctx.Err() != nil {
				return out, nil
			}
			return out, err
		}
	}
}

// verify reads the input and the committed output and checks the output:
// every input (key, seq) exactly once, with the running sum of the key's
// values up to seq.
func verify(ctx context.Context, brokers []string, inTopic, outTopic string, timeout time.Duration) (string, error) {
	// The input is complete when it is read to a quiet end: until no
	// record has come for a few seconds after the first ones (a fixed
	// two-second read found nothing on a loaded machine).
	in, err := readAll(ctx, brokers, inTopic, -1, 60*time.Second)
	if err != nil {
		return "", err
	}
	want := map[[2]string]int64{}
	byKey := map[string][]Input{}
	bad := 0
	for _, r := range in {
		// Records the job's source rejects are not part of the input.
		v, err := inputSerde.Deserialize(r)
		if err != nil {
			bad++
			continue
		}
		byKey[v.Key] = append(byKey[v.Key], v)
	}
	for k, recs := range byKey {
		var sum int64
		for _, v := range recs {
			sum += v.Value
			want[[2]string{k, fmt.Sprint(v.Seq)}] = sum
		}
	}
	out, err := readAll(ctx, brokers, outTopic, len(want), timeout)
	if err != nil {
		return "", err
	}
	seen := map[[2]string]bool{}
	var dups, wrong, extra int
	for _, r := range out {
		var o Output
		if err := json.Unmarshal(r.Value, &o); err != nil {
			return "", fmt.Errorf("output offset %d: %w", r.Offset, err)
		}
		id := [2]string{o.Key, fmt.Sprint(o.Seq)}
		s, ok := want[id]
		switch {
		case !ok:
			extra++
		case seen[id]:
			dups++
		case s != o.Sum:
			wrong++
		}
		seen[id] = true
	}
	missing := 0
	for id := range want {
		if !seen[id] {
			missing++
		}
	}
	res := fmt.Sprintf("input %d records; output %d records: %d missing, %d duplicates, %d wrong sums, %d unknown; %d bad input records",
		len(want), len(out), missing, dups, wrong, extra, bad)
	if missing+dups+wrong+extra > 0 {
		return res, errors.New("output is not exactly the running sums of the input")
	}
	return res, nil
}
