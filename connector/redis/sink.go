package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
)

// Op is the Redis command a record becomes.
type Op uint8

const (
	// OpNone writes nothing: the record is skipped.
	OpNone Op = iota
	// OpSet is SET Key Value [PX TTL]: an idempotent upsert.
	OpSet
	// OpHSet is HSET Key Fields..., followed by PEXPIRE Key TTL if TTL is
	// set: an idempotent upsert of the given fields.
	OpHSet
	// OpDel is DEL Key: the delete of a changelog (idempotent).
	OpDel
	// OpXAdd is XADD Key [MAXLEN ~ MaxLen] ID|* Fields...: an append, so
	// at-least-once unless ID is set (see the package documentation).
	OpXAdd
	// OpPublish is PUBLISH Key Value: fire and forget to the channel's
	// current subscribers, at-least-once.
	OpPublish
)

var opNames = [...]string{"NONE", "SET", "HSET", "DEL", "XADD", "PUBLISH"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", o)
}

// Field is a hash field or a stream entry field.
type Field struct {
	Name, Value string
}

// Command is the write a record maps to. The sink keeps it until the
// next flush: a mapping function must not reuse Value's or Fields'
// memory for the next record.
type Command struct {
	Op Op
	// Key is the key (SET, HSET, DEL), the stream (XADD) or the channel
	// (PUBLISH).
	Key string
	// Value is the value of SET and the message of PUBLISH.
	Value []byte
	// Fields are the fields of HSET and XADD.
	Fields []Field
	// DelFields are hash fields HSET removes (HDEL, sent before the HSET):
	// an upsert of a row whose NULL columns must not keep older values.
	DelFields []string
	// TTL, if positive, expires the key of SET or HSET.
	TTL time.Duration
	// ID is XADD's explicit entry id ("" lets Redis assign one). Redis
	// rejects an id not above the stream's last; the sink counts such a
	// rejection as a duplicate of a write made before a restore and skips
	// it (see the package documentation for when that is exactly-once).
	ID string
	// MaxLen, if positive, trims the stream to about MaxLen entries
	// (XADD MAXLEN ~).
	MaxLen int64
}

// DefaultBatchSize is the number of commands a sink pipelines before it
// sends them, by default.
const DefaultBatchSize = 1000

// DefaultMaxRetryTime is how long a sink retries a batch that fails
// because Redis is unreachable before it fails the job, by default.
const DefaultMaxRetryTime = time.Minute

// SinkOptions configure a Sink.
type SinkOptions[T any] struct {
	// Redis is the client's configuration (address, password, TLS, pool);
	// the zero value connects to localhost:6379.
	Redis goredis.Options
	// Map turns a record into its command (required). It is called on the
	// subtask's goroutine, once per record. An error is a bad record:
	// it fails the job, or goes to DeadLetters.
	Map func(v T) (Command, error)
	// BatchSize is the number of commands sent in one pipeline (default
	// DefaultBatchSize). Every flush (each checkpoint) sends what is
	// pending.
	BatchSize int
	// MaxRetryTime is how long a batch is retried with backoff while
	// Redis is unreachable before the job fails (default
	// DefaultMaxRetryTime).
	MaxRetryTime time.Duration
	// DeadLetters, if set, receives the records that cannot be written
	// because of the record itself (Map fails, or Redis refuses the
	// command, for example WRONGTYPE): each subtask writes them with a
	// writer of its own, flushed and closed with the sink's, so dead
	// letters have the sink's guarantee. If nil such a record fails
	// the job with a *weir.BadRecordError naming it.
	DeadLetters weir.Sink[weir.DeadLetter]
	// Registry, if set, receives the sink's metrics
	// (weir_redis_sink_records_total, _batches_total, _retries_total,
	// _dead_letters_total), shared by the sinks of one registry.
	Registry prometheus.Registerer
	// Logger receives retries (nil discards them).
	Logger *slog.Logger
}

// Sink writes records to Redis as SET, HSET, DEL, XADD or PUBLISH
// commands, pipelined in batches. Create it with NewSink and add it with
// Stream.SinkTo.
type Sink[T any] struct {
	opts SinkOptions[T]
	m    sinkMetrics
}

type sinkMetrics struct {
	commands, batches, retries, deadLetters prometheus.Counter
}

// NewSink returns a sink with opts, filling in defaults. It fails on
// invalid options or if the metrics cannot be registered.
func NewSink[T any](opts SinkOptions[T]) (*Sink[T], error) {
	if opts.Map == nil {
		return nil, fmt.Errorf("redis: sink option Map: must be set")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.MaxRetryTime <= 0 {
		opts.MaxRetryTime = DefaultMaxRetryTime
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sink[T]{opts: opts}
	var err error
	for _, c := range []struct {
		p          *prometheus.Counter
		name, help string
	}{
		{&s.m.commands, "records_total", "Records the Redis sink wrote (a record is one command, or HSET and PEXPIRE)."},
		{&s.m.batches, "batches_total", "Pipelines the Redis sink sent."},
		{&s.m.retries, "retries_total", "Pipelines the Redis sink sent again after a connection error."},
		{&s.m.deadLetters, "dead_letters_total", "Records the Redis sink could not write and sent to its dead letters."},
	} {
		if *c.p, err = counter(opts.Registry, "redis_sink", c.name, c.help); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// CreateWriter returns the writer of one subtask. It does no I/O.
func (s *Sink[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	w := &writer[T]{s: s, subtask: ctx.Subtask, pending: make([]Command, 0, s.opts.BatchSize)}
	if s.opts.DeadLetters != nil {
		d, err := s.opts.DeadLetters.CreateWriter(ctx)
		if err != nil {
			return nil, fmt.Errorf("redis: sink: dead-letter writer: %w", err)
		}
		w.dead = d
	}
	o := s.opts.Redis
	w.client = goredis.NewClient(&o)
	return w, nil
}

// writer is one subtask's writer; it is used by that subtask's goroutine
// only.
type writer[T any] struct {
	s       *Sink[T]
	subtask int
	client  *goredis.Client
	dead    weir.SinkWriter[weir.DeadLetter] // nil without DeadLetters
	pending []Command
	cmds    []goredis.Cmder
	owner   []int // owner[i]: index in pending of cmds[i]
}

// Write maps v and queues its command, sending the batch when full.
func (w *writer[T]) Write(ctx context.Context, v T, _ int64) error {
	c, err := w.s.opts.Map(v)
	if err != nil {
		if err := w.reject(ctx, weir.DeadLetter{Source: fmt.Sprintf("redis sink subtask %d", w.subtask),
			Reason: "map: " + err.Error(), Raw: fmt.Appendf(nil, "%v", v)}); err != nil {
			return err
		}
		return nil
	}
	if c.Op == OpNone {
		return nil
	}
	if c.Op > OpPublish {
		return fmt.Errorf("redis: sink: record mapped to unknown %v", c.Op)
	}
	w.pending = append(w.pending, c)
	if len(w.pending) >= w.s.opts.BatchSize {
		return w.send(ctx)
	}
	return nil
}

// WriteBatch writes recs as Write would, one by one.
func (w *writer[T]) WriteBatch(ctx context.Context, recs []weir.Rec[T]) (int, error) {
	for i := range recs {
		if err := w.Write(ctx, recs[i].V, recs[i].TS); err != nil {
			return i + 1, err
		}
	}
	return len(recs), nil
}

// Flush sends the pending commands and waits for Redis's replies, so that
// at a checkpoint every record before its barrier is in Redis.
func (w *writer[T]) Flush(ctx context.Context, _ bool) error {
	if err := w.send(ctx); err != nil {
		return err
	}
	if w.dead != nil {
		if err := w.dead.Flush(ctx, false); err != nil {
			return fmt.Errorf("redis: sink: flushing dead letters: %w", err)
		}
	}
	return nil
}

// Close closes the client and the dead-letter writer.
func (w *writer[T]) Close() error {
	err := w.client.Close()
	if w.dead != nil {
		err = errors.Join(err, w.dead.Close())
	}
	return err
}

// reject sends a bad record to the dead letters, or returns the error
// that fails the job.
func (w *writer[T]) reject(ctx context.Context, d weir.DeadLetter) error {
	d.Time = time.Now()
	if w.dead == nil {
		return fmt.Errorf("redis: sink: %w", &weir.BadRecordError{DeadLetter: d})
	}
	w.s.m.deadLetters.Inc()
	if err := w.dead.Write(ctx, d, 0); err != nil {
		return fmt.Errorf("redis: sink: writing dead letter: %w", err)
	}
	return nil
}

// queue adds c's Redis commands to pipe.
func (w *writer[T]) queue(ctx context.Context, pipe goredis.Pipeliner, i int, c *Command) {
	add := func(cmd goredis.Cmder) {
		w.cmds = append(w.cmds, cmd)
		w.owner = append(w.owner, i)
	}
	switch c.Op {
	case OpSet:
		add(pipe.Set(ctx, c.Key, c.Value, max(c.TTL, 0)))
	case OpHSet:
		if len(c.DelFields) > 0 {
			add(pipe.HDel(ctx, c.Key, c.DelFields...))
		}
		args := make([]any, 0, 2*len(c.Fields))
		for _, f := range c.Fields {
			args = append(args, f.Name, f.Value)
		}
		if len(args) > 0 {
			add(pipe.HSet(ctx, c.Key, args...))
		}
		if c.TTL > 0 {
			add(pipe.PExpire(ctx, c.Key, c.TTL))
		}
	case OpDel:
		add(pipe.Del(ctx, c.Key))
	case OpXAdd:
		vals := make([]string, 0, 2*len(c.Fields))
		for _, f := range c.Fields {
			vals = append(vals, f.Name, f.Value)
		}
		a := &goredis.XAddArgs{Stream: c.Key, ID: c.ID, Values: vals}
		if c.MaxLen > 0 {
			a.MaxLen, a.Approx = c.MaxLen, true
		}
		add(pipe.XAdd(ctx, a))
	case OpPublish:
		add(pipe.Publish(ctx, c.Key, c.Value))
	}
}

// send writes the pending commands in one pipeline. A command Redis
// refuses is a bad record; on a connection error (or a transient server
// state) the batch is sent again, with backoff, from the first command
// that failed so that writes to one key keep their order.
func (w *writer[T]) send(ctx context.Context) error {
	var (
		b     backoff
		start time.Time
	)
	for len(w.pending) > 0 {
		w.cmds, w.owner = w.cmds[:0], w.owner[:0]
		pipe := w.client.Pipeline()
		for i := range w.pending {
			w.queue(ctx, pipe, i, &w.pending[i])
		}
		_, _ = pipe.Exec(ctx) // errors are read per command below
		w.s.m.batches.Inc()
		retryFrom, rejected := len(w.pending), -1
		var firstErr error
		for j, cmd := range w.cmds {
			err := cmd.Err()
			if err == nil || errors.Is(err, goredis.Nil) {
				continue
			}
			i := w.owner[j]
			if i >= retryFrom {
				break
			}
			c := &w.pending[i]
			if isRecordError(err) {
				if c.Op == OpXAdd && c.ID != "" && strings.Contains(err.Error(), "equal or smaller") {
					continue // written before a restore
				}
				if i == rejected {
					continue // PEXPIRE after a refused HSET
				}
				rejected = i
				if err := w.reject(ctx, weir.DeadLetter{
					Source: fmt.Sprintf("redis sink subtask %d: %v %s", w.subtask, c.Op, c.Key),
					Reason: err.Error(), Raw: c.Value}); err != nil {
					return err
				}
				continue
			}
			if ctx.Err() != nil {
				return fmt.Errorf("redis: sink: %w", ctx.Err())
			}
			retryFrom, firstErr = i, err
		}
		w.s.m.commands.Add(float64(retryFrom))
		clear(w.pending[:retryFrom])
		w.pending = append(w.pending[:0], w.pending[retryFrom:]...)
		if len(w.pending) == 0 {
			break
		}
		if start.IsZero() {
			start = time.Now()
		} else if time.Since(start) > w.s.opts.MaxRetryTime {
			return fmt.Errorf("redis: sink: Redis unreachable for %v: %w", w.s.opts.MaxRetryTime, firstErr)
		}
		w.s.m.retries.Inc()
		w.s.opts.Logger.Warn("redis sink: retrying batch", "subtask", w.subtask, "commands", len(w.pending), "err", firstErr)
		if err := b.wait(ctx); err != nil {
			return fmt.Errorf("redis: sink: %w", err)
		}
	}
	clear(w.cmds)
	w.cmds, w.owner = w.cmds[:0], w.owner[:0]
	return nil
}
