package redis

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
)

// Deserializer turns a stream entry into a value of the source's type. An
// error sends the entry to the source's ErrorPolicy.
type Deserializer[T any] func(stream string, m goredis.XMessage) (T, error)

// FieldDeserializer decodes the value of one field of each entry with
// decode; an entry without the field is a bad record.
func FieldDeserializer[T any](field string, decode func(b []byte) (T, error)) Deserializer[T] {
	return func(_ string, m goredis.XMessage) (T, error) {
		raw, ok := m.Values[field]
		if !ok {
			var zero T
			return zero, fmt.Errorf("field %q missing", field)
		}
		s, _ := raw.(string)
		return decode([]byte(s))
	}
}

// JSON decodes a JSON document into a T, for FieldDeserializer.
func JSON[T any](b []byte) (T, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

// Default source settings.
const (
	DefaultCount    = 500
	DefaultBlock    = time.Second
	DefaultConsumer = "weir"
)

// SourceOptions configure a Source.
type SourceOptions[T any] struct {
	// Redis is the client's configuration; the zero value connects to
	// localhost:6379.
	Redis goredis.Options
	// Streams are read (required).
	Streams []string
	// Group is the consumer group (required); the source creates it
	// (with MKSTREAM) where it does not exist, at StartID. The group
	// belongs to the job: no other consumer may read or claim from it.
	Group string
	// StartID is where a created group starts: "0" (the default, the
	// whole stream) or "$" (entries added from then on).
	StartID string
	// Consumer prefixes the consumer names: subtask s reads as
	// Consumer-s (default DefaultConsumer).
	Consumer string
	// Deserializer turns entries into values (required).
	Deserializer Deserializer[T]
	// ErrorPolicy handles entries the deserializer rejects (default: fail
	// the job); a dead letter names the stream and entry id.
	ErrorPolicy weir.ErrorPolicy
	// Count is the most entries one XREADGROUP returns (default
	// DefaultCount); Block is how long it waits for new entries (default
	// DefaultBlock).
	Count int64
	Block time.Duration
	// Registry, if set, receives weir_redis_source_entries_total,
	// _acked_total, _dead_letters_total and _reconnects_total.
	Registry prometheus.Registerer
	// Logger receives reconnects (nil discards them).
	Logger *slog.Logger
}

// Source reads Redis streams through a consumer group; the subtasks are
// the group's consumers. Add it with weir.FromSource; entries carry the
// millisecond part of their id as timestamp.
type Source[T any] struct {
	opts                                    SourceOptions[T]
	entries, acked, deadLetters, reconnects prometheus.Counter
	// noAcks, for tests, drops the acknowledgements of completed
	// checkpoints: a crash right after a checkpoint completed.
	noAcks bool
}

// NewSource returns a source with opts, filling in defaults. It fails on
// invalid options or if the metrics cannot be registered.
func NewSource[T any](opts SourceOptions[T]) (*Source[T], error) {
	switch {
	case len(opts.Streams) == 0:
		return nil, errors.New("redis: source option Streams: must not be empty")
	case opts.Group == "":
		return nil, errors.New("redis: source option Group: must be set")
	case opts.Deserializer == nil:
		return nil, errors.New("redis: source option Deserializer: must be set")
	}
	if opts.StartID == "" {
		opts.StartID = "0"
	}
	if opts.Consumer == "" {
		opts.Consumer = DefaultConsumer
	}
	if opts.Count <= 0 {
		opts.Count = DefaultCount
	}
	if opts.Block <= 0 {
		opts.Block = DefaultBlock
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Source[T]{opts: opts}
	var err error
	for _, c := range []struct {
		p          *prometheus.Counter
		name, help string
	}{
		{&s.entries, "entries_total", "Stream entries the Redis source read."},
		{&s.acked, "acked_total", "Stream entries the Redis source acknowledged after a completed checkpoint."},
		{&s.deadLetters, "dead_letters_total", "Stream entries the Redis source sent to its dead letters."},
		{&s.reconnects, "reconnects_total", "Times the Redis source resumed reading after an error."},
	} {
		if *c.p, err = counter(opts.Registry, "redis_source", c.name, c.help); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// position is a consumer's last emitted entry of a stream, as stored in
// checkpoints: the consumer's subtask index, the stream, the id.
type position struct {
	consumer int
	stream   string
	id       streamID
}

func (p position) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(p.consumer))
	b = binary.AppendUvarint(b, uint64(len(p.stream)))
	b = append(b, p.stream...)
	b = binary.AppendUvarint(b, p.id.ms)
	return binary.AppendUvarint(b, p.id.seq)
}

func decodePosition(b []byte) (position, error) {
	var p position
	c, n := binary.Uvarint(b)
	if n <= 0 || c > 1<<20 {
		return p, fmt.Errorf("redis: %w: stream position", codec.ErrCorrupt)
	}
	b = b[n:]
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return p, fmt.Errorf("redis: %w: stream position", codec.ErrCorrupt)
	}
	p.consumer, p.stream = int(c), string(b[n:n+int(l)])
	b = b[n+int(l):]
	ms, n := binary.Uvarint(b)
	if n <= 0 {
		return p, fmt.Errorf("redis: %w: stream position", codec.ErrCorrupt)
	}
	seq, m := binary.Uvarint(b[n:])
	if m <= 0 || n+m != len(b) {
		return p, fmt.Errorf("redis: %w: stream position", codec.ErrCorrupt)
	}
	p.id = streamID{ms, seq}
	return p, nil
}

// CreateReader returns the reader of subtask ctx.Subtask, consumer
// Consumer-<subtask>. It does no I/O: a goroutine owned by the reader
// reads, and another acknowledges.
func (s *Source[T]) CreateReader(ctx weir.SourceContext) (weir.SourceReader[T], error) {
	o := s.opts.Redis
	r := &reader[T]{
		s: s, subtask: ctx.Subtask, parallelism: ctx.Parallelism, name: s.consumerName(ctx.Subtask),
		client:  goredis.NewClient(&o),
		batches: make(chan batch, 4), avail: make(chan struct{}, 1),
		pos: map[consumerStream]streamID{}, unacked: map[string][]string{}, staged: map[int64]map[string][]string{},
		ackWake: make(chan struct{}, 1),
	}
	r.logger = s.opts.Logger.With("subtask", ctx.Subtask, "consumer", r.name)
	for _, it := range ctx.Restored {
		p, err := decodePosition(it)
		if err != nil {
			return nil, err
		}
		if r.owns(p.consumer) {
			r.pos[consumerStream{p.consumer, p.stream}] = p.id
		}
	}
	r.restored = maps.Clone(r.pos)
	gctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		r.readLoop(gctx)
	}()
	go func() {
		defer r.wg.Done()
		r.ackLoop(gctx)
	}()
	return r, nil
}

func (s *Source[T]) consumerName(subtask int) string {
	return s.opts.Consumer + "-" + strconv.Itoa(subtask)
}

// consumerStream names a consumer's view of a stream.
type consumerStream struct {
	consumer int
	stream   string
}

// batch is what readLoop hands to Poll: entries one consumer read.
type batch struct {
	consumer int
	streams  []goredis.XStream
}

// reader is one subtask's reader. readLoop and ackLoop are its goroutines;
// Poll, SnapshotState and NotifyCheckpointComplete run on the subtask's
// goroutine and own pos, unacked and staged.
//
// A reader reads as its own consumer, Consumer-<subtask>, and also
// settles the pending entries of consumers that no subtask has any more
// after the parallelism went down (Consumer-k with k >= parallelism and
// k % parallelism == subtask): it re-reads them under that consumer's
// name, so that each consumer's entries are emitted in id order, the
// property the restore relies on.
type reader[T any] struct {
	s                    *Source[T]
	subtask, parallelism int
	name                 string
	client               *goredis.Client
	logger               *slog.Logger
	cancel               context.CancelFunc
	wg                   sync.WaitGroup

	// restored (read by readLoop) holds the checkpointed positions of
	// the consumers this reader settles.
	restored map[consumerStream]streamID

	batches chan batch
	avail   chan struct{}

	pos     map[consumerStream]streamID   // last emitted entry
	unacked map[string][]string           // per stream, emitted since the last snapshot
	staged  map[int64]map[string][]string // per checkpoint, to ack when complete

	ackWake chan struct{}
	ackMu   struct {
		sync.Mutex
		queue map[string][]string
	}
}

// owns reports whether the reader settles consumer c's entries.
func (r *reader[T]) owns(c int) bool {
	return c == r.subtask || c >= r.parallelism && c%r.parallelism == r.subtask
}

// Available signals that Poll has entries.
func (r *reader[T]) Available() <-chan struct{} { return r.avail }

// Poll emits the entries readLoop has fetched.
func (r *reader[T]) Poll(_ context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	for n := 0; n < 4; n++ {
		var b batch
		var ok bool
		select {
		case b, ok = <-r.batches:
		default:
			return weir.NothingAvailable, nil
		}
		if !ok {
			return weir.EndOfInput, fmt.Errorf("redis: source %s: closed", r.name)
		}
		for _, st := range b.streams {
			for _, m := range st.Messages {
				if err := r.emit(out, b.consumer, st.Stream, m); err != nil {
					return weir.NothingAvailable, err
				}
			}
		}
	}
	return weir.MoreAvailable, nil
}

func (r *reader[T]) emit(out *weir.SourceOutput[T], consumer int, stream string, m goredis.XMessage) error {
	id, err := parseID(m.ID)
	if err != nil {
		return err
	}
	r.pos[consumerStream{consumer, stream}] = id
	r.unacked[stream] = append(r.unacked[stream], m.ID)
	r.s.entries.Inc()
	if m.Values == nil {
		return nil // a pending entry trimmed from the stream: nothing to read
	}
	v, err := r.s.opts.Deserializer(stream, m)
	if err != nil {
		raw, _ := json.Marshal(m.Values)
		r.s.deadLetters.Inc()
		return weir.RejectFromSource(out, r.s.opts.ErrorPolicy, weir.DeadLetter{
			Source: fmt.Sprintf("redis stream %s id %s", stream, m.ID), Reason: err.Error(), Raw: raw})
	}
	out.CollectWithTimestamp(v, int64(id.ms))
	return nil
}

// SnapshotState stores the last emitted entry per consumer and stream and
// stages the entries emitted since the last checkpoint for
// acknowledgement.
func (r *reader[T]) SnapshotState(checkpointID int64) ([][]byte, error) {
	items := make([][]byte, 0, len(r.pos))
	for cs, id := range r.pos {
		items = append(items, position{consumer: cs.consumer, stream: cs.stream, id: id}.encode())
	}
	if len(r.unacked) > 0 {
		r.staged[checkpointID] = r.unacked
		r.unacked = map[string][]string{}
	}
	return items, nil
}

// NotifyCheckpointComplete hands the entries of checkpoints up to id to
// the acknowledging goroutine; it does not block.
func (r *reader[T]) NotifyCheckpointComplete(id int64) error {
	r.ackMu.Lock()
	for cid, byStream := range r.staged {
		if cid > id {
			continue
		}
		if r.ackMu.queue == nil {
			r.ackMu.queue = map[string][]string{}
		}
		for st, ids := range byStream {
			r.ackMu.queue[st] = append(r.ackMu.queue[st], ids...)
		}
		delete(r.staged, cid)
	}
	r.ackMu.Unlock()
	select {
	case r.ackWake <- struct{}{}:
	default:
	}
	return nil
}

// Close stops the goroutines and closes the client. Entries not yet
// acknowledged stay pending in the group and are settled by the next
// run's restore.
func (r *reader[T]) Close() error {
	r.cancel()
	err := r.client.Close()
	r.wg.Wait()
	return err
}

// ackLoop acknowledges queued entries, retrying with backoff.
func (r *reader[T]) ackLoop(ctx context.Context) {
	var b backoff
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.ackWake:
		}
		r.ackMu.Lock()
		q := r.ackMu.queue
		r.ackMu.queue = nil
		r.ackMu.Unlock()
		if r.s.noAcks {
			continue
		}
		for st, ids := range q {
			for len(ids) > 0 {
				chunk := ids[:min(len(ids), 1000)]
				if err := r.client.XAck(ctx, st, r.s.opts.Group, chunk...).Err(); err != nil {
					if ctx.Err() != nil {
						return
					}
					r.logger.Warn("redis source: acknowledging", "stream", st, "err", err)
					if b.wait(ctx) != nil {
						return
					}
					continue
				}
				b.reset()
				r.s.acked.Add(float64(len(chunk)))
				ids = ids[len(chunk):]
			}
		}
	}
}

// consumerState is readLoop's view of a consumer it reads as.
type consumerState struct {
	index   int
	name    string
	last    map[string]string // last id handed to Poll, per stream
	drained bool              // its pending entries are all read
}

// readLoop creates the groups and settles the pending entries a restored
// checkpoint covers (prepare), re-reads the pending entries of the
// consumers it owns and then reads new entries as its own consumer. After
// an error it waits (backoff) and resumes with its consumer's pending
// entries after the last one handed to Poll: an XREADGROUP whose reply
// was lost delivered entries that only the pending list still knows.
func (r *reader[T]) readLoop(ctx context.Context) {
	defer close(r.batches)
	var (
		b     backoff
		cons  []*consumerState // own consumer first
		ready bool
	)
	fail := func(what string, err error) bool {
		if ctx.Err() != nil {
			return false
		}
		r.s.reconnects.Inc()
		r.logger.Warn("redis source: "+what, "err", err)
		if len(cons) > 0 {
			cons[0].drained = false
		}
		return b.wait(ctx) == nil
	}
	for ctx.Err() == nil {
		if !ready {
			adopted, err := r.prepare(ctx)
			if err != nil {
				if !fail("preparing", err) {
					return
				}
				continue
			}
			for _, c := range append([]int{r.subtask}, adopted...) {
				cs := &consumerState{index: c, name: r.s.consumerName(c), last: map[string]string{}}
				for _, st := range r.s.opts.Streams {
					cs.last[st] = "0"
				}
				cons = append(cons, cs)
			}
			ready = true
		}
		// Pending entries first (adopted consumers', then our own), then
		// new entries.
		cur, pending := cons[0], true
		for i := len(cons) - 1; i >= 0; i-- {
			if !cons[i].drained {
				cur = cons[i]
				break
			}
		}
		if cur == cons[0] && cur.drained {
			pending = false
		}
		args := &goredis.XReadGroupArgs{Group: r.s.opts.Group, Consumer: cur.name, Count: r.s.opts.Count, Block: -1}
		args.Streams = append(args.Streams, r.s.opts.Streams...)
		for _, st := range r.s.opts.Streams {
			if pending {
				args.Streams = append(args.Streams, cur.last[st])
			} else {
				args.Streams = append(args.Streams, ">")
			}
		}
		if !pending {
			args.Block = r.s.opts.Block
		}
		res, err := r.client.XReadGroup(ctx, args).Result()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			if !fail("reading", err) {
				return
			}
			continue
		}
		b.reset()
		n := 0
		for _, st := range res {
			if k := len(st.Messages); k > 0 {
				n += k
				cur.last[st.Stream] = st.Messages[k-1].ID
			}
		}
		if n == 0 {
			cur.drained = true
			continue
		}
		select {
		case r.batches <- batch{consumer: cur.index, streams: res}:
		case <-ctx.Done():
			return
		}
		select {
		case r.avail <- struct{}{}:
		default:
		}
	}
}

// prepare creates the groups, finds the consumers this reader adopts
// (named Consumer-k, k >= parallelism, k % parallelism == subtask) and
// acknowledges the pending entries of its consumers at or below their
// restored positions: those were emitted before the checkpoint restored
// from, which is complete. The other pending entries are re-read.
func (r *reader[T]) prepare(ctx context.Context) ([]int, error) {
	adopted := map[int]bool{}
	for _, st := range r.s.opts.Streams {
		err := r.client.XGroupCreateMkStream(ctx, st, r.s.opts.Group, r.s.opts.StartID).Err()
		if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
			return nil, fmt.Errorf("creating group %s on %s: %w", r.s.opts.Group, st, err)
		}
		infos, err := r.client.XInfoConsumers(ctx, st, r.s.opts.Group).Result()
		if err != nil {
			return nil, fmt.Errorf("listing consumers of %s on %s: %w", r.s.opts.Group, st, err)
		}
		for _, in := range infos {
			k, err := strconv.Atoi(strings.TrimPrefix(in.Name, r.s.opts.Consumer+"-"))
			if err == nil && in.Name == r.s.consumerName(k) && k != r.subtask && r.owns(k) && in.Pending > 0 {
				adopted[k] = true
			}
		}
	}
	for _, c := range append([]int{r.subtask}, slices.Sorted(maps.Keys(adopted))...) {
		name := r.s.consumerName(c)
		for _, st := range r.s.opts.Streams {
			pos, ok := r.restored[consumerStream{c, st}]
			if !ok {
				continue
			}
			for {
				ps, err := r.client.XPendingExt(ctx, &goredis.XPendingExtArgs{
					Stream: st, Group: r.s.opts.Group, Consumer: name, Start: "-", End: pos.String(), Count: 1000}).Result()
				if err != nil {
					return nil, fmt.Errorf("listing pending entries of %s on %s: %w", name, st, err)
				}
				if len(ps) == 0 {
					break
				}
				ids := make([]string, len(ps))
				for i, p := range ps {
					ids[i] = p.ID
				}
				if err := r.client.XAck(ctx, st, r.s.opts.Group, ids...).Err(); err != nil {
					return nil, fmt.Errorf("acknowledging restored entries on %s: %w", st, err)
				}
				r.s.acked.Add(float64(len(ids)))
			}
		}
	}
	return slices.Sorted(maps.Keys(adopted)), nil
}
