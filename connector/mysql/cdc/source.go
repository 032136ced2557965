package cdc

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
)

// Source captures the changes of MySQL or MariaDB tables: a snapshot,
// then the binlog. Add it with weir.FromSource; it runs with parallelism
// 1. Records are Changes, with the binlog event's time as timestamp.
type Source struct {
	opts Options
}

// NewSource returns a source with opts; they are checked when the job
// starts.
func NewSource(opts Options) *Source { return &Source{opts: opts} }

// item is what the reading goroutine hands to the reader: a batch of
// changes and dead letters, to be emitted whole, and the position after
// them; or an error that fails the job.
type item struct {
	entries []entry
	st      state
	err     error
}

// entry is a change or, if dead is set, a row that could not be decoded.
type entry struct {
	c    Change
	dead *weir.DeadLetter
}

// CreateReader returns the reader; its goroutine connects, snapshots and
// streams in the background.
func (s *Source) CreateReader(ctx weir.SourceContext) (weir.SourceReader[Change], error) {
	opts, err := s.opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if ctx.Parallelism != 1 {
		return nil, optionError("parallelism", fmt.Sprintf("the source runs with parallelism 1, not %d (one binlog reader)", ctx.Parallelism))
	}
	if ctx.Logger != nil && s.opts.Logger == nil {
		opts.Logger = ctx.Logger
	}
	st := state{Fresh: true, Tables: opts.Tables}
	if len(ctx.Restored) > 1 {
		return nil, fmt.Errorf("mysql cdc: %d positions restored, want 1", len(ctx.Restored))
	}
	if len(ctx.Restored) == 1 {
		if st, err = decodeState(ctx.Restored[0]); err != nil {
			return nil, err
		}
		if err := st.checkTables(opts.Tables); err != nil {
			return nil, err
		}
		opts.Logger.Info("mysql cdc: resuming", "checkpoint", ctx.RestoredFrom, "file", st.File, "pos", st.Pos,
			"gtid", st.GTID, "skip", st.Skip, "snapshot_done", st.Table == len(st.Tables))
	}
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	m.xaPrepared.Set(float64(len(st.XA)))
	r := &reader{
		opts:  opts,
		st:    st,
		m:     m,
		items: make(chan item, opts.Buffer),
		avail: make(chan struct{}, 1),
	}
	gctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	st.Tables = opts.Tables
	g := &streamer{opts: opts, cur: st, m: m, log: opts.Logger, items: r.items, avail: r.avail, resolved: &r.resolved}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		g.run(gctx)
	}()
	return r, nil
}

// reader hands the goroutine's items to the job; all its methods run on
// the subtask's goroutine.
type reader struct {
	opts Options
	st   state // position after the last item emitted
	// resolved is a fresh start's position once the goroutine resolved
	// it (streamer.resolved).
	resolved atomic.Pointer[state]
	m        *metrics
	ops      [4]prometheus.Counter // events by op: r, c, u, d
	items    chan item
	avail    chan struct{}
	// xaEnc holds the checkpoint encodings of the prepared transactions
	// of the last checkpoint (see state.encodeWith).
	xaEnc  map[*xaTx][]byte
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// count counts an emitted change in the events metric; the per-operation
// counters are looked up once.
func (r *reader) count(op Op) {
	i := 0
	switch op {
	case OpCreate:
		i = 1
	case OpUpdate:
		i = 2
	case OpDelete:
		i = 3
	}
	if r.ops[i] == nil {
		r.ops[i] = r.m.events.WithLabelValues(op.String())
	}
	r.ops[i].Inc()
}

// Available signals that the goroutine handed over items.
func (r *reader) Available() <-chan struct{} { return r.avail }

// maxPerPoll bounds the changes one Poll emits (an item is emitted whole).
const maxPerPoll = 2048

// Poll emits the items handed over, whole, up to about maxPerPoll changes.
func (r *reader) Poll(_ context.Context, out *weir.SourceOutput[Change]) (weir.PollStatus, error) {
	n := 0
	for n < maxPerPoll {
		var it item
		select {
		case it = <-r.items:
		default:
			return weir.NothingAvailable, nil
		}
		if it.err != nil {
			return weir.NothingAvailable, it.err
		}
		var lastTime time.Time
		for i := range it.entries {
			e := &it.entries[i]
			if e.dead != nil {
				r.m.deadLetters.Inc()
				if err := weir.RejectFromSource(out, r.opts.ErrorPolicy, *e.dead); err != nil {
					return weir.NothingAvailable, fmt.Errorf("mysql cdc: %w", err)
				}
				continue
			}
			out.CollectWithTimestamp(e.c, e.c.Time.UnixMilli())
			r.count(e.c.Op)
			if e.c.Op != OpRead {
				lastTime = e.c.Time
			}
		}
		if !lastTime.IsZero() {
			r.m.lag.Set(time.Since(lastTime).Seconds())
		}
		n += len(it.entries)
		if it.st.Table == len(it.st.Tables) && !r.st.Fresh && r.st.Table < len(r.st.Tables) {
			r.opts.Logger.Info("mysql cdc: snapshot complete, reading the binlog", "file", it.st.File, "pos", it.st.Pos, "gtid", it.st.GTID)
		}
		r.st = it.st
		r.m.xaPrepared.Set(float64(len(it.st.XA)))
	}
	if len(r.items) > 0 {
		return weir.MoreAvailable, nil
	}
	return weir.NothingAvailable, nil
}

// SnapshotState stores the position after the last change emitted.
func (r *reader) SnapshotState(int64) ([][]byte, error) {
	st := r.st
	if p := r.resolved.Load(); st.Fresh && p != nil {
		// Resolved and handed over, not polled yet: the item holds no
		// changes, so the checkpoint may hold its position.
		st = *p
	}
	if r.xaEnc == nil && len(st.XA) > 0 {
		r.xaEnc = map[*xaTx][]byte{}
	}
	b, err := st.encodeWith(r.xaEnc)
	if err != nil {
		return nil, fmt.Errorf("mysql cdc: encoding the position: %w", err)
	}
	if len(r.xaEnc) > len(st.XA) { // some decided since: forget them
		keep := make(map[*xaTx][]byte, len(st.XA))
		for _, tx := range st.XA {
			keep[tx] = r.xaEnc[tx]
		}
		r.xaEnc = keep
	}
	return [][]byte{b}, nil
}

// Close stops the goroutine and waits for it.
func (r *reader) Close() error {
	r.cancel()
	r.wg.Wait()
	return nil
}

var _ weir.CheckpointedReader = (*reader)(nil)
var _ weir.Availability = (*reader)(nil)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
