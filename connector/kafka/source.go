package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
)

// ErrOptions is matched (errors.Is) by the errors of invalid options,
// which are weir.InvalidOptionErrors worded "kafka: option Topic: must not
// be empty". It matches weir.ErrInvalidOption.
var ErrOptions = weir.MarkError(errors.New("kafka: invalid options"), weir.ErrInvalidOption)

// optionError is the error of an invalid option.
func optionError(option, reason string) error {
	return &weir.InvalidOptionError{Prefix: "kafka", Option: option, Reason: reason, Kind: ErrOptions}
}

// ErrAuthentication is matched (errors.Is) by the error that fails a job
// whose client the brokers refuse to authenticate or authorize (wrong
// SASL credentials or mechanism, a missing ACL). Retrying cannot help, so
// the source fails rather than retry; the error wraps Kafka's own
// (kerr.SaslAuthenticationFailed, ...). It matches weir.ErrAuthentication.
var ErrAuthentication = weir.MarkError(errors.New("kafka: authentication or authorization failed"), weir.ErrAuthentication)

// IsAuthError reports whether err is one Kafka returns for a client that
// failed to authenticate or is not authorized: retrying does not help.
func IsAuthError(err error) bool {
	for _, e := range []error{kerr.SaslAuthenticationFailed, kerr.UnsupportedSaslMechanism, kerr.IllegalSaslState,
		kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed, kerr.ClusterAuthorizationFailed,
		kerr.TransactionalIDAuthorizationFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return errors.Is(err, ErrAuthentication)
}

// authError wraps err, an IsAuthError, with ErrAuthentication.
func authError(what string, err error) error {
	if errors.Is(err, ErrAuthentication) {
		return err
	}
	return fmt.Errorf("%w: %s: %w", ErrAuthentication, what, err)
}

// DefaultDiscoveryInterval is how often a source looks for new partitions
// and topics by default.
const DefaultDiscoveryInterval = 30 * time.Second

type startKind uint8

const (
	startEarliest startKind = iota
	startLatest
	startTimestamp
	startCommitted
	startExact // only in positions: a known next offset
)

// StartOffset says where a source starts reading a partition it has no
// checkpointed position for, when the job starts fresh. Partitions that
// appear while the job runs (or that a restored checkpoint does not know)
// are read from the earliest offset, as in Flink, so that no record of a
// new partition is skipped.
type StartOffset struct {
	kind  startKind
	ts    int64
	group string
}

// Earliest starts at the first retained record (the default).
func Earliest() StartOffset { return StartOffset{kind: startEarliest} }

// Latest starts after the last record at the time the partition is first
// read.
func Latest() StartOffset { return StartOffset{kind: startLatest} }

// AtTimestamp starts at the first record whose timestamp is at or after t.
func AtTimestamp(t time.Time) StartOffset {
	return StartOffset{kind: startTimestamp, ts: t.UnixMilli()}
}

// CommittedOffsets starts at the offsets the consumer group committed, and
// at the earliest offset of partitions without one. The source never
// commits to the group itself: its positions live in checkpoints.
func CommittedOffsets(group string) StartOffset {
	return StartOffset{kind: startCommitted, group: group}
}

func (s StartOffset) offset() kgo.Offset {
	switch s.kind {
	case startLatest:
		return kgo.NewOffset().AtEnd()
	case startTimestamp:
		return kgo.NewOffset().AfterMilli(s.ts)
	case startExact:
		return kgo.NewOffset().At(s.ts)
	default:
		return kgo.NewOffset().AtStart()
	}
}

// SourceOptions configure a Source.
type SourceOptions[T any] struct {
	// Brokers are the seed brokers (host:port), required.
	Brokers []string
	// Topics are read; TopicRegexp, if set, adds every topic whose name
	// matches it, including topics created while the job runs.
	Topics      []string
	TopicRegexp *regexp.Regexp
	// Start says where partitions without a checkpointed position start
	// (default Earliest).
	Start StartOffset
	// Deserializer turns records into values (required).
	Deserializer Deserializer[T]
	// ErrorPolicy handles records the deserializer rejects (default: fail
	// the job).
	ErrorPolicy weir.ErrorPolicy
	// DiscoveryInterval is how often the source looks for new partitions
	// and topics (default DefaultDiscoveryInterval; negative: only once,
	// at start).
	DiscoveryInterval time.Duration
	// CommitGroup, if set, is the consumer group the source commits the
	// offsets of every completed checkpoint to, so that tools can show the
	// job's lag. The source does not read them back (unless Start is
	// CommittedOffsets of that group) and takes no part in the group.
	CommitGroup string
	// ClientOptions are passed to the franz-go client, for TLS
	// (kgo.DialTLSConfig), SASL (kgo.SASL with pkg/sasl/plain or
	// pkg/sasl/scram) and tuning. The source sets the seed brokers, the
	// partitions to consume and the read_committed isolation level itself.
	ClientOptions []kgo.Opt
}

// Source reads Kafka topics. Each partition is a split with its own
// watermark; partitions are spread over the source's subtasks by
// PartitionOwner. Add it with weir.FromSource; a watermark strategy
// without a Timestamp assigner uses the records' Kafka timestamps.
type Source[T any] struct {
	opts SourceOptions[T]
}

// NewSource returns a source with opts; options are checked when the job
// starts.
func NewSource[T any](opts SourceOptions[T]) *Source[T] { return &Source[T]{opts: opts} }

// PartitionOwner is the subtask (of parallelism) that reads a partition:
// a topic's partitions are spread round-robin from a start subtask derived
// from the topic name, so that partitions added later do not move the
// existing ones (Flink's KafkaSourceEnumerator does the same).
func PartitionOwner(topic string, partition int32, parallelism int) int {
	h := fnv.New32a()
	h.Write([]byte(topic))
	start := int(h.Sum32() % uint32(parallelism))
	return (start + int(partition)) % parallelism
}

// topicPartition names a partition.
type topicPartition struct {
	topic     string
	partition int32
}

func (tp topicPartition) String() string {
	return tp.topic + "-" + strconv.Itoa(int(tp.partition))
}

// position is where a partition resumes: an exact next offset, or a
// symbolic start not yet resolved.
type position struct {
	tp    topicPartition
	start StartOffset
}

// Positions are stored in checkpoints as one item per partition: the
// topic (length-prefixed), the partition, the start kind and its value.
func (p position) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(len(p.tp.topic)))
	b = append(b, p.tp.topic...)
	b = binary.AppendVarint(b, int64(p.tp.partition))
	b = append(b, byte(p.start.kind))
	return binary.AppendVarint(b, p.start.ts)
}

func decodePosition(b []byte) (position, error) {
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return position{}, fmt.Errorf("kafka: %w: partition position topic", codec.ErrCorrupt)
	}
	var p position
	p.tp.topic = string(b[n : n+int(l)])
	b = b[n+int(l):]
	part, n := binary.Varint(b)
	if n <= 0 || len(b) < n+1 {
		return position{}, fmt.Errorf("kafka: %w: partition position", codec.ErrCorrupt)
	}
	p.tp.partition = int32(part)
	p.start.kind = startKind(b[n])
	ts, m := binary.Varint(b[n+1:])
	if m <= 0 || p.start.kind > startExact || part < 0 || part > math.MaxInt32 || n+1+m != len(b) {
		return position{}, fmt.Errorf("kafka: %w: partition position offset", codec.ErrCorrupt)
	}
	p.start.ts = ts
	return p, nil
}

// discoveryMark is a checkpoint item saying that subtask Subtask of
// Parallelism had not finished its first partition discovery: the
// partitions it owned then were never resolved with the configured start
// (Flink's KafkaSourceEnumerator keeps initialDiscoveryFinished for the
// same reason). A restore resolves such partitions with the configured
// start, not with the earliest offset it uses for partitions created
// after the job started. Encoded as a zero topic length (no Kafka topic
// is empty), then the parallelism and the subtask.
type discoveryMark struct {
	parallelism, subtask int
}

func (m discoveryMark) encode() []byte {
	b := binary.AppendUvarint([]byte{0}, uint64(m.parallelism))
	return binary.AppendUvarint(b, uint64(m.subtask))
}

func decodeMark(b []byte) (discoveryMark, error) {
	p, n := binary.Uvarint(b[1:])
	s, m := binary.Uvarint(b[1+max(n, 0):])
	if n <= 0 || m <= 0 || 1+n+m != len(b) || p == 0 || p > math.MaxInt32 || s >= p {
		return discoveryMark{}, fmt.Errorf("kafka: %w: partition discovery mark", codec.ErrCorrupt)
	}
	return discoveryMark{int(p), int(s)}, nil
}

// covers reports whether tp was owned by the mark's subtask.
func (m discoveryMark) covers(tp topicPartition) bool {
	return PartitionOwner(tp.topic, tp.partition, m.parallelism) == m.subtask
}

func (s *Source[T]) check() error {
	o := &s.opts
	switch {
	case len(o.Brokers) == 0:
		return optionError("Brokers", "must not be empty")
	case len(o.Topics) == 0 && o.TopicRegexp == nil:
		return optionError("Topics", "must not be empty (or set TopicRegexp)")
	case o.Deserializer == nil:
		return optionError("Deserializer", "must be set")
	case o.Start.kind == startCommitted && o.Start.group == "":
		return optionError("Start", "committed offsets need a group")
	}
	return nil
}

// CreateReader returns the reader of one subtask. It does no I/O: a
// goroutine owned by the reader discovers partitions and fetches.
func (s *Source[T]) CreateReader(ctx weir.SourceContext) (weir.SourceReader[T], error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	logger := ctx.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &reader[T]{
		opts: s.opts, subtask: ctx.Subtask, parallelism: ctx.Parallelism, logger: logger,
		time:     ctx.Time,
		parts:    map[topicPartition]*partState{},
		known:    map[topicPartition]bool{},
		events:   make(chan fetchEvent, 4),
		avail:    make(chan struct{}, 1),
		restored: ctx.Restored != nil,
	}
	if r.opts.DiscoveryInterval == 0 {
		r.opts.DiscoveryInterval = DefaultDiscoveryInterval
	}
	initial := map[string]map[int32]kgo.Offset{}
	for _, it := range ctx.Restored {
		if len(it) > 0 && it[0] == 0 {
			m, err := decodeMark(it)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(r.marks, m) {
				r.marks = append(r.marks, m)
			}
			continue
		}
		p, err := decodePosition(it)
		if err != nil {
			return nil, err
		}
		r.known[p.tp] = true
		if PartitionOwner(p.tp.topic, p.tp.partition, r.parallelism) != r.subtask {
			continue
		}
		r.newSplits = append(r.newSplits, p)
		if initial[p.tp.topic] == nil {
			initial[p.tp.topic] = map[int32]kgo.Offset{}
		}
		initial[p.tp.topic][p.tp.partition] = p.start.offset()
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(s.opts.Brokers...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumePartitions(initial),
	}, s.opts.ClientOptions...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: source client: %w", err)
	}
	r.cl = cl
	gctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.fetchLoop(gctx)
	}()
	if s.opts.CommitGroup != "" {
		r.snapshots = map[int64]kadm.Offsets{}
		r.commits = make(chan kadm.Offsets, 1)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.commitLoop(gctx)
		}()
	}
	return r, nil
}

// fetchEvent is what the fetch goroutine hands to the reader: records of
// one partition, or an error. Partitions newly assigned are handed over
// through reader.handed, which a checkpoint reads before Poll does.
type fetchEvent struct {
	tp      topicPartition
	records []*kgo.Record
	err     error
}

// partState is the reader's view of one partition it owns.
type partState struct {
	tp   topicPartition
	next StartOffset
}

// reader reads the partitions of one subtask. Its goroutine (fetchLoop)
// discovers partitions and polls franz-go, passing results over events;
// everything else runs on the subtask's goroutine.
type reader[T any] struct {
	opts                 SourceOptions[T]
	subtask, parallelism int
	logger               *slog.Logger
	time                 weir.ProcessingTimeService
	restored             bool

	cl     *kgo.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup
	events chan fetchEvent
	avail  chan struct{}

	// Owned by the subtask goroutine.
	parts     map[topicPartition]*partState
	splits    map[topicPartition]*weir.SplitOutput[T]
	newSplits []position
	cur       fetchEvent
	curPart   *partState
	curSplit  *weir.SplitOutput[T]
	idx       int
	wakeAt    int64

	// Offsets of checkpoints not yet complete, with CommitGroup; commits
	// hands the offsets of completed ones to commitLoop.
	snapshots map[int64]kadm.Offsets
	commits   chan kadm.Offsets

	// Owned by the fetch goroutine (after CreateReader).
	known map[topicPartition]bool

	// marks are the restored discovery marks: set by CreateReader, read
	// only after.
	marks []discoveryMark

	// handed holds the partitions the fetch goroutine assigned (with
	// their resolved starts) that the subtask goroutine has not taken
	// yet: a checkpoint must store them even if no Poll saw them, or a
	// restore would start them elsewhere.
	handMu sync.Mutex
	handed []position
	// discovered: the first partition discovery succeeded and handed its
	// partitions over.
	discovered bool
}

// hand passes newly assigned partitions to the subtask goroutine (before
// any of their records) and signals availability. After the first
// successful discovery (first), a checkpoint sees its partitions and the
// end of that discovery together.
func (r *reader[T]) hand(ps []position, first bool) {
	r.handMu.Lock()
	r.handed = append(r.handed, ps...)
	r.discovered = r.discovered || first
	r.handMu.Unlock()
	select {
	case r.avail <- struct{}{}:
	default:
	}
}

// takeHanded moves the partitions handed over into newSplits and reports
// whether the first discovery is done.
func (r *reader[T]) takeHanded() bool {
	r.handMu.Lock()
	r.newSplits = append(r.newSplits, r.handed...)
	r.handed = nil
	done := r.discovered
	r.handMu.Unlock()
	return done
}

// Available signals that the fetch goroutine handed over records.
func (r *reader[T]) Available() <-chan struct{} { return r.avail }

// maxPerPoll bounds the records one Poll emits.
const maxPerPoll = 2048

// Poll emits up to maxPerPoll records of the fetches handed over. It never
// blocks.
func (r *reader[T]) Poll(_ context.Context, out *weir.SourceOutput[T]) (weir.PollStatus, error) {
	if r.splits == nil {
		r.splits = map[topicPartition]*weir.SplitOutput[T]{}
	}
	r.takeHanded()
	r.assign(out)
	n := 0
	for n < maxPerPoll {
		if r.idx >= len(r.cur.records) {
			select {
			case ev := <-r.events:
				if ev.err != nil {
					return weir.NothingAvailable, ev.err
				}
				r.takeHanded() // the assignment of ev's partition came first
				r.assign(out)
				r.cur, r.idx = ev, 0
				r.curPart, r.curSplit = r.parts[ev.tp], r.splits[ev.tp]
				if len(ev.records) > 0 && r.curPart == nil {
					return weir.NothingAvailable, fmt.Errorf("kafka: records of unassigned partition %s", ev.tp)
				}
				continue
			default:
			}
			break
		}
		rec := r.cur.records[r.idx]
		r.idx++
		n++
		r.curPart.next = StartOffset{kind: startExact, ts: rec.Offset + 1}
		v, err := r.opts.Deserializer.Deserialize(rec)
		if err != nil {
			d := weir.DeadLetter{
				Source: fmt.Sprintf("topic %s partition %d offset %d", rec.Topic, rec.Partition, rec.Offset),
				Raw:    rec.Value,
			}
			d.Field, d.Reason = rejection(err)
			if err := weir.RejectFromSource(out, r.opts.ErrorPolicy, d); err != nil {
				return weir.NothingAvailable, fmt.Errorf("kafka: %w", err)
			}
			continue
		}
		r.curSplit.CollectWithTimestamp(v, rec.Timestamp.UnixMilli())
	}
	if r.idx < len(r.cur.records) || len(r.events) > 0 {
		return weir.MoreAvailable, nil
	}
	r.scheduleWake()
	return weir.NothingAvailable, nil
}

// rejection returns the field and the reason of a deserializer's error
// for a dead letter: a DecodeError's own, else the error's text without
// this package's prefix (the dead letter's source already says where).
func rejection(err error) (field, reason string) {
	var de *DecodeError
	if errors.As(err, &de) {
		if de.Field == "" {
			return "", de.Error()
		}
		return de.Field, de.Format + ": " + de.Reason
	}
	return "", strings.TrimPrefix(err.Error(), "kafka: ")
}

// scheduleWake makes the subtask poll again soon while no records arrive,
// so that the source emits watermarks and marks quiet partitions idle.
func (r *reader[T]) scheduleWake() {
	if r.time == nil {
		return
	}
	now := r.time.Now()
	if r.wakeAt > now {
		return
	}
	r.wakeAt = now + 100
	r.time.Schedule(r.wakeAt, func(int64) error { return nil })
}

// assign creates the split outputs of newly assigned partitions.
func (r *reader[T]) assign(out *weir.SourceOutput[T]) {
	for _, p := range r.newSplits {
		if _, ok := r.parts[p.tp]; ok {
			continue
		}
		r.parts[p.tp] = &partState{tp: p.tp, next: p.start}
		r.splits[p.tp] = out.Split(p.tp.String())
	}
	r.newSplits = r.newSplits[:0]
}

// SnapshotState stores the next offset (or the unresolved start) of every
// partition the reader owns.
func (r *reader[T]) SnapshotState(id int64) ([][]byte, error) {
	// Partitions handed over but not yet seen by Poll are owned too.
	discovered := r.takeHanded()
	pending := r.newSplits
	items := make([][]byte, 0, len(r.parts)+len(pending))
	var offs kadm.Offsets
	if r.snapshots != nil {
		offs = kadm.Offsets{}
	}
	for _, p := range r.parts {
		items = append(items, position{tp: p.tp, start: p.next}.encode())
		if offs != nil && p.next.kind == startExact {
			offs.AddOffset(p.tp.topic, p.tp.partition, p.next.ts, -1)
		}
	}
	if offs != nil {
		r.snapshots[id] = offs
	}
	for _, p := range pending {
		if _, ok := r.parts[p.tp]; !ok {
			items = append(items, p.encode())
		}
	}
	if !discovered {
		// The partitions this subtask will find were never resolved:
		// the restore resolves them with the configured start. Marks
		// restored into it stay until it has resolved theirs.
		items = append(items, discoveryMark{r.parallelism, r.subtask}.encode())
		for _, m := range r.marks {
			items = append(items, m.encode())
		}
	}
	return items, nil
}

// NotifyCheckpointComplete commits the offsets of checkpoint id (or the
// latest earlier one) to CommitGroup, in the background.
func (r *reader[T]) NotifyCheckpointComplete(id int64) error {
	if r.snapshots == nil {
		return nil
	}
	var best int64 = -1
	for c := range r.snapshots {
		if c <= id && c > best {
			best = c
		}
	}
	if best < 0 {
		return nil
	}
	offs := r.snapshots[best]
	for c := range r.snapshots {
		if c <= id {
			delete(r.snapshots, c)
		}
	}
	// The newest offsets replace ones not yet committed.
	select {
	case <-r.commits:
	default:
	}
	r.commits <- offs
	return nil
}

// commitLoop commits offsets to CommitGroup until ctx ends.
func (r *reader[T]) commitLoop(ctx context.Context) {
	adm := kadm.NewClient(r.cl)
	for {
		select {
		case <-ctx.Done():
			return
		case offs := <-r.commits:
			resp, err := adm.CommitOffsets(ctx, r.opts.CommitGroup, offs)
			if err == nil {
				err = resp.Error()
			}
			if err != nil && ctx.Err() == nil {
				r.logger.Warn("kafka: committing offsets for monitoring failed", "group", r.opts.CommitGroup, "err", err)
			}
		}
	}
}

// Close stops the fetch goroutine and the client.
func (r *reader[T]) Close() error {
	r.cancel()
	r.wg.Wait()
	r.cl.Close()
	return nil
}

// fetchLoop discovers partitions every DiscoveryInterval and polls
// fetches in between, until ctx is canceled.
func (r *reader[T]) fetchLoop(ctx context.Context) {
	adm := kadm.NewClient(r.cl)
	first := true
	var nextDiscovery time.Time
	for ctx.Err() == nil {
		if first || (r.opts.DiscoveryInterval > 0 && !time.Now().Before(nextDiscovery)) {
			assigned, err := r.discover(ctx, adm, first)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				if IsAuthError(err) {
					r.send(ctx, fetchEvent{err: authError("partition discovery", err)})
					return
				}
				r.logger.Warn("kafka: partition discovery failed", "subtask", r.subtask, "err", err)
				if first {
					// Retry soon: the source has no partitions yet.
					nextDiscovery = time.Now().Add(time.Second)
				}
			} else {
				if first || len(assigned) > 0 {
					r.hand(assigned, first)
				}
				first = false
				nextDiscovery = time.Now().Add(r.opts.DiscoveryInterval)
			}
		}
		pctx := ctx
		var cancel context.CancelFunc = func() {}
		if first || r.opts.DiscoveryInterval > 0 {
			pctx, cancel = context.WithDeadline(ctx, nextDiscovery)
		}
		fetches := r.cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			if ferr == nil {
				ferr = fmt.Errorf("kafka: fetching topic %s partition %d: %w", t, p, err)
			}
		})
		if ferr != nil && IsAuthError(ferr) {
			ferr = authError("fetching", ferr)
		}
		if ferr != nil && (IsAuthError(ferr) || !kgo.IsRetryableBrokerErr(ferr)) {
			r.send(ctx, fetchEvent{err: ferr})
			return
		}
		ok := true
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if !ok || len(p.Records) == 0 {
				return
			}
			ok = r.send(ctx, fetchEvent{tp: topicPartition{p.Topic, p.Partition}, records: p.Records})
		})
		if !ok {
			return
		}
	}
}

// send hands ev to the reader and signals availability; false if ctx
// ended first.
func (r *reader[T]) send(ctx context.Context, ev fetchEvent) bool {
	select {
	case r.events <- ev:
	case <-ctx.Done():
		return false
	}
	select {
	case r.avail <- struct{}{}:
	default:
	}
	return true
}

// discover lists the source's topics and partitions, assigns those this
// subtask owns and has not seen, and starts consuming them.
func (r *reader[T]) discover(ctx context.Context, adm *kadm.Client, first bool) ([]position, error) {
	var topics kadm.TopicDetails
	var err error
	if r.opts.TopicRegexp != nil {
		topics, err = adm.ListTopics(ctx)
	} else {
		topics, err = adm.ListTopics(ctx, r.opts.Topics...)
	}
	if err != nil {
		return nil, err
	}
	var fresh []topicPartition
	for name, td := range topics {
		if IsAuthError(td.Err) {
			return nil, authError("topic "+name, td.Err)
		}
		if td.Err != nil {
			continue // not created yet: found by a later discovery
		}
		if r.opts.TopicRegexp != nil && !slices.Contains(r.opts.Topics, name) && !r.opts.TopicRegexp.MatchString(name) {
			continue
		}
		for p := range td.Partitions {
			tp := topicPartition{name, p}
			if r.known[tp] {
				continue
			}
			if PartitionOwner(name, p, r.parallelism) == r.subtask {
				fresh = append(fresh, tp)
			}
		}
	}
	if len(fresh) == 0 {
		return nil, nil
	}
	slices.SortFunc(fresh, func(a, b topicPartition) int {
		if a.topic != b.topic {
			if a.topic < b.topic {
				return -1
			}
			return 1
		}
		return int(a.partition - b.partition)
	})
	// Partitions present at a fresh start use the configured start; later
	// ones (and ones a restored checkpoint does not know) the earliest,
	// except those of a subtask whose first discovery had not finished
	// when the checkpoint was taken (a discovery mark): they were never
	// resolved, and take the configured start now.
	configured := func(tp topicPartition) bool {
		if !first {
			return false
		}
		if !r.restored {
			return true
		}
		for _, m := range r.marks {
			if m.covers(tp) {
				return true
			}
		}
		return false
	}
	var cfgFresh, earliest []topicPartition
	for _, tp := range fresh {
		if configured(tp) {
			cfgFresh = append(cfgFresh, tp)
		} else {
			earliest = append(earliest, tp)
		}
	}
	fresh = append(cfgFresh, earliest...)
	start := r.opts.Start
	if len(cfgFresh) == 0 {
		start = Earliest()
	}
	// Resolve the start now, so that checkpoints hold exact offsets.
	var listed kadm.ListedOffsets
	topicsOf := func() []string {
		var ts []string
		for _, tp := range cfgFresh {
			if !slices.Contains(ts, tp.topic) {
				ts = append(ts, tp.topic)
			}
		}
		return ts
	}
	switch start.kind {
	case startLatest:
		// read_committed: the last stable offset.
		listed, err = adm.ListCommittedOffsets(ctx, topicsOf()...)
	case startTimestamp:
		listed, err = adm.ListOffsetsAfterMilli(ctx, start.ts, topicsOf()...)
	}
	if err != nil {
		return nil, fmt.Errorf("kafka: resolving start offsets: %w", err)
	}
	var committed kadm.OffsetResponses
	if start.kind == startCommitted {
		committed, err = adm.FetchOffsets(ctx, start.group)
		if errors.Is(err, kerr.GroupIDNotFound) {
			err = nil // no commits: every partition falls back
		}
		if err != nil {
			return nil, fmt.Errorf("kafka: committed offsets of group %s: %w", start.group, err)
		}
	}
	out := make([]position, 0, len(fresh))
	add := map[string]map[int32]kgo.Offset{}
	for i, tp := range fresh {
		st := start
		if i >= len(cfgFresh) {
			st = Earliest()
		} else if o, ok := listed.Lookup(tp.topic, tp.partition); ok && o.Err == nil && o.Offset >= 0 {
			st = StartOffset{kind: startExact, ts: o.Offset}
		}
		if st.kind == startCommitted {
			st = Earliest()
			if o, ok := committed.Lookup(tp.topic, tp.partition); ok && o.Err == nil && o.At >= 0 {
				st = StartOffset{kind: startExact, ts: o.At}
			}
		}
		out = append(out, position{tp: tp, start: st})
		if add[tp.topic] == nil {
			add[tp.topic] = map[int32]kgo.Offset{}
		}
		add[tp.topic][tp.partition] = st.offset()
	}
	r.cl.AddConsumePartitions(add)
	for _, tp := range fresh {
		r.known[tp] = true
	}
	return out, nil
}
